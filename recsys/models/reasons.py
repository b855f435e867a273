"""Reasons a person can say out loud, expected dates and quantities for ranked items.

Reason codes:

* ``due``: bought before, and the usual interval says it is needed about now
  ("every ~14 days, last 16 days ago"; for an item bought once, the interval of the customers
  who rebuy it: "bought once, last 9 days ago; others rebuy it every ~7 days");
* ``overdue``: bought before on a cycle that has clearly lapsed: twice the usual interval (or
  more, when the intervals vary a lot) has passed: a reason to call;
* ``bought_with``: goes with something the customer buys ("bought with A4 PAPER in 60% of
  orders");
* ``similar_customers``: customers who order alike buy it;
* ``popular``: sold widely right now.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recsys.models.features import FeatureState
from recsys.models.reorder_cycles import from_days, is_overdue
from recsys.models.sparse_rows import rank_within_groups, top_k_per_row

REASON_CODES = ("due", "overdue", "bought_with", "similar_customers", "popular")
#: Products of the customer considered as the anchor of a "bought with" reason.
ANCHORS_PER_CUSTOMER = 20


def explain(
    state: FeatureState,
    customer: np.ndarray,
    product: np.ndarray,
    columns: dict[str, np.ndarray],
    as_of: float,
    product_names: np.ndarray,
    expected_day: np.ndarray,
) -> pd.DataFrame:
    """Reason code and text, expected date and quantity of each (customer, product) item.

    ``columns`` holds the items' feature columns by name (as built by `FeatureState.features`);
    ``expected_day`` the items' expected days of purchase (see `PurchaseTiming`), NaN for none.
    """
    c = state.cycles_
    h = state.horizon_days
    pair = c.lookup(customer, product)
    repeat = pair >= 0
    idx = np.where(repeat, pair, 0)
    gap = np.where(repeat, c.pair_gap_[idx], np.nan)
    spread = np.nan_to_num(np.where(repeat, c.pair_gap_std_[idx], np.nan))
    last = np.where(repeat, c.pair_last_[idx], np.nan)
    since = as_of - last
    has_cycle = repeat & ~np.isnan(gap)
    overdue = is_overdue(gap, spread, since)

    basket_share = columns["copurchase_basket_share"]
    period = columns["copurchase_period"]
    similar = (columns["proposed_by_neighbours"] > 0) | (columns["proposed_by_als"] > 0)
    with_anchor = ~repeat & ((columns["copurchase_basket"] > 0) | (period > 0))
    code = np.select(
        [overdue, repeat, with_anchor & ~(similar & (basket_share < 0.05)), similar],
        ["overdue", "due", "bought_with", "similar_customers"],
        default="popular",
    )

    product_gap = c.product_gap_[product]
    quantity = np.where(repeat, c.pair_quantity_[idx], c.product_quantity_[product])
    quantity = np.maximum(np.round(np.nan_to_num(quantity, nan=1.0)), 1.0)

    anchor, anchor_share, anchor_in_basket = _anchors(
        state, customer, product, code == "bought_with"
    )
    text = []
    for i in range(len(product)):
        if code[i] in ("due", "overdue"):
            n = int(c.pair_orders_[idx[i]])
            if has_cycle[i]:
                line = f"every ~{_days(gap[i])}, last {_ago(since[i])}"
                if code[i] == "overdue":
                    line += f", {_days(since[i] - gap[i])} overdue"
            else:
                line = f"bought {'once' if n == 1 else f'{n} times'}, last {_ago(since[i])}"
                if not np.isnan(product_gap[i]):
                    line += f"; others rebuy it every ~{_days(product_gap[i])}"
        elif code[i] == "bought_with":
            name = product_names[anchor[i]]
            line = (
                f"bought with {name} in {anchor_share[i]:.0%} of orders"
                if anchor_in_basket[i]
                else f"often bought within {h:g} days of {name}"
            )
        elif code[i] == "similar_customers":
            line = "customers who order like this one buy it"
        else:
            line = f"popular: in {int(c.product_orders_[product[i]]):,} orders"
        text.append(line)
    return pd.DataFrame(
        {
            "expected_date": pd.to_datetime(from_days(expected_day))
            .where(~np.isnan(expected_day))
            .normalize(),
            "expected_quantity": quantity.astype(np.float32),
            "reason": code,
            "reason_text": text,
        }
    )


def popularity_text(
    share: np.ndarray, buyers: np.ndarray, horizon_days: int, scope: str = ""
) -> list[str]:
    """The reason of popular items: "popular: bought by 12% of customers in the last 30
    days" (under 1%, the number of customers); ``scope`` names where ("in CHEESE")."""
    head = f"popular {scope}: " if scope else "popular: "
    return [
        f"{head}bought by {s:.0%} of customers in the last {horizon_days:g} days"
        if s >= 0.01
        else f"{head}bought by {b} customers in the last {horizon_days:g} days"
        for s, b in zip(share, buyers, strict=True)
    ]


def _anchors(
    state: FeatureState, customer: np.ndarray, product: np.ndarray, wanted: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each wanted item, the customer's product that most explains it.

    Returns the anchor product, the share of the anchor's orders that hold the item (order
    association) and whether that order association exists (else the period one applies).
    """
    n = len(product)
    anchor = np.zeros(n, dtype=np.int64)
    share = np.zeros(n)
    in_basket = np.zeros(n, dtype=bool)
    items = np.flatnonzero(wanted)
    if not len(items):
        return anchor, share, in_basket
    profile = top_k_per_row(state.profile_[customer[items]], ANCHORS_PER_CUSTOMER)
    counts = np.diff(profile.indptr)
    item = np.repeat(np.arange(len(items)), counts)
    candidate = profile.indices
    target = product[items][item]
    basket = np.asarray(state.basket_.similarity_[candidate, target]).ravel()
    period = np.asarray(state.period_.similarity_[candidate, target]).ravel()
    # Order-level links first; the period-level ones only where no order-level link exists.
    strength = profile.data * np.where(basket > 0, 1.0 + basket, period)
    best = rank_within_groups(item, strength) == 0
    chosen_item, chosen = item[best], candidate[best]
    anchor[items[chosen_item]] = chosen
    in_basket[items[chosen_item]] = basket[best] > 0
    share[items[chosen_item]] = np.asarray(
        state.basket_.confidence_[chosen, product[items][chosen_item]]
    ).ravel()
    return anchor, share, in_basket


def _days(value: float) -> str:
    n = round(float(value))
    return "1 day" if n == 1 else f"{n} days"


def _ago(value: float) -> str:
    return "today" if round(float(value)) == 0 else f"{_days(value)} ago"
