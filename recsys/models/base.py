"""The one interface every recommender answers, and the shared top-K machinery.

Every model follows the scikit-learn estimator contract: the constructor stores parameters only;
``fit(history)`` validates, learns state named with a trailing underscore and returns ``self``.
``recommend(customers, k, as_of)`` returns ``(products, scores)``, two ``(n, k)`` arrays, for one
customer or a batch, always in the same shape:

* ``products`` holds product codes best first, padded with -1 when fewer than ``k`` products
  can be ranked (a product never bought in the training history is never recommended);
* ``scores`` holds the ranking score of each (higher is better; only the order is meaningful
  across models), ``-inf`` where padded.

Already-bought products stay in every candidate list: on order data, repeat purchases carry most
of the signal (unlike ``implicit``'s default ``filter_already_liked_items=True``); the discovery
baselines of `new_products` leave them out.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np
import pandas as pd

from recsys.data.history import OrderHistory
from recsys.exceptions import DataError, NotFittedError, ParameterError

log = logging.getLogger(__name__)


class Recommender(ABC):
    """Base class: subclasses implement ``_fit`` and ``_score``.

    ``_score(customers)`` returns a dense ``(len(customers), n_products)`` float array. With
    ``fill_with_popular`` (the default), entries > 0 are the model's candidates and every other
    slot of the list is filled with globally popular products, ranked below all candidates;
    without it, every score is used as it is.
    """

    fill_with_popular: ClassVar[bool] = True
    #: Customers scored at once; bounds the dense score block to batch x n_products floats.
    batch_size: ClassVar[int] = 512

    def fit(self, history: OrderHistory) -> Recommender:
        """Learn from ``history`` (every line of it counts as the past); returns ``self``."""
        if history.n_lines == 0:
            raise DataError("cannot fit a model on an empty order history")
        counts = np.bincount(history.lines["product"].to_numpy(), minlength=history.n_products)
        self.n_customers_ = history.n_customers
        self.n_products_ = history.n_products
        self.popularity_ = counts.astype(np.float32)
        self.fitted_until_ = history.end
        self._fit(history)
        return self

    @abstractmethod
    def _fit(self, history: OrderHistory) -> None:
        """Learn model-specific state from ``history``."""

    @abstractmethod
    def _score(self, customers: np.ndarray, as_of: pd.Timestamp) -> np.ndarray:
        """Dense scores of every product for each customer code in ``customers``, as of a date."""

    def recommend(
        self,
        customers: np.ndarray | int,
        k: int = 10,
        as_of: pd.Timestamp | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` products for each customer code (see the module docstring).

        Codes outside the training history (negative, or not seen) get popular products.
        ``as_of`` is the date the list is for (default: the end of the fitted history); models
        without a notion of time ignore it.
        """
        if not hasattr(self, "popularity_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit() first")
        if not isinstance(k, (int, np.integer)) or k < 1:
            raise ParameterError(f"k must be a positive integer, got {k!r}")
        customers = np.atleast_1d(np.asarray(customers, dtype=np.int64))
        as_of = self.fitted_until_ if as_of is None else as_of
        k = int(min(k, self.n_products_))
        products = np.full((len(customers), k), -1, dtype=np.int32)
        scores = np.full((len(customers), k), -np.inf, dtype=np.float32)
        known = (customers >= 0) & (customers < self.n_customers_)
        started, last_log = time.perf_counter(), time.perf_counter()
        for start in range(0, len(customers), self.batch_size):
            rows = np.arange(start, min(start + self.batch_size, len(customers)))
            block = np.zeros((len(rows), self.n_products_), dtype=np.float32)
            if known[rows].any():
                block[known[rows]] = self._score(customers[rows][known[rows]], as_of)
            products[rows], scores[rows] = top_k(self._finalise(block), k)
            if time.perf_counter() - last_log > 10:
                last_log = time.perf_counter()
                done = rows[-1] + 1
                log.info(
                    "%s: %d/%d customers ranked (%.0f/s)",
                    type(self).__name__,
                    done,
                    len(customers),
                    done / (last_log - started),
                )
        return products, scores

    def _finalise(self, block: np.ndarray) -> np.ndarray:
        """Mask products never bought in training; fill below the candidates with popular ones.

        A score of ``-inf`` from ``_score`` keeps a product out of that customer's list.
        """
        bought = self.popularity_ > 0
        if not self.fill_with_popular:
            return np.where(bought, block, -np.inf)
        # Candidates are mapped to (1, 2] by their row maximum, fillers to [0, 1) by popularity.
        row_max = block.max(axis=1, keepdims=True)
        scaled = 1.0 + block / np.where(row_max > 0, row_max, 1.0)
        filler = self.popularity_ / (self.popularity_.max() + 1.0)
        fillable = bought & (block > -np.inf)
        return np.where(block > 0, scaled, np.where(fillable, filler, -np.inf))


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values of the ``k`` largest entries per row, best first; -1 for -inf."""
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    values = np.take_along_axis(scores, part, axis=1)
    order = np.argsort(-values, axis=1, kind="stable")
    indices = np.take_along_axis(part, order, axis=1).astype(np.int32)
    values = np.take_along_axis(values, order, axis=1).astype(np.float32)
    indices[~np.isfinite(values)] = -1
    return indices, values
