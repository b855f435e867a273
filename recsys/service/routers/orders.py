"""``/v1/orders``: live order ingestion."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from recsys.service.deps import IngestStore, now
from recsys.service.errors import ApiError, invalid
from recsys.service.schemas import Error, IngestResult, Order, OrderBatch
from recsys.service.store import OrderConflict, StoredOrder

router = APIRouter(prefix="/v1/orders", tags=["orders"])

#: How far ahead of the server's clock an order may be dated (clock skew between systems).
MAX_CLOCK_SKEW = dt.timedelta(days=1)
#: Orders dated earlier are a client's bug (an epoch of 0, a year typed as 0024).
EARLIEST = dt.datetime(1970, 1, 2)
#: Order lines one request may carry.
MAX_LINES = 100_000


@router.post(
    "",
    response_model=IngestResult,
    status_code=201,
    summary="Record orders",
    responses={
        200: {"model": IngestResult, "description": "every order was already stored"},
        401: {"model": Error},
        403: {"model": Error},
        409: {"model": Error, "description": "an order id reused for a different order"},
        422: {"model": Error},
    },
)
async def ingest(
    body: Order | OrderBatch, request: Request, response: Response, store: IngestStore
) -> IngestResult:
    """Store one order or a batch (`{"orders": [...]}`) durably, then apply them at once: a
    product just bought stops being due for that customer, and a new customer's orders steer
    their lists. Resending an order id is a no-op (idempotent); reusing one for a different
    order is a 409 and stores nothing of the batch. The next `recsys train --ingested` learns
    from these orders."""
    today = now(request)
    orders = body.orders if isinstance(body, OrderBatch) else [body]
    if sum(len(o.lines) for o in orders) > MAX_LINES:
        raise invalid("body", f"more than {MAX_LINES:,} order lines in one request; split it")
    prefix = "body.orders" if isinstance(body, OrderBatch) else "body"
    stored = []
    for i, order in enumerate(orders):
        field = (
            f"{prefix}[{i}].timestamp" if isinstance(body, OrderBatch) else f"{prefix}.timestamp"
        )
        try:
            timestamp = _naive_utc(order.timestamp)
        except OverflowError:  # an offset that pushes year 1 or 9999 off the calendar
            raise invalid(field, f"order '{order.order_id}': the date is out of range") from None
        if timestamp < EARLIEST:
            raise invalid(
                field, f"order '{order.order_id}' is dated {timestamp:%Y-%m-%d}, before 1970"
            )
        if timestamp > today + MAX_CLOCK_SKEW:
            raise invalid(
                field,
                f"order '{order.order_id}' is dated {timestamp:%Y-%m-%d %H:%M}, "
                f"in the future of the server's clock",
            )
        stored.append(
            StoredOrder(
                order.order_id,
                order.customer_id,
                timestamp.isoformat(timespec="seconds"),
                tuple((line.product_id, line.quantity, line.price) for line in order.lines),
            )
        )
    try:
        new, duplicates = await run_in_threadpool(store.add, stored)
    except OrderConflict as exc:
        raise ApiError(409, str(exc), "order_id") from None
    metrics = request.app.state.metrics
    metrics.orders.inc(len(new))
    metrics.duplicates.inc(duplicates)
    unknown: list[str] = []
    model = request.app.state.holder.current
    if new and model is not None:
        model.apply_orders(new)
        products = list(dict.fromkeys(line[0] for order in new for line in order.lines))
        unknown = [
            p for p, code in zip(products, model.product_codes(products), strict=True) if code < 0
        ]
    if not new:
        response.status_code = 200
    return IngestResult(stored=len(new), duplicates=duplicates, unknown_products=unknown[:100])


def _naive_utc(timestamp: dt.datetime) -> dt.datetime:
    if timestamp.tzinfo is None:
        return timestamp.replace(microsecond=0)
    return timestamp.astimezone(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
