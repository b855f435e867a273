"""Canonical order-line columns, named layouts (presets) and user column mappings.

The canonical names live here and nowhere else; every other module refers to these constants.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from recsys.exceptions import DataError, ParameterError

log = logging.getLogger(__name__)

CUSTOMER_ID = "customer_id"
ORDER_ID = "order_id"
TIMESTAMP = "timestamp"
PRODUCT_ID = "product_id"
QUANTITY = "quantity"
PRICE = "price"
PRODUCT_NAME = "product_name"
CATEGORY = "category"

#: In the order of the canonical layout. Without an order id, orders come from timestamps.
CANONICAL_COLUMNS: tuple[str, ...] = (
    CUSTOMER_ID,
    ORDER_ID,
    TIMESTAMP,
    PRODUCT_ID,
    QUANTITY,
    PRICE,
    PRODUCT_NAME,
    CATEGORY,
)
REQUIRED_COLUMNS: tuple[str, ...] = (CUSTOMER_ID, TIMESTAMP, PRODUCT_ID)

# Codes of lines that are not goods: postage, carriage, fees, manual adjustments, samples and
# vouchers. Matched against the whole product id, case-insensitively.
DEFAULT_NON_PRODUCT_IDS = (
    r"POST|DOT|C2|M|D|S|B|CRUK|PADS|BANK CHARGES|AMAZONFEE|ADJUST\d*|TEST\d*|gift_\d+_\d+"
)
# The same kind of line recognised by its name, for layouts with other codes.
DEFAULT_NON_PRODUCT_NAMES = (
    r"postage|dotcom postage|carriage|shipping|delivery charge|manual|discount|samples?"
    r"|bank charges|amazon fee|adjust bad debt|cruk commission"
)


@dataclass(frozen=True)
class Preset:
    """A named source layout: the source column names for each canonical column.

    Each canonical column lists the source names it may have, first match wins, so one preset
    covers sister files whose headers differ slightly.
    """

    name: str
    description: str
    columns: Mapping[str, tuple[str, ...]]
    # Orders whose id matches this pattern (re.match) are cancellations or adjustments.
    cancelled_order_pattern: str | None = None


PRESETS: dict[str, Preset] = {
    "online-retail": Preset(
        name="online-retail",
        description="UCI Online Retail and Online Retail II (InvoiceNo/Invoice, StockCode, ...)",
        columns={
            CUSTOMER_ID: ("CustomerID", "Customer ID"),
            ORDER_ID: ("InvoiceNo", "Invoice"),
            TIMESTAMP: ("InvoiceDate",),
            PRODUCT_ID: ("StockCode",),
            QUANTITY: ("Quantity",),
            PRICE: ("UnitPrice", "Price"),
            PRODUCT_NAME: ("Description",),
        },
        # 'C' marks a cancelled invoice, 'A' a bad-debt adjustment.
        cancelled_order_pattern=r"[CA]",
    ),
}


def parse_column_mapping(text: str) -> dict[str, str]:
    """Parse ``canonical=source,...`` (as given to ``--columns``) into a dict.

    >>> parse_column_mapping('customer_id=Customer ID,order_id=Invoice')
    {'customer_id': 'Customer ID', 'order_id': 'Invoice'}
    """
    mapping: dict[str, str] = {}
    for part in (p for p in text.split(",") if p.strip()):
        canonical, sep, source = part.partition("=")
        canonical, source = canonical.strip(), source.strip()
        if not sep or not canonical or not source:
            raise ParameterError(
                f"--columns: '{part}' is not of the form canonical=source "
                f"(e.g. customer_id=CustomerID)"
            )
        if canonical not in CANONICAL_COLUMNS:
            raise ParameterError(
                f"--columns: unknown canonical column '{canonical}'; "
                f"expected one of {', '.join(CANONICAL_COLUMNS)}"
            )
        mapping[canonical] = source
    return mapping


def get_preset(name: str) -> Preset:
    """Return the preset called ``name`` or raise a ParameterError listing the known ones."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ParameterError(
            f"unknown preset '{name}'; known presets: {', '.join(sorted(PRESETS))}"
        ) from None


def resolve_columns(
    found: Sequence[str],
    *,
    preset: Preset | None = None,
    mapping: Mapping[str, str] | None = None,
    source: str = "input",
) -> dict[str, str]:
    """Decide which source column feeds each canonical column.

    An explicit mapping wins over the preset, the preset over the canonical name itself.
    A file without order ids (a till's or a loyalty card's export of lines) takes a customer's
    lines with the same timestamp as one order. Returns ``{canonical: source_column}`` for
    every column that is present; raises a DataError naming the missing required column and
    listing the columns found.
    """
    found_set = set(found)
    mapping = dict(mapping or {})
    resolved: dict[str, str] = {}
    for canonical in CANONICAL_COLUMNS:
        if canonical in mapping:
            wanted = mapping[canonical]
            if wanted not in found_set:
                raise DataError(
                    f"{source}: column '{wanted}' (mapped to {canonical}) not found; "
                    f"columns found: {', '.join(found)}"
                )
            resolved[canonical] = wanted
            continue
        candidates = preset.columns.get(canonical, ()) if preset else ()
        for name in (*candidates, canonical):
            if name in found_set:
                resolved[canonical] = name
                break
    missing = [c for c in REQUIRED_COLUMNS if c not in resolved]
    if missing:
        hint = f" (preset {preset.name})" if preset else ""
        raise DataError(
            f"{source}: missing required column '{missing[0]}'{hint}; "
            f"columns found: {', '.join(found)}; map it with --columns {missing[0]}=NAME"
        )
    if ORDER_ID not in resolved:
        resolved[ORDER_ID] = resolved[TIMESTAMP]
        log.warning(
            "%s: no order_id column; a customer's lines with the same %s are one order",
            source,
            resolved[TIMESTAMP],
        )
    return resolved
