"""G-TopFreq: the products in most orders, the same list for everyone."""

from __future__ import annotations

import numpy as np
import pandas as pd

from recsys.data.history import OrderHistory
from recsys.models.base import Recommender


class GlobalPopular(Recommender):
    """Globally most frequent products (the base class's popularity fill is the whole model)."""

    def _fit(self, history: OrderHistory) -> None:
        pass

    def _score(self, customers: np.ndarray, as_of: pd.Timestamp) -> np.ndarray:
        return np.zeros((len(customers), self.n_products_), dtype=np.float32)
