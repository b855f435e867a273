"""Ranker variants compared on identical candidates, on validation periods inside the training data.

Usage:
  python benchmarks/ranker_variants.py cache [--datasets online-retail,complete-journey]
         [--periods 3] [--cache-dir DIR]
  python benchmarks/ranker_variants.py compare [--variant MODULE:FUNCTION] [--datasets ...]
         [--periods 3] [--seeds 0,1,2] [--cache-dir DIR]

`cache` builds, once per dataset and validation period (the periods of
`benchmarks/inner_validation.py`: period i starts i horizons before the test cutoff, and only
lines before it are used), what the anticipation model's ranker learns from (the examples of
every inner cutoff) and what it would rank (the evaluated customers' candidates and features,
both protocols), with P-TopFreq's and TIFU-KNN's figures on the same period. `compare` fits a
ranker variant on the cached examples and prints its gain over the best baseline in recall@10
and NDCG@10, window and next-basket, period by period and on average: a ranker change judged
in minutes instead of a pipeline run per period, and two variants compared on the same
candidates. ``FUNCTION(feature_names)`` returns an unfitted `Ranker` (or anything with its
``fit`` and ``ranking_score``); the default is the model's own. The serving cascade is left
out: on the grocer it changes no figure (docs/benchmarks.md).

The ranker draws the features each split may use at random, and on the grocer's periods its
seed alone moves the mean gain by up to 0.7 points (docs/benchmarks.md, "The ranker's seed"),
as much as most changes ever compared here. ``--seeds`` fits the variant once per seed (its
``random_state``) and prints the mean over seeds as well: a change smaller than the spread
between seeds is not one.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import time
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from dev_datasets import DATASETS
from inner_validation import MODEL, gains_over_best_baseline

from recsys.data import load_history
from recsys.data.splitting import default_cutoff, temporal_split
from recsys.evaluation import evaluate_methods
from recsys.evaluation.protocols import PROTOCOLS, build_targets
from recsys.models import evaluation_methods
from recsys.models.anticipate import AnticipationModel, fit_ranker, metrics_of_scores
from recsys.models.features import FeatureState
from recsys.models.ranker import Ranker
from recsys.models.reorder_cycles import to_days

ROOT = Path(__file__).resolve().parent.parent
BASELINES = ("p-topfreq", "tifu-knn")


def main_ranker(feature_names: list[str]) -> Ranker:
    """The anticipation model's ranker as it is."""
    return Ranker()


def cache(name: str, periods: int, shared: Path, cache_dir: Path) -> None:
    """Write each validation period's examples, candidates and baseline figures."""
    data = DATASETS[name]
    h = data.horizon
    history = load_history(shared / data.file, preset=data.preset)
    test_cutoff = default_cutoff(history, h)
    history = history.before(test_cutoff)  # the test window never enters
    methods = evaluation_methods(h)
    for period in range(1, periods + 1):
        started = time.perf_counter()
        cutoff = test_cutoff - pd.Timedelta(days=h * period)
        split = temporal_split(history, h, cutoff)
        model = AnticipationModel(horizon_days=h)
        model.horizon_days_ = h
        examples = [
            model._examples(split.train, c, h) for c in model._inner_cutoffs(split.train, h)
        ]
        state = FeatureState(h).fit(split.train)
        out: dict[str, object] = {"examples": [e for e in examples if e is not None]}
        for protocol in PROTOCOLS:
            targets = build_targets(split, protocol)
            row, product, X = model._candidate_features(state, targets.customers, to_days(cutoff))
            result = evaluate_methods(
                history,
                {m: methods[m] for m in BASELINES},
                protocol=protocol,
                horizon_days=h,
                cutoff=cutoff,
                ks=(10,),
            )
            out[protocol] = {
                "customers": targets.customers,
                "targets": targets.products,
                "row": row,
                "product": product,
                "X": X,
                "baselines": {r.name: r.metrics for r in result.methods},
            }
        out["feature_names"] = model.feature_names_
        joblib.dump(out, cache_dir / f"{name}_{period}.joblib")
        seconds = time.perf_counter() - started
        print(f"cached {name} period {period} ({cutoff:%Y-%m-%d}) in {seconds:.0f}s", flush=True)


def gains(ranker: Ranker, period: dict) -> dict[str, float]:
    """The ranker's gain over the best baseline of the period, in recall@10 and NDCG@10."""
    scores = ranker.ranking_score(period["X"], period["row"])
    metrics = metrics_of_scores(period["row"], period["product"], scores, period["targets"])
    return gains_over_best_baseline({**period["baselines"], MODEL: metrics})


def compare(variant: str, name: str, periods: int, cache_dir: Path, seeds: list[int]) -> None:
    """Print the variant's gains on every cached period of the dataset for each seed, then
    their mean over the periods (and over the seeds).

    Periods are loaded one at a time (a grocer's period holds about a gigabyte) and fitted
    with every seed while loaded; each seed becomes the variant's ``random_state``.
    """
    module, function = variant.split(":")
    factory = getattr(importlib.import_module(module), function)
    rows: dict[int, list[list[float]]] = {seed: [] for seed in seeds}
    for period in range(1, periods + 1):
        cached = joblib.load(cache_dir / f"{name}_{period}.joblib")
        for seed in seeds:
            started = time.perf_counter()
            ranker = factory(cached["feature_names"])
            ranker.random_state = seed
            ranker = fit_ranker(ranker, cached["examples"], AnticipationModel().cutoff_decay)
            row = [g for p in PROTOCOLS for g in gains(ranker, cached[p]).values()]
            rows[seed].append(row)
            print(
                f"{variant} {name} seed {seed} period {period}: {_gains_text(np.array(row))} "
                f"({time.perf_counter() - started:.0f}s)",
                flush=True,
            )
        del cached
    per_seed = []
    for seed in seeds:
        per_seed.append(np.mean(rows[seed], axis=0))
        print(
            f"{variant} {name} seed {seed}, mean of {periods} periods: {FIGURES} "
            f"{_gains_text(per_seed[-1])}"
        )
    if len(seeds) > 1:
        print(
            f"{variant} {name}, mean of {len(seeds)} seeds (by seed: "
            + ", ".join(f"{m.mean():+.2%}" for m in per_seed)
            + f"): {FIGURES} {_gains_text(np.mean(per_seed, axis=0))}"
        )


FIGURES = "recall@10 / NDCG@10 window, then next-basket"


def _gains_text(gains: np.ndarray) -> str:
    """The four gains (in FIGURES' order) and their mean."""
    return " / ".join(f"{g:+.2%}" for g in gains) + f", mean {gains.mean():+.2%}"


def _seeds(text: str) -> list[int]:
    try:
        return [int(seed) for seed in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("cache", "compare"))
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--periods", type=int, default=3)
    parser.add_argument(
        "--cache-dir", type=Path, default=ROOT / "benchmarks" / ".work" / "ranker_variants"
    )
    parser.add_argument("--variant", default="ranker_variants:main_ranker")
    parser.add_argument(
        "--seeds",
        type=_seeds,
        default=[0],
        help="comma-separated random states the variant is fitted with",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    sys.path.insert(0, str(Path.cwd()))
    args.cache_dir.mkdir(parents=True, exist_ok=True)
    for name in args.datasets.split(","):
        if args.command == "cache":
            cache(name, args.periods, args.shared, args.cache_dir)
        else:
            compare(args.variant, name, args.periods, args.cache_dir, args.seeds)


if __name__ == "__main__":
    main()
