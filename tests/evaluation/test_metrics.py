import math

import numpy as np
import pytest
import scipy.sparse as sp

from recsys.evaluation.metrics import coverage, hit_matrix, ranking_metrics


def targets(rows, n_products=10):
    data, r, c = [], [], []
    for i, items in enumerate(rows):
        for j in items:
            r.append(i)
            c.append(j)
            data.append(1.0)
    m = sp.csr_matrix((data, (r, c)), shape=(len(rows), n_products))
    m.sort_indices()
    return m


def test_hand_computed_case():
    # Customer 0: target {1, 2, 3}; hits at ranks 1 and 3 of [1, 5, 3].
    # Customer 1: target {7}; no hit in [0, 1, -1] (last slot empty).
    recommended = np.array([[1, 5, 3], [0, 1, -1]])
    t = targets([[1, 2, 3], [7]])
    m = ranking_metrics(recommended, t, 3)
    assert m["recall@3"] == pytest.approx((2 / 3 + 0) / 2)
    assert m["precision@3"] == pytest.approx((2 / 3 + 0) / 2)
    dcg = 1 + 1 / math.log2(4)
    idcg = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert m["ndcg@3"] == pytest.approx(dcg / idcg / 2)
    assert m["hitrate@3"] == pytest.approx(0.5)


def test_cut_at_k_and_ideal_dcg_capped_by_k():
    recommended = np.array([[4, 1, 2]])
    t = targets([[1, 2, 3, 4, 5]])
    m = ranking_metrics(recommended, t, 1)
    assert m["recall@1"] == pytest.approx(1 / 5)
    assert m["ndcg@1"] == pytest.approx(1.0)  # one slot, one hit: ideal


def test_lists_shorter_than_k_from_a_small_catalogue():
    # Two products in all, asked at 10: a hit at rank 2 of 2 for a target of both.
    recommended = np.array([[0, 1], [1, 0]])
    t = targets([[1], [0, 1]])
    m = ranking_metrics(recommended, t, 10)
    assert m["recall@10"] == pytest.approx(1.0)
    assert m["precision@10"] == pytest.approx((1 / 10 + 2 / 10) / 2)
    assert m["ndcg@10"] == pytest.approx((1 / math.log2(3) + 1) / 2)


def test_repeat_and_new_recall():
    recommended = np.array([[1, 2], [3, 4]])
    t = targets([[1, 2, 9], [3, 8]])
    repeat = targets([[1, 9], []])  # customer 0 bought 1 and 9 before; customer 1 nothing
    m = ranking_metrics(recommended, t, 2, repeat)
    assert m["recall_repeat@2"] == pytest.approx(1 / 2)  # only customer 0 has repeat targets
    assert m["recall_new@2"] == pytest.approx((1 / 1 + 1 / 2) / 2)


def test_hit_matrix_ignores_padding():
    t = targets([[0]])
    assert hit_matrix(np.array([[-1, 0]]), t).tolist() == [[False, True]]


def test_coverage():
    recommended = np.array([[1, 2, 3], [1, 4, -1]])
    assert coverage(recommended, 2, 10) == pytest.approx(3 / 10)
