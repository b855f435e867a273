"""The learned ranker's pre-ranking score: the exact sum of its leading trees."""

import numpy as np

from recsys.models.ranker import Ranker


def _examples(n: int = 4000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5)).astype(np.float32)
    logit = 1.5 * X[:, 0] - X[:, 1] + 0.5 * X[:, 2] * X[:, 3]
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
    full = ranker.raw_score(X)
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
    assert ranker.raw_score(X_val).mean() > y_val.mean() + 0.1
    # The calibration is unweighted: predicted probabilities average to the observed rate.
    assert abs(ranker.predict_proba(X_val).mean() - y_val.mean()) < 0.02


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
