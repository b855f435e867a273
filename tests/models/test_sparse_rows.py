import numpy as np
import pytest
import scipy.sparse as sp

from recsys.models import sparse_rows
from recsys.models.sparse_rows import rank_within_groups, top_k_per_row, values_at


def _reference_top_k(matrix: sp.csr_matrix, k: int) -> list[list[tuple[int, float]]]:
    """Each row's k largest entries, ties to the lower column, by plain sorting."""
    rows = []
    for i in range(matrix.shape[0]):
        start, end = matrix.indptr[i], matrix.indptr[i + 1]
        entries = sorted(
            zip(matrix.indices[start:end], matrix.data[start:end], strict=True),
            key=lambda e: (-e[1], e[0]),
        )
        rows.append(sorted(entries[:k]))
    return rows


@pytest.mark.parametrize("narrow_above", [0, 10**9])
def test_top_k_per_row_keeps_each_rows_largest_ties_to_the_lower_column(monkeypatch, narrow_above):
    # Few distinct values, so ties at the k-th place are common; rows shorter than k too.
    monkeypatch.setattr(sparse_rows, "NARROW_ABOVE", narrow_above)
    rng = np.random.default_rng(0)
    dense = rng.integers(1, 6, (60, 200)) * (rng.random((60, 200)) < rng.random((60, 1)))
    matrix = sp.csr_matrix(dense.astype(np.float32))
    top = top_k_per_row(matrix, 7)
    got = [sorted(zip(top[i].indices, top[i].data, strict=True)) for i in range(top.shape[0])]
    assert got == _reference_top_k(matrix, 7)
    assert (np.diff(matrix.indptr) < 7).any() and (np.diff(matrix.indptr) > 7).any()


def test_rank_within_groups_ranks_best_first_in_each_group():
    groups = np.array([2, 0, 2, 0, 2])
    scores = np.array([0.1, 0.5, 0.9, 0.7, 0.3])
    assert rank_within_groups(groups, scores).tolist() == [2, 1, 0, 0, 1]


def test_values_at_reads_stored_entries_and_zero_elsewhere():
    rng = np.random.default_rng(1)
    dense = rng.random((40, 70)) * (rng.random((40, 70)) < 0.2)
    # Built from a product, as co-purchase spreads are: its column indices are not sorted.
    matrix = (sp.csr_matrix(dense) @ sp.csr_matrix(np.eye(70)[rng.permutation(70)])).tocsr()
    expected = matrix.toarray()
    rows, cols = rng.integers(0, 40, 500), rng.integers(0, 70, 500)
    got = values_at(matrix, rows, cols)
    assert got.dtype == matrix.dtype
    np.testing.assert_array_equal(got, expected[rows, cols])
    assert (got == 0).any() and (got > 0).any()  # both hits and misses were asked for
    empty = sp.csr_matrix((3, 5), dtype=np.float32)
    np.testing.assert_array_equal(values_at(empty, np.array([0, 2]), np.array([1, 4])), [0, 0])
