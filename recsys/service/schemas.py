"""Request and response bodies of the API (they are its OpenAPI documentation too)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from recsys.models.reasons import REASON_CODES
from recsys.models.reorder_cycles import CYCLE_STATUSES

#: The longest customer or product id the API accepts.
MAX_ID_LENGTH = 200
Identifier = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_ID_LENGTH)
]
#: A customer or product id in a route's path.
IdInPath = Annotated[str, Path(min_length=1, max_length=MAX_ID_LENGTH)]
Reason = Literal[REASON_CODES]  # type: ignore[valid-type]
CycleStatus = Literal[CYCLE_STATUSES]  # type: ignore[valid-type]


class Item(BaseModel):
    """One product of a customer's "you'll need this next" list."""

    product_id: str
    name: str | None = Field(None, description="product name, when the data has one")
    rank: int = Field(description="1 = most likely")
    probability: float = Field(
        ge=0, le=1, description="probability of buying it within the model's horizon"
    )
    expected_date: dt.date | None = Field(
        None,
        description="the day it is expected to be bought on, if bought within the horizon "
        "(repeat items): the customer's cycle where cycles hold, else learned",
    )
    expected_quantity: float = Field(description="the customer's usual quantity")
    reason: Reason = Field(description="due, overdue, bought_with, similar_customers or popular")
    reason_text: str = Field(description="a reason a person can say out loud")


class NextItems(BaseModel):
    customer_id: str
    as_of: dt.date = Field(description="the day the list is for")
    horizon_days: int = Field(description="the window the probabilities are about")
    cold_start: bool = Field(description="true when nothing is known of the customer")
    model_version: str
    items: list[Item]


class CycleItem(BaseModel):
    """One product the customer has bought, and what its reorder cycle says."""

    product_id: str
    name: str | None = Field(None, description="product name, when the data has one")
    status: CycleStatus = Field(
        description="overdue (past its cycle by another interval: a lapsing item), due (next "
        "purchase within the model's horizon, or passed), later, or once (no cycle yet)"
    )
    next_due: dt.date | None = Field(None, description="one usual interval after the last")
    purchases: int = Field(description="orders that held it")
    first_purchase: dt.date
    last_purchase: dt.date
    days_since_last: float
    interval_days: float | None = Field(None, description="median days between purchases")
    interval_spread_days: float | None = Field(
        None, description="standard deviation of those intervals (three purchases or more)"
    )
    usual_quantity: float = Field(description="median units per purchase")


class CustomerCycles(BaseModel):
    customer_id: str
    as_of: dt.date = Field(description="the day the statuses are for")
    horizon_days: int = Field(description="the window that makes an item due")
    model_version: str
    items: list[CycleItem] = Field(description="soonest due first; empty for an unknown customer")


class BasketRequest(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": {"items": ["85123A"], "k": 5}})

    customer_id: Identifier | None = Field(
        None, description="the shopper, if known: their recent orders steer the suggestions"
    )
    items: list[Identifier] = Field(
        min_length=1, max_length=500, description="product ids in the cart"
    )
    k: int = Field(10, ge=1, le=100, description="how many complements")


class Complement(BaseModel):
    """A product that goes with the cart (or the product)."""

    product_id: str
    name: str | None = None
    rank: int
    score: float = Field(description="association strength (cosine of shared orders, summed)")
    anchor_product_id: str = Field(description="the cart product it goes with most")
    reason_text: str


class BasketResponse(BaseModel):
    model_version: str
    items: list[Complement]
    warnings: list[str] = Field(
        default_factory=list, description="e.g. cart products the model does not know"
    )


class ComplementsResponse(BaseModel):
    product_id: str
    model_version: str
    items: list[Complement]


class OrderLine(BaseModel):
    product_id: Identifier
    quantity: float = Field(1.0, gt=0, le=1e6, allow_inf_nan=False)
    price: float | None = Field(None, ge=0, le=1e9, allow_inf_nan=False)


class Order(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "order_id": "A-1001",
                "customer_id": "12347",
                "timestamp": "2011-12-10T10:30:00",
                "lines": [{"product_id": "85123A", "quantity": 6}],
            }
        }
    )

    order_id: Identifier = Field(description="idempotency key: resending an order is a no-op")
    customer_id: Identifier
    timestamp: dt.datetime = Field(description="ISO 8601; an offset is converted to UTC")
    lines: list[OrderLine] = Field(min_length=1, max_length=10_000)


class OrderBatch(BaseModel):
    orders: list[Order] = Field(min_length=1, max_length=10_000)


class IngestResult(BaseModel):
    stored: int = Field(description="orders stored now")
    duplicates: int = Field(description="orders already stored identically (ignored)")
    unknown_products: list[str] = Field(
        default_factory=list,
        description="product ids the serving model does not know (stored; learned at the "
        "next training)",
    )


class ModelInfo(BaseModel):
    version: str
    created: str
    horizon_days: int
    first_order: str
    last_order: str
    customers: int
    products: int
    lines: int
    validation: dict[str, float] = Field(
        description="metrics on the model's own most recent inner period"
    )
    orders_since_training: int = Field(description="orders ingested since, applied live")


class ProductDemand(BaseModel):
    product_id: str
    name: str | None = None
    expected_units: float
    low_80: float = Field(description="10th percentile")
    high_80: float = Field(description="90th percentile")
    from_reorders: float = Field(description="units from customers reordering")
    from_first_purchases: float = Field(
        description="units from products new to their buyer, new customers included"
    )
    recent_units: float = Field(
        description="units sold per the same number of days over the last twice as many days "
        "of the training data; expected_units is the two parts above weighed against it, each "
        "by its uncertainty"
    )


class DemandForecast(BaseModel):
    model_version: str
    as_of: dt.date
    days: int
    products: list[ProductDemand]
    warnings: list[str] = Field(
        default_factory=list, description="e.g. asked-for products the model does not know"
    )


class LinkRequest(BaseModel):
    customer_id: Identifier
    ttl_seconds: int = Field(900, ge=60, le=86_400, description="how long the link works")


class SignedLink(BaseModel):
    url: str = Field(description="opens the customer's CRM page without an API key")
    expires_at: dt.datetime


class Status(BaseModel):
    status: str
    model_version: str | None = None


class Error(BaseModel):
    error: str = Field(description="what is wrong, in one line")
    field: str | None = Field(None, description="the field at fault, e.g. query.k")
    detail: list[dict] | None = Field(None, description="every problem, for validation errors")


#: The documented errors of a route addressed by a customer id: no key, a key without the
#: right, and an id no route can hold.
CUSTOMER_ROUTE_ERRORS: dict[int | str, dict] = {
    401: {"model": Error},
    403: {"model": Error},
    404: {"model": Error, "description": "an id with control characters matches no route"},
}
