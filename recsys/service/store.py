"""Durable order ingestion: SQLite in WAL mode, idempotent by order id.

An order is committed (``synchronous=FULL``: on disk, not only in the OS cache) before the API
answers 2xx, so an acknowledged order survives a crash or a ``kill -9`` of the server. Sending
the same order again is a no-op; sending a different order under an id already stored is a
conflict, and a batch is all or nothing. ``recsys train --ingested DB`` reads the stored orders
back in the canonical layout.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from recsys.data import schema
from recsys.exceptions import DataError, RecsysError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id TEXT NOT NULL UNIQUE,
    customer_id TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    lines TEXT NOT NULL,
    received_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX IF NOT EXISTS orders_customer ON orders (customer_id);
"""


class OrderConflict(RecsysError):
    """An order id already stored with different content."""

    def __init__(self, order_id: str) -> None:
        super().__init__(
            f"order '{order_id}' is already stored with different content; order ids are "
            f"idempotency keys and cannot be reused"
        )
        self.order_id = order_id


@dataclass(frozen=True)
class StoredOrder:
    """One order as stored: lines are (product_id, quantity, price or None)."""

    order_id: str
    customer_id: str
    timestamp: str  # ISO 8601, naive (UTC when the client sent an offset)
    lines: tuple[tuple[str, float, float | None], ...]

    def encoded_lines(self) -> str:
        return json.dumps([list(line) for line in self.lines], separators=(",", ":"))


class OrderStore:
    """Append-only order log in one SQLite file, safe to share between threads."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._db.executescript(_SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            raise DataError(f"order database {self.path}: cannot open ({exc})") from None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def add(self, orders: list[StoredOrder]) -> tuple[list[StoredOrder], int]:
        """Store the orders not stored yet, in one transaction.

        Returns (the newly stored orders, the number already stored identically). Raises
        `OrderConflict`, storing nothing, when an id is stored with different content or
        appears twice in the batch with different content.
        """
        unique: dict[str, StoredOrder] = {}
        for order in orders:
            seen = unique.setdefault(order.order_id, order)
            if seen != order:
                raise OrderConflict(order.order_id)
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                new, duplicates = [], len(orders) - len(unique)
                for order in unique.values():
                    row = self._db.execute(
                        "SELECT customer_id, timestamp, lines FROM orders WHERE order_id = ?",
                        (order.order_id,),
                    ).fetchone()
                    if row is None:
                        new.append(order)
                    elif row == (order.customer_id, order.timestamp, order.encoded_lines()):
                        duplicates += 1
                    else:
                        raise OrderConflict(order.order_id)
                self._db.executemany(
                    "INSERT INTO orders (order_id, customer_id, timestamp, lines) "
                    "VALUES (?, ?, ?, ?)",
                    [(o.order_id, o.customer_id, o.timestamp, o.encoded_lines()) for o in new],
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return new, duplicates

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM orders").fetchone()[0])

    def last_seq(self) -> int:
        """Sequence number of the latest stored order (0 when empty)."""
        with self._lock:
            return int(self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM orders").fetchone()[0])

    def orders(self, after_seq: int = 0) -> list[StoredOrder]:
        """Stored orders, oldest first; ``after_seq`` skips orders up to that sequence number
        (those a model already learned from)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT order_id, customer_id, timestamp, lines FROM orders WHERE seq > ? "
                "ORDER BY seq",
                (after_seq,),
            ).fetchall()
        return [
            StoredOrder(order_id, customer, ts, tuple(tuple(line) for line in json.loads(raw)))
            for order_id, customer, ts, raw in rows
        ]

    def lines(self, after_seq: int = 0) -> pd.DataFrame:
        """Stored order lines in the canonical layout (one row per line), oldest first."""
        return lines_frame(self.orders(after_seq))


def lines_frame(orders: list[StoredOrder]) -> pd.DataFrame:
    """Orders as canonical order lines (``customer_id, order_id, timestamp, product_id,
    quantity, price``)."""
    records = [
        (o.customer_id, o.order_id, o.timestamp, product, quantity, price)
        for o in orders
        for product, quantity, price in o.lines
    ]
    frame = pd.DataFrame.from_records(
        records,
        columns=[
            schema.CUSTOMER_ID,
            schema.ORDER_ID,
            schema.TIMESTAMP,
            schema.PRODUCT_ID,
            schema.QUANTITY,
            schema.PRICE,
        ],
    )
    frame[schema.TIMESTAMP] = pd.to_datetime(frame[schema.TIMESTAMP]).astype("datetime64[s]")
    frame[schema.QUANTITY] = frame[schema.QUANTITY].astype("float64")
    frame[schema.PRICE] = pd.to_numeric(frame[schema.PRICE])
    return frame
