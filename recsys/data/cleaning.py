"""The cleaning policy: which order lines count as purchases, applied and reported in counts.

Policy, applied in this order (a line is counted under the first rule that removes it):

1. Lines without a customer id are dropped: they cannot be attributed to anyone.
2. Lines without an order id or a product id are dropped.
3. Lines of cancelled orders (order id matching the layout's cancellation pattern, e.g. UCI's
   leading 'C') are kept out of the purchase signal.
4. Returns (negative quantity) are kept out of the purchase signal.
5. Purchases that were undone are dropped: a purchase line is reversed by a later cancellation
   or return line (rules 3 and 4) of the same customer and product for exactly its units. Each
   such line reverses the latest matching purchase at or before it. (UCI Online Retail holds
   2,860 of them, among them orders of 80,995 and 74,215 units cancelled minutes later.)
6. Lines with quantity zero are not purchases and are dropped.
7. Lines with an absurd quantity (over ``max_quantity`` units, a million by default: a typo
   or a unit mix-up, not an order) are dropped.
8. Lines dated in the future (more than a day after the clock at cleaning time, for clocks
   that disagree) are dropped: no one has bought them yet. So are lines dated before 1971:
   no order history reaches that far, but systems' placeholders for "no date" do (0001-01-01,
   Excel's 1899-12-30 and 1900-01-01, Unix time zero), and one of them would stretch the
   history over centuries.
9. Non-product lines (postage, carriage, fees, manual adjustments, samples, vouchers), recognised
   by product id or product name against configurable patterns, are dropped.
10. Duplicate lines (same customer, order and product) are merged into one: quantities add up,
   the earliest timestamp is kept.

Every step's count is in the returned `CleaningReport`.
"""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from recsys.data import schema
from recsys.exceptions import DataError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CleaningPolicy:
    """Patterns of the policy; ``None`` switches a rule off.

    Patterns are Python regular expressions matched against the whole value, ignoring case.
    """

    non_product_ids: str | None = schema.DEFAULT_NON_PRODUCT_IDS
    non_product_names: str | None = schema.DEFAULT_NON_PRODUCT_NAMES
    cancelled_order_pattern: str | None = None
    max_quantity: float | None = 1_000_000
    #: Lines dated after this are future-dated; None: one day after the clock at cleaning.
    latest: pd.Timestamp | None = None
    #: Lines dated before this carry a placeholder date.
    earliest: pd.Timestamp = pd.Timestamp("1971-01-01")

    @classmethod
    def for_preset(cls, preset: str | None, **overrides: str | None) -> CleaningPolicy:
        """The default policy, with the preset's cancellation rule and any overrides."""
        pattern = schema.get_preset(preset).cancelled_order_pattern if preset else None
        return cls(**{"cancelled_order_pattern": pattern, **overrides})


@dataclass
class CleaningReport:
    """How many lines each rule removed, and what was left."""

    lines_read: int = 0
    missing_customer: int = 0
    missing_order_or_product: int = 0
    cancelled_orders: int = 0
    returns: int = 0
    reversed_purchases: int = 0
    zero_quantity: int = 0
    absurd_quantity: int = 0
    future_dated: int = 0
    placeholder_dated: int = 0
    non_product: int = 0
    duplicates_merged: int = 0
    lines_kept: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    def summary(self) -> str:
        """One line for logs: every non-zero count."""
        return ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in self.as_dict().items() if v)


def clean(
    frame: pd.DataFrame, policy: CleaningPolicy | None = None
) -> tuple[pd.DataFrame, CleaningReport]:
    """Apply the policy to a frame from `read_orders`; return the kept lines and the counts.

    Raises DataError when nothing is left, with the counts that explain why.
    """
    policy = policy or CleaningPolicy()
    report = CleaningReport(lines_read=len(frame))
    latest = policy.latest or pd.Timestamp.now() + pd.Timedelta(days=1)
    qty = frame[schema.QUANTITY] if schema.QUANTITY in frame else None

    cancelled = _matches(frame[schema.ORDER_ID], policy.cancelled_order_pattern, prefix=True)
    returned = (qty < 0).to_numpy() if qty is not None else None
    steps: list[tuple[str, np.ndarray | None]] = [
        ("missing_customer", frame[schema.CUSTOMER_ID].isna().to_numpy()),
        (
            "missing_order_or_product",
            (frame[schema.ORDER_ID].isna() | frame[schema.PRODUCT_ID].isna()).to_numpy(),
        ),
        ("cancelled_orders", cancelled),
        ("returns", returned),
        ("reversed_purchases", _reversed_purchases(frame, cancelled, returned)),
        ("zero_quantity", (qty == 0).to_numpy() if qty is not None else None),
        (
            "absurd_quantity",
            (qty > policy.max_quantity).to_numpy()
            if qty is not None and policy.max_quantity is not None
            else None,
        ),
        ("future_dated", (frame[schema.TIMESTAMP] > latest).to_numpy()),
        ("placeholder_dated", (frame[schema.TIMESTAMP] < policy.earliest).to_numpy()),
        ("non_product", _non_product(frame, policy)),
    ]
    drop = np.zeros(len(frame), dtype=bool)
    for name, mask in steps:
        if mask is None:
            continue
        mask = np.asarray(mask, dtype=bool) & ~drop
        setattr(report, name, int(mask.sum()))
        drop |= mask
    kept = frame.loc[~drop]
    if qty is not None:
        kept = kept.assign(**{schema.QUANTITY: kept[schema.QUANTITY].fillna(1.0)})
    else:
        kept = kept.assign(**{schema.QUANTITY: 1.0})

    merged = _merge_duplicates(kept)
    report.duplicates_merged = len(kept) - len(merged)
    report.lines_kept = len(merged)
    log.info("cleaning: %s", report.summary())
    if report.lines_kept == 0:
        raise DataError(f"no purchase lines left after cleaning ({report.summary()})")
    return merged, report


def _matches(values: pd.Series, pattern: str | None, *, prefix: bool = False) -> np.ndarray | None:
    """Rows whose value matches ``pattern`` (whole value, or its start with ``prefix``).

    The pattern is tested once per distinct value, not once per line.
    """
    if not pattern:
        return None
    regex = re.compile(pattern if prefix else f"(?:{pattern})$", re.IGNORECASE)
    codes, uniques = pd.factorize(values)
    hit = np.fromiter((bool(regex.match(str(u))) for u in uniques), dtype=bool, count=len(uniques))
    return np.append(hit, False)[codes]  # code -1 (missing) indexes the trailing False


def _reversed_purchases(
    frame: pd.DataFrame, cancelled: np.ndarray | None, returned: np.ndarray | None
) -> np.ndarray | None:
    """Purchase lines undone by a later cancellation or return of exactly their units.

    Each reversing line (same customer and product, the units as a positive number) is
    matched to the latest purchase at or before it. Only the purchases of (customer, product)
    pairs that have a reversing line are sorted and searched, by integer pair code.
    """
    if returned is None:  # no quantities: nothing can be matched unit for unit
        return None
    reversing = returned if cancelled is None else cancelled | returned
    if not reversing.any():
        return None
    customer, _ = pd.factorize(frame[schema.CUSTOMER_ID])
    product, products = pd.factorize(frame[schema.PRODUCT_ID])
    # Code -1 (missing id) makes a negative pair code, kept out of both sides.
    pair = customer.astype(np.int64) * (len(products) + 1) + product
    timestamp = frame[schema.TIMESTAMP].to_numpy()
    quantity = frame[schema.QUANTITY].to_numpy(np.float64)
    complete = (customer >= 0) & (product >= 0) & ~pd.isna(timestamp)
    reversing = reversing & complete
    bought = ~reversing & complete & (quantity > 0)
    bought &= np.isin(pair, pair[reversing])
    undo = pd.DataFrame(
        {"t": timestamp[reversing], "pair": pair[reversing], "units": np.abs(quantity[reversing])}
    )
    purchases = pd.DataFrame(
        {
            "t": timestamp[bought],
            "pair": pair[bought],
            "units": quantity[bought],
            "row": np.flatnonzero(bought),
        }
    )
    matched = pd.merge_asof(
        undo.sort_values("t", kind="stable"),
        purchases.sort_values("t", kind="stable"),
        on="t",
        by=["pair", "units"],
        direction="backward",
    )
    mask = np.zeros(len(frame), dtype=bool)
    mask[matched["row"].dropna().to_numpy(np.int64)] = True
    return mask


def _non_product(frame: pd.DataFrame, policy: CleaningPolicy) -> np.ndarray | None:
    by_id = _matches(frame[schema.PRODUCT_ID], policy.non_product_ids)
    by_name = (
        _matches(frame[schema.PRODUCT_NAME], policy.non_product_names)
        if schema.PRODUCT_NAME in frame
        else None
    )
    if by_id is None:
        return by_name
    return by_id if by_name is None else by_id | by_name


def _merge_duplicates(frame: pd.DataFrame) -> pd.DataFrame:
    keys = [schema.CUSTOMER_ID, schema.ORDER_ID, schema.PRODUCT_ID]
    if not frame.duplicated(keys).any():
        return frame.reset_index(drop=True)
    agg = {c: "first" for c in frame.columns if c not in keys}
    agg[schema.QUANTITY] = "sum"
    agg[schema.TIMESTAMP] = "min"
    return frame.groupby(keys, sort=False, as_index=False, dropna=False).agg(agg)
