"""Row-wise operations on CSR matrices, vectorised (no Python loop over rows)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

#: Above this many stored entries, `top_k_per_row` first narrows each row by value buckets.
NARROW_ABOVE = 1_000_000
#: Value buckets of that narrowing.
BUCKETS = 64


def top_k_per_row(matrix: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """Keep the ``k`` largest stored entries of each row (ties: the one stored first, the lower
    column where indices are sorted)."""
    matrix = matrix.tocsr()
    counts = np.diff(matrix.indptr)
    if counts.max(initial=0) <= k:
        return matrix
    n_rows = matrix.shape[0]
    rows = np.repeat(np.arange(n_rows), counts)
    data = matrix.data.astype(np.float64)
    candidates = np.arange(len(data))
    if len(data) > NARROW_ABOVE:
        candidates = candidates[_in_top_buckets(rows, data, counts, k)]
    # One float sort key (row, then value descending) is several times faster than lexsort;
    # values are scaled into [0, 1) so the row part stays exact in float64.
    low, high = data.min(), data.max()
    scaled = (high - data[candidates]) / (high - low + 1e-12) * 0.999
    order = candidates[np.argsort(rows[candidates] + scaled, kind="stable")]
    per_row = np.bincount(rows[candidates], minlength=n_rows)
    starts = np.cumsum(per_row) - per_row
    rank = np.arange(len(order)) - np.repeat(starts, per_row)
    keep = order[rank < k]
    keep.sort()  # back to row-major, column-sorted order
    return sp.csr_matrix(
        (matrix.data[keep], (rows[keep], matrix.indices[keep])), shape=matrix.shape
    )


def _in_top_buckets(rows: np.ndarray, data: np.ndarray, counts: np.ndarray, k: int) -> np.ndarray:
    """Mask of the entries in or above the value bucket of their row's k-th largest: a
    superset of each row's top k (ties included) found in linear time, so that only it is
    sorted. Buckets split the range of values evenly."""
    low, high = data.min(), data.max()
    bucket = ((data - low) * (BUCKETS / (high - low + 1e-12))).astype(np.int64)
    n_buckets = BUCKETS + 1
    histogram = np.bincount(rows * n_buckets + bucket, minlength=len(counts) * n_buckets)
    from_top = np.cumsum(histogram.reshape(len(counts), n_buckets)[:, ::-1], axis=1)
    threshold = n_buckets - 1 - np.argmax(from_top >= k, axis=1)
    threshold[counts <= k] = 0
    return bucket >= threshold[rows]


def rank_within_groups(groups: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """0-based rank of each score within its group, best first; groups need not be sorted."""
    order = np.lexsort((-scores, groups))
    sorted_groups = groups[order]
    starts = np.r_[0, np.flatnonzero(sorted_groups[1:] != sorted_groups[:-1]) + 1]
    counts = np.diff(np.r_[starts, len(order)])
    ranks = np.empty(len(order), dtype=np.int64)
    ranks[order] = np.arange(len(order)) - np.repeat(starts, counts)
    return ranks
