"""The anticipation model: what each customer will buy within the horizon, and when.

Composition (see the parts' modules): `FeatureState` (reorder cycles, co-purchase, ALS) proposes
candidates and describes them; `Ranker` orders each customer's candidates and turns their
description into a calibrated probability of purchase given that the customer orders at all
within the horizon; a second `Ranker` on customer features gives the probability that they
order at all. The product of the two is the probability of buying the product within the
horizon. `PurchaseTiming` dates the repeat items: the day they are expected to be bought on.

Training examples are built inside the training history only: at each inner cutoff, features
come from the lines before it and labels from the horizon after it. The most recent inner cutoff
is the validation period: it chooses the ranker's size by early stopping, fits the
calibration and chooses how dates are given, and its metrics are kept (`validation_`).
"""

from __future__ import annotations

import copy
import logging
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.special import expit

from recsys.data.history import CUSTOMER, ORDER, PRODUCT, QUANTITY, TIMESTAMP, OrderHistory
from recsys.evaluation.metrics import ranking_metrics
from recsys.exceptions import DataError, NotFittedError, ParameterError
from recsys.models.base import Recommender
from recsys.models.features import CandidateCounts, FeatureState
from recsys.models.purchase_timing import PurchaseTiming
from recsys.models.ranker import Ranker
from recsys.models.reasons import explain, popularity_text
from recsys.models.reorder_cycles import to_days
from recsys.models.sparse_rows import rank_within_groups, values_at

log = logging.getLogger(__name__)

TARGETS = ("window", "next-basket")
#: Typical candidates per customer, to turn the example budget into a customer budget.
CANDIDATES_PER_CUSTOMER = 250
#: Horizons the model may choose from when none is given (days).
HORIZON_CHOICES = (7, 14, 30)
#: Serving cascade: the ranker's first trees pre-rank each customer's candidates and only the
#: best PRESCORE_KEEP of them (at least the k asked for) are scored by the whole ensemble.
#: The leading trees are as many as make up this much learning rate (40 at the ranker's 0.05),
#: so the pre-ranking goes as far whatever rate the ranker learns at.
PRESCORE_SHRINKAGE = 2.0
PRESCORE_KEEP = 30


@dataclass
class Examples:
    """Training examples of one inner cutoff."""

    X: np.ndarray
    y: np.ndarray
    row: np.ndarray  # position of the example's customer in `customers`
    product: np.ndarray
    customers: np.ndarray
    targets: sp.csr_matrix  # customers x products bought (proposed or not)
    X_customer: np.ndarray
    y_customer: np.ndarray
    #: Day of each example's first purchase after the cutoff (0 = its day), NaN if not bought.
    days: np.ndarray

    @property
    def weight(self) -> np.ndarray:
        """Each example's weight: one over the square root of the products its customer bought
        in the labels.

        Recall and NDCG average over customers, so a purchase in a large basket counts for
        less than one in a small basket; weighted so, the ranker orders a customer's
        candidates partly by their expected share of recall. The square root is halfway
        between that and probability alone: the full 1/n helped the grocer and cost the
        wholesaler NDCG (docs/benchmarks.md). The re-ranker, which only orders within
        customers, squares them (``Ranker.rerank_weight_power``).
        """
        return 1.0 / np.sqrt(np.maximum(self.targets.getnnz(axis=1), 1))[self.row]


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
        Inner cutoffs, half a horizon apart (the most recent one validates).
    max_examples : int
        Cap on training examples per inner cutoff (customers are sampled to meet it).
    candidate_counts : CandidateCounts or None
        Products each generator proposes per customer.
    cutoff_decay : float
        Weight of each training cutoff's examples relative to the next more recent one's
        (0 < decay <= 1; 1 weighs them all alike): buying habits drift, and the cutoffs
        nearest the end are most like the weeks the model will answer for.
    """

    fill_with_popular = True
    batch_size = 500

    def __init__(
        self,
        horizon_days: int | None = None,
        target: str = "window",
        n_cutoffs: int = 6,
        max_examples: int = 400_000,
        candidate_counts: CandidateCounts | None = None,
        cutoff_decay: float = 0.8,
        random_state: int = 0,
    ) -> None:
        self.horizon_days = horizon_days
        self.target = target
        self.n_cutoffs = n_cutoffs
        self.max_examples = max_examples
        self.candidate_counts = candidate_counts
        self.cutoff_decay = cutoff_decay
        self.random_state = random_state

    # ----------------------------------------------------------------------------- fitting
    def _fit(self, history: OrderHistory) -> None:
        if self.target not in TARGETS:
            raise ParameterError(f"target must be one of {', '.join(TARGETS)}, got '{self.target}'")
        if self.horizon_days is not None and self.horizon_days < 1:
            raise ParameterError(f"horizon_days must be at least 1, got {self.horizon_days}")
        if not 0 < self.cutoff_decay <= 1:
            raise ParameterError(f"cutoff_decay must be in (0, 1], got {self.cutoff_decay}")
        started = time.perf_counter()
        h = int(self.horizon_days or choose_horizon(history))
        self.horizon_days_ = h
        self.customer_ids_ = history.customer_ids
        self.product_ids_ = history.product_ids
        self.display_names_ = display_names(history)
        self.product_categories_ = history.product_categories
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
        self.activity_ = Ranker(max_leaf_nodes=15, rerank_top=None, random_state=self.random_state)
        self.validation_: dict[str, float] = {}
        if not examples:
            raise DataError(
                f"not enough history to learn from: need two or more customers who order both "
                f"before and within {h} days after an inner cutoff "
                f"({history.start:%Y-%m-%d} .. {history.end:%Y-%m-%d})"
            )
        fit_ranker(self.ranker_, examples, self.cutoff_decay)
        val, train = split_validation(examples)
        Xc = np.vstack([e.X_customer for e in train])
        yc = np.concatenate([e.y_customer for e in train])
        self.timing_ = PurchaseTiming(h, random_state=self.random_state)
        bought = [~np.isnan(e.days) for e in train]
        X = np.vstack([e.X[b] for e, b in zip(train, bought, strict=True)])
        days = np.concatenate([e.days[b] for e, b in zip(train, bought, strict=True)])
        if val is not None:
            self.activity_.fit(Xc, yc, val.X_customer, val.y_customer)
            self.timing_.fit(self.feature_names_, X, days, val.X, val.days)
            self.validation_ = {**self._validate(val), **self.timing_.validation_}
        else:
            self.activity_.fit(Xc, yc)
            self.timing_.fit(self.feature_names_, X, days)
        del X, days
        self.state_ = FeatureState(h, self.candidate_counts, random_state=self.random_state).fit(
            history
        )
        # Kept on the model only (not on the feature states): a customer's lines are rebuilt
        # with new orders by `with_recent_orders`. Copied last, after the feature states'
        # fits, whose peak memory it would otherwise add to.
        self.lines_ = history.lines[[CUSTOMER, ORDER, PRODUCT, TIMESTAMP, QUANTITY]]
        self.cold_start_ = self._cold_start(history, h)
        log.info(
            "anticipate: fitted in %.1fs; validation %s",
            time.perf_counter() - started,
            {k: round(v, 4) for k, v in self.validation_.items()},
        )

    def _inner_cutoffs(self, history: OrderHistory, h: int) -> list[pd.Timestamp]:
        """The validation cutoff (one horizon before the end), then the training cutoffs.

        Training cutoffs step back by half a horizon from one horizon before the validation
        cutoff, so no training label falls in the validation window (their own label windows
        overlap each other, which only adds examples).
        """
        end = history.end.normalize() + pd.Timedelta(days=1)
        validation = end - pd.Timedelta(days=h)
        step = max(h // 2, 1)
        training = [validation - pd.Timedelta(days=h + step * i) for i in range(self.n_cutoffs - 1)]
        earliest = history.start + pd.Timedelta(days=max(h, 14))
        return [c for c in [validation, *training] if c > earliest]

    def _labels(self, future: OrderHistory) -> OrderHistory:
        return future if self.target == "window" else future.first_orders()

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
        cap = max(self.max_examples // CANDIDATES_PER_CUSTOMER, 50)
        if len(customers) > cap:
            customers = np.sort(rng.choice(customers, cap, replace=False))
        as_of = to_days(cutoff)
        row, product, X = self._candidate_features(state, customers, as_of)
        targets = future.purchase_matrix(binary=True)[customers]
        y = (values_at(targets, row, product) > 0).astype(np.int8)
        days = values_at(_first_days(future, as_of)[customers], row, product) - 1.0
        days[y == 0] = np.nan
        if len(known) > cap * 4:
            known = np.sort(rng.choice(known, cap * 4, replace=False))
        Xc = _matrix(state.customer_features(known, as_of))
        yc = np.isin(known, buyers).astype(np.int8)
        return Examples(X, y, row, product, customers, targets, Xc, yc, days)

    def _candidate_features(
        self, state: FeatureState, customers: np.ndarray, as_of: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Candidates of every customer (row in ``customers``, product) and their features.

        Customers go in batches so dense per-batch blocks stay bounded.
        """
        rows, products, blocks = [], [], []
        for start in range(0, len(customers), self.batch_size):
            batch = customers[start : start + self.batch_size]
            cand = state.candidates(batch)
            features = state.features(batch, cand, as_of)
            self.feature_names_ = list(features)
            rows.append(cand.row + start)
            products.append(cand.product)
            blocks.append(_matrix(features))
        return np.concatenate(rows), np.concatenate(products), np.vstack(blocks)

    def _validate(self, val: Examples) -> dict[str, float]:
        """Out-of-sample ranking metrics on the validation period, against all its targets."""
        scores = self.ranker_.validation_scores_
        if scores is None:
            return {}
        metrics = metrics_of_scores(val.row, val.product, scores, val.targets)
        metrics["candidate_recall"] = float(val.y.sum() / max(val.targets.nnz, 1))
        metrics["customers"] = float(len(val.customers))
        return metrics

    def _cold_start(self, history: OrderHistory, h: int) -> pd.DataFrame:
        """Products most customers bought in the last horizon, with that share as probability."""
        buyers = recent_buyers(history.lines, history.end, h, history.n_products)
        top = np.argsort(-buyers, kind="stable")[:100]
        top = top[buyers[top] > 0]
        share = buyers[top] / max(len(history.active_customers), 1)
        return pd.DataFrame(
            {
                "product": top,
                "probability": share,
                "reason_text": popularity_text(share, buyers[top], h),
            }
        )

    def customer_lines(self, customer: int) -> pd.DataFrame:
        """The fitted history's lines of one customer code (empty for an unknown code)."""
        codes = self.lines_[CUSTOMER].to_numpy()
        lo, hi = np.searchsorted(codes, [customer, customer + 1])
        return self.lines_.iloc[lo:hi]

    def with_recent_orders(self, lines: pd.DataFrame) -> AnticipationModel:
        """A copy that knows the orders in ``lines``, for the customers in them only.

        ``lines`` holds orders that arrived after training in source ids: columns
        ``customer_id, order_id, product_id, timestamp, quantity``. The copy's customers are the
        distinct ``customer_id`` values, sorted (codes 0..n-1, in ``customer_ids_``); each one's
        features come from their fitted lines plus these, so a product just bought is no
        longer due and a new customer's first orders steer their list. Products the model does
        not know are left out: it has nothing to rank them by.
        """
        if not hasattr(self, "state_"):
            raise NotFittedError("AnticipationModel is not fitted; call fit() first")
        customer_ids = np.sort(lines["customer_id"].unique())
        product = pd.Index(self.product_ids_).get_indexer(lines["product_id"])
        lines = lines[product >= 0]
        fresh = pd.DataFrame(
            {
                CUSTOMER: np.searchsorted(customer_ids, lines["customer_id"]),
                ORDER: pd.factorize(lines["order_id"])[0] + 1 + len(self.lines_),
                PRODUCT: product[product >= 0],
                TIMESTAMP: pd.to_datetime(lines["timestamp"]).to_numpy().astype("datetime64[s]"),
                QUANTITY: lines["quantity"].to_numpy(dtype=np.float32),
            }
        )
        codes = pd.Index(self.customer_ids_).get_indexer(customer_ids)
        old = [
            self.customer_lines(code).assign(**{CUSTOMER: i})
            for i, code in enumerate(codes)
            if code >= 0
        ]
        merged = pd.concat([*old, fresh], ignore_index=True).sort_values(
            [CUSTOMER, TIMESTAMP, ORDER], kind="stable", ignore_index=True
        )
        model = copy.copy(self)
        model.customer_ids_ = customer_ids.astype(object)
        model.n_customers_ = len(customer_ids)
        if merged.empty:
            model.n_customers_ = 0  # nothing known of anyone here: every one is cold start
            return model
        order = merged[ORDER].to_numpy()
        merged[ORDER] = np.cumsum(np.r_[True, order[1:] != order[:-1]]) - 1
        history = OrderHistory(merged, model.customer_ids_, self.product_ids_)
        model.fitted_until_ = max(self.fitted_until_, history.end)
        model.state_ = self.state_.refreshed(history, codes)
        return model

    # --------------------------------------------------------------------------- predicting
    def predict(
        self,
        customers: np.ndarray,
        k: int = 10,
        as_of: pd.Timestamp | None = None,
        new_only: bool = False,
        reasons: bool = True,
    ) -> pd.DataFrame:
        """Ranked items with probability, expected date and quantity, and a reason.

        ``customers`` are customer codes (-1 or unseen codes: cold start). Returns one row per
        item: ``row`` (position in ``customers``), ``rank`` (1 = best), ``product`` (code),
        ``score`` (ranking score), ``probability`` (of buying it within ``horizon_days_``),
        ``expected_date``, ``expected_quantity``, ``reason``, ``reason_text``. ``new_only``
        leaves out the products each customer has bought before: a cross-sell list, ranked by
        the same model, that a regular's repeat items no longer crowd out. ``reasons=False``
        leaves out the last four columns: what a demand forecast over long lists does not need,
        and much of their time and memory.
        """
        if not hasattr(self, "state_"):
            raise NotFittedError("AnticipationModel is not fitted; call fit() first")
        if not isinstance(k, (int, np.integer)) or k < 1:
            raise ParameterError(f"k must be a positive integer, got {k!r}")
        as_of = self.fitted_until_ if as_of is None else as_of
        day = to_days(as_of)
        customers = np.atleast_1d(np.asarray(customers, dtype=np.int64))
        in_range = (customers >= 0) & (customers < self.n_customers_)
        known = np.zeros(len(customers), dtype=bool)
        known[in_range] = self.state_.cycles_.customer_orders_[customers[in_range]] > 0
        parts = [self._cold_start_items(np.flatnonzero(~known), k)]
        positions = np.flatnonzero(known)
        personal = self._personal_items(positions, customers[positions], k, day, new_only, reasons)
        if personal is not None:
            parts.append(personal)
        if not reasons:
            parts = [part[["row", "rank", "product", "score", "probability"]] for part in parts]
        items = pd.concat(parts, ignore_index=True)
        return items.sort_values(["row", "rank"], ignore_index=True)

    def _personal_items(
        self,
        positions: np.ndarray,
        customers: np.ndarray,
        k: int,
        day: float,
        new_only: bool,
        reasons: bool = True,
    ) -> pd.DataFrame | None:
        """The ranked items of known customers; None if none of them has a candidate."""
        if not len(positions):
            return None
        row, product, X = self._candidate_features(self.state_, customers, day)
        if new_only:
            new = self.state_.cycles_.lookup(customers[row], product) < 0
            row, product, X = row[new], product[new], X[new]
        if not len(row):
            return None
        kept, _ = self._prescore(row, X, max(k, PRESCORE_KEEP))
        row, product, X = row[kept], product[kept], X[kept]
        score, probability = self.ranker_.scores(X, row)
        rank = rank_within_groups(row, score)
        top = rank < k
        row, product, X, score, rank = row[top], product[top], X[top], score[top], rank[top]
        active = self.activity_.predict_proba(
            _matrix(self.state_.customer_features(customers, day))
        )
        probability = probability[top] * active[row]
        items = pd.DataFrame(
            {
                "row": positions[row],
                "rank": rank + 1,
                "product": product,
                "score": score,
                "probability": probability.astype(np.float32),
            }
        )
        if not reasons:
            return items
        columns = dict(zip(self.feature_names_, X.T, strict=True))
        texts = explain(
            self.state_,
            customers[row],
            product,
            columns,
            day,
            self.display_names_,
            self.timing_.expected_days(X, day),
        )
        return pd.concat([items, texts], axis=1)

    def _cold_start_items(self, positions: np.ndarray, k: int) -> pd.DataFrame:
        top = self.cold_start_.head(k)
        n = len(top)
        return pd.DataFrame(
            {
                "row": np.repeat(positions, n),
                "rank": np.tile(np.arange(1, n + 1), len(positions)),
                "product": np.tile(top["product"].to_numpy(), len(positions)),
                "score": np.tile(top["probability"].to_numpy(), len(positions)),
                "probability": np.tile(top["probability"].to_numpy(), len(positions)),
                "expected_date": pd.NaT,
                "expected_quantity": np.tile(
                    self.state_.cycles_.product_quantity_[top["product"]], len(positions)
                ),
                "reason": "popular",
                "reason_text": np.tile(top["reason_text"].to_numpy(), len(positions)),
            }
        )

    def _score(self, customers: np.ndarray, as_of: pd.Timestamp) -> np.ndarray:
        row, product, X = self._candidate_features(self.state_, customers, to_days(as_of))
        kept, lead = self._prescore(row, X, PRESCORE_KEEP)
        block = np.zeros((len(customers), self.n_products_), dtype=np.float32)
        # Every candidate outranks the popularity fill (scores above zero); the ones the whole
        # ensemble scored, in [1, 3], come before the rest, which keep the leading trees' order
        # in (0, 0.5], so a list longer than PRESCORE_KEEP still holds the customer's candidates.
        if lead is not None:
            block[row, product] = 1e-6 + 0.5 * expit(lead)
        block[row[kept], product[kept]] = 1 + self.ranker_.ranking_score(X[kept], row[kept])
        return block

    def _prescore(
        self, row: np.ndarray, X: np.ndarray, keep: int
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Which candidates the whole ensemble scores: each customer's ``keep`` best by the
        leading trees (all of them when the booster is no larger), and those trees' scores."""
        lead = self.ranker_.leading_score(X, self._leading_rounds())
        if lead is None:
            return np.ones(len(row), dtype=bool), None
        return rank_within_groups(row, lead) < keep, lead

    def _leading_rounds(self) -> int:
        """How many of the ranker's first trees pre-rank candidates (see PRESCORE_SHRINKAGE)."""
        return max(round(PRESCORE_SHRINKAGE / self.ranker_.learning_rate), 1)


def split_validation(examples: list[Examples]) -> tuple[Examples | None, list[Examples]]:
    """``(validation, training)`` examples of the inner cutoffs, most recent first: the most
    recent validates and the others train; a single cutoff only trains."""
    return (examples[0], examples[1:]) if len(examples) > 1 else (None, examples)


def fit_ranker(ranker: Ranker, examples: list[Examples], cutoff_decay: float = 1.0) -> Ranker:
    """Fit ``ranker`` on the examples of the inner cutoffs, most recent first.

    The most recent validates (early stopping, calibration) and the others train; a single
    one only trains. The i-th training cutoff's examples (i = 1 the most recent) weigh
    ``cutoff_decay ** i`` on top of their own weights. Each example's group is its customer
    at its cutoff, so the re-ranker compares like with like.
    """
    val, train = split_validation(examples)
    X = np.vstack([e.X for e in train])
    y = np.concatenate([e.y for e in train])
    weight = np.concatenate([e.weight * cutoff_decay ** (i + 1) for i, e in enumerate(train)])
    offsets = np.cumsum([0, *(len(e.customers) for e in train[:-1])])
    groups = np.concatenate([e.row + o for e, o in zip(train, offsets, strict=True)])
    if val is None:
        return ranker.fit(X, y, sample_weight=weight, groups=groups)
    return ranker.fit(X, y, val.X, val.y, weight, val.weight, groups, val.row)


def metrics_of_scores(
    row: np.ndarray, product: np.ndarray, scores: np.ndarray, targets: sp.csr_matrix, k: int = 10
) -> dict[str, float]:
    """Ranking metrics@``k`` of the lists that ``scores`` make of each customer's candidates
    (``row`` indexes the rows of ``targets``, ``product`` is the candidate's code)."""
    rank = rank_within_groups(row, scores)
    top = rank < k
    recommended = np.full((targets.shape[0], k), -1, dtype=np.int64)
    recommended[row[top], rank[top]] = product[top]
    return ranking_metrics(recommended, targets, k)


def display_names(history: OrderHistory) -> np.ndarray:
    """What reasons call each product: its name, else its id with its category ("1029743
    (FLUID MILK)": a grocer's export may have no names), else its id."""
    ids = history.product_ids.astype(object)
    names, categories = history.product_names, history.product_categories
    fallback = ids
    if categories is not None:
        known = ~pd.isna(categories)
        fallback = np.where(known, ids + " (" + np.where(known, categories, "") + ")", ids)
    if names is None:
        return fallback.astype(object)
    return np.where(pd.isna(names), fallback, names).astype(object)


def recent_buyers(
    lines: pd.DataFrame, end: pd.Timestamp, horizon_days: int, n_products: int
) -> np.ndarray:
    """How many customers bought each product (code) in the ``horizon_days`` up to ``end``."""
    recent = lines[lines[TIMESTAMP] >= end - pd.Timedelta(days=horizon_days)]
    pairs = recent.drop_duplicates([CUSTOMER, PRODUCT])
    return np.bincount(pairs[PRODUCT].to_numpy(), minlength=n_products)


def _first_days(future: OrderHistory, as_of: float) -> sp.csr_matrix:
    """Customers x products: 1 + the day of each pair's first purchase after day ``as_of``
    (lines are in time order within each customer), 0 where not bought."""
    first = future.lines.drop_duplicates([CUSTOMER, PRODUCT])
    day = np.floor(to_days(first[TIMESTAMP]) - as_of) + 1.0
    return sp.csr_matrix(
        (day, (first[CUSTOMER].to_numpy(), first[PRODUCT].to_numpy())),
        shape=(future.n_customers, future.n_products),
    )


def _matrix(columns: dict[str, np.ndarray]) -> np.ndarray:
    return np.column_stack([np.asarray(v, dtype=np.float32) for v in columns.values()])
