"""How right the details of a model's items are: probabilities, expected dates and quantities.

A ranked list is judged by recall and NDCG; each of its items also carries a probability of
purchase within the horizon, an expected date and an expected quantity, which people and
e-mail campaigns act on. `item_details` measures them on the same temporal split, beside
simple references measured on the same items:

- probabilities: calibration error (mean gap between predicted and observed rate over bins of
  equal count) and Brier skill against the observed rate as a constant;
- expected dates, over the dated items bought in the window: mean absolute error in days of
  the first purchase, against the middle of the window as the reference;
- expected quantities, over items bought before and again in the window: weighted absolute
  percentage error of the first purchase's quantity, against the customer's last quantity.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from recsys.data.history import CUSTOMER, PRODUCT, QUANTITY, TIMESTAMP, OrderHistory
from recsys.data.splitting import TemporalSplit
from recsys.models.reorder_cycles import to_days

CALIBRATION_BINS = 10


@dataclass
class ItemDetails:
    """The figures, and each item's probability and outcome (for a calibration plot)."""

    figures: dict[str, float]
    probability: np.ndarray = field(repr=False)
    bought: np.ndarray = field(repr=False)


def calibration_bins(
    probability: np.ndarray, bought: np.ndarray, bins: int = CALIBRATION_BINS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean predicted probability, observed rate and item count of bins of equal count."""
    edges = np.quantile(probability, np.linspace(0, 1, bins + 1))
    which = np.clip(np.searchsorted(edges, probability, side="right") - 1, 0, bins - 1)
    counts = np.bincount(which, minlength=bins)
    keep = counts > 0
    mean_p = np.bincount(which, probability, bins)[keep] / counts[keep]
    rate = np.bincount(which, bought.astype(np.float64), bins)[keep] / counts[keep]
    return mean_p, rate, counts[keep]


def item_details(
    model, split: TemporalSplit, k: int = 20, max_customers: int = 5000
) -> ItemDetails | None:
    """The top-``k`` items of every customer known at the cutoff (a sample of them on large
    data) against what they bought in the window; None for a model without probabilities.

    Every known customer counts, those who did not order in the window included: that is what
    the probability is about (the evaluated customers all ordered, so they would make it look
    too low).
    """
    if not hasattr(model, "predict"):
        return None
    customers = split.train.active_customers
    if len(customers) > max_customers:
        rng = np.random.default_rng(0)
        customers = np.sort(rng.choice(customers, max_customers, replace=False))
    items = model.predict(customers, k=k, as_of=split.cutoff)
    customer = customers[items["row"].to_numpy()]
    product = items["product"].to_numpy()
    first = _first_purchases(split.future)
    at = _positions(first, customer, product)
    bought = at >= 0
    probability = items["probability"].to_numpy(np.float64)
    figures = {
        "customers": float(len(customers)),
        "items": float(len(items)),
        "mean_probability": float(probability.mean()),
        "purchase_rate": float(bought.mean()),
        **_calibration(probability, bought),
        **_dates(items, first, at, split),
        **_quantities(items, first, at, customer, product, split.train),
    }
    return ItemDetails(figures, probability, bought)


def _first_purchases(future: OrderHistory) -> pd.DataFrame:
    """Each (customer, product) bought in the window: the day and quantity of its first line
    (lines are in time order within each customer)."""
    first = future.lines.drop_duplicates([CUSTOMER, PRODUCT])
    return pd.DataFrame(
        {
            "key": _key(first[CUSTOMER].to_numpy(), first[PRODUCT].to_numpy()),
            "day": np.floor(to_days(first[TIMESTAMP])),
            "quantity": first[QUANTITY].to_numpy(np.float64),
        }
    )


def _key(customer: np.ndarray, product: np.ndarray) -> np.ndarray:
    return customer.astype(np.int64) << 32 | product.astype(np.int64)


def _positions(table: pd.DataFrame, customer: np.ndarray, product: np.ndarray) -> np.ndarray:
    """Row of each (customer, product) in ``table`` (keyed by `_key`), -1 where absent."""
    return pd.Index(table["key"]).get_indexer(_key(customer, product))


def _calibration(probability: np.ndarray, bought: np.ndarray) -> dict[str, float]:
    mean_p, rate, counts = calibration_bins(probability, bought)
    brier = np.mean((probability - bought) ** 2)
    constant = np.mean((bought.mean() - bought) ** 2)
    return {
        "calibration_error": float(np.sum(np.abs(mean_p - rate) * counts) / counts.sum()),
        "brier_skill": float(1 - brier / constant) if constant > 0 else float("nan"),
    }


def _dates(
    items: pd.DataFrame, first: pd.DataFrame, at: np.ndarray, split: TemporalSplit
) -> dict[str, float]:
    dated = (at >= 0) & items["expected_date"].notna().to_numpy()
    if not dated.any():
        return {"dated_bought_items": 0.0}
    expected = np.floor(to_days(items["expected_date"].to_numpy()[dated]))
    actual = first["day"].to_numpy()[at[dated]]
    middle = np.floor(to_days(split.cutoff)) + (split.horizon_days - 1) / 2
    return {
        "dated_bought_items": float(dated.sum()),
        "date_mae_days": float(np.abs(expected - actual).mean()),
        "date_mae_days_window_middle": float(np.abs(middle - actual).mean()),
    }


def _quantities(
    items: pd.DataFrame,
    first: pd.DataFrame,
    at: np.ndarray,
    customer: np.ndarray,
    product: np.ndarray,
    train: OrderHistory,
) -> dict[str, float]:
    last = train.lines.drop_duplicates([CUSTOMER, PRODUCT], keep="last")
    last = pd.DataFrame(
        {
            "key": _key(last[CUSTOMER].to_numpy(), last[PRODUCT].to_numpy()),
            "quantity": last[QUANTITY].to_numpy(np.float64),
        }
    )
    before = _positions(last, customer, product)
    both = (at >= 0) & (before >= 0)
    if not both.any():
        return {"quantity_items": 0.0}
    actual = first["quantity"].to_numpy()[at[both]]
    expected = items["expected_quantity"].to_numpy(np.float64)[both]
    reference = last["quantity"].to_numpy()[before[both]]
    total = np.abs(actual).sum()
    return {
        "quantity_items": float(both.sum()),
        "quantity_wape": float(np.abs(expected - actual).sum() / total),
        "quantity_wape_last": float(np.abs(reference - actual).sum() / total),
        "quantity_exact": float(np.mean(expected == actual)),
        "quantity_exact_last": float(np.mean(reference == actual)),
    }
