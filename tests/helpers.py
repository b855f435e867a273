"""Hand-made order histories for tests, built through the real cleaning and encoding path."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from recsys.data import OrderHistory, clean, encode
from recsys.data.cleaning import CleaningPolicy

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "online_retail_sample.csv.gz"
START = pd.Timestamp("2024-01-01 09:00")


def frame_from_rows(rows: Iterable[tuple]) -> pd.DataFrame:
    """Rows of ``(customer, order, day, product[, quantity])``; day counts from 2024-01-01."""
    records = []
    for row in rows:
        customer, order, day, product, *rest = row
        records.append(
            {
                "customer_id": str(customer),
                "order_id": str(order),
                "timestamp": START + pd.Timedelta(days=day),
                "product_id": str(product),
                "quantity": float(rest[0]) if rest else 1.0,
            }
        )
    return pd.DataFrame.from_records(records)


def fortnightly_rows(n_customers: int = 80, weeks: int = 12, seed: int = 0) -> list[tuple]:
    """Shoppers who order weekly: 'milk' every week, 'filter' every other week, two of thirty
    snacks each time; they join in the first five weeks. Customer 'c0' orders on days 0, 7,
    ..., and buys 'filter' in even weeks, so as of day ``7 * weeks`` it is due (last bought two
    weeks before)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_customers):
        offset = 0 if i == 0 else int(rng.integers(0, 7))
        parity = 0 if i == 0 else int(rng.integers(0, 2))
        joined = 0 if i == 0 else int(rng.integers(0, 5))
        for week in range(joined, weeks):
            day, order = offset + 7 * week, f"c{i}-{week}"
            rows.append((f"c{i}", order, day, "milk"))
            if week % 2 == parity:
                rows.append((f"c{i}", order, day, "filter", 2))
            for snack in rng.choice(30, 2, replace=False):
                rows.append((f"c{i}", order, day, f"snack{snack}"))
    return rows


def history_from_rows(
    rows: Iterable[tuple], categories: dict[str, str] | None = None
) -> OrderHistory:
    """The history of `frame_from_rows`, its products in ``categories`` (product -> category)."""
    frame = frame_from_rows(rows)
    if categories is not None:
        frame["category"] = frame["product_id"].map(categories)
    cleaned, report = clean(frame, CleaningPolicy(non_product_ids=None, non_product_names=None))
    return encode(cleaned, report)


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False)
    return path
