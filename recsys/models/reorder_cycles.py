"""Reorder cycles: per customer x product purchase statistics, and per customer / product.

Everything is computed once, as of the end of the fitted history, in vectorised numpy/pandas.
Quantities that depend on the date asked about ("days since last", "how due") are derived as of
any later date by `ReorderCycles.pair_features` without a scan: exponentially decayed counts
shift by one multiplication, elapsed days by one subtraction.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recsys.data.history import OrderHistory
from recsys.models.sparse_rows import sorted_positions

#: Shortest interval (days) a cycle may have: purchases on the same day are one occasion.
MIN_GAP_DAYS = 1.0


def to_days(timestamps: pd.Series | np.ndarray | pd.Timestamp) -> np.ndarray | float:
    """Timestamps as float days since 1970-01-01."""
    if isinstance(timestamps, pd.Timestamp):
        return timestamps.value / 86_400e9
    values = np.asarray(timestamps, dtype="datetime64[s]")
    return values.astype(np.int64) / 86_400.0


def from_days(days: np.ndarray | float) -> np.ndarray:
    """Inverse of `to_days` (to datetime64[s]); NaN becomes NaT."""
    seconds = (np.asarray(days, dtype=np.float64) * 86_400.0).round()
    missing = np.isnan(seconds)
    out = np.where(missing, 0, seconds).astype("int64").astype("datetime64[s]")
    out[missing] = np.datetime64("NaT")
    return out


class ReorderCycles:
    """Purchase statistics of every (customer, product) pair, customer and product.

    Parameters
    ----------
    decay_days : tuple of float
        Time constants (days) of the exponentially decayed purchase counts.
    basket_decay : float
        Per-order decay of the order-position weighted count (1 = the latest order,
        ``basket_decay`` = the one before, ...), as in TIFU-KNN.

    Fitted attributes (arrays aligned on pairs sorted by ``customer * n_products + product``):
    ``pair_key_``, ``pair_customer_``, ``pair_product_``, ``pair_orders_``, ``pair_first_``,
    ``pair_last_`` (days), ``pair_gap_`` (median days between purchases, NaN under 2),
    ``pair_gap_std_``, ``pair_quantity_`` (median units), ``pair_mean_quantity_``,
    ``pair_mean_sq_quantity_`` (mean squared units), ``pair_decayed_`` (n_pairs x
    len(decay_days)), ``pair_basket_decayed_``, ``pair_orders_since_`` (the customer's orders
    after the last one holding it), ``pair_trip_size_`` (the mean size of the orders holding
    it, each relative to the customer's mean order), ``pair_large_orders_`` (how many of them
    were at least the customer's mean size); customer arrays ``customer_*_`` (among them
    ``customer_large_orders_``, ``customer_last_large_``, ``customer_large_gap_``: the
    customer's orders of at least their mean size, the last one's day and the mean interval
    between them; ``customer_last_order_size_``, relative to the mean) and product arrays
    ``product_*_`` indexed by code (``product_decayed_``: n_products x len(decay_days));
    ``end_`` (days) the end of the fitted history.
    """

    def __init__(self, decay_days: tuple[float, ...] = (7.0, 30.0), basket_decay: float = 0.8):
        self.decay_days = decay_days
        self.basket_decay = basket_decay

    def fit(self, history: OrderHistory) -> ReorderCycles:
        lines = history.lines
        n_products = history.n_products
        self.n_customers_, self.n_products_ = history.n_customers, n_products
        end = float(to_days(history.end))
        self.end_ = end

        orders = history.orders
        order_customer = orders["customer"].to_numpy()
        order_day = to_days(orders["timestamp"])
        n_orders = np.bincount(order_customer, minlength=history.n_customers)
        # Rank of each order within its customer (orders are sorted by customer, then time);
        # order codes of a subset history have gaps, so ranks come from positions, not codes.
        starts = np.r_[0, np.cumsum(n_orders)[:-1]]
        rank_of_order = np.zeros(int(orders["order"].max()) + 1, dtype=np.int32)
        rank_of_order[orders["order"].to_numpy()] = np.arange(len(orders)) - starts[order_customer]

        # Every line-level array is held once, in pair order (customer, product, then time:
        # a stable sort of lines already in time order): on tens of millions of lines each
        # array is hundreds of MB, and they, not the results, make training's memory peak.
        key = (
            lines["customer"].to_numpy().astype(np.int64) * n_products + lines["product"].to_numpy()
        )
        sort = np.argsort(key, kind="stable")
        key = key[sort]
        customer = lines["customer"].to_numpy()[sort]
        product = lines["product"].to_numpy()[sort]
        day = to_days(lines["timestamp"].to_numpy()[sort])
        qty = lines["quantity"].to_numpy(dtype=np.float64)[sort]
        order_of_line = lines["order"].to_numpy()[sort]
        from_end = n_orders[customer] - 1 - rank_of_order[order_of_line]
        del sort, rank_of_order
        # Each order's size relative to its customer's mean: a household's weekly stock-up
        # and its top-up trips hold different products, and which trip is due says which.
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_size = np.bincount(order_customer, orders["n_lines"], history.n_customers) / (
                n_orders
            )
        self.customer_basket_ = mean_size.astype(np.float32)
        order_size = (orders["n_lines"].to_numpy() / mean_size[order_customer]).astype(np.float32)
        size_of_order = np.zeros(int(orders["order"].max()) + 1, dtype=np.float32)
        size_of_order[orders["order"].to_numpy()] = order_size
        line_size = size_of_order[order_of_line]
        del order_of_line, size_of_order
        start = np.r_[True, key[1:] != key[:-1]]
        pair_id = np.cumsum(start) - 1
        n_pairs = int(pair_id[-1]) + 1
        first_idx = np.flatnonzero(start)
        last_idx = np.r_[first_idx[1:] - 1, len(key) - 1]

        self.pair_key_ = key[first_idx]
        del key
        self.pair_customer_ = customer[first_idx].astype(np.int32)
        self.pair_product_ = product[first_idx].astype(np.int32)
        self.pair_orders_ = np.bincount(pair_id, minlength=n_pairs).astype(np.float32)
        self.pair_first_ = day[first_idx]
        self.pair_last_ = day[last_idx]
        within = ~start[1:]  # gap i joins line i and i+1 of the same pair
        del start
        gaps = np.maximum(np.diff(day)[within], MIN_GAP_DAYS)
        gap_pair = pair_id[1:][within]
        del within
        self.pair_gap_ = _group_median(gaps, gap_pair, n_pairs)
        n_gaps = np.bincount(gap_pair, minlength=n_pairs)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_gap = np.bincount(gap_pair, gaps, n_pairs) / n_gaps
            var_gap = np.bincount(gap_pair, gaps**2, n_pairs) / n_gaps - mean_gap**2
        del gaps, gap_pair
        self.pair_gap_std_ = np.where(n_gaps > 1, np.sqrt(np.maximum(var_gap, 0.0)), np.nan)
        self.pair_quantity_ = _group_median(qty, pair_id, n_pairs).astype(np.float32)
        self.pair_mean_quantity_ = (np.bincount(pair_id, qty, n_pairs) / self.pair_orders_).astype(
            np.float32
        )
        self.pair_mean_sq_quantity_ = (
            np.bincount(pair_id, qty**2, n_pairs) / self.pair_orders_
        ).astype(np.float32)
        age = end - day
        self.pair_decayed_ = np.column_stack(
            [np.bincount(pair_id, np.exp(-age / tau), n_pairs) for tau in self.decay_days]
        ).astype(np.float32)
        self.pair_basket_decayed_ = np.bincount(
            pair_id, self.basket_decay**from_end, n_pairs
        ).astype(np.float32)
        self.pair_orders_since_ = from_end[last_idx].astype(np.float32)
        self.pair_trip_size_ = (
            np.bincount(pair_id, line_size, n_pairs) / self.pair_orders_
        ).astype(np.float32)
        self.pair_large_orders_ = np.bincount(pair_id, line_size >= 1, n_pairs).astype(np.float32)
        del from_end, pair_id, line_size

        # Customers.
        self.customer_orders_ = n_orders.astype(np.float32)
        self.customer_first_ = np.full(history.n_customers, np.nan)
        self.customer_last_ = np.full(history.n_customers, np.nan)
        self.customer_first_[order_customer[::-1]] = order_day[::-1]
        self.customer_last_[order_customer] = order_day
        span = self.customer_last_ - self.customer_first_
        with np.errstate(invalid="ignore", divide="ignore"):
            self.customer_gap_ = np.where(
                n_orders > 1, np.maximum(span / (n_orders - 1), MIN_GAP_DAYS), np.nan
            )
        self.customer_products_ = np.bincount(
            self.pair_customer_, minlength=history.n_customers
        ).astype(np.float32)
        large = order_size >= 1
        self.customer_large_orders_ = np.bincount(
            order_customer, large, history.n_customers
        ).astype(np.float32)
        first_large = np.full(history.n_customers, np.nan)
        first_large[order_customer[large][::-1]] = order_day[large][::-1]
        self.customer_last_large_ = np.full(history.n_customers, np.nan)
        self.customer_last_large_[order_customer[large]] = order_day[large]
        with np.errstate(invalid="ignore", divide="ignore"):
            self.customer_large_gap_ = np.where(
                self.customer_large_orders_ > 1,
                np.maximum(
                    (self.customer_last_large_ - first_large) / (self.customer_large_orders_ - 1),
                    MIN_GAP_DAYS,
                ),
                np.nan,
            )
        self.customer_last_order_size_ = np.full(history.n_customers, np.nan, dtype=np.float32)
        self.customer_last_order_size_[order_customer] = order_size

        # Products.
        self.product_orders_ = np.bincount(product, minlength=n_products).astype(np.float32)
        self.product_customers_ = np.bincount(self.pair_product_, minlength=n_products).astype(
            np.float32
        )
        repeat_buyers = np.bincount(self.pair_product_, self.pair_orders_ > 1, minlength=n_products)
        with np.errstate(invalid="ignore", divide="ignore"):
            self.product_reorder_rate_ = (repeat_buyers / self.product_customers_).astype(
                np.float32
            )
        has_gap = ~np.isnan(self.pair_gap_)
        self.product_gap_ = _group_median(
            self.pair_gap_[has_gap], self.pair_product_[has_gap], n_products
        )
        self.product_quantity_ = _group_median(qty, product, n_products).astype(np.float32)
        self.product_decayed_ = np.column_stack(
            [np.bincount(product, np.exp(-age / tau), n_products) for tau in self.decay_days]
        ).astype(np.float32)
        return self

    def refreshed(self, history: OrderHistory) -> ReorderCycles:
        """Customer and pair statistics of ``history``, with this fit's product statistics.

        For a few customers whose complete lines (fitted and newer) make up ``history``: their
        own statistics are exact, while product-level ones (reorder rate, typical cycle,
        popularity) keep the evidence of every customer.
        """
        fresh = ReorderCycles(self.decay_days, self.basket_decay).fit(history)
        for name in (
            "product_orders_",
            "product_customers_",
            "product_reorder_rate_",
            "product_gap_",
            "product_quantity_",
        ):
            setattr(fresh, name, getattr(self, name))
        # Decayed popularity is kept relative to the end of the history it belongs to.
        fresh.product_decayed_ = (
            self.product_decayed_ * np.exp(-(fresh.end_ - self.end_) / np.asarray(self.decay_days))
        ).astype(np.float32)
        return fresh

    def lookup(self, customers: np.ndarray, products: np.ndarray) -> np.ndarray:
        """Index of each (customer, product) pair in the pair arrays, -1 if never bought."""
        return sorted_positions(
            self.pair_key_, customers.astype(np.int64) * self.n_products_ + products
        )

    def customer_pairs(self, customers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(pair index, position in ``customers``) of every pair of the given customers."""
        lo = np.searchsorted(self.pair_key_, customers.astype(np.int64) * self.n_products_)
        hi = np.searchsorted(self.pair_key_, (customers.astype(np.int64) + 1) * self.n_products_)
        counts = hi - lo
        owner = np.repeat(np.arange(len(customers)), counts)
        index = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts) + lo[owner]
        return index, owner

    def table(
        self,
        customers: np.ndarray,
        as_of: float,
        horizon_days: float,
        statuses: tuple[str, ...] | None = None,
    ) -> pd.DataFrame:
        """Every pair of the given customer codes as of day ``as_of`` (only those of
        ``statuses``, if given): ``row`` (position in ``customers``), ``product``,
        ``purchases``, ``first_purchase``, ``last_purchase``, ``days_since_last``,
        ``interval_days`` (median), ``interval_spread_days`` (both to a tenth of a day),
        ``usual_quantity`` (median units), ``next_due`` (one interval after the last purchase)
        and ``status`` (`cycle_status`); by customer, soonest due first."""
        pair, row = self.customer_pairs(np.asarray(customers, dtype=np.int64))
        gap, spread = self.pair_gap_[pair], self.pair_gap_std_[pair]
        since = as_of - self.pair_last_[pair]
        status = cycle_status(gap, spread, since, horizon_days)
        if statuses is not None:
            # Filtered before the table is built: a call list of a large base stays small.
            wanted = np.isin(status, statuses)
            pair, row, gap, spread = pair[wanted], row[wanted], gap[wanted], spread[wanted]
            since, status = since[wanted], status[wanted]
        table = pd.DataFrame(
            {
                "row": row,
                "product": self.pair_product_[pair],
                "purchases": self.pair_orders_[pair].astype(np.int64),
                "first_purchase": from_days(self.pair_first_[pair]),
                "last_purchase": from_days(self.pair_last_[pair]),
                "days_since_last": np.floor(since),
                "interval_days": np.round(gap, 1),
                "interval_spread_days": np.round(spread, 1),
                "usual_quantity": self.pair_quantity_[pair],
                "next_due": pd.to_datetime(from_days(self.pair_last_[pair] + gap)).normalize(),
                "status": status,
            }
        )
        return table.sort_values(["row", "next_due"], kind="stable", ignore_index=True)

    def pair_features(self, pair: np.ndarray, as_of: float) -> dict[str, np.ndarray]:
        """Time-dependent statistics of pairs (index from `lookup`; -1 gives NaN/0) as of a day."""
        known = pair >= 0
        idx = np.where(known, pair, 0)

        def take(values: np.ndarray, missing: float = np.nan) -> np.ndarray:
            return np.where(known, values[idx], missing)

        since_last = as_of - take(self.pair_last_)
        gap = take(self.pair_gap_)
        shift = as_of - self.end_
        features = {
            "pair_orders": take(self.pair_orders_, 0.0),
            "pair_days_since_last": since_last,
            "pair_days_since_first": as_of - take(self.pair_first_),
            "pair_gap": gap,
            "pair_gap_cv": take(self.pair_gap_std_) / gap,
            "pair_dueness": since_last / gap,
            "pair_basket_decayed": take(self.pair_basket_decayed_, 0.0),
            "pair_orders_since": take(self.pair_orders_since_),
            "pair_trip_size": take(self.pair_trip_size_),
        }
        for j, tau in enumerate(self.decay_days):
            features[f"pair_decayed_{tau:g}d"] = take(self.pair_decayed_[:, j], 0.0) * np.exp(
                -shift / tau
            )
        return features


#: What a repeat item's cycle says as of a day (see `cycle_status`).
CYCLE_STATUSES = ("overdue", "due", "later", "once")


def is_overdue(gap: np.ndarray, spread: np.ndarray, since_last: np.ndarray) -> np.ndarray:
    """Past its cycle by more than another interval (or two spreads, if wider): a lapsing
    item, the reason to call. False without a cycle (``gap`` NaN)."""
    with np.errstate(invalid="ignore"):
        return ~np.isnan(gap) & (since_last > gap + np.maximum(gap, 2 * np.nan_to_num(spread)))


def cycle_status(
    gap: np.ndarray, spread: np.ndarray, since_last: np.ndarray, horizon_days: float
) -> np.ndarray:
    """Each item's status: ``overdue`` (`is_overdue`), ``due`` (its next purchase, one
    interval after the last, falls before the horizon ends, or has passed), ``later``, or
    ``once`` (bought once: no cycle yet)."""
    with np.errstate(invalid="ignore"):
        due = gap - since_last <= horizon_days
    return np.select(
        [is_overdue(gap, spread, since_last), due, ~np.isnan(gap)],
        list(CYCLE_STATUSES[:3]),
        default=CYCLE_STATUSES[3],
    )


def _group_median(values: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """The median of ``values`` in each group code 0..n_groups-1 (NaN for an empty group)."""
    median = pd.Series(values).groupby(group).median()
    out = np.full(n_groups, np.nan)
    out[median.index.to_numpy()] = median.to_numpy()
    return out
