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
    # Values scaled into [0, 1), largest first.
    scaled = (data.max() - data) / (data.max() - data.min() + 1e-12) * 0.999
    candidates = np.arange(len(data))
    if len(data) > NARROW_ABOVE:
        candidates = candidates[_in_top_buckets(rows, scaled, counts, k)]
    # One float sort key (row, then scaled value) is several times faster than lexsort, and
    # the row part stays exact in float64.
    scaled = scaled[candidates]
    order = candidates[np.argsort(rows[candidates] + scaled, kind="stable")]
    per_row = np.bincount(rows[candidates], minlength=n_rows)
    starts = np.cumsum(per_row) - per_row
    rank = np.arange(len(order)) - np.repeat(starts, per_row)
    keep = order[rank < k]
    keep.sort()  # back to the stored order
    return sp.csr_matrix(
        (matrix.data[keep], (rows[keep], matrix.indices[keep])), shape=matrix.shape
    )


def _in_top_buckets(rows: np.ndarray, scaled: np.ndarray, counts: np.ndarray, k: int) -> np.ndarray:
    """Mask of the entries in or before the bucket of their row's k-th best, ``scaled`` in
    [0, 1) from the best: a superset of each row's top k (ties included) found in linear time,
    so that only it is sorted. Buckets split [0, 1) evenly."""
    bucket = (scaled * BUCKETS).astype(np.int64)
    histogram = np.bincount(rows * BUCKETS + bucket, minlength=len(counts) * BUCKETS)
    from_best = np.cumsum(histogram.reshape(len(counts), BUCKETS), axis=1)
    threshold = np.argmax(from_best >= k, axis=1)
    threshold[counts <= k] = BUCKETS - 1
    return bucket <= threshold[rows]


def values_at(matrix: sp.csr_matrix, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``matrix[rows, cols]`` as a flat array (0 where nothing is stored), by one binary search
    over the stored entries' (row, column) keys: about twice as fast as scipy's fancy indexing
    on the candidate lists of a batch of customers."""
    matrix = matrix if matrix.has_sorted_indices else matrix.sorted_indices()
    if matrix.nnz == 0:
        return np.zeros(len(rows), dtype=matrix.dtype)
    n_cols = matrix.shape[1]
    stored_rows = np.repeat(np.arange(matrix.shape[0], dtype=np.int64), np.diff(matrix.indptr))
    keys = stored_rows * n_cols + matrix.indices
    at = sorted_positions(keys, np.asarray(rows, dtype=np.int64) * n_cols + cols)
    return np.where(at >= 0, matrix.data[at], 0).astype(matrix.dtype, copy=False)


def sorted_positions(keys: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Index of each ``wanted`` value in ``keys`` (ascending, distinct, not empty), -1 where
    it is not there."""
    at = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
    return np.where(keys[at] == wanted, at, -1)


def rank_within_groups(groups: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """0-based rank of each score within its group, best first; groups need not be sorted."""
    order = np.lexsort((-scores, groups))
    sorted_groups = groups[order]
    starts = np.r_[0, np.flatnonzero(sorted_groups[1:] != sorted_groups[:-1]) + 1]
    counts = np.diff(np.r_[starts, len(order)])
    ranks = np.empty(len(order), dtype=np.int64)
    ranks[order] = np.arange(len(order)) - np.repeat(starts, counts)
    return ranks
