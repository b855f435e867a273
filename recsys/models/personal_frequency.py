"""P-TopFreq: the customer's own most frequently ordered products, then popular ones."""

from __future__ import annotations

import numpy as np
import pandas as pd

from recsys.data.history import OrderHistory
from recsys.models.base import Recommender


class PersonalTopFreq(Recommender):
    """Ranks a customer's products by the number of their orders holding each.

    Ties are broken by global popularity; products the customer never bought follow,
    by global popularity.
    """

    def _fit(self, history: OrderHistory) -> None:
        self.counts_ = history.purchase_matrix()
        # Adds less than 1, so it only reorders products bought equally often.
        self.tie_break_ = 0.5 * self.popularity_ / (self.popularity_.max() + 1.0)

    def _score(self, customers: np.ndarray, as_of: pd.Timestamp) -> np.ndarray:
        counts = self.counts_[customers].toarray()
        return np.where(counts > 0, counts + self.tie_break_, 0.0).astype(np.float32)
