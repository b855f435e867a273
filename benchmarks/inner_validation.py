"""Every method on validation periods inside the training data: where settings may be chosen.

Usage: python benchmarks/inner_validation.py [--datasets online-retail,complete-journey]
       [--protocol window|next-basket] [--periods 3] [--methods p-topfreq,tifu-knn,anticipate]

For each dataset, only lines before the test cutoff of `benchmarks/evaluate.py` (the last
horizon held out) are used: the test window never enters. Validation period i (1..periods)
starts i horizons before the test cutoff, and every method is fitted on the lines before it.
One period is a noisy judge (on ~1,300 customers one standard error of a difference is 1.5%
to 2% of the baseline's recall, and periods differ by more than that), so a setting is judged
by its gain over the best baseline averaged over the periods.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np
import pandas as pd
from dev_datasets import DATASETS

from recsys.data import load_history
from recsys.data.splitting import default_cutoff
from recsys.evaluation import evaluate_methods
from recsys.evaluation.report import format_markdown
from recsys.models import evaluation_methods

ROOT = Path(__file__).resolve().parent.parent
MODEL = "anticipate"
METRICS = ("recall@10", "ndcg@10")


def gains_over_best_baseline(metrics: dict[str, dict[str, float]]) -> dict[str, float]:
    """The model's relative gain over the best other method, for each metric of METRICS."""
    return {
        m: metrics[MODEL][m] / max(v[m] for name, v in metrics.items() if name != MODEL) - 1
        for m in METRICS
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--protocol", default="window")
    parser.add_argument("--periods", type=int, default=3)
    parser.add_argument("--methods", help="comma-separated methods (default: all)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    for name in args.datasets.split(","):
        data = DATASETS[name]
        horizon = data.horizon
        history = load_history(args.shared / data.file, preset=data.preset)
        test_cutoff = default_cutoff(history, horizon)
        methods = evaluation_methods(horizon)
        if args.methods:
            methods = {m: methods[m] for m in args.methods.split(",")}
        gains = []
        for period in range(1, args.periods + 1):
            cutoff = test_cutoff - pd.Timedelta(days=horizon * period)
            result = evaluate_methods(
                history.before(test_cutoff),
                methods,
                protocol=args.protocol,
                horizon_days=horizon,
                cutoff=cutoff,
                ks=(10,),
            )
            print(
                f"### {name}: {args.protocol}, validation cutoff {cutoff:%Y-%m-%d} "
                f"({result.data['evaluated_customers']:,} customers)\n"
            )
            print(format_markdown(result), end="\n\n", flush=True)
            if MODEL in methods and len(methods) > 1:
                gains.append(gains_over_best_baseline({m.name: m.metrics for m in result.methods}))
        if gains:
            cells = ", ".join(
                f"{m} {np.mean([g[m] for g in gains]):+.1%} "
                f"({' / '.join(f'{g[m]:+.1%}' for g in gains)})"
                for m in METRICS
            )
            print(
                f"{name}, {args.protocol}: {MODEL} over the best baseline, mean of "
                f"{len(gains)} period(s): {cells}\n",
                flush=True,
            )


if __name__ == "__main__":
    main()
