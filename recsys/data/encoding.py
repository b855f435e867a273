"""Turn cleaned order lines (source ids) into an integer-coded `OrderHistory`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from recsys.data import history as h
from recsys.data import schema
from recsys.data.cleaning import CleaningReport


def encode(frame: pd.DataFrame, cleaning: CleaningReport | None = None) -> h.OrderHistory:
    """Code customers and products (sorted source ids) and orders (by customer, then time).

    An order is identified by (customer, order id); its lines all get its earliest timestamp.
    """
    customer_codes, customer_ids = pd.factorize(frame[schema.CUSTOMER_ID], sort=True)
    product_codes, product_ids = pd.factorize(frame[schema.PRODUCT_ID], sort=True)
    raw_order, _ = pd.factorize(frame[schema.ORDER_ID])
    pair = customer_codes.astype(np.int64) * (int(raw_order.max()) + 1) + raw_order
    order_key, _ = pd.factorize(pair)
    timestamps = frame[schema.TIMESTAMP].to_numpy()
    order_time = pd.Series(timestamps).groupby(order_key).transform("min").to_numpy()

    # Sort by customer, order time, then order key so each order's lines are contiguous.
    sort = np.lexsort((product_codes, order_key, order_time, customer_codes))
    order_key_sorted = order_key[sort]
    starts = np.r_[True, order_key_sorted[1:] != order_key_sorted[:-1]]
    order_codes = np.cumsum(starts) - 1

    columns = {
        h.CUSTOMER: customer_codes[sort].astype(np.int32),
        h.ORDER: order_codes.astype(np.int32),
        h.PRODUCT: product_codes[sort].astype(np.int32),
        h.TIMESTAMP: order_time[sort],
        h.QUANTITY: frame[schema.QUANTITY].to_numpy(dtype=np.float32)[sort],
    }
    if schema.PRICE in frame:
        columns[h.PRICE] = frame[schema.PRICE].to_numpy(dtype=np.float32)[sort]
    lines = pd.DataFrame(columns)

    return h.OrderHistory(
        lines=lines,
        customer_ids=np.asarray(customer_ids, dtype=object),
        product_ids=np.asarray(product_ids, dtype=object),
        product_names=_latest_per_product(
            frame, schema.PRODUCT_NAME, product_codes, len(product_ids)
        ),
        product_categories=_latest_per_product(
            frame, schema.CATEGORY, product_codes, len(product_ids)
        ),
        cleaning=cleaning,
    )


def _latest_per_product(
    frame: pd.DataFrame, column: str, product_codes: np.ndarray, n_products: int
) -> np.ndarray | None:
    """The last non-empty value of ``column`` seen for each product (None where never given)."""
    if column not in frame:
        return None
    values = frame[column]
    present = values.notna().to_numpy()
    result = np.full(n_products, None, dtype=object)
    order = np.argsort(frame[schema.TIMESTAMP].to_numpy()[present], kind="stable")
    result[product_codes[present][order]] = values.to_numpy(dtype=object)[present][order]
    return result
