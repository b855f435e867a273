"""The learned ranker: gradient-boosted trees whose output is a calibrated probability.

Trained pointwise on (features, bought-or-not) examples built inside the training data. Its size
(number of boosting rounds) is chosen by early stopping on a later, held-out period; the same
period fits an isotonic calibration, so ``predict_proba`` is an observed purchase rate. The final
booster is then refitted on every period with the chosen number of rounds: the most recent
period is the most informative about the next one (on both development datasets, leaving it out
cost more than the validation gain of a larger model).
"""

from __future__ import annotations

import logging

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.isotonic import IsotonicRegression

log = logging.getLogger(__name__)


class Ranker:
    """Gradient boosting + isotonic calibration, with a temporal validation set.

    Parameters are those of scikit-learn's HistGradientBoostingClassifier; ``max_iter`` is
    the ceiling that early stopping works under. ``min_samples_leaf=None`` scales it with the
    examples (one in 2,000, within 20..200), so a small shop's few thousand examples can still
    split on the features that matter while a large one's leaves stay well populated.
    ``max_features`` is the share of features each split may choose from: trees that cannot
    all lean on the same few strong features average out each other's noise, which with the
    slower learning rate gained about a point over the best baseline on both development
    datasets (docs/benchmarks.md).
    """

    def __init__(
        self,
        max_iter: int = 300,
        learning_rate: float = 0.05,
        max_leaf_nodes: int = 63,
        min_samples_leaf: int | None = None,
        l2_regularization: float = 1.0,
        max_features: float = 0.5,
        random_state: int = 0,
    ) -> None:
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.max_features = max_features
        self.random_state = random_state

    def _booster(
        self, max_iter: int, early_stopping: bool, n_examples: int
    ) -> HistGradientBoostingClassifier:
        min_leaf = self.min_samples_leaf
        if min_leaf is None:
            min_leaf = int(np.clip(n_examples // 2000, 20, 200))
        return HistGradientBoostingClassifier(
            max_iter=max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=min_leaf,
            l2_regularization=self.l2_regularization,
            max_features=self.max_features,
            early_stopping=early_stopping,
            n_iter_no_change=15,
            random_state=self.random_state,
        )

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        X_val: np.ndarray | None = None,
        y_val: np.ndarray | None = None,
        sample_weight: np.ndarray | None = None,
        sample_weight_val: np.ndarray | None = None,
    ) -> Ranker:
        """Fit on (X, y); with a validation period, stop early on it, calibrate on it, refit.

        Sample weights (both or neither; only their ratios matter) shape what the booster
        learns. The calibration is fitted unweighted, so probabilities stay observed rates.
        """
        y = np.asarray(y, dtype=np.int8)
        self.validation_scores_ = None
        if len(np.unique(y)) < 2:
            self.constant_ = float(y.mean()) if len(y) else 0.0
            self.booster_ = None
            self.calibrator_ = None
            return self
        self.constant_ = None
        has_val = X_val is not None and len(np.unique(y_val)) == 2
        w = w_val = None
        if sample_weight is not None:
            scale = np.mean(np.r_[sample_weight, sample_weight_val if has_val else []])
            w = np.asarray(sample_weight, dtype=np.float64) / scale
            w_val = np.asarray(sample_weight_val, dtype=np.float64) / scale if has_val else None
        if has_val:
            probe = self._booster(self.max_iter, True, len(y)).fit(
                _with_empty_columns_zeroed(X),
                y,
                sample_weight=w,
                X_val=X_val,
                y_val=y_val,
                sample_weight_val=w_val,
            )
            self.n_rounds_ = int(probe.n_iter_)
            raw = probe.predict_proba(X_val)[:, 1]
            # Out-of-sample scores of the validation period, for honest validation metrics.
            self.validation_scores_ = raw.astype(np.float32)
            self.calibrator_ = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(
                raw, y_val
            )
            self.booster_ = self._booster(self.n_rounds_, False, len(y)).fit(
                _with_empty_columns_zeroed(np.vstack([X, X_val])),
                np.r_[y, np.asarray(y_val, dtype=np.int8)],
                sample_weight=None if w is None else np.r_[w, w_val],
            )
        else:
            self.booster_ = self._booster(self.max_iter // 2, False, len(y)).fit(
                _with_empty_columns_zeroed(X), y, sample_weight=w
            )
            self.n_rounds_ = self.booster_.n_iter_
            self.calibrator_ = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(
                self.booster_.predict_proba(X)[:, 1], y
            )
        log.info(
            "ranker: %d examples, %d rounds",
            len(y) + (len(y_val) if has_val else 0),
            self.n_rounds_,
        )
        return self

    def raw_score(self, X: np.ndarray) -> np.ndarray:
        """The booster's uncalibrated probability: finer-grained, for ranking."""
        if self.booster_ is None:
            return np.full(len(X), self.constant_, dtype=np.float32)
        return self.booster_.predict_proba(X)[:, 1].astype(np.float32)

    def leading_score(self, X: np.ndarray, rounds: int) -> np.ndarray | None:
        """The raw score of the booster's first ``rounds`` trees, or None if that is all of it.

        A cheap pre-ranking: the first trees carry most of the ordering, so the full ensemble
        only needs to see the pairs these put near the top.
        """
        if self.booster_ is None or self.n_rounds_ <= rounds:
            return None
        stages = self.booster_.staged_decision_function(X)
        for _ in range(rounds - 1):
            next(stages)
        return next(stages).astype(np.float32)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Calibrated probability of the positive class."""
        raw = self.raw_score(X)
        if self.calibrator_ is None:
            return raw
        return self.calibrator_.predict(raw).astype(np.float32)


def _with_empty_columns_zeroed(X: np.ndarray) -> np.ndarray:
    """``X`` with every column that holds no value (all NaN) set to 0.

    scikit-learn 1.9 fails to bin a feature without a single non-missing value ("window shape
    cannot be larger than input array shape"), and a shop where no customer has bought a product
    twice leaves every interval feature empty. A constant column is never split on, so the
    trees are those the column's absence would give, and NaN at prediction time is harmless.
    """
    empty = np.isnan(X).all(axis=0)
    if not empty.any():
        return X
    X = X.copy()
    X[:, empty] = 0
    return X
