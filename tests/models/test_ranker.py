"""The learned ranker: its leading trees, its calibration, and the re-ranker of each group."""

import numpy as np
from scipy.special import expit

from recsys.models.ranker import Ranker, _for_boosting


def _examples(n: int = 4000, seed: int = 0, shift: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5)).astype(np.float32)
    logit = 1.5 * X[:, 0] - X[:, 1] + 0.5 * X[:, 2] * X[:, 3] + shift
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int8)
    return X, y


def test_leading_score_is_the_first_trees_of_the_booster():
    X, y = _examples()
    ranker = Ranker(max_iter=60, random_state=0).fit(X, y)
    assert ranker.n_rounds_ == 30  # without a validation period: half the ceiling
    short = ranker._booster(8, early_stopping=False, n_examples=len(y)).fit(X, y)
    lead = ranker.leading_score(X, 8)
    np.testing.assert_allclose(lead, short.decision_function(X), rtol=1e-5, atol=1e-5)
    # The leading trees already order most pairs as the whole ensemble does.
    full = ranker.log_odds(X)
    assert np.corrcoef(np.argsort(np.argsort(lead)), np.argsort(np.argsort(full)))[0, 1] > 0.9


def test_leading_score_is_none_when_the_booster_is_that_small():
    X, y = _examples()
    ranker = Ranker(max_iter=20, random_state=0).fit(X, y)
    assert ranker.leading_score(X, 10) is None
    assert ranker.leading_score(X, 11) is None
    assert ranker.leading_score(X, 9) is not None


def test_weights_reach_the_booster_and_probabilities_stay_observed_rates():
    X, y = _examples()
    X_val, y_val = _examples(seed=1)
    # Positives weighted 4 to 1: a booster that sees the weights over-predicts the raw rate.
    ranker = Ranker(max_iter=60, random_state=0).fit(
        X, y, X_val, y_val, 1 + 3.0 * y, 1 + 3.0 * y_val
    )
    assert expit(ranker.log_odds(X_val)).mean() > y_val.mean() + 0.1
    # The calibration is unweighted: predicted probabilities average to the observed rate.
    assert abs(ranker.predict_proba(X_val).mean() - y_val.mean()) < 0.02


def test_a_small_period_is_calibrated_by_a_sigmoid_that_keeps_every_distinction():
    # A small shop: 600 examples to learn from, 300 to calibrate on, about 1 in 8 bought.
    X, y = _examples(600, shift=-2.5)
    X_val, y_val = _examples(300, seed=1, shift=-2.5)
    assert 20 <= y_val.sum() <= 60
    ranker = Ranker(max_iter=60, random_state=0).fit(X, y, X_val, y_val)
    p = ranker.predict_proba(X_val)
    # Never certain either way, in the booster's order with none of its distinctions lost
    # (isotonic steps on 300 examples would tie most of them, at exactly zero) ...
    assert 0 < p.min() and p.max() < 1
    logit = ranker.log_odds(X_val)
    assert len(np.unique(p)) == len(np.unique(logit))
    assert (np.diff(p[np.argsort(logit)]) >= 0).all()
    # ... and on average the observed rate.
    assert abs(p.mean() - y_val.mean()) < 0.02


def test_weighted_binning_keeps_training_and_prediction_on_the_same_side_of_every_split():
    X, y = _examples()
    X[::7, 2] = np.nan  # missing values stay missing
    w = np.random.default_rng(2).uniform(0.1, 3.0, size=len(y))
    snapped = _for_boosting(X, w)
    for j in range(X.shape[1]):
        known = ~np.isnan(X[:, j])
        assert np.array_equal(known, ~np.isnan(snapped[:, j]))
        assert 100 < len(np.unique(snapped[known, j])) <= 255 < len(np.unique(X[known, j]))
        # Snapping keeps the order of the values and moves them only to a close neighbour
        # (but in the thin tails, which share a bin as in any quantile binning).
        order = np.argsort(X[known, j], kind="stable")
        assert np.all(np.diff(snapped[known, j][order]) >= 0)
        assert np.quantile(np.abs(snapped[known, j] - X[known, j]), 0.98) < 0.05
    # Weights move the quantiles: heavy examples get finer bins.
    heavy = X[:, 0] > 1
    w_heavy = np.where(heavy, 20.0, 1.0)
    assert len(np.unique(_for_boosting(X, w_heavy)[heavy, 0])) > 2 * len(
        np.unique(snapped[heavy, 0])
    )
    # A booster fitted on the snapped values scores the raw values as it scores those.
    ranker = Ranker(max_iter=60, random_state=0).fit(X, y, sample_weight=w)
    np.testing.assert_array_equal(
        ranker.booster_.decision_function(X), ranker.booster_.decision_function(snapped)
    )
    # Unweighted, scikit-learn's own (fast) binning is left to it.
    assert _for_boosting(X, None) is X


def test_a_feature_without_any_value_changes_nothing():
    X, y = _examples()
    X_val, y_val = _examples(seed=1)
    empty = np.full((len(X), 1), np.nan, dtype=np.float32)
    with_empty = Ranker(max_iter=60, max_features=1.0, random_state=0).fit(
        np.hstack([X, empty]), y, np.hstack([X_val, empty[: len(X_val)]]), y_val
    )
    without = Ranker(max_iter=60, max_features=1.0, random_state=0).fit(X, y, X_val, y_val)
    assert with_empty.n_rounds_ == without.n_rounds_
    np.testing.assert_allclose(
        with_empty.predict_proba(np.hstack([X_val, empty[: len(X_val)]])),
        without.predict_proba(X_val),
    )


def _grouped(n_groups: int = 400, size: int = 30, seed: int = 0):
    """Customers (groups) whose candidates share the customer's level of activity.

    Column 0 is who the customer is (how much they buy: it moves every candidate of theirs
    alike); column 1 is which of their candidates they buy. A pointwise classifier gives
    column 0 most of its weight; within a customer only column 1 orders the candidates.
    """
    rng = np.random.default_rng(seed)
    groups = np.repeat(np.arange(n_groups), size)
    activity = rng.normal(size=n_groups)[groups]
    choice = rng.normal(size=len(groups))
    noise = rng.normal(size=(len(groups), 3))
    X = np.column_stack([activity, choice, noise]).astype(np.float32)
    logit = 2.5 * activity + 0.6 * choice - 2.0
    y = (rng.random(len(groups)) < expit(logit)).astype(np.int8)
    return X, y, groups


def test_the_re_ranker_orders_only_each_groups_leading_candidates():
    X, y, groups = _grouped()
    X_val, y_val, groups_val = _grouped(seed=1)
    ranker = Ranker(max_iter=80, rerank_top=5, rerank_train_top=10, random_state=0).fit(
        X, y, X_val, y_val, groups=groups, groups_val=groups_val
    )
    assert ranker.reranker_ is not None
    score, probability = ranker.scores(X_val, groups_val)
    np.testing.assert_allclose(probability, ranker.predict_proba(X_val))
    logit = ranker.log_odds(X_val)
    for g in range(20):
        members = np.flatnonzero(groups_val == g)
        by_classifier = members[np.argsort(-logit[members], kind="stable")]
        head, tail = by_classifier[:5], by_classifier[5:]
        # The classifier's five best come first, whatever order the re-ranker gives them ...
        assert score[head].min() > score[tail].max()
        # ... and the rest keep the classifier's order.
        assert (np.diff(score[tail]) <= 0).all()
    # Without groups: the classifier's own score, as before the re-ranker.
    np.testing.assert_allclose(ranker.ranking_score(X_val), expit(logit), rtol=1e-6)


def test_the_re_ranker_learns_the_order_within_groups_not_who_buys_more():
    X, y, groups = _grouped()
    X_val, y_val, groups_val = _grouped(seed=1)
    ranker = Ranker(
        max_iter=80, max_leaf_nodes=7, rerank_top=10, rerank_train_top=10, random_state=0
    ).fit(X, y, X_val, y_val, groups=groups, groups_val=groups_val)
    within = ranker.reranker_.predict(X_val)
    logit = ranker.log_odds(X_val)
    # The classifier's scores differ most between customers, the re-ranker's within them.
    assert _group_means(logit, groups_val).std() > 3 * _centre(logit, groups_val).std()
    assert _group_means(within, groups_val).std() < 0.5 * _centre(within, groups_val).std()
    # And within a customer it follows what they buy (column 1).
    choice = _centre(X_val[:, 1], groups_val)
    assert np.corrcoef(_centre(within, groups_val), choice)[0, 1] > 0.3


def test_the_re_ranker_weighs_customers_by_the_power_of_their_weights():
    # Half the customers buy the candidates high in column 1, half those low in it, and no
    # feature tells the halves apart: the re-ranker must side with the heavier half, the
    # more so the higher the power of their weights.
    X, _, groups = _grouped(n_groups=300, size=20)
    X_val, _, groups_val = _grouped(n_groups=300, size=20, seed=1)

    def labels(X, groups, seed):
        sign = np.where(groups % 2 == 0, 1.0, -1.0)
        logit = 1.5 * sign * X[:, 1] - 1.5
        return (np.random.default_rng(seed).random(len(X)) < expit(logit)).astype(np.int8)

    y, y_val = labels(X, groups, 2), labels(X_val, groups_val, 3)
    w, w_val = np.where(groups % 2 == 0, 3.0, 1.0), np.where(groups_val % 2 == 0, 3.0, 1.0)

    def follows_column_1(power: float) -> float:
        ranker = Ranker(
            max_iter=40,
            rerank_top=10,
            rerank_train_top=20,
            rerank_weight_power=power,
            random_state=0,
        ).fit(
            X,
            y,
            X_val,
            y_val,
            sample_weight=w,
            sample_weight_val=w_val,
            groups=groups,
            groups_val=groups_val,
        )
        within = _centre(ranker.reranker_.predict(X_val), groups_val)
        return float(np.corrcoef(within, _centre(X_val[:, 1], groups_val))[0, 1])

    unweighted, as_given, squared = (follows_column_1(p) for p in (0.0, 1.0, 2.0))
    assert abs(unweighted) < 0.3
    assert unweighted < as_given < squared
    assert squared > 0.5


def test_no_re_ranker_without_groups_or_when_switched_off():
    X, y, groups = _grouped()
    assert Ranker(max_iter=40).fit(X, y).reranker_ is None
    assert Ranker(max_iter=40, rerank_top=None).fit(X, y, groups=groups).reranker_ is None
    assert Ranker(max_iter=40).fit(X, y, groups=groups).reranker_ is not None


def _group_means(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    return np.bincount(groups, weights=values) / np.bincount(groups)


def _centre(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    return values - _group_means(values, groups)[groups]
