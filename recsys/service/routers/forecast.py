"""``/v1/forecast``: demand per product, for stock that never runs out."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from recsys.service.deps import ReadModel, now
from recsys.service.routers.customers import resolve_day
from recsys.service.schemas import DemandForecast, Error

router = APIRouter(prefix="/v1/forecast", tags=["forecast"])


@router.get(
    "/demand",
    response_model=DemandForecast,
    summary="Expected units per product over the next days",
    responses={401: {"model": Error}, 403: {"model": Error}, 422: {"model": Error}},
)
async def demand(
    model: ReadModel,
    request: Request,
    days: Annotated[int, Query(ge=1, le=365, description="how many days ahead")] = 30,
    top: Annotated[int, Query(ge=1, le=5000, description="the most demanded products")] = 100,
    as_of: Annotated[dt.date | None, Query(description="first day (default: today)")] = None,
) -> DemandForecast:
    """The customers' reorders (their probabilities, cycles and usual quantities) plus the
    recent rate of first purchases, with an 80% interval. Computed once per day and horizon
    (seconds on a large customer base), then answered from memory."""
    day = resolve_day(model, now(request), as_of)
    table = await run_in_threadpool(model.forecast, day, days)
    rows = table.head(top).to_dict("records")
    return DemandForecast(
        model_version=model.version,
        as_of=day,
        days=days,
        products=rows,  # type: ignore[arg-type]
    )
