"""TIFU-KNN: Hu, He, Gao and Zhang, "Modeling Personalized Item Frequency Information for
Next-basket Recommendation", SIGIR 2020.

Each customer's baskets (in time order) are split into ``n_groups`` consecutive groups of
near-equal size (later groups take the extra basket when the split is uneven; a customer with
fewer baskets than ``n_groups`` has one group per basket). A group's vector is the mean of its
binary basket vectors weighted by ``within_decay ** (baskets after it in the group)``; the
customer's personalised item-frequency (PIF) vector is the mean of the group vectors weighted by
``group_decay ** (groups after it)``. The prediction is
``alpha * own PIF + (1 - alpha) * mean PIF of the k nearest customers`` (Euclidean distance
between PIF vectors, brute force, as the authors' code does with scikit-learn's
NearestNeighbors). The defaults are the published setting of the authors' code and of cornac
(k=300, r_b=0.9, r_g=0.7, alpha=0.7, 7 groups).
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys.data.history import OrderHistory
from recsys.models.base import Recommender


class TIFUKNN(Recommender):
    """Temporal item-frequency user-KNN for next-basket recommendation."""

    def __init__(
        self,
        n_neighbours: int = 300,
        within_decay: float = 0.9,
        group_decay: float = 0.7,
        alpha: float = 0.7,
        n_groups: int = 7,
        max_pool: int | None = None,
        random_state: int = 0,
    ) -> None:
        self.n_neighbours = n_neighbours
        self.within_decay = within_decay
        self.group_decay = group_decay
        self.alpha = alpha
        self.n_groups = n_groups
        self.max_pool = max_pool
        self.random_state = random_state

    def _fit(self, history: OrderHistory) -> None:
        pif = self._pif(history)
        self.pif_ = pif
        self.sq_norms_ = np.asarray(pif.multiply(pif).sum(axis=1)).ravel()
        self.codes_ = None
        pool = np.flatnonzero(np.diff(pif.indptr) > 0)
        if self.max_pool is not None and len(pool) > self.max_pool:
            # Not in the paper: a random pool bounds the cost on very large customer bases.
            rng = np.random.default_rng(self.random_state)
            pool = np.sort(rng.choice(pool, self.max_pool, replace=False))
        self.pool_ = pool
        self.pool_pif_ = pif[pool].tocsr()
        self.pool_sq_norms_ = self.sq_norms_[pool]

    def _pif(self, history: OrderHistory) -> sp.csr_matrix:
        """Customers x products personalised item-frequency vectors."""
        weights = basket_weights(
            history.orders["customer"].to_numpy(),
            self.n_groups,
            self.within_decay,
            self.group_decay,
        )
        lines = history.lines
        # lines and orders share the sort, so each line takes its order's weight by position.
        per_line = np.repeat(weights, history.orders["n_lines"].to_numpy())
        pif = sp.csr_matrix(
            (
                per_line.astype(np.float32),
                (lines["customer"].to_numpy(), lines["product"].to_numpy()),
            ),
            shape=(history.n_customers, history.n_products),
        )
        pif.sum_duplicates()
        return pif

    def refreshed(self, history: OrderHistory, codes: np.ndarray) -> TIFUKNN:
        """A copy for the customers of ``history`` (their complete lines), same neighbour pool.

        ``codes`` are their codes in the fitted history (-1 if new), so that a customer is
        still never their own neighbour.
        """
        fresh = copy.copy(self)
        fresh.pif_ = self._pif(history)
        fresh.sq_norms_ = np.asarray(fresh.pif_.multiply(fresh.pif_).sum(axis=1)).ravel()
        fresh.codes_ = np.asarray(codes, dtype=np.int64)
        return fresh

    def _score(self, customers: np.ndarray, as_of: pd.Timestamp) -> np.ndarray:
        own, neighbours = self.components(customers)
        return self.alpha * own.toarray() + (1.0 - self.alpha) * neighbours

    def components(self, customers: np.ndarray) -> tuple[sp.csr_matrix, np.ndarray]:
        """The customers' own PIF vectors (sparse) and their neighbours' mean (dense)."""
        own = self.pif_[customers]
        k = min(self.n_neighbours, len(self.pool_) - 1)
        if k < 1:
            return own, np.zeros(own.shape, dtype=np.float32)
        # Squared Euclidean distances to the pool, from the sparse inner products; the pool on
        # the left keeps both operands in CSR (`own @ pool.T` converts the whole pool each call).
        dots = (self.pool_pif_ @ own.T).T.toarray()
        dist = self.sq_norms_[customers, None] + self.pool_sq_norms_[None, :] - 2.0 * dots
        codes = customers if self.codes_ is None else self.codes_[customers]
        position = np.searchsorted(self.pool_, codes)
        in_pool = self.pool_[np.minimum(position, len(self.pool_) - 1)] == codes
        dist[np.flatnonzero(in_pool), position[in_pool]] = np.inf  # never one's own neighbour
        neighbours = np.argpartition(dist, k - 1, axis=1)[:, :k]
        select = sp.csr_matrix(
            (
                np.full(neighbours.size, 1.0 / k, dtype=np.float32),
                neighbours.ravel(),
                np.arange(0, neighbours.size + 1, k),
            ),
            shape=(len(customers), len(self.pool_)),
        )
        return own, (select @ self.pool_pif_).toarray()


def basket_weights(
    basket_customer: np.ndarray, n_groups: int, within_decay: float, group_decay: float
) -> np.ndarray:
    """TIFU-KNN weight of each basket, given baskets sorted by customer then time.

    Vectorised over all baskets: position within customer -> group and position in group.
    """
    starts = np.r_[0, np.flatnonzero(np.diff(basket_customer)) + 1]
    counts = np.diff(np.r_[starts, len(basket_customer)])
    n = np.repeat(counts, counts)
    pos = np.arange(len(basket_customer)) - np.repeat(starts, counts)
    groups = np.minimum(n, n_groups)
    base = n // groups
    extra = n % groups
    small_span = (groups - extra) * base  # baskets held by the groups of size `base`
    in_small = pos < small_span
    q = pos - small_span
    group = np.where(in_small, pos // base, groups - extra + q // (base + 1))
    size = np.where(in_small, base, base + 1)
    pos_in_group = np.where(in_small, pos % base, q % (base + 1))
    return (
        within_decay ** (size - 1 - pos_in_group)
        / size
        * group_decay ** (groups - 1 - group)
        / groups
    )
