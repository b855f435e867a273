"""``/v1/customers``: each customer's "you'll need this next" list."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import numpy as np
import pandas as pd
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from recsys.service.deps import ReadModel, now
from recsys.service.engine import ItemList, ServingModel
from recsys.service.errors import invalid
from recsys.service.schemas import (
    CUSTOMER_ROUTE_ERRORS,
    CustomerCycles,
    CycleItem,
    CycleStatus,
    Error,
    IdInPath,
    NextItems,
)

router = APIRouter(prefix="/v1/customers", tags=["customers"])

#: How far past its data a model may be asked about (further is a typo, not a question).
MAX_AS_OF_AHEAD = dt.timedelta(days=3650)


class NextQuery(BaseModel):
    """Query parameters of the "next" list (one model: validated in one pass)."""

    model_config = ConfigDict(extra="ignore")

    k: int = Field(10, ge=1, le=100, description="items to return")
    category: str | None = Field(None, max_length=200, description="only products of this category")
    exclude: str | None = Field(
        None, max_length=20_000, description="comma-separated product ids to leave out"
    )
    as_of: dt.date | None = Field(None, description="the day to answer for (default: today)")
    new_only: bool = Field(
        False,
        description="only products this customer has never bought (cross-sell): complements "
        "of what they buy and what similar customers buy",
    )


@router.get(
    "/{customer_id:path}/next",  # ":path": customer ids may hold a "/" (sent as %2F)
    response_model=NextItems,
    summary="What this customer will need next",
    responses={**CUSTOMER_ROUTE_ERRORS, 422: {"model": Error}},
)
async def next_items(
    model: ReadModel,
    request: Request,
    customer_id: IdInPath,
    query: Annotated[NextQuery, Query()],
) -> dict:
    """Ranked products with the probability of buying each within the model's horizon, the
    expected date and usual quantity of repeat items, and a reason to say out loud.

    A customer the model has never seen gets the popular products of the moment and
    `cold_start: true`. Orders posted to `/v1/orders` count at once.
    """
    k, category, exclude, as_of = query.k, query.category or None, query.exclude, query.as_of
    if category is not None and not model.has_categories:
        raise invalid("query.category", "this model's data has no product categories")
    day = resolve_day(model, now(request), as_of)
    items = await customer_list(model, customer_id, day, query.new_only)
    chosen = _select(model, items, k, category, exclude)
    # Plain dicts: FastAPI validates and serialises them in one pass of pydantic-core,
    # without building model objects first (this is the hottest route).
    listed = model.item_dicts(items, chosen)
    if category is not None and len(chosen) < k:
        # The customer's own candidates hold too few of the category: its best sellers follow.
        leave_out = np.r_[items.product[chosen], _excluded(model, exclude)].astype(np.int64)
        if query.new_only:
            leave_out = np.r_[leave_out, model.bought(customer_id)]
        fill = await run_in_threadpool(
            model.popular_in_category, category, k - len(chosen), leave_out
        )
        listed += model.item_dicts(fill, np.arange(len(fill.product)), len(chosen) + 1)
    return {
        "customer_id": customer_id,
        "as_of": day.isoformat(),
        "horizon_days": model.model.horizon_days_,
        "cold_start": items.cold_start,
        "model_version": model.version,
        "items": listed,
    }


class CyclesQuery(BaseModel):
    """Query parameters of a customer's reorder cycles."""

    model_config = ConfigDict(extra="ignore")

    status: CycleStatus | None = Field(None, description="only items of this status")
    as_of: dt.date | None = Field(None, description="the day to answer for (default: today)")


@router.get(
    "/{customer_id:path}/cycles",
    response_model=CustomerCycles,
    summary="What this customer reorders, how often, and what is due or overdue",
    responses={**CUSTOMER_ROUTE_ERRORS, 422: {"model": Error}},
)
async def cycles(
    model: ReadModel,
    request: Request,
    customer_id: IdInPath,
    query: Annotated[CyclesQuery, Query()],
) -> CustomerCycles:
    """Every product the customer has bought: purchases, the usual interval and quantity,
    when it is next due and its status (`overdue` items are the lapsing ones: a reason to
    call), soonest due first, with the orders posted to `/v1/orders` counted. A "buy it
    again" page, or a rep's checklist."""
    day = resolve_day(model, now(request), query.as_of)
    statuses = None if query.status is None else (query.status,)
    table = await run_in_threadpool(model.cycles, customer_id, day, statuses)
    names = model.product_name(table["product"].to_numpy())
    return CustomerCycles(
        customer_id=customer_id,
        as_of=day,
        horizon_days=model.model.horizon_days_,
        model_version=model.version,
        items=[
            CycleItem(
                product_id=model.model.product_ids_[row.product],
                name=name,
                status=row.status,
                next_due=None if pd.isna(row.next_due) else row.next_due.date(),
                purchases=row.purchases,
                first_purchase=row.first_purchase.date(),
                last_purchase=row.last_purchase.date(),
                days_since_last=row.days_since_last,
                interval_days=_number(row.interval_days),
                interval_spread_days=_number(row.interval_spread_days),
                usual_quantity=row.usual_quantity,
            )
            for row, name in zip(table.itertuples(), names, strict=True)
        ],
    )


def _number(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


async def customer_list(
    model: ServingModel, customer_id: str, day: dt.date, new_only: bool = False
) -> ItemList:
    """The customer's list from the cache, on the event loop, or else computed in a worker
    thread so that other requests go on meanwhile."""
    items = model.cached(customer_id, day, new_only)
    if items is None:
        items = await run_in_threadpool(model.next_items, customer_id, day, new_only)
    return items


def resolve_day(model: ServingModel, now: dt.datetime, as_of: dt.date | None) -> dt.date:
    """The day a request answers for: ``as_of`` if given (checked), else today."""
    if as_of is None:
        return model.today(now)
    if as_of < model.last_day:
        raise invalid(
            "query.as_of",
            f"{as_of} is before the last day the model learned from ({model.last_day}); "
            f"a model cannot answer for its own past",
        )
    if as_of > model.last_day + MAX_AS_OF_AHEAD:
        raise invalid(
            "query.as_of",
            f"{as_of} is more than {MAX_AS_OF_AHEAD.days} days after the model's data "
            f"({model.last_day})",
        )
    return as_of


def _select(
    model: ServingModel, items: ItemList, k: int, category: str | None, exclude: str | None
) -> np.ndarray:
    """Positions in the list of the first ``k`` items that pass the filters."""
    keep = np.ones(len(items.product), dtype=bool)
    if exclude:
        keep &= ~np.isin(items.product, _excluded(model, exclude))
    if category is not None:
        keep &= model.product_category(items.product) == category
    return np.flatnonzero(keep)[:k]


def _excluded(model: ServingModel, exclude: str | None) -> np.ndarray:
    """Codes of the products in ``exclude`` that the model knows."""
    if not exclude:
        return np.zeros(0, dtype=np.int64)
    codes = model.product_codes([p.strip() for p in exclude.split(",") if p.strip()])
    return codes[codes >= 0]
