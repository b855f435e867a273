"""The expected date of a listed item: the day it is bought on, if bought within the horizon.

Two ways to date a repeat item compete on the validation cutoff's purchases, and the one with
the smaller mean absolute error in days is kept (`PurchaseTiming.method_`):

- ``"cycle"``: the pair's reorder cycle, its last purchase plus its usual interval (the
  product's usual interval for a pair bought once), today when that is past. Exact for a
  customer who keeps to a cycle, and what needs no data to learn from.
- ``"learned"``: a gradient-boosting regression of the day of purchase (days after the
  cutoff, given a purchase within the horizon) on the ranker's features and the cycle's day,
  with the absolute error as its loss, so that it predicts the median day.

On both development datasets the day within the horizon is barely predictable from a history:
the cycle's date is off by 3 to 7 times as many days as the middle of the window would be, and
the regression, which can learn where cycles hold, does about as well as the middle
(docs/benchmarks.md). Dates of items new to the customer are not given.
"""

from __future__ import annotations

import logging

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor

log = logging.getLogger(__name__)


class PurchaseTiming:
    """Expected day of purchase of (customer, product) pairs, chosen by validation.

    Parameters
    ----------
    horizon_days : int
        The window the purchases are counted in; learned days fall inside it.
    min_purchases : int
        Fewest dated purchases, in training and in validation each, to learn a regression
        from; with fewer the cycle's dates are kept.
    max_iter, learning_rate, max_leaf_nodes, min_samples_leaf :
        Those of scikit-learn's HistGradientBoostingRegressor, which stops early on the
        validation purchases.
    """

    def __init__(
        self,
        horizon_days: int,
        min_purchases: int = 200,
        max_iter: int = 200,
        learning_rate: float = 0.1,
        max_leaf_nodes: int = 15,
        min_samples_leaf: int = 50,
        random_state: int = 0,
    ) -> None:
        self.horizon_days = horizon_days
        self.min_purchases = min_purchases
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.random_state = random_state

    def fit(
        self,
        feature_names: list[str],
        X: np.ndarray,
        days: np.ndarray,
        X_val: np.ndarray | None = None,
        days_val: np.ndarray | None = None,
    ) -> PurchaseTiming:
        """Learn from candidate pairs as of an inner cutoff (midnight): ``days`` is the day of
        each pair's first purchase after it (0 = the cutoff's day), NaN for pairs not bought.
        The validation pairs (a later cutoff) choose between the cycle and the regression."""
        self.feature_names_ = list(feature_names)
        self.method_ = "cycle"
        self.regressor_: HistGradientBoostingRegressor | None = None
        self.validation_: dict[str, float] = {}
        train = self._dated(X, days)
        val = self._dated(X_val, days_val) if X_val is not None else np.zeros(0, dtype=bool)
        if train.sum() < self.min_purchases or val.sum() < self.min_purchases:
            log.info(
                "purchase timing: %d training and %d validation purchases, dates by the cycle",
                train.sum(),
                val.sum(),
            )
            return self
        # Early stopping on the later cutoff's purchases, not on a random share of the
        # training rows as scikit-learn holds out by default.
        self.regressor_ = HistGradientBoostingRegressor(
            loss="absolute_error",
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf,
            early_stopping=True,
            n_iter_no_change=10,
            random_state=self.random_state,
        ).fit(
            self._inputs(X[train]),
            days[train],
            X_val=self._inputs(X_val[val]),
            y_val=days_val[val],
        )
        truth = days_val[val]
        cycle = np.abs(self._cycle_days(X_val[val], 0.0) - truth).mean()
        learned = np.abs(self._learned_days(X_val[val]) - truth).mean()
        self.validation_ = {"date_mae_cycle": float(cycle), "date_mae_learned": float(learned)}
        self.method_ = "learned" if learned < cycle else "cycle"
        log.info(
            "purchase timing: %d training purchases; validation error %.2f days by the cycle, "
            "%.2f learned (%d rounds): dates %s",
            train.sum(),
            cycle,
            learned,
            self.regressor_.n_iter_,
            "learned" if self.method_ == "learned" else "by the cycle",
        )
        return self

    def expected_days(self, X: np.ndarray, as_of: float) -> np.ndarray:
        """Expected day of purchase (days since the epoch, a whole day) of each pair as of day
        ``as_of``; NaN for pairs never bought."""
        cycle = self._cycle_days(X, as_of)
        if self.method_ == "cycle":
            return cycle
        start = np.floor(as_of)
        return np.where(np.isnan(cycle), np.nan, start + self._learned_days(X))

    # ----------------------------------------------------------------------------- parts
    def _column(self, X: np.ndarray, name: str) -> np.ndarray:
        return X[:, self.feature_names_.index(name)]

    def _cycle_days(self, X: np.ndarray, as_of: float) -> np.ndarray:
        """Last purchase + the pair's interval (the product's for a pair bought once), or
        today when that is past; a whole day."""
        since = self._column(X, "pair_days_since_last")
        gap = self._column(X, "pair_gap")
        gap = np.where(np.isnan(gap), self._column(X, "product_gap"), gap)
        day = as_of + gap - since
        return np.floor(np.where(day < as_of, as_of, day))

    def _dated(self, X: np.ndarray, days: np.ndarray) -> np.ndarray:
        """Pairs bought again within the horizon that the cycle can date (bought before, with
        an interval of their own or their product's): what a date is given for."""
        return ~np.isnan(days) & ~np.isnan(self._cycle_days(X, 0.0))

    def _inputs(self, X: np.ndarray) -> np.ndarray:
        cycle = np.clip(self._cycle_days(X, 0.0), 0, self.horizon_days - 1)
        return np.column_stack([X, cycle])

    def _learned_days(self, X: np.ndarray) -> np.ndarray:
        """The regression's day after the cutoff, a whole day within the horizon."""
        return np.clip(np.round(self.regressor_.predict(self._inputs(X))), 0, self.horizon_days - 1)
