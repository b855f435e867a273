"""Every method on a validation period inside the training data: where settings may be chosen.

Usage: python benchmarks/inner_validation.py [--datasets online-retail,complete-journey]

For each dataset, the test cutoff of `benchmarks/evaluate.py` (the last horizon held out) is
moved one horizon earlier, and only lines before the test cutoff are used: the test window
never enters. Compare with benchmarks/evaluate.py to see how validation gains transfer.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pandas as pd

from recsys.data import load_history
from recsys.data.splitting import default_cutoff
from recsys.evaluation import evaluate_methods
from recsys.evaluation.report import format_markdown
from recsys.models import evaluation_methods

ROOT = Path(__file__).resolve().parent.parent
DATASETS = {
    "online-retail": ("online_retail.csv.gz", "online-retail", 30),
    "complete-journey": ("complete_journey.csv.gz", None, 7),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--protocol", default="window")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    for name in args.datasets.split(","):
        file, preset, horizon = DATASETS[name]
        history = load_history(args.shared / file, preset=preset)
        test_cutoff = default_cutoff(history, horizon)
        inner = test_cutoff - pd.Timedelta(days=horizon)
        result = evaluate_methods(
            history.before(test_cutoff),
            evaluation_methods(horizon),
            protocol=args.protocol,
            horizon_days=horizon,
            cutoff=inner,
            ks=(10,),
        )
        print(
            f"### {name}: {args.protocol}, validation cutoff {inner:%Y-%m-%d} "
            f"({result.data['evaluated_customers']:,} customers)\n"
        )
        print(format_markdown(result), end="\n\n", flush=True)


if __name__ == "__main__":
    main()
