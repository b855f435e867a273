"""Category cycles: how often each customer buys from each product category, and when last.

A household buys yogurt every week and changes brands: the product's own cycle says it is
late, its category's says the need was met last Tuesday by another brand. Products without a
category (or histories without categories) get no category statistics.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recsys.data.history import CUSTOMER, ORDER, PRODUCT, TIMESTAMP, OrderHistory
from recsys.models.reorder_cycles import MIN_GAP_DAYS, to_days
from recsys.models.sparse_rows import sorted_positions

NO_PAIR = np.iinfo(np.int64).max


class CategoryCycles:
    """Purchase statistics of every (customer, product category) pair.

    An order holding several products of a category is one purchase of it.

    Fitted attributes: ``product_category_`` (each product code's category code, -1 where none
    is known), ``n_categories_``, and arrays aligned on pairs sorted by
    ``customer * n_categories_ + category``: ``pair_key_``, ``pair_orders_`` (orders holding
    the category), ``pair_first_`` and ``pair_last_`` (days), each ending in one entry that
    matches no pair.
    """

    def fit(self, history: OrderHistory) -> CategoryCycles:
        categories = history.product_categories
        if categories is None:
            self.product_category_ = np.full(history.n_products, -1, dtype=np.int32)
        else:
            self.product_category_ = pd.factorize(pd.Series(categories, dtype=object))[0].astype(
                np.int32
            )
        self.n_categories_ = int(self.product_category_.max(initial=-1)) + 1
        return self._fit_pairs(history)

    def refreshed(self, history: OrderHistory) -> CategoryCycles:
        """The statistics of ``history`` (a few customers' complete lines, with the fitted
        product codes) under this fit's categories."""
        fresh = CategoryCycles()
        fresh.product_category_, fresh.n_categories_ = self.product_category_, self.n_categories_
        return fresh._fit_pairs(history)

    def _fit_pairs(self, history: OrderHistory) -> CategoryCycles:
        lines = history.lines
        n = max(self.n_categories_, 1)
        category = self.product_category_[lines[PRODUCT].to_numpy()]
        known = category >= 0
        category = category[known].astype(np.int64)
        # One purchase per (order, category), then sorted by pair and day.
        occasion = lines[ORDER].to_numpy()[known].astype(np.int64) * n + category
        _, first = np.unique(occasion, return_index=True)
        key = lines[CUSTOMER].to_numpy()[known][first].astype(np.int64) * n + category[first]
        day = to_days(lines[TIMESTAMP].to_numpy()[known][first])
        sort = np.lexsort((day, key))
        key, day = key[sort], day[sort]
        starts = np.flatnonzero(np.diff(key, prepend=key[:1] - 1))
        ends = np.flatnonzero(np.diff(key, append=key[-1:] + 1)) + 1
        # A last entry that matches no key keeps every lookup inside the arrays.
        self.pair_key_ = np.r_[key[starts], NO_PAIR]
        self.pair_orders_ = np.r_[ends - starts, 0].astype(np.float32)
        self.pair_first_ = np.r_[day[starts], np.nan]
        self.pair_last_ = np.r_[day[ends - 1], np.nan]
        return self

    def features(
        self,
        customers: np.ndarray,
        products: np.ndarray,
        pair_orders: np.ndarray,
        pair_days_since_last: np.ndarray,
        customer_orders: np.ndarray,
        as_of: float,
    ) -> dict[str, np.ndarray]:
        """Named feature columns of (customer, product) pairs as of day ``as_of``, given the
        pairs' own order counts and days since their last purchase and the customers' order
        counts: how often and how lately the customer bought the product's category, and the
        product's part in that."""
        category = self.product_category_[products].astype(np.int64)
        keys = customers.astype(np.int64) * max(self.n_categories_, 1) + category
        pos = sorted_positions(self.pair_key_, keys)
        known = (category >= 0) & (pos >= 0)
        orders = np.where(known, self.pair_orders_[pos], 0.0)
        last = np.where(known, self.pair_last_[pos], np.nan)
        first = np.where(known, self.pair_first_[pos], np.nan)
        since = as_of - last
        with np.errstate(invalid="ignore", divide="ignore"):
            gap = np.where(
                orders > 1, np.maximum((last - first) / (orders - 1), MIN_GAP_DAYS), np.nan
            )
            return {
                "category_orders": orders,
                "category_share": orders / customer_orders,
                "category_days_since_last": since,
                "category_gap": gap,
                "category_dueness": since / gap,
                # Loyalty within the category, and whether its latest purchase was another
                # product (days the product's last purchase lies before the category's).
                "pair_category_share": np.where(orders > 0, pair_orders / orders, np.nan),
                "pair_days_behind_category": pair_days_since_last - since,
            }
