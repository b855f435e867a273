"""Candidates and features of (customer, product) pairs, as of a date.

`FeatureState` is fitted on a history (its reorder cycles, category cycles where products have
categories, both co-purchase associations and ALS factors) and then answers, for any batch of
customers and any date at or after the end of that history: which products are worth ranking
(`candidates`) and what is known about each pair (`features`). The anticipation model fits
one state per inner cutoff to build training examples and one on the whole history to serve.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from implicit.cpu.topk import topk

from recsys.data.history import OrderHistory
from recsys.models.als import ALS
from recsys.models.category_cycles import CategoryCycles
from recsys.models.copurchase import CoPurchase
from recsys.models.reorder_cycles import ReorderCycles, to_days
from recsys.models.sparse_rows import rank_within_groups, top_k_per_row, values_at
from recsys.models.tifu_knn import TIFUKNN

# Which generator proposed a candidate (bit flags, several may be set).
FROM_HISTORY, FROM_BASKET, FROM_PERIOD, FROM_ALS, FROM_POPULAR, FROM_NEIGHBOURS = 1, 2, 4, 8, 16, 32
#: Pseudo-purchases that shrink a product's trend towards 1 (see `FeatureState.features`).
TREND_PRIOR = 5.0


@dataclass(frozen=True)
class CandidateCounts:
    """How many products each generator proposes per customer."""

    history: int = 150
    basket: int = 40
    period: int = 20
    als: int = 30
    popular: int = 20
    neighbours: int = 30


@dataclass
class Candidates:
    """Candidate pairs: ``row`` indexes the customer batch, ``product`` is the product code."""

    row: np.ndarray
    product: np.ndarray
    source: np.ndarray
    pair: np.ndarray  # index into the reorder-cycle pair arrays, -1 if never bought
    #: Co-purchase evidence of each pair: the customer's recency-weighted products spread
    #: through the order-level and the period-level association.
    basket_score: np.ndarray
    period_score: np.ndarray
    #: TIFU-KNN parts: the customer's own time-decayed frequency and their neighbours' mean.
    own_pif: np.ndarray
    neighbour_pif: np.ndarray


class FeatureState:
    """Everything learned from one history that candidates and features need."""

    def __init__(
        self,
        horizon_days: float,
        counts: CandidateCounts | None = None,
        als_factors: int = 32,
        als_pool: int = 50_000,
        neighbour_pool: int = 20_000,
        random_state: int = 0,
    ) -> None:
        self.horizon_days = horizon_days
        self.counts = counts or CandidateCounts()
        self.als_factors = als_factors
        self.als_pool = als_pool
        self.neighbour_pool = neighbour_pool
        self.random_state = random_state

    def fit(self, history: OrderHistory) -> FeatureState:
        h = float(self.horizon_days)
        self.cycles_ = ReorderCycles(decay_days=(h, 4 * h)).fit(history)
        categories = CategoryCycles().fit(history)
        # Without categories (or with one for everything) the category columns are left out.
        self.categories_ = categories if categories.n_categories_ > 1 else None
        self.basket_ = CoPurchase(random_state=self.random_state).fit(history)
        self.period_ = CoPurchase(window_days=h, neighbours=30, random_state=self.random_state).fit(
            history
        )
        self.als_ = ALS(
            factors=self.als_factors, max_pool=self.als_pool, random_state=self.random_state
        ).fit(history)
        self.neighbours_ = TIFUKNN(
            max_pool=self.neighbour_pool, random_state=self.random_state
        ).fit(history)
        c = self.cycles_
        self.never_bought_ = np.flatnonzero(c.product_orders_ == 0).astype(np.int32)
        recent = c.product_decayed_[:, -1]
        self.popular_ = np.argsort(-recent, kind="stable")[: self.counts.popular]
        self.popular_ = self.popular_[recent[self.popular_] > 0]
        self._fit_customer_parts(history)
        return self

    def _fit_customer_parts(self, history: OrderHistory) -> None:
        """The per-customer parts derived from the reorder cycles and the orders."""
        c = self.cycles_
        # Each customer's products weighted by recency of order (1 = in the latest order).
        self.profile_ = sp.csr_matrix(
            (c.pair_basket_decayed_, (c.pair_customer_, c.pair_product_)),
            shape=(history.n_customers, history.n_products),
        )
        self.profile_weight_ = np.asarray(self.profile_.sum(axis=1)).ravel()
        orders = history.orders
        age = c.end_ - to_days(orders["timestamp"])
        # Decayed order counts with the same time constants as the pairs' decayed counts.
        self.decayed_orders_ = np.column_stack(
            [
                np.bincount(orders["customer"].to_numpy(), np.exp(-age / tau), history.n_customers)
                for tau in c.decay_days
            ]
        ).astype(np.float32)

    def refreshed(self, history: OrderHistory, codes: np.ndarray) -> FeatureState:
        """A state for the few customers of ``history``, sharing every product-level part.

        ``history`` holds the complete lines (fitted ones and newer) of a handful of customers,
        coded 0..n-1 with the fitted product codes; ``codes`` gives each one's code in the
        fitted history (-1 for a customer it never saw). Customer statistics, ALS factors and
        TIFU vectors are recomputed from those lines; co-purchase, product statistics, the ALS
        product factors and the neighbour pool stay those of the full fit. This is how orders
        that arrive after training change a customer's list at once, without a refit.
        """
        state = copy.copy(self)
        state.cycles_ = self.cycles_.refreshed(history)
        if self.categories_ is not None:
            state.categories_ = self.categories_.refreshed(history)
        state.als_ = self.als_.folded_in(history)
        state.neighbours_ = self.neighbours_.refreshed(history, codes)
        state._fit_customer_parts(history)
        return state

    @property
    def end_(self) -> float:
        return self.cycles_.end_

    def candidates(self, customers: np.ndarray) -> Candidates:
        """Union of the generators' proposals for a batch of customer codes."""
        n = self.counts
        c = self.cycles_
        rows, products, sources = [], [], []

        pair, owner = c.customer_pairs(customers)
        if len(pair):
            score = c.pair_basket_decayed_[pair] + c.pair_decayed_[pair, -1]
            keep = rank_within_groups(owner, score) < n.history
            rows.append(owner[keep])
            products.append(c.pair_product_[pair[keep]])
            sources.append(np.full(keep.sum(), FROM_HISTORY))

        profile = self.profile_[customers]
        spreads = []
        for assoc, count, flag in (
            (self.basket_, n.basket, FROM_BASKET),
            (self.period_, n.period, FROM_PERIOD),
        ):
            spread = (profile @ assoc.similarity_).tocsr()
            spreads.append(spread)
            top = top_k_per_row(spread, count).tocoo()
            rows.append(top.row)
            products.append(top.col)
            sources.append(np.full(top.nnz, flag))

        k = min(n.als, c.n_products_)
        top, _ = topk(
            self.als_.product_factors_,
            self.als_.customer_factors_[customers],
            k,
            filter_items=self.never_bought_,
            num_threads=0,
        )
        top = top.astype(np.int64)
        rows.append(np.repeat(np.arange(len(customers)), k))
        products.append(top.ravel())
        sources.append(np.full(top.size, FROM_ALS))

        own_pif, neighbour_pif = self.neighbours_.components(customers)
        k = min(n.neighbours, c.n_products_)
        top = np.argpartition(-neighbour_pif, k - 1, axis=1)[:, :k]
        picked = np.take_along_axis(neighbour_pif, top, axis=1) > 0
        rows.append(np.repeat(np.arange(len(customers)), k)[picked.ravel()])
        products.append(top.ravel()[picked.ravel()])
        sources.append(np.full(picked.sum(), FROM_NEIGHBOURS))

        rows.append(np.repeat(np.arange(len(customers)), len(self.popular_)))
        products.append(np.tile(self.popular_, len(customers)))
        sources.append(np.full(len(customers) * len(self.popular_), FROM_POPULAR))

        row = np.concatenate(rows).astype(np.int64)
        product = np.concatenate(products).astype(np.int64)
        source = np.concatenate(sources)
        key = row * c.n_products_ + product
        unique_key, inverse = np.unique(key, return_inverse=True)
        merged = np.zeros(len(unique_key), dtype=np.int64)
        np.bitwise_or.at(merged, inverse, source)
        row = unique_key // c.n_products_
        product = unique_key % c.n_products_
        valid = c.product_orders_[product] > 0
        row, product, merged = row[valid], product[valid], merged[valid]
        basket_score, period_score = (values_at(m, row, product) for m in spreads)
        return Candidates(
            row,
            product,
            merged,
            c.lookup(customers[row], product),
            basket_score,
            period_score,
            values_at(own_pif, row, product),
            neighbour_pif[row, product],
        )

    def customer_features(self, customers: np.ndarray, as_of: float) -> dict[str, np.ndarray]:
        """Named customer-level feature columns, as of day ``as_of``."""
        c = self.cycles_
        h = float(self.horizon_days)
        large_since = as_of - c.customer_last_large_[customers]
        large_gap = c.customer_large_gap_[customers]
        with np.errstate(invalid="ignore", divide="ignore"):
            return {
                "customer_orders": c.customer_orders_[customers],
                "customer_days_since_last": as_of - c.customer_last_[customers],
                "customer_tenure": as_of - c.customer_first_[customers],
                "customer_gap": c.customer_gap_[customers],
                "customer_orders_per_horizon": h / c.customer_gap_[customers],
                "customer_basket": c.customer_basket_[customers],
                "customer_products": c.customer_products_[customers],
                "customer_recent_orders": self.decayed_orders_[customers, 0]
                * np.exp(-(as_of - c.end_) / c.decay_days[0]),
                "customer_large_since": large_since,
                "customer_large_gap": large_gap,
                "customer_large_dueness": large_since / large_gap,
                "customer_last_order_size": c.customer_last_order_size_[customers],
            }

    def features(
        self, customers: np.ndarray, cand: Candidates, as_of: float
    ) -> dict[str, np.ndarray]:
        """Named feature columns of the candidate pairs, as of day ``as_of``."""
        c = self.cycles_
        h = float(self.horizon_days)
        customer = customers[cand.row]
        product = cand.product
        f = c.pair_features(cand.pair, as_of)
        f.update({k: v[cand.row] for k, v in self.customer_features(customers, as_of).items()})
        with np.errstate(invalid="ignore", divide="ignore"):
            f["pair_share"] = f["pair_orders"] / f["customer_orders"]
            # Which of the customer's trips the product rides on: their large (stock-up)
            # orders, their small (top-up) ones, or both.
            large = c.pair_large_orders_[np.maximum(cand.pair, 0)] * (cand.pair >= 0)
            customer_large = c.customer_large_orders_[customer]
            f["pair_large_share"] = large / customer_large
            f["pair_small_share"] = (f["pair_orders"] - large) / (
                f["customer_orders"] - customer_large
            )
            product_gap = c.product_gap_[product]
            f["pair_product_dueness"] = f["pair_days_since_last"] / product_gap
            if self.categories_ is not None:
                f.update(
                    self.categories_.features(
                        customer,
                        product,
                        f["pair_orders"],
                        f["pair_days_since_last"],
                        f["customer_orders"],
                        as_of,
                    )
                )
            f["pair_due_in_horizons"] = (f["pair_gap"] - f["pair_days_since_last"]) / h
            # Rates the trees cannot form from separate columns: the share of the customer's
            # recent orders holding the product, how many orders are due in the horizon, and
            # together the chance of at least one purchase in it.
            orders_in_horizon = np.clip(f["customer_orders_per_horizon"], 0, 50)
            for j, tau in enumerate(c.decay_days):
                decayed_orders = self.decayed_orders_[customer, j] * np.exp(-(as_of - c.end_) / tau)
                share = np.clip(
                    f[f"pair_decayed_{tau:g}d"] / np.maximum(decayed_orders, 1e-6), 0, 1
                )
                f[f"pair_recent_share_{tau:g}d"] = share
                f[f"pair_chance_in_horizon_{tau:g}d"] = 1 - (1 - share) ** np.nan_to_num(
                    orders_in_horizon, nan=0.0
                )
            f["pair_orders_dueness"] = (f["pair_orders_since"] + 1) * f["pair_share"]
            f["product_orders"] = np.log1p(c.product_orders_[product])
            f["product_customers"] = np.log1p(c.product_customers_[product])
            f["product_reorder_rate"] = c.product_reorder_rate_[product]
            f["product_gap"] = product_gap
            # The product's purchase rate over each time constant; their ratio is its trend
            # (a seasonal ramp, a new line catching on, an old one fading), shrunk towards
            # no trend by TREND_PRIOR purchases so that a rarely bought product's noise is not
            # read as one.
            short, long = c.decay_days[0], c.decay_days[-1]
            rate = {
                tau: c.product_decayed_[product, j] * np.exp(-(as_of - c.end_) / tau) / tau
                for j, tau in enumerate(c.decay_days)
            }
            f["product_recent"] = np.log1p(rate[long] * long)
            f["product_trend"] = (rate[short] * short + TREND_PRIOR) / (
                rate[long] * short + TREND_PRIOR
            )
        weight = self.profile_weight_[customer]
        for name, value in (("basket", cand.basket_score), ("period", cand.period_score)):
            f[f"copurchase_{name}"] = value
            f[f"copurchase_{name}_share"] = value / np.maximum(weight, 1e-9)
        als = self.als_
        f["als_score"] = np.einsum(
            "ij,ij->i", als.customer_factors_[customer], als.product_factors_[product]
        )
        f["tifu_own"] = cand.own_pif
        f["tifu_neighbours"] = cand.neighbour_pif
        alpha = self.neighbours_.alpha
        f["tifu_score"] = alpha * cand.own_pif + (1 - alpha) * cand.neighbour_pif
        for flag, name in (
            (FROM_BASKET, "basket"),
            (FROM_PERIOD, "period"),
            (FROM_ALS, "als"),
            (FROM_NEIGHBOURS, "neighbours"),
        ):
            f[f"proposed_by_{name}"] = ((cand.source & flag) > 0).astype(np.float32)
        return f
