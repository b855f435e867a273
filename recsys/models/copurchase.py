"""Co-purchase: which products go together, normalised so popular items do not dominate.

Two products are associated when they share baskets. A basket is an order (``window_days=None``:
cart complements) or everything one customer bought within a ``window_days`` period (products
needed around the same time, bought in separate orders). The association is the cosine of the
two products' basket vectors, ``n_ij / sqrt(n_i n_j)``, kept sparse: the top ``neighbours`` per
product with at least ``min_count`` shared baskets. The share of product i's baskets that also
hold j (``n_ij / n_i``) is kept beside it for readable reasons.
"""

from __future__ import annotations

import logging

import numpy as np
import scipy.sparse as sp

from recsys.data.history import OrderHistory
from recsys.models.reorder_cycles import to_days
from recsys.models.sparse_rows import top_k_per_row

log = logging.getLogger(__name__)

#: Products whose shared-basket counts are computed at once (bounds the memory of a fit).
PRODUCTS_PER_BLOCK = 4096


class CoPurchase:
    """Product x product association from shared baskets.

    Fitted attributes: ``similarity_`` (products x products CSR, cosine, top neighbours per
    row, no diagonal), ``confidence_`` (same pattern: share of the row product's baskets that
    hold the column product), ``basket_counts_`` (baskets per product).
    """

    def __init__(
        self,
        neighbours: int = 50,
        min_count: int = 2,
        window_days: float | None = None,
        max_baskets: int = 300_000,
        random_state: int = 0,
    ) -> None:
        self.neighbours = neighbours
        self.min_count = min_count
        self.window_days = window_days
        self.max_baskets = max_baskets
        self.random_state = random_state

    def fit(self, history: OrderHistory) -> CoPurchase:
        lines = history.lines
        if self.window_days is None:
            basket = lines["order"].to_numpy()
        else:
            period = np.floor(to_days(lines["timestamp"]) / self.window_days).astype(np.int64)
            key = lines["customer"].to_numpy().astype(np.int64) * (period.max() + 1) + period
            basket = np.unique(key, return_inverse=True)[1]
        product = lines["product"].to_numpy()
        n_baskets = int(basket.max()) + 1
        if n_baskets > self.max_baskets:
            # Association strengths converge long before every basket is counted.
            rng = np.random.default_rng(self.random_state)
            chosen = np.zeros(n_baskets, dtype=bool)
            chosen[rng.choice(n_baskets, self.max_baskets, replace=False)] = True
            keep = chosen[basket]
            basket, product = np.unique(basket[keep], return_inverse=True)[1], product[keep]
            n_baskets = self.max_baskets
        incidence = sp.csr_matrix(
            (np.ones(len(basket), dtype=np.float32), (basket, product)),
            shape=(n_baskets, history.n_products),
        )
        incidence.data[:] = 1.0  # a product twice in one basket (window) counts once
        counts = np.asarray(incidence.sum(axis=0)).ravel()
        similarity = self._top_cosine(incidence, counts)
        self.similarity_ = similarity.astype(np.float32)
        # The share n_ij / n_i on the kept links, for reasons ("bought with X in 60% ...").
        confidence = similarity.copy()
        kept_rows = np.repeat(np.arange(confidence.shape[0]), np.diff(confidence.indptr))
        confidence.data = confidence.data * np.sqrt(counts[confidence.indices] / counts[kept_rows])
        self.confidence_ = confidence.astype(np.float32)
        self.basket_counts_ = counts.astype(np.float32)
        log.debug("co-purchase: %d baskets, %d links", n_baskets, self.similarity_.nnz)
        return self

    def _top_cosine(self, incidence: sp.csr_matrix, counts: np.ndarray) -> sp.csr_matrix:
        """The top neighbours of every product by cosine, computed for a block of products at a
        time: a wide catalogue's shared-basket counts (tens of millions of pairs, most of them
        seen once) are never held whole."""
        n_products = incidence.shape[1]
        by_product = incidence.T.tocsr()
        blocks = []
        for start in range(0, n_products, PRODUCTS_PER_BLOCK):
            shared = (by_product[start : start + PRODUCTS_PER_BLOCK] @ incidence).tocoo()
            row = shared.row + start
            keep = (row != shared.col) & (shared.data >= self.min_count)
            row, col, n_shared = row[keep], shared.col[keep], shared.data[keep]
            cosine = sp.csr_matrix(
                (n_shared / np.sqrt(counts[row] * counts[col]), (row - start, col)),
                shape=shared.shape,
            )
            blocks.append(top_k_per_row(cosine, self.neighbours))
        return sp.vstack(blocks, format="csr")

    def complements(
        self, products: np.ndarray, k: int, weights: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` products associated with a set of products, never one of them.

        Scores are the (``weights``-weighted) sum of the association with each product. Only
        the products' stored neighbours are visited, so the cost does not grow with the
        catalogue.
        """
        products = np.asarray(products, dtype=np.int64)
        w = np.ones(len(products), dtype=np.float32) if weights is None else weights
        rows = self.similarity_[products]
        summed = sp.csr_matrix(rows.multiply(w[:, None]).sum(axis=0))
        candidates, scores = summed.indices, summed.data
        keep = ~np.isin(candidates, products) & (scores > 0)
        candidates, scores = candidates[keep], scores[keep]
        best = np.lexsort((candidates, -scores))[:k]
        return candidates[best].astype(np.int64), scores[best]

    def strongest_anchor(
        self, anchors: np.ndarray, products: np.ndarray, weights: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """For each product, the anchor most associated with it and the share of that anchor's
        baskets that hold the product (the "bought with X in 60% of orders" of a reason)."""
        links = self.similarity_[anchors][:, products].toarray()
        if weights is not None:
            links *= weights[:, None]
        anchor = anchors[np.argmax(links, axis=0)]
        share = np.asarray(self.confidence_[anchor, products]).ravel()
        return anchor, share
