"""ALS: implicit-feedback matrix factorisation (Hu, Koren and Volinsky 2008) from ``implicit``."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
from implicit.cpu.als import AlternatingLeastSquares
from threadpoolctl import threadpool_limits

from recsys.data.history import OrderHistory
from recsys.models.base import Recommender


class ALS(Recommender):
    """Confidence ``1 + alpha * log(1 + n)`` for a product in ``n`` of the customer's orders.

    The log damps customers who reorder one product hundreds of times, which would otherwise
    dominate the factors.
    """

    fill_with_popular = False

    def __init__(
        self,
        factors: int = 64,
        regularization: float = 0.05,
        alpha: float = 5.0,
        iterations: int = 15,
        random_state: int = 0,
    ) -> None:
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.random_state = random_state

    def _fit(self, history: OrderHistory) -> None:
        weights = history.purchase_matrix()
        weights.data = np.log1p(weights.data)
        # implicit's own threads do the work; a multi-threaded BLAS underneath only contends
        # (implicit checks this when the model is built, so build it inside the limit too).
        with threadpool_limits(1, "blas"):
            model = AlternatingLeastSquares(
                factors=self.factors,
                regularization=self.regularization,
                alpha=self.alpha,
                iterations=self.iterations,
                random_state=self.random_state,
            )
            model.fit(weights, show_progress=False)
        self.customer_factors_ = np.asarray(model.user_factors, dtype=np.float32)
        self.product_factors_ = np.asarray(model.item_factors, dtype=np.float32)

    def folded_in(self, history: OrderHistory) -> ALS:
        """A copy whose customer factors are solved for ``history``'s customers.

        The product factors stay fixed; each customer's factor is the ALS least-squares update
        for their purchases, as ``implicit`` solves it (confidence ``alpha * weight``), so a
        customer the model never saw gets a factor from their first orders.
        """
        weights = history.purchase_matrix()
        weights.data = np.log1p(weights.data)
        Y = self.product_factors_.astype(np.float64)
        gram = Y.T @ Y + self.regularization * np.eye(Y.shape[1])
        factors = np.zeros((history.n_customers, Y.shape[1]), dtype=np.float32)
        for u in range(history.n_customers):  # a handful of customers: see the docstring
            items = weights.indices[weights.indptr[u] : weights.indptr[u + 1]]
            if len(items) == 0:
                continue
            confidence = self.alpha * weights.data[weights.indptr[u] : weights.indptr[u + 1]]
            Yu = Y[items]
            A = gram + (Yu.T * (confidence - 1.0)) @ Yu
            factors[u] = np.linalg.solve(A, Yu.T @ confidence)
        fresh = copy.copy(self)
        fresh.customer_factors_ = factors
        return fresh

    def _score(self, customers: np.ndarray, as_of: pd.Timestamp) -> np.ndarray:
        return self.customer_factors_[customers] @ self.product_factors_.T
