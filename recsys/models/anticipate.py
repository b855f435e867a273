"""The anticipation model: what each customer will buy within the horizon, and when.

Composition (see the parts' modules): `FeatureState` (reorder cycles, co-purchase, ALS) proposes
candidates and describes them; `Ranker` turns the description into a calibrated probability of
purchase given that the customer orders at all within the horizon; a second `Ranker` on customer
features gives the probability that they order at all. The product of the two is the
probability of buying the product within the horizon.

Training examples are built inside the training history only: at each inner cutoff, features
come from the lines before it and labels from the horizon after it. The most recent inner cutoff
is the validation period: it chooses the ranker's size by early stopping and fits the
calibration, and its metrics are kept (`validation_`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys.data.history import OrderHistory
from recsys.evaluation.metrics import ranking_metrics
from recsys.exceptions import DataError, ParameterError
from recsys.models.base import Recommender
from recsys.models.features import CandidateCounts, Candidates, FeatureState
from recsys.models.ranker import Ranker
from recsys.models.reorder_cycles import to_days
from recsys.models.sparse_rows import rank_within_groups

log = logging.getLogger(__name__)

TARGETS = ("window", "next-basket")
#: Horizons the model may choose from when none is given (days).
HORIZON_CHOICES = (7, 14, 30)


@dataclass
class Examples:
    """Training examples of one inner cutoff."""

    cutoff: pd.Timestamp
    X: np.ndarray
    y: np.ndarray
    row: np.ndarray  # position of the example's customer in `customers`
    product: np.ndarray
    customers: np.ndarray
    targets: sp.csr_matrix  # customers x products bought (proposed or not)
    X_customer: np.ndarray
    y_customer: np.ndarray


def choose_horizon(history: OrderHistory) -> int:
    """The horizon (days) closest, on a log scale, to the median customer's order interval."""
    orders = history.orders
    span = orders.groupby("customer")["timestamp"].agg(["min", "max", "size"])
    repeat = span[span["size"] > 1]
    if repeat.empty:
        return HORIZON_CHOICES[-1]
    gap = (
        (repeat["max"] - repeat["min"]).dt.total_seconds() / 86_400 / (repeat["size"] - 1)
    ).median()
    gap = max(float(gap), 1.0)
    return min(HORIZON_CHOICES, key=lambda h: abs(np.log(h / gap)))


class AnticipationModel(Recommender):
    """Reorder cycles + co-purchase + ALS, ranked by a calibrated gradient-boosting model.

    Parameters
    ----------
    horizon_days : int or None
        The window the probabilities are about; None chooses it from the data
        (`choose_horizon`).
    target : {"window", "next-basket"}
        Labels of the training examples: any purchase in the horizon, or the next order only.
    n_cutoffs : int
        Inner cutoffs (one horizon apart, the most recent one for validation).
    max_examples : int
        Cap on training examples per inner cutoff (customers are sampled to meet it).
    candidate_counts : CandidateCounts or None
        Products each generator proposes per customer.
    """

    fill_with_popular = True
    batch_size = 1000

    def __init__(
        self,
        horizon_days: int | None = None,
        target: str = "window",
        n_cutoffs: int = 4,
        max_examples: int = 400_000,
        candidate_counts: CandidateCounts | None = None,
        random_state: int = 0,
    ) -> None:
        self.horizon_days = horizon_days
        self.target = target
        self.n_cutoffs = n_cutoffs
        self.max_examples = max_examples
        self.candidate_counts = candidate_counts
        self.random_state = random_state

    # ----------------------------------------------------------------------------- fitting
    def _fit(self, history: OrderHistory) -> None:
        if self.target not in TARGETS:
            raise ParameterError(f"target must be one of {', '.join(TARGETS)}, got '{self.target}'")
        if self.horizon_days is not None and self.horizon_days < 1:
            raise ParameterError(f"horizon_days must be at least 1, got {self.horizon_days}")
        started = time.perf_counter()
        h = int(self.horizon_days or choose_horizon(history))
        self.horizon_days_ = h
        self.customer_ids_ = history.customer_ids
        self.product_ids_ = history.product_ids
        self.product_names_ = history.product_names
        cutoffs = self._inner_cutoffs(history, h)
        log.info(
            "anticipate: horizon %d days, inner cutoffs %s", h, [str(c.date()) for c in cutoffs]
        )
        examples = []
        for i, cutoff in enumerate(cutoffs):
            ex = self._examples(history, cutoff, h)
            if ex is not None:
                examples.append(ex)
            log.info(
                "anticipate: examples at cutoff %d/%d (%s): %s rows, %.0fs elapsed",
                i + 1,
                len(cutoffs),
                cutoff.date(),
                f"{len(ex.y):,}" if ex else 0,
                time.perf_counter() - started,
            )
        self.ranker_ = Ranker(random_state=self.random_state)
        self.activity_ = Ranker(max_leaf_nodes=15, random_state=self.random_state)
        self.validation_: dict[str, float] = {}
        if not examples:
            raise DataError(
                f"not enough history to learn from: need orders on both sides of at least one "
                f"inner cutoff {h} days apart ({history.start:%Y-%m-%d} .. {history.end:%Y-%m-%d})"
            )
        val, train = (examples[0], examples[1:]) if len(examples) > 1 else (None, examples)
        X = np.vstack([e.X for e in train])
        y = np.concatenate([e.y for e in train])
        Xc = np.vstack([e.X_customer for e in train])
        yc = np.concatenate([e.y_customer for e in train])
        if val is not None:
            self.ranker_.fit(X, y, val.X, val.y)
            self.activity_.fit(Xc, yc, val.X_customer, val.y_customer)
            self.validation_ = self._validate(val)
        else:
            self.ranker_.fit(X, y)
            self.activity_.fit(Xc, yc)
        self.state_ = FeatureState(h, self.candidate_counts, random_state=self.random_state).fit(
            history
        )
        self.cold_start_ = self._cold_start(history, h)
        log.info(
            "anticipate: fitted in %.1fs; validation %s",
            time.perf_counter() - started,
            {k: round(v, 4) for k, v in self.validation_.items()},
        )

    def _inner_cutoffs(self, history: OrderHistory, h: int) -> list[pd.Timestamp]:
        end = history.end.normalize() + pd.Timedelta(days=1)
        cutoffs = [end - pd.Timedelta(days=h * i) for i in range(1, self.n_cutoffs + 1)]
        earliest = history.start + pd.Timedelta(days=max(h, 14))
        return [c for c in cutoffs if c > earliest]

    def _labels(self, future: OrderHistory) -> OrderHistory:
        if self.target == "window":
            return future
        orders = future.orders
        first = orders.loc[~orders["customer"].duplicated(), "order"].to_numpy()
        return future._subset(np.isin(future.lines["order"].to_numpy(), first))

    def _examples(self, history: OrderHistory, cutoff: pd.Timestamp, h: int) -> Examples | None:
        past = history.before(cutoff)
        future = self._labels(history.between(cutoff, cutoff + pd.Timedelta(days=h)))
        known = past.active_customers
        buyers = future.active_customers
        customers = np.intersect1d(known, buyers)
        if len(customers) < 2 or past.n_lines == 0:
            return None
        rng = np.random.default_rng(self.random_state)
        state = FeatureState(h, self.candidate_counts, random_state=self.random_state).fit(past)
        # Customers are sampled (not examples) so each kept customer has their whole list.
        per_customer = 250
        cap = max(self.max_examples // per_customer, 50)
        if len(customers) > cap:
            customers = np.sort(rng.choice(customers, cap, replace=False))
        as_of = to_days(cutoff)
        cand, X = self._candidate_features(state, customers, as_of)
        targets = future.purchase_matrix()[customers].tocsr()
        targets.data[:] = 1.0
        y = (np.asarray(targets[cand.row, cand.product]).ravel() > 0).astype(np.int8)
        if len(known) > cap * 4:
            known = np.sort(rng.choice(known, cap * 4, replace=False))
        Xc = _matrix(state.customer_features(known, as_of))
        yc = np.isin(known, buyers).astype(np.int8)
        return Examples(cutoff, X, y, cand.row, cand.product, customers, targets, Xc, yc)

    def _candidate_features(
        self, state: FeatureState, customers: np.ndarray, as_of: float
    ) -> tuple[Candidates, np.ndarray]:
        cand = state.candidates(customers)
        features = state.features(customers, cand, as_of)
        self.feature_names_ = list(features)
        return cand, _matrix(features)

    def _validate(self, val: Examples) -> dict[str, float]:
        """Ranking metrics of the ranker on the validation period, against all its targets."""
        k = 10
        rank = rank_within_groups(val.row, self.ranker_.raw_score(val.X))
        top = rank < k
        recommended = np.full((len(val.customers), k), -1, dtype=np.int64)
        recommended[val.row[top], rank[top]] = val.product[top]
        metrics = ranking_metrics(recommended, val.targets, k)
        metrics["candidate_recall"] = float(val.y.sum() / max(val.targets.nnz, 1))
        metrics["customers"] = float(len(val.customers))
        return metrics

    def _cold_start(self, history: OrderHistory, h: int) -> pd.DataFrame:
        """Products most customers bought in the last horizon, with that share as probability."""
        recent = history.between(
            history.end - pd.Timedelta(days=h), history.end + pd.Timedelta(seconds=1)
        )
        lines = recent.lines.drop_duplicates(["customer", "product"])
        buyers = np.bincount(lines["product"].to_numpy(), minlength=history.n_products)
        top = np.argsort(-buyers, kind="stable")[:100]
        top = top[buyers[top] > 0]
        n_customers = max(len(history.active_customers), 1)
        return pd.DataFrame({"product": top, "probability": buyers[top] / n_customers})

    # --------------------------------------------------------------------------- predicting
    def _score(self, customers: np.ndarray, as_of: pd.Timestamp) -> np.ndarray:
        cand, X = self._candidate_features(self.state_, customers, to_days(as_of))
        block = np.zeros((len(customers), self.n_products_), dtype=np.float32)
        # Shifted above zero so that every candidate outranks the popularity fill.
        block[cand.row, cand.product] = self.ranker_.raw_score(X) + 1e-6
        return block


def _matrix(columns: dict[str, np.ndarray]) -> np.ndarray:
    return np.column_stack([np.asarray(v, dtype=np.float32) for v in columns.values()])
