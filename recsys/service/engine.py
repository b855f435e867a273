"""What the service answers from: one loaded model, its per-day lists and the orders since.

A customer's "next" list depends on the day asked about (due-ness moves with the clock) and on
orders that arrived after training. Lists are computed by the model for a (customer, day) the
first time they are asked for, kept in a bounded LRU cache, and dropped when an order of that
customer arrives; `ServingModel.warm` precomputes the day's lists of every known customer in
the background, so a storefront's requests are answered from memory. Orders ingested after
training are applied through `AnticipationModel.with_recent_orders`: the customer's own
statistics are rebuilt from their fitted lines plus the new ones.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import OrderedDict
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recsys.data import schema
from recsys.models.anticipate import AnticipationModel, recent_buyers
from recsys.models.demand import forecast_demand
from recsys.models.reasons import popularity_text
from recsys.models.reorder_cycles import to_days
from recsys.progress import Progress
from recsys.service.store import StoredOrder, lines_frame

log = logging.getLogger(__name__)

#: Items computed per customer list; the API's largest k.
LIST_SIZE = 100
#: How much a customer's ingested products count, next to the cart, in basket completion.
CUSTOMER_ANCHOR_WEIGHT = 0.5


@dataclass(frozen=True)
class ItemList:
    """A ranked list in columns (product codes and what the API shows of each)."""

    product: np.ndarray
    score: np.ndarray
    probability: np.ndarray
    expected_date: np.ndarray  # ISO dates as str, "NaT" where there is no cycle
    expected_quantity: np.ndarray
    reason: np.ndarray
    reason_text: np.ndarray
    cold_start: bool

    @classmethod
    def from_frame(cls, items: pd.DataFrame, cold_start: bool) -> ItemList:
        return cls(
            items["product"].to_numpy(np.int64),
            items["score"].to_numpy(np.float64),
            items["probability"].to_numpy(np.float64),
            np.datetime_as_string(items["expected_date"].to_numpy("datetime64[D]")).astype(object),
            items["expected_quantity"].to_numpy(np.float64),
            items["reason"].to_numpy(object),
            items["reason_text"].to_numpy(object),
            cold_start,
        )


class ServingModel:
    """A loaded model version with its list cache and the orders ingested since training.

    Thread-safe: requests, ingestion and warming may run concurrently.
    """

    def __init__(
        self,
        model: AnticipationModel,
        manifest: dict[str, Any],
        path: Path,
        recent_orders: list[StoredOrder] | None = None,
        cache_size: int = 50_000,
    ) -> None:
        self.model = model
        self.manifest = manifest
        self.path = path
        self.version: str = manifest["version"]
        self.cache_size = cache_size
        self.last_day: dt.date = model.fitted_until_.date()
        self._customers = pd.Index(model.customer_ids_)
        self._products = pd.Index(model.product_ids_)
        # customer -> {(day, new only) -> list}, least recently used customer first.
        self._lists: OrderedDict[str, dict[tuple[dt.date, bool], ItemList]] = OrderedDict()
        # customer -> order id -> order, as stored; a DataFrame only when a list is computed
        # (thousands of tiny frames cost megabytes).
        self._recent: dict[str, dict[str, StoredOrder]] = {}
        self._epoch: dict[str, int] = {}  # per customer, bumped by each ingested order
        self._forecasts: dict[tuple[dt.date, int], pd.DataFrame] = {}
        # Forecasts being computed: a request for the same one waits for it instead of
        # starting another (on a large customer base each takes minutes of both cores).
        self._forecasts_pending: dict[tuple[dt.date, int], Future[pd.DataFrame]] = {}
        # Buyers per product in the last horizon, and customers: computed at first use.
        self._buyers: tuple[np.ndarray, int] | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        if recent_orders:
            self.apply_orders(recent_orders)

    # ------------------------------------------------------------------------- facts
    def product_name(self, codes: np.ndarray) -> np.ndarray:
        return self.model.display_names_[codes]

    def product_category(self, codes: np.ndarray) -> np.ndarray | None:
        categories = self.model.product_categories_
        return None if categories is None else categories[codes]

    @property
    def has_categories(self) -> bool:
        return self.model.product_categories_ is not None

    def popular_in_category(self, category: str, k: int, leave_out: np.ndarray) -> ItemList:
        """The ``k`` products of ``category`` most customers bought in the model's last
        horizon, but ``leave_out`` (codes): what fills a category's list past the customer's
        own candidates. Probabilities are those customers' share, as for a cold start."""
        if self._buyers is None:  # once per model (a pass over its lines: not under the lock)
            model = self.model
            buyers = recent_buyers(
                model.lines_, model.fitted_until_, model.horizon_days_, model.n_products_
            )
            self._buyers = buyers, max(int((model.state_.cycles_.customer_orders_ > 0).sum()), 1)
        buyers, customers = self._buyers
        wanted = (self.model.product_categories_ == category) & (buyers > 0)
        wanted[leave_out] = False
        codes = np.flatnonzero(wanted)
        codes = codes[np.argsort(-buyers[codes], kind="stable")[:k]]
        share = buyers[codes] / customers
        h = self.model.horizon_days_
        return ItemList(
            product=codes.astype(np.int64),
            score=share,
            probability=share,
            expected_date=np.full(len(codes), "NaT", dtype=object),
            expected_quantity=self.model.state_.cycles_.product_quantity_[codes].astype(float),
            reason=np.full(len(codes), "popular", dtype=object),
            reason_text=np.array(
                popularity_text(share, buyers[codes], h, f"in {category}"), dtype=object
            ),
            cold_start=False,
        )

    def product_codes(self, product_ids: list[str]) -> np.ndarray:
        """Codes of product ids, -1 for ids the model does not know."""
        return self._products.get_indexer(pd.Index(product_ids, dtype=object))

    # ------------------------------------------------------------------ "next" lists
    def today(self, now: dt.datetime) -> dt.date:
        """The day "now" answers for: a clock behind the data (a replayed history) gives the
        model's last day."""
        return max(now.date(), self.last_day)

    def next_items(self, customer_id: str, day: dt.date, new_only: bool = False) -> ItemList:
        """The customer's ranked list for a day, from the cache or computed; ``new_only``:
        of the products they have never bought (see `AnticipationModel.predict`)."""
        cached = self.cached(customer_id, day, new_only)
        if cached is not None:
            return cached
        with self._lock:
            recent = self._recent_frame(customer_id)
            epoch = self._epoch.get(customer_id, 0)
        items = self._compute([customer_id], day, recent, new_only)[0]
        self._remember(customer_id, (day, new_only), items, epoch)
        return items

    def cached(self, customer_id: str, day: dt.date, new_only: bool = False) -> ItemList | None:
        """The list if it is in the cache (no computation: safe on the event loop)."""
        with self._lock:
            lists = self._lists.get(customer_id)
            if lists is None:
                return None
            self._lists.move_to_end(customer_id)
            return lists.get((day, new_only))

    def _remember(
        self, customer_id: str, key: tuple[dt.date, bool], items: ItemList, epoch: int
    ) -> None:
        with self._lock:
            if self._epoch.get(customer_id, 0) != epoch:
                return  # an order arrived while the list was computed: it is stale already
            lists = self._lists.setdefault(customer_id, {})
            if len(lists) >= 4:  # a few per customer (today, tomorrow, tests' as_of, new only)
                lists.pop(next(iter(lists)))
            lists[key] = items
            self._lists.move_to_end(customer_id)
            while len(self._lists) > self.cache_size:
                self._lists.popitem(last=False)

    def _compute(
        self,
        customer_ids: list[str],
        day: dt.date,
        recent: pd.DataFrame | None,
        new_only: bool = False,
    ) -> list[ItemList]:
        """Lists of several customers (``recent``: new lines of the first and only one)."""
        model, codes, known, as_of = self._model_as_of(customer_ids, day, recent)
        items = model.predict(codes, k=LIST_SIZE, as_of=as_of, new_only=new_only)
        rows = items["row"].to_numpy()
        bounds = np.searchsorted(rows, np.arange(len(codes) + 1))
        return [
            ItemList.from_frame(items.iloc[bounds[i] : bounds[i + 1]], cold_start=not known[i])
            for i in range(len(codes))
        ]

    def _model_as_of(
        self, customer_ids: list[str], day: dt.date, recent: pd.DataFrame | None
    ) -> tuple[AnticipationModel, np.ndarray, np.ndarray, pd.Timestamp]:
        """``(model, codes, known, as_of)``: the model that knows the orders before ``day``
        (``recent``: new lines of the first and only customer), the customers' codes in it,
        which of them it knows, and the time it answers for (not before its own data)."""
        as_of = pd.Timestamp(day)
        model, codes = self.model, None
        if recent is not None:
            # Orders of the day asked about or later do not exist yet, as of that day.
            recent = recent[recent[schema.TIMESTAMP] < as_of]
            if len(recent):
                model, codes = model.with_recent_orders(recent), np.zeros(1, dtype=np.int64)
        if codes is None:
            codes = self._customers.get_indexer(pd.Index(customer_ids, dtype=object))
        known = (codes >= 0) & (codes < model.n_customers_)
        return model, codes, known, max(as_of, model.fitted_until_)

    def cycles(
        self, customer_id: str, day: dt.date, statuses: tuple[str, ...] | None = None
    ) -> pd.DataFrame:
        """The customer's reorder cycles as of a day (`ReorderCycles.table`), with the orders
        ingested since training; no rows for a customer nobody knows."""
        with self._lock:
            recent = self._recent_frame(customer_id)
        model, codes, known, as_of = self._model_as_of([customer_id], day, recent)
        cycles = model.state_.cycles_
        return cycles.table(codes[known], to_days(as_of), model.horizon_days_, statuses)

    def warm(self, day: dt.date, batch: int = 500) -> None:
        """Compute the day's list of every known customer into the cache, in batches."""
        ids = list(self.model.customer_ids_[: self.cache_size])
        progress = Progress(f"model {self.version}: lists for {day}", len(ids), "customers")
        for start in range(0, len(ids), batch):
            if self._stop.is_set():
                return
            chunk = [c for c in ids[start : start + batch] if c not in self._recent]
            lists = self._compute(chunk, day, None) if chunk else []
            for customer_id, items in zip(chunk, lists, strict=True):
                self._remember(customer_id, (day, False), items, 0)
            done = min(start + batch, len(ids))
            if done == len(ids) or (start // batch) % 20 == 0:
                progress.update(done)

    def stop(self) -> None:
        """Ask a running `warm` to stop (the model is being replaced)."""
        self._stop.set()

    def item_dicts(
        self, items: ItemList, chosen: np.ndarray, first_rank: int = 1
    ) -> list[dict[str, Any]]:
        """Items at positions ``chosen`` of a list, as the API shows them (`schemas.Item`),
        ranked from ``first_rank``."""
        product = items.product[chosen]
        columns = zip(
            self.model.product_ids_[product].tolist(),
            self.product_name(product).tolist(),
            items.probability[chosen].tolist(),
            items.expected_date[chosen].tolist(),
            items.expected_quantity[chosen].tolist(),
            items.reason[chosen].tolist(),
            items.reason_text[chosen].tolist(),
            strict=True,
        )
        return [
            {
                "product_id": str(product_id),
                "name": name,
                "rank": rank,
                "probability": probability,
                "expected_date": None if date == "NaT" else date,
                "expected_quantity": quantity,
                "reason": reason,
                "reason_text": text,
            }
            for rank, (product_id, name, probability, date, quantity, reason, text) in enumerate(
                columns, start=first_rank
            )
        ]

    # --------------------------------------------------------------------- ingestion
    def apply_orders(self, orders: list[StoredOrder]) -> None:
        """Take new orders into account for their customers; an order id already applied is
        ignored (a reload may hand over orders this model was given already)."""
        with self._lock:
            for order in orders:
                known = self._recent.setdefault(order.customer_id, {})
                if order.order_id in known:
                    continue
                known[order.order_id] = order
                self._epoch[order.customer_id] = self._epoch.get(order.customer_id, 0) + 1
                self._lists.pop(order.customer_id, None)

    def _recent_frame(self, customer_id: str) -> pd.DataFrame | None:
        """The customer's ingested lines in the canonical layout (call under the lock)."""
        orders = self._recent.get(customer_id)
        if not orders:
            return None
        frame = lines_frame(list(orders.values()))
        return frame.sort_values(schema.TIMESTAMP, kind="stable", ignore_index=True)

    @property
    def orders_since_training(self) -> int:
        """Orders ingested after this model was trained (applied live)."""
        with self._lock:
            return sum(len(orders) for orders in self._recent.values())

    def recent_products(self, customer_id: str) -> np.ndarray:
        """Codes of known products in the customer's ingested orders."""
        with self._lock:
            recent = self._recent_frame(customer_id)
        if recent is None:
            return np.zeros(0, dtype=np.int64)
        codes = self.product_codes(list(recent[schema.PRODUCT_ID]))
        return np.unique(codes[codes >= 0])

    def bought(self, customer_id: str) -> np.ndarray:
        """Codes of every product the customer has bought, in training or since."""
        code = self._customers.get_indexer([customer_id])[0]
        fitted = np.zeros(0, dtype=np.int64)
        if code >= 0:
            cycles = self.model.state_.cycles_
            pairs, _ = cycles.customer_pairs(np.array([code]))
            fitted = cycles.pair_product_[pairs].astype(np.int64)
        return np.union1d(fitted, self.recent_products(customer_id))

    def customer_orders(self, customer_id: str) -> pd.DataFrame:
        """The customer's orders, oldest first: ``timestamp, lines, units`` (training orders
        and those ingested since)."""
        code = self._customers.get_indexer([customer_id])[0]
        parts = []
        if code >= 0:
            old = self.model.customer_lines(code)
            parts.append(
                pd.DataFrame(
                    {
                        "order": old["order"].astype(str).to_numpy(),
                        "timestamp": old["timestamp"].to_numpy(),
                        "quantity": old["quantity"].to_numpy(),
                    }
                )
            )
        with self._lock:
            recent = self._recent_frame(customer_id)
        if recent is not None:
            parts.append(
                pd.DataFrame(
                    {
                        "order": "new:" + recent[schema.ORDER_ID].astype(str).to_numpy(),
                        "timestamp": recent[schema.TIMESTAMP].to_numpy(),
                        "quantity": recent[schema.QUANTITY].to_numpy(),
                    }
                )
            )
        if not parts:
            return pd.DataFrame(
                {"timestamp": pd.Series(dtype="datetime64[s]"), "lines": [], "units": []}
            )
        lines = pd.concat(parts, ignore_index=True)
        orders = lines.groupby("order", sort=False).agg(
            timestamp=("timestamp", "min"), lines=("quantity", "size"), units=("quantity", "sum")
        )
        return orders.sort_values("timestamp", ignore_index=True)

    # --------------------------------------------------------------------- forecast
    def forecast(self, day: dt.date, days: int) -> pd.DataFrame:
        """Units per product over ``days`` from ``day`` (`recsys.models.demand`), computed once
        per (day, days) for this model: concurrent requests for one share its computation."""
        key = (day, days)
        with self._lock:
            table = self._forecasts.get(key)
            pending = self._forecasts_pending.get(key) if table is None else None
            computing = table is None and pending is None
            if computing:
                pending = self._forecasts_pending[key] = Future()
        if table is not None:
            return table
        if not computing:
            return pending.result()
        try:
            table = forecast_demand(self.model, days, as_of=pd.Timestamp(day))
        except BaseException as exc:
            with self._lock:
                del self._forecasts_pending[key]
            pending.set_exception(exc)
            raise
        with self._lock:
            if len(self._forecasts) >= 8:
                self._forecasts.pop(next(iter(self._forecasts)))
            self._forecasts[key] = table
            del self._forecasts_pending[key]
        pending.set_result(table)
        return table

    # ------------------------------------------------------------------ co-purchase
    def complements(
        self, anchors: np.ndarray, k: int, weights: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Products bought with the anchors: (codes, scores, anchor of each, its share).

        Scores are the summed cosine association of order-level co-purchase (weighted per
        anchor); the anchor is the one most associated with each complement and the share is
        the fraction of its orders that also hold the complement. Never returns an anchor.
        """
        basket = self.model.state_.basket_
        best, scores = basket.complements(anchors, k, weights)
        if len(best) == 0:
            return best, scores, best, scores
        anchor, share = basket.strongest_anchor(anchors, best, weights)
        return best, scores, anchor, share
