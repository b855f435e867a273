"""ItemKNN: cosine item-item neighbours of the customer's history (``implicit``)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from implicit.nearest_neighbours import CosineRecommender
from implicit.utils import ParameterWarning

from recsys.data.history import OrderHistory
from recsys.models.base import Recommender


class ItemKNN(Recommender):
    """Scores = customer's order counts x item-item cosine similarity (top ``neighbours``).

    The similarity keeps each product's similarity to itself, so products already bought are
    scored too.
    """

    def __init__(self, neighbours: int = 100) -> None:
        self.neighbours = neighbours

    def _fit(self, history: OrderHistory) -> None:
        self.counts_ = history.purchase_matrix()
        knn = CosineRecommender(K=self.neighbours)
        with warnings.catch_warnings():
            # implicit transposes our CSR input internally and then warns that it is not CSR.
            warnings.simplefilter("ignore", ParameterWarning)
            knn.fit(self.counts_, show_progress=False)
        self.similarity_ = knn.similarity.astype(np.float32).tocsr()

    def _score(self, customers: np.ndarray, as_of: pd.Timestamp) -> np.ndarray:
        return (self.counts_[customers] @ self.similarity_).toarray()
