"""The learned ranker: gradient-boosted trees whose output is a calibrated probability.

Trained pointwise on (features, bought-or-not) examples built inside the training data. Its size
(number of boosting rounds) is chosen by early stopping on a later, held-out period; the same
period fits the calibration, so ``predict_proba`` is an observed purchase rate: isotonic where
the period holds enough purchases to place its steps, Platt's two-parameter sigmoid where it
does not (on a small shop's few dozen purchases isotonic steps put most pairs at exactly zero).
The final booster is then refitted on every period with the chosen number of rounds: the most recent
period is the most informative about the next one (on both development datasets, leaving it out
cost more than the validation gain of a larger model).

Given the customer of each example, a second, smaller booster re-ranks each customer's leading
candidates: a regression on the labels centred within the customer, so it learns only which of
a customer's candidates they buy, not who buys more (which a pointwise classifier spends much of
its loss on and which changes no customer's list). It gained 0.1 to 0.7 points over the best
baseline on every validation figure of both development datasets (docs/benchmarks.md).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
from scipy.special import expit, logit
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from recsys.models.sparse_rows import rank_within_groups

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

    ``rerank_top`` is how many of each customer's candidates, best first by the classifier,
    the re-ranker re-orders (None: no re-ranker); it learns from each customer's
    ``rerank_train_top`` best, at most ``rerank_max_iter`` rounds. It re-orders fewer than it
    learns from, so a pair the classifier holds unlikely (a regular bought the day before)
    stays where the classifier puts it: the re-ranker rarely saw such pairs. Its examples
    weigh ``sample_weight ** rerank_weight_power``: the anticipation model's 1/√n (n the
    products the customer bought in the labels) squared is 1/n, so each customer's list counts
    once in its fit, as it does in recall and NDCG. It only orders within customers, so it can
    take the per-customer weight the classifier could not (docs/benchmarks.md: +0.2 to +1.2
    points on the grocer's four validation figures, up to -0.4 on the wholesaler's).
    """

    def __init__(
        self,
        max_iter: int = 300,
        learning_rate: float = 0.05,
        max_leaf_nodes: int = 63,
        min_samples_leaf: int | None = None,
        l2_regularization: float = 1.0,
        max_features: float = 0.5,
        rerank_top: int | None = 20,
        rerank_train_top: int = 30,
        rerank_max_iter: int = 150,
        rerank_weight_power: float = 2.0,
        random_state: int = 0,
    ) -> None:
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.max_features = max_features
        self.rerank_top = rerank_top
        self.rerank_train_top = rerank_train_top
        self.rerank_max_iter = rerank_max_iter
        self.rerank_weight_power = rerank_weight_power
        self.random_state = random_state

    def _booster(
        self, max_iter: int, early_stopping: bool, n_examples: int, regression: bool = False
    ) -> HistGradientBoostingClassifier | HistGradientBoostingRegressor:
        min_leaf = self.min_samples_leaf
        if min_leaf is None:
            min_leaf = int(np.clip(n_examples // 2000, 20, 200))
        kind = HistGradientBoostingRegressor if regression else HistGradientBoostingClassifier
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

        Sample weights (both or neither; only their ratios matter) shape what the booster
        learns. The calibration is fitted unweighted, so probabilities stay observed rates.
        ``groups`` (and ``groups_val``) give each example's customer, any integer id; with
        them the re-ranker is fitted too.
        """
        y = np.asarray(y, dtype=np.int8)
        self.validation_scores_ = None
        self.reranker_ = None
        if len(np.unique(y)) < 2:
            self.constant_ = float(y.mean()) if len(y) else 0.0
            self.booster_ = None
            self.n_rounds_ = 0
            self.calibrator_ = None
            return self
        self.constant_ = None
        has_val = X_val is not None and len(np.unique(y_val)) == 2
        w = w_val = None
        if sample_weight is not None:
            scale = np.mean(np.r_[sample_weight, sample_weight_val if has_val else []])
            w = np.asarray(sample_weight, dtype=np.float64) / scale
            w_val = np.asarray(sample_weight_val, dtype=np.float64) / scale if has_val else None
        probe_logit = None
        if has_val:
            y_val = np.asarray(y_val, dtype=np.int8)
            probe = self._booster(self.max_iter, True, len(y)).fit(
                _for_boosting(X, w),
                y,
                sample_weight=w,
                X_val=X_val,
                y_val=y_val,
                sample_weight_val=w_val,
            )
            self.n_rounds_ = int(probe.n_iter_)
            probe_logit = probe.decision_function(X_val)
            # Out-of-sample scores of the validation period, for honest validation metrics.
            self.validation_scores_ = expit(probe_logit).astype(np.float32)
            self.calibrator_ = _calibrator(expit(probe_logit), y_val)
            w_all = None if w is None else np.r_[w, w_val]
            self.booster_ = self._booster(self.n_rounds_, False, len(y)).fit(
                _for_boosting(np.vstack([X, X_val]), w_all), np.r_[y, y_val], sample_weight=w_all
            )
        else:
            self.booster_ = self._booster(self.max_iter // 2, False, len(y)).fit(
                _for_boosting(X, w), y, sample_weight=w
            )
            self.n_rounds_ = self.booster_.n_iter_
            self.calibrator_ = _calibrator(self.booster_.predict_proba(X)[:, 1], y)
        if groups is not None and self.rerank_top:
            val = (X_val, y_val, w_val, groups_val) if has_val and groups_val is not None else None
            self._fit_reranker(X, y, w, np.asarray(groups), val, probe_logit)
        log.info(
            "ranker: %d examples, %d rounds, %s calibration; re-ranker: %s rounds",
            len(y) + (len(y_val) if has_val else 0),
            self.n_rounds_,
            "isotonic" if isinstance(self.calibrator_, IsotonicRegression) else "Platt",
            self.reranker_.n_iter_ if self.reranker_ is not None else "no",
        )
        return self

    def _leading(
        self, X: np.ndarray, y: np.ndarray, w: np.ndarray | None, groups: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]:
        """Each customer's ``rerank_train_top`` best by the fitted classifier, as the
        re-ranker learns them: features, labels centred within customers, weights raised to
        ``rerank_weight_power``, groups."""
        lead = (
            rank_within_groups(groups, self.booster_.decision_function(X)) < self.rerank_train_top
        )
        g = groups[lead]
        w = None if w is None else w[lead] ** self.rerank_weight_power
        return X[lead], _centred(y[lead], g), w, g

    def _fit_reranker(
        self,
        X: np.ndarray,
        y: np.ndarray,
        w: np.ndarray | None,
        groups: np.ndarray,
        val: tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray] | None,
        probe_logit: np.ndarray | None,
    ) -> None:
        """The re-ranker, on each customer's ``rerank_train_top`` best by the fitted classifier.

        Its size comes from early stopping on the validation period's leading candidates, and
        each booster's weight in the sum from its spread within customers there.
        """
        X, target, w, groups = self._leading(X, y, w, groups)
        if val is None:
            self.reranker_ = self._booster(
                self.rerank_max_iter // 2, False, len(target), regression=True
            ).fit(_for_boosting(X, w), target, sample_weight=w)
            spread_of, on = self.reranker_, (X, groups)
        else:
            X_val, y_val, w_val, groups_val = val
            groups_val = np.asarray(groups_val)
            Xv, target_val, wv, gv = self._leading(X_val, y_val, w_val, groups_val)
            probe = self._booster(self.rerank_max_iter, True, len(target), regression=True).fit(
                _for_boosting(X, w),
                target,
                sample_weight=w,
                X_val=Xv,
                y_val=target_val,
                sample_weight_val=wv,
            )
            w_all = None if w is None else np.r_[w, wv]
            self.reranker_ = self._booster(
                int(probe.n_iter_), False, len(target), regression=True
            ).fit(
                _for_boosting(np.vstack([X, Xv]), w_all),
                np.r_[target, target_val],
                sample_weight=w_all,
            )
            spread_of, on = probe, (Xv, gv)
        spreads = (
            _spread_within(self.booster_.decision_function(on[0]), on[1]),
            _spread_within(spread_of.predict(on[0]), on[1]),
        )
        if min(spreads) < 1e-9:  # nothing to tell a customer's candidates apart by
            self.reranker_ = None
            return
        self.spreads_ = spreads
        if val is not None:
            # The order the two probes (neither saw the validation labels) give the period.
            self.validation_scores_ = self._ranking(
                probe_logit, groups_val, lambda rows: probe.predict(X_val[rows])
            ).astype(np.float32)

    def log_odds(self, X: np.ndarray) -> np.ndarray:
        """The classifier's uncalibrated log-odds of purchase."""
        if self.booster_ is None:
            p = np.clip(self.constant_, 1e-6, 1 - 1e-6)
            return np.full(len(X), np.log(p / (1 - p)))
        return self.booster_.decision_function(X)

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

    def scores(
        self, X: np.ndarray, groups: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(ranking_score(X, groups), predict_proba(X))`` from one pass of the classifier."""
        logit = self.log_odds(X)
        return self._ranking(logit, groups, lambda rows: self.reranker_.predict(X[rows])), (
            self._calibrated(logit)
        )

    def ranking_score(self, X: np.ndarray, groups: np.ndarray | None = None) -> np.ndarray:
        """A score that orders each group's (customer's) examples, best first.

        Without groups or a re-ranker: the classifier's uncalibrated probability. With them:
        each group's ``rerank_top`` best by the classifier come first, in (1, 2], ordered by
        the sum of the two boosters' scores, each over its spread; the rest follow in the
        classifier's order, in (0, 1).
        """
        return self.scores(X, groups)[0]

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Calibrated probability of the positive class."""
        return self._calibrated(self.log_odds(X))

    def _calibrated(self, logit: np.ndarray) -> np.ndarray:
        raw = expit(logit)
        if self.calibrator_ is None:
            return raw.astype(np.float32)
        return self.calibrator_.predict(raw).astype(np.float32)

    def _ranking(
        self,
        logit: np.ndarray,
        groups: np.ndarray | None,
        rerank: Callable[[np.ndarray], np.ndarray],
    ) -> np.ndarray:
        """The two-stage order; ``rerank(rows)`` gives the re-ranker's scores of those rows."""
        score = expit(logit)
        if self.reranker_ is None or groups is None:
            return score
        lead = np.flatnonzero(rank_within_groups(np.asarray(groups), logit) < self.rerank_top)
        classifier_spread, reranker_spread = self.spreads_
        combined = logit[lead] / classifier_spread + rerank(lead) / reranker_spread
        score[lead] = 1 + expit(combined)
        return score


#: Purchases (and non-purchases) a calibration period needs before isotonic regression may
#: place its steps; scikit-learn's guide warns it overfits well above that on small sets.
ISOTONIC_MIN_EACH = 1000


def _calibrator(raw: np.ndarray, y: np.ndarray) -> IsotonicRegression | PlattScaling:
    """Isotonic regression of ``y`` on the raw probabilities where both classes number at least
    ISOTONIC_MIN_EACH, Platt's sigmoid otherwise."""
    if min(int(y.sum()), int(len(y) - y.sum())) >= ISOTONIC_MIN_EACH:
        return IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(raw, y)
    return PlattScaling().fit(raw, y)


class PlattScaling:
    """Platt's calibration: a logistic regression on the log-odds, ``predict`` as isotonic's.

    Two parameters cannot overfit a small period, and a sigmoid never reaches 0 or 1.
    """

    def fit(self, raw: np.ndarray, y: np.ndarray) -> PlattScaling:
        """Fit on raw probabilities ``raw`` and their 0/1 outcomes ``y``."""
        self.model_ = LogisticRegression(C=1e4).fit(_log_odds(raw), y)
        return self

    def predict(self, raw: np.ndarray) -> np.ndarray:
        """Calibrated probabilities of raw probabilities ``raw``."""
        return self.model_.predict_proba(_log_odds(raw))[:, 1]


def _log_odds(p: np.ndarray) -> np.ndarray:
    return logit(np.clip(np.asarray(p, dtype=np.float64), 1e-7, 1 - 1e-7))[:, None]


def _centred(y: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Labels minus their group's mean."""
    _, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
    return y - (np.bincount(inverse, weights=y) / counts)[inverse]


def _spread_within(values: np.ndarray, groups: np.ndarray) -> float:
    """Root mean square of ``values`` around their group's mean."""
    return float(np.sqrt(np.mean(_centred(np.asarray(values, dtype=np.float64), groups) ** 2)))


# scikit-learn 1.9 bins a booster's features by weighted quantiles when it is given weights and
# at most 200,000 examples, with one `_weighted_percentile` call per bin edge and feature
# (scikit-learn issue #34304): 13 to 16 s per fit of the re-ranker on all of UCI Online Retail.
# A feature with at most 255 distinct values is binned at its values' midpoints instead, at once.
_WEIGHTED_BINNING_UP_TO = 200_000
_MAX_BINS = 255


def _for_boosting(X: np.ndarray, sample_weight: np.ndarray | None) -> np.ndarray:
    """``X`` as a booster is fitted on: empty columns zeroed, weighted binning done here.

    Where scikit-learn would bin by weighted quantiles slowly, each feature with more than
    255 distinct values is snapped to 255 weighted quantiles of its own, each value to the
    nearest. The booster's split thresholds are then the midpoints between those quantiles,
    the edges the snapping used, so unsnapped values at prediction time fall on the same side
    of every split as the training values did.
    """
    X = _with_empty_columns_zeroed(X)
    if sample_weight is None or len(X) > _WEIGHTED_BINNING_UP_TO:
        return X
    snapped = X.copy()
    levels = (np.arange(_MAX_BINS) + 0.5) / _MAX_BINS
    for j in range(X.shape[1]):  # one pass per feature, vectorised over the examples
        known = np.flatnonzero(~np.isnan(X[:, j]))
        values = X[known, j].astype(np.float64)
        order = np.argsort(values, kind="stable")
        if np.count_nonzero(np.diff(values[order])) < _MAX_BINS:
            continue
        cdf = np.cumsum(sample_weight[known][order])
        at = np.minimum(np.searchsorted(cdf, levels * cdf[-1]), len(cdf) - 1)
        quantiles = np.unique(values[order][at])
        # float64 midpoints, as scikit-learn computes its thresholds
        edges = (quantiles[:-1] + quantiles[1:]) / 2
        snapped[known, j] = quantiles[np.searchsorted(edges, values, side="left")]
    return snapped


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
