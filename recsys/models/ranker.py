"""The learned ranker: gradient-boosted trees whose output is a calibrated probability.

Trained pointwise on (features, bought-or-not) examples built inside the training data. Its size
(number of boosting rounds) is chosen by early stopping on a later, held-out period; the same
period fits an isotonic calibration, so ``predict_proba`` is an observed purchase rate. The final
booster is then refitted on every period with the chosen number of rounds: the most recent
period is the most informative about the next one (on both development datasets, leaving it out
cost more than the validation gain of a larger model).

Given the group (customer) of each example, a second booster learns to order each group's
examples: a regression on labels centred within the group, so it spends nothing on telling
customers apart (who buys more, who buys at all), only on which of a customer's candidates they
buy. ``ranking_score`` sums the two boosters' scores, each in units of its spread within groups.
"""

from __future__ import annotations

import logging

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.isotonic import IsotonicRegression

log = logging.getLogger(__name__)


class Ranker:
    """Gradient boosting + isotonic calibration, with a temporal validation set; optionally a
    second booster for the order within groups.

    Parameters are those of scikit-learn's HistGradientBoostingClassifier; ``max_iter`` is
    the ceiling that early stopping works under. ``min_samples_leaf=None`` scales it with the
    examples (one in 2,000, within 20..200), so a small shop's few thousand examples can still
    split on the features that matter while a large one's leaves stay well populated.
    ``max_features`` is the share of features each split may choose from: trees that cannot
    all lean on the same few strong features average out each other's noise, which with the
    slower learning rate gained about a point over the best baseline on both development
    datasets (docs/benchmarks.md). Both boosters share these parameters.
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
        self, max_iter: int, early_stopping: bool, n_examples: int, within_groups: bool = False
    ) -> HistGradientBoostingClassifier | HistGradientBoostingRegressor:
        min_leaf = self.min_samples_leaf
        if min_leaf is None:
            min_leaf = int(np.clip(n_examples // 2000, 20, 200))
        kind = HistGradientBoostingRegressor if within_groups else HistGradientBoostingClassifier
        return kind(
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
        groups: np.ndarray | None = None,
        groups_val: np.ndarray | None = None,
    ) -> Ranker:
        """Fit on (X, y); with a validation period, stop early on it, calibrate on it, refit.

        Sample weights (both or neither; only their ratios matter) shape what the boosters
        learn. The calibration is fitted unweighted, so probabilities stay observed rates.
        ``groups`` (with ``groups_val`` when there is a validation period) name each example's
        customer and add the booster that orders examples within them.
        """
        y = np.asarray(y, dtype=np.int8)
        self.validation_scores_ = None
        self.ranking_booster_ = None
        if len(np.unique(y)) < 2:
            self.constant_ = float(y.mean()) if len(y) else 0.0
            self.booster_ = None
            self.calibrator_ = None
            return self
        self.constant_ = None
        has_val = X_val is not None and len(np.unique(y_val)) == 2
        if not has_val:
            X_val = y_val = sample_weight_val = groups_val = None
        w = w_val = None
        if sample_weight is not None:
            scale = np.mean(np.r_[sample_weight, sample_weight_val if has_val else []])
            w = np.asarray(sample_weight, dtype=np.float64) / scale
            w_val = np.asarray(sample_weight_val, dtype=np.float64) / scale if has_val else None
        y_val = None if y_val is None else np.asarray(y_val, dtype=np.int8)
        probe, self.booster_ = self._fit_booster(False, X, y, X_val, y_val, w, w_val)
        self.n_rounds_ = int(self.booster_.n_iter_)
        # Out-of-sample scores of the validation period calibrate and, for honest validation
        # metrics, are kept; without one, the fitted examples stand in.
        X_cal, y_cal = (X_val, y_val) if has_val else (X, y)
        raw = probe.predict_proba(X_cal)[:, 1]
        self.calibrator_ = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(
            raw, y_cal
        )
        if groups is not None:
            g_cal = groups_val if has_val else groups
            probe_rank, self.ranking_booster_ = self._fit_booster(
                True,
                X,
                _centred_within(groups, y),
                X_val,
                None if not has_val else _centred_within(groups_val, y_val),
                w,
                w_val,
            )
            # Each booster's score in units of its spread within groups, measured out of
            # sample where possible, so that neither dominates the sum.
            self.scales_ = (
                _spread_within(g_cal, probe.decision_function(X_cal)),
                _spread_within(g_cal, probe_rank.predict(X_cal)),
            )
            raw = self._combined(probe, probe_rank, X_cal)
        if has_val:
            self.validation_scores_ = raw.astype(np.float32)
        log.info(
            "ranker: %d examples, %d rounds%s",
            len(y) + (len(y_val) if has_val else 0),
            self.n_rounds_,
            ""
            if self.ranking_booster_ is None
            else f" + {self.ranking_booster_.n_iter_} rounds within customers",
        )
        return self

    def _fit_booster(
        self,
        within_groups: bool,
        X: np.ndarray,
        y: np.ndarray,
        X_val: np.ndarray | None,
        y_val: np.ndarray | None,
        w: np.ndarray | None,
        w_val: np.ndarray | None,
    ) -> tuple[
        HistGradientBoostingClassifier | HistGradientBoostingRegressor,
        HistGradientBoostingClassifier | HistGradientBoostingRegressor,
    ]:
        """(probe, final): with a validation period the probe stops early on it and the final
        booster is refitted on both periods with the probe's rounds; without one, both are the
        same booster of half the ceiling."""
        if X_val is None:
            booster = self._booster(self.max_iter // 2, False, len(y), within_groups).fit(
                _with_empty_columns_zeroed(X), y, sample_weight=w
            )
            return booster, booster
        probe = self._booster(self.max_iter, True, len(y), within_groups).fit(
            _with_empty_columns_zeroed(X),
            y,
            sample_weight=w,
            X_val=X_val,
            y_val=y_val,
            sample_weight_val=w_val,
        )
        final = self._booster(probe.n_iter_, False, len(y), within_groups).fit(
            _with_empty_columns_zeroed(np.vstack([X, X_val])),
            np.r_[y, y_val],
            sample_weight=None if w is None else np.r_[w, w_val],
        )
        return probe, final

    def _combined(
        self,
        booster: HistGradientBoostingClassifier,
        ranking_booster: HistGradientBoostingRegressor,
        X: np.ndarray,
    ) -> np.ndarray:
        scale, rank_scale = self.scales_
        return booster.decision_function(X) / scale + ranking_booster.predict(X) / rank_scale

    def raw_score(self, X: np.ndarray) -> np.ndarray:
        """The classifier's uncalibrated probability (finer-grained than the calibrated one)."""
        if self.booster_ is None:
            return np.full(len(X), self.constant_, dtype=np.float32)
        return self.booster_.predict_proba(X)[:, 1].astype(np.float32)

    def ranking_score(self, X: np.ndarray) -> np.ndarray:
        """The score to order a customer's candidates by: both boosters' when fitted with
        groups, the raw score otherwise. Comparable within a customer only."""
        if self.ranking_booster_ is None:
            return self.raw_score(X)
        return self._combined(self.booster_, self.ranking_booster_, X).astype(np.float32)

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


def _centred_within(groups: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``y`` minus the mean of its group."""
    _, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
    return y - (np.bincount(inverse, y) / counts)[inverse]


def _spread_within(groups: np.ndarray, score: np.ndarray) -> float:
    """Root mean square of ``score`` around its group means (1 where there is no spread)."""
    spread = float(np.sqrt(np.mean(_centred_within(groups, score.astype(np.float64)) ** 2)))
    return spread if spread > 0 else 1.0


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
