"""`OrderHistory`: the canonical, compact, integer-coded form every model learns from."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys.data.cleaning import CleaningReport

# Column names of `OrderHistory.lines`: integer codes, not the source ids.
CUSTOMER = "customer"
ORDER = "order"
PRODUCT = "product"
TIMESTAMP = "timestamp"
QUANTITY = "quantity"
PRICE = "price"


@dataclass(frozen=True, eq=False)
class OrderHistory:
    """Purchase lines with customers, orders and products coded as 0-based integers.

    ``lines`` holds one row per (order, product), sorted by customer, then time, then order;
    order codes increase with time within each customer, and every line of an order carries the
    order's timestamp. ``customer_ids`` / ``product_ids`` map codes back to the source ids.
    Subsets made by `before` / `between` keep the same coding, so results from a training part
    line up with targets from a later part.
    """

    lines: pd.DataFrame
    customer_ids: np.ndarray
    product_ids: np.ndarray
    product_names: np.ndarray | None = None
    product_categories: np.ndarray | None = None
    cleaning: CleaningReport | None = None

    @property
    def n_customers(self) -> int:
        return len(self.customer_ids)

    @property
    def n_products(self) -> int:
        return len(self.product_ids)

    @property
    def n_lines(self) -> int:
        return len(self.lines)

    @property
    def start(self) -> pd.Timestamp:
        return self.lines[TIMESTAMP].min()

    @property
    def end(self) -> pd.Timestamp:
        return self.lines[TIMESTAMP].max()

    @cached_property
    def orders(self) -> pd.DataFrame:
        """One row per order: ``order, customer, timestamp, n_lines``, sorted like the lines."""
        order = self.lines[ORDER].to_numpy()
        first = np.flatnonzero(np.r_[True, order[1:] != order[:-1]])
        sizes = np.diff(np.r_[first, len(order)])
        return pd.DataFrame(
            {
                ORDER: order[first],
                CUSTOMER: self.lines[CUSTOMER].to_numpy()[first],
                TIMESTAMP: self.lines[TIMESTAMP].to_numpy()[first],
                "n_lines": sizes.astype(np.int32),
            }
        )

    @cached_property
    def active_customers(self) -> np.ndarray:
        """Codes of customers with at least one line here, ascending."""
        return np.unique(self.lines[CUSTOMER].to_numpy())

    def purchase_matrix(self, binary: bool = False) -> sp.csr_matrix:
        """Customers x products, each cell the number of orders holding the product.

        With ``binary``, each cell is 1 where the customer bought the product at all.
        """
        lines = self.lines
        matrix = sp.csr_matrix(
            (
                np.ones(len(lines), dtype=np.float32),
                (lines[CUSTOMER].to_numpy(), lines[PRODUCT].to_numpy()),
            ),
            shape=(self.n_customers, self.n_products),
        )
        matrix.sum_duplicates()
        if binary:
            matrix.data[:] = 1.0
        return matrix

    def before(self, cutoff: pd.Timestamp) -> OrderHistory:
        """Lines dated strictly before ``cutoff``."""
        return self._subset(self.lines[TIMESTAMP] < cutoff)

    def between(self, start: pd.Timestamp, end: pd.Timestamp) -> OrderHistory:
        """Lines dated in the half-open interval [start, end)."""
        ts = self.lines[TIMESTAMP]
        return self._subset((ts >= start) & (ts < end))

    def first_orders(self) -> OrderHistory:
        """Only each customer's first order (the next basket, when taken after a cutoff)."""
        orders = self.orders
        first = orders.loc[~orders[CUSTOMER].duplicated(), ORDER].to_numpy()
        return self._subset(np.isin(self.lines[ORDER].to_numpy(), first))

    def _subset(self, mask: pd.Series | np.ndarray) -> OrderHistory:
        return replace(self, lines=self.lines.loc[mask].reset_index(drop=True), cleaning=None)
