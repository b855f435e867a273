"""Discovery baselines: another recommender's list without the customer's own products."""

from __future__ import annotations

import numpy as np
import pandas as pd

from recsys.data.history import OrderHistory
from recsys.models.base import Recommender


class NewProductsOnly(Recommender):
    """``base``'s ranking with every product the customer has already bought left out.

    The repeat-purchase baselines keep a customer's own products in the list (most of what an
    order history predicts). Where customers rarely buy a product twice (books, furniture,
    fashion, a shop seen only at its first sales) those slots are wasted, and a collaborative
    model that only suggests what is new to the customer is the baseline to beat. ``base`` is
    fitted in place by ``fit``.
    """

    def __init__(self, base: Recommender) -> None:
        self.base = base

    @property
    def fill_with_popular(self) -> bool:  # type: ignore[override]
        return self.base.fill_with_popular

    def _fit(self, history: OrderHistory) -> None:
        self.base.fit(history)
        self.bought_ = history.purchase_matrix(binary=True)

    def _score(self, customers: np.ndarray, as_of: pd.Timestamp) -> np.ndarray:
        block = np.asarray(self.base._score(customers, as_of), dtype=np.float32)
        block[self.bought_[customers].nonzero()] = -np.inf
        return block
