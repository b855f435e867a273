"""Demand per product over the next days: the customers' own reorders plus first purchases.

Two parts, summed per product:

* **Reorders** (a customer buying a product they bought before), bottom-up from the
  anticipation model. Within the model's horizon ``h`` a customer's repeat item is bought
  ``p`` times on average, ``p`` its probability (spread evenly for ``days`` shorter than ``h``);
  beyond it, the customer's cycle goes on: one more purchase every usual interval, unless the
  cycle has lapsed (over twice the interval since the last purchase). Each occasion is the
  customer's mean quantity of it (the mean, not the usual quantity: sums need means).
* **First purchases** (a product new to the customer, including every purchase of customers
  the model does not know yet), top-down: the units bought that way in the last ``days``
  (at least four weeks) before the forecast, at the same daily rate.

Occasions are taken as Poisson, which gives the variance and a normal 80% interval.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recsys.models.anticipate import AnticipationModel
from recsys.models.reorder_cycles import to_days

#: z of the 10th and 90th percentiles: the interval is the central 80%.
Z80 = 1.2815515655446004
#: Items per customer that the reorder part sums over.
ITEMS_PER_CUSTOMER = 100
#: The shortest look-back of the first-purchase rate (days).
MIN_RATE_WINDOW = 28


def reorder_demand(
    model: AnticipationModel,
    customers: np.ndarray,
    items: pd.DataFrame,
    days: float,
    as_of: pd.Timestamp,
) -> tuple[np.ndarray, np.ndarray]:
    """(expected units, variance) per product from the customers' repeat items.

    ``items`` are predictions as of ``as_of`` (``row, product, probability``) for the customer
    codes ``customers`` (``row`` indexes them).
    """
    as_of = to_days(as_of)
    cycles = model.state_.cycles_
    product = items["product"].to_numpy()
    pair = cycles.lookup(customers[items["row"].to_numpy()], product)
    repeat = pair >= 0
    pair, product = pair[repeat], product[repeat]
    p = items["probability"].to_numpy(np.float64)[repeat]
    h = float(model.horizon_days_)
    gap = cycles.pair_gap_[pair]
    since_last = as_of - cycles.pair_last_[pair]
    beyond = max(days - h, 0.0)
    lapsed = since_last > 2 * gap
    # Pairs without a cycle yet (one purchase) keep the rate of the horizon.
    later = np.where(np.isnan(gap), p * beyond / h, np.where(lapsed, 0.0, beyond / gap))
    occasions = p * min(days, h) / h + later
    q = cycles.pair_mean_quantity_[pair].astype(np.float64)
    n = model.n_products_
    return np.bincount(product, occasions * q, n), np.bincount(product, occasions * q * q, n)


def first_purchase_demand(model: AnticipationModel, days: float) -> tuple[np.ndarray, np.ndarray]:
    """(expected units, variance) per product of purchases new to the buyer, at their recent
    rate."""
    lines = model.lines_
    window = max(float(days), MIN_RATE_WINDOW)
    key = (
        lines["customer"].to_numpy().astype(np.int64) * model.n_products_
        + lines["product"].to_numpy()
    )
    timestamp = lines["timestamp"].to_numpy()
    first = pd.Series(timestamp).groupby(key).transform("min").to_numpy()
    since = model.fitted_until_ - pd.Timedelta(days=window)
    chosen = (timestamp > since) & (timestamp == first)
    product = lines["product"].to_numpy()[chosen]
    qty = lines["quantity"].to_numpy(np.float64)[chosen]
    scale = days / window
    n = model.n_products_
    return np.bincount(product, qty, n) * scale, np.bincount(product, qty * qty, n) * scale


def forecast_table(
    model: AnticipationModel,
    customers: np.ndarray,
    items: pd.DataFrame,
    days: int,
    as_of: pd.Timestamp,
    top: int | None = None,
) -> pd.DataFrame:
    """Expected units per product over ``days`` from ``as_of`` with an 80% interval, most
    demanded first."""
    reorders, reorder_var = reorder_demand(model, customers, items, days, as_of)
    first, first_var = first_purchase_demand(model, days)
    mean = reorders + first
    sd = np.sqrt(reorder_var + first_var)
    order = np.argsort(-mean, kind="stable")
    order = order[mean[order] > 0][:top]
    return pd.DataFrame(
        {
            "product_id": model.product_ids_[order],
            "name": model.display_names_[order],
            "expected_units": mean[order],
            "low_80": np.maximum(mean[order] - Z80 * sd[order], 0.0),
            "high_80": mean[order] + Z80 * sd[order],
            "from_reorders": reorders[order],
            "from_first_purchases": first[order],
        }
    )


def forecast_demand(
    model: AnticipationModel, days: int, as_of: pd.Timestamp | None = None, top: int | None = None
) -> pd.DataFrame:
    """`forecast_table` from fresh predictions for every customer the model knows."""
    from recsys.export import check_as_of, predict_all

    as_of = check_as_of(model, as_of)
    known = np.flatnonzero(model.state_.cycles_.customer_orders_ > 0)
    items = predict_all(model, known, ITEMS_PER_CUSTOMER, as_of)
    return forecast_table(model, known, items, days, as_of, top)
