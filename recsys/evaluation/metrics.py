"""Ranking metrics at K for lists of recommended product codes against target sets.

All functions take ``recommended``, an ``(n, K_max)`` int array (-1 = empty slot), and
``targets``, an ``(n, n_products)`` binary CSR matrix, and average over the n customers.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def hit_matrix(recommended: np.ndarray, targets: sp.csr_matrix) -> np.ndarray:
    """Boolean ``(n, K)``: whether each recommended product is in that customer's target."""
    n_products = targets.shape[1]
    rows = np.repeat(np.arange(targets.shape[0], dtype=np.int64), np.diff(targets.indptr))
    target_keys = rows * n_products + targets.indices
    rec_keys = np.arange(len(recommended), dtype=np.int64)[:, None] * n_products + recommended
    hits = np.isin(rec_keys, target_keys)
    return hits & (recommended >= 0)


def ranking_metrics(
    recommended: np.ndarray,
    targets: sp.csr_matrix,
    k: int,
    repeat: sp.csr_matrix | None = None,
) -> dict[str, float]:
    """Recall, Precision, NDCG and HitRate at ``k``; with ``repeat``, recall on each part.

    Recall@k = hits / |target|; Precision@k = hits / k; NDCG@k with binary gains and the ideal
    DCG of min(|target|, k) hits; HitRate@k = share of customers with at least one hit.
    ``repeat`` marks target products the customer bought before: ``recall_repeat`` averages
    over customers with a repeat target, ``recall_new`` over those with a new one.
    """
    top = recommended[:, :k]
    hits = hit_matrix(top, targets)
    n_target = np.diff(targets.indptr)
    n_hits = hits.sum(axis=1)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    # A catalogue smaller than k gives lists shorter than k.
    dcg = hits @ discounts[: top.shape[1]]
    idcg = np.cumsum(discounts)[np.minimum(n_target, k) - 1]
    result = {
        f"recall@{k}": float(np.mean(n_hits / n_target)),
        f"precision@{k}": float(np.mean(n_hits / k)),
        f"ndcg@{k}": float(np.mean(dcg / idcg)),
        f"hitrate@{k}": float(np.mean(n_hits > 0)),
    }
    if repeat is not None:
        repeat_hits = hit_matrix(top, repeat).sum(axis=1)
        n_repeat = np.diff(repeat.indptr)
        n_new = n_target - n_repeat
        has_repeat, has_new = n_repeat > 0, n_new > 0
        result[f"recall_repeat@{k}"] = _mean_where(repeat_hits, n_repeat, has_repeat)
        result[f"recall_new@{k}"] = _mean_where(n_hits - repeat_hits, n_new, has_new)
    return result


def coverage(recommended: np.ndarray, k: int, n_catalogue: int) -> float:
    """Share of the catalogue (products that could be recommended) in any top-``k`` list."""
    top = recommended[:, :k]
    return float(len(np.unique(top[top >= 0])) / max(n_catalogue, 1))


def _mean_where(numerator: np.ndarray, denominator: np.ndarray, mask: np.ndarray) -> float:
    return float(np.mean(numerator[mask] / denominator[mask])) if mask.any() else float("nan")
