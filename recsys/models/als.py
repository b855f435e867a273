"""ALS: implicit-feedback matrix factorisation (Hu, Koren and Volinsky 2008) from ``implicit``."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import scipy.sparse as sp
from implicit.cpu.als import AlternatingLeastSquares
from threadpoolctl import threadpool_limits

from recsys.data.history import OrderHistory
from recsys.models.base import Recommender


class ALS(Recommender):
    """Confidence ``1 + alpha * log(1 + n)`` for a product in ``n`` of the customer's orders.

    The log damps customers who reorder one product hundreds of times, which would otherwise
    dominate the factors.

    With ``max_pool`` set, the product factors are learned from at most that many customers
    (a random sample of those with purchases): past some tens of thousands of customers more
    of them sharpen the product factors little and each sweep costs in proportion. Every
    customer's factor is then solved exactly against those product factors.
    """

    fill_with_popular = False

    def __init__(
        self,
        factors: int = 64,
        regularization: float = 0.05,
        alpha: float = 5.0,
        iterations: int = 15,
        max_pool: int | None = None,
        random_state: int = 0,
    ) -> None:
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.max_pool = max_pool
        self.random_state = random_state

    def _fit(self, history: OrderHistory) -> None:
        weights = self._confidence(history)
        # implicit's own threads do the work; a multi-threaded BLAS underneath only contends
        # (implicit checks this when the model is built, so build it inside the limit too).
        with threadpool_limits(1, "blas"):
            model = self._implicit_model()
            model.fit(self._pool(weights), show_progress=False)
        self.product_factors_ = np.asarray(model.item_factors, dtype=np.float32)
        # The sweeps end on a product step, with customer factors from conjugate-gradient steps
        # against the previous product factors; solving them exactly against the final ones
        # makes them what `folded_in` gives for the same lines.
        self.customer_factors_ = self._solved_customer_factors(weights)

    def folded_in(self, history: OrderHistory) -> ALS:
        """A copy whose customer factors are solved for ``history``'s customers.

        The product factors stay fixed; each customer's factor is the exact least-squares
        update for their purchases, as at the end of `fit`, so a customer the model never saw
        gets a factor from their first orders and a known one with no new lines keeps theirs.
        """
        fresh = copy.copy(self)
        fresh.customer_factors_ = self._solved_customer_factors(self._confidence(history))
        return fresh

    def _pool(self, weights: sp.csr_matrix) -> sp.csr_matrix:
        """The rows the product factors are learned from: all, or ``max_pool`` buyers."""
        buyers = np.flatnonzero(np.diff(weights.indptr) > 0)
        if self.max_pool is None or len(buyers) <= self.max_pool:
            return weights
        rng = np.random.default_rng(self.random_state)
        return weights[np.sort(rng.choice(buyers, self.max_pool, replace=False))]

    def _confidence(self, history: OrderHistory) -> sp.csr_matrix:
        weights = history.purchase_matrix()
        weights.data = np.log1p(weights.data)
        return weights

    def _implicit_model(self) -> AlternatingLeastSquares:
        return AlternatingLeastSquares(
            factors=self.factors,
            regularization=self.regularization,
            alpha=self.alpha,
            iterations=self.iterations,
            random_state=self.random_state,
        )

    def _solved_customer_factors(self, weights: sp.csr_matrix) -> np.ndarray:
        with threadpool_limits(1, "blas"):
            model = self._implicit_model()
            model.item_factors = self.product_factors_
            factors = model.recalculate_user(np.arange(weights.shape[0]), weights)
        return np.asarray(factors, dtype=np.float32)

    def _score(self, customers: np.ndarray, as_of: pd.Timestamp) -> np.ndarray:
        return self.customer_factors_[customers] @ self.product_factors_.T
