"""Run methods side by side on one temporal split: fit before the cutoff, score after it."""

from __future__ import annotations

import logging
import resource
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from recsys.data.history import OrderHistory
from recsys.data.splitting import temporal_split
from recsys.evaluation.item_details import ItemDetails, item_details
from recsys.evaluation.metrics import coverage, hit_matrix, ranking_metrics
from recsys.evaluation.protocols import build_targets
from recsys.exceptions import ParameterError
from recsys.models.base import Recommender

log = logging.getLogger(__name__)


@dataclass
class MethodResult:
    """Metrics and timings of one method; ``recommended`` holds its lists (not serialised)."""

    name: str
    metrics: dict[str, float]
    fit_seconds: float
    recommend_seconds: float
    recommended: np.ndarray = field(repr=False)
    #: Recall@k for k = 1..len (when asked for, see `evaluate_methods`).
    recall_curve: list[float] = field(default_factory=list, repr=False)
    #: How right its items' probabilities, dates and quantities are (models with `predict`).
    details: ItemDetails | None = field(default=None, repr=False)


@dataclass
class EvaluationResult:
    """Everything one evaluation run measured, ready for a table or JSON."""

    split: dict[str, object]
    data: dict[str, object]
    methods: list[MethodResult]
    ks: tuple[int, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "split": self.split,
            "data": self.data,
            "ks": list(self.ks),
            "methods": {
                m.name: {
                    "metrics": m.metrics,
                    "fit_seconds": round(m.fit_seconds, 3),
                    "recommend_seconds": round(m.recommend_seconds, 3),
                    **({"item_details": m.details.figures} if m.details else {}),
                }
                for m in self.methods
            },
            "peak_memory_mb": peak_memory_mb(),
        }


def evaluate_methods(
    history: OrderHistory,
    methods: Mapping[str, Callable[[], Recommender]],
    *,
    protocol: str = "window",
    horizon_days: int = 30,
    cutoff: pd.Timestamp | None = None,
    ks: Sequence[int] = (10, 20),
    curve_k: int | None = None,
) -> EvaluationResult:
    """Fit every method on the history before the cutoff and score its top-K lists.

    ``methods`` maps a name to a factory of an unfitted model. Each model sees only
    ``split.train``: lines dated strictly before the cutoff. With ``curve_k``, each result
    also holds Recall@1..curve_k. Models with probabilities (``predict``) also get the
    figures of `item_details`: how right their items' probabilities, dates and quantities are.
    """
    ks = tuple(sorted(set(ks)))
    if not ks or ks[0] < 1:
        raise ParameterError(f"--k values must be positive integers, got {list(ks)}")
    split = temporal_split(history, horizon_days, cutoff)
    targets = build_targets(split, protocol)
    train = split.train
    catalogue = int(
        np.count_nonzero(np.bincount(train.lines["product"], minlength=train.n_products))
    )
    n_target = np.diff(targets.products.indptr)
    log.info(
        "split at %s: %d training lines, %d customers evaluated (%s, %d days)",
        split.cutoff,
        train.n_lines,
        len(targets.customers),
        protocol,
        horizon_days,
    )
    results = []
    for name, factory in methods.items():
        model = factory()
        started = time.perf_counter()
        model.fit(train)
        fitted = time.perf_counter()
        length = max(max(ks), curve_k or 0)
        recommended, _ = model.recommend(targets.customers, length, as_of=split.cutoff)
        done = time.perf_counter()
        metrics: dict[str, float] = {}
        for k in ks:
            metrics.update(ranking_metrics(recommended, targets.products, k, targets.repeat))
            metrics[f"coverage@{k}"] = coverage(recommended, k, catalogue)
        log.info(
            "%s: fit %.1fs, recommend %.1fs, recall@%d %.4f",
            name,
            fitted - started,
            done - fitted,
            ks[0],
            metrics[f"recall@{ks[0]}"],
        )
        result = MethodResult(name, metrics, fitted - started, done - fitted, recommended)
        if curve_k:
            result.recall_curve = recall_curve(recommended, targets.products, curve_k)
        result.details = item_details(model, split)
        results.append(result)
    return EvaluationResult(
        split={
            "protocol": protocol,
            "cutoff": str(split.cutoff),
            "window_end": str(split.window_end),
            "horizon_days": horizon_days,
        },
        data={
            "first_order": str(history.start),
            "last_order": str(history.end),
            "lines": history.n_lines,
            "customers": history.n_customers,
            "products": history.n_products,
            "training_lines": train.n_lines,
            "training_customers": len(train.active_customers),
            "training_products": catalogue,
            "evaluated_customers": len(targets.customers),
            "mean_target_size": float(n_target.mean()),
            "repeat_share_of_target": float(targets.repeat.nnz / max(targets.products.nnz, 1)),
            "cleaning": history.cleaning.as_dict() if history.cleaning else None,
        },
        methods=results,
        ks=ks,
    )


def recall_curve(recommended: np.ndarray, targets, k_max: int) -> list[float]:
    """Mean Recall@k for k = 1..k_max, from one pass over the hits."""
    hits = hit_matrix(recommended[:, :k_max], targets)
    n_target = np.diff(targets.indptr)[:, None]
    return (np.cumsum(hits, axis=1) / n_target).mean(axis=0).tolist()


def peak_memory_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
