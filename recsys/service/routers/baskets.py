"""``/v1/baskets``: complete a cart."""

from __future__ import annotations

import numpy as np
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from recsys.service.deps import ReadModel
from recsys.service.engine import CUSTOMER_ANCHOR_WEIGHT
from recsys.service.routers.products import complement_items
from recsys.service.schemas import BasketRequest, BasketResponse, Error

router = APIRouter(prefix="/v1/baskets", tags=["baskets"])


@router.post(
    "/complete",
    response_model=BasketResponse,
    summary="Complete a cart",
    responses={401: {"model": Error}, 403: {"model": Error}, 422: {"model": Error}},
)
async def complete(body: BasketRequest, model: ReadModel) -> JSONResponse:
    """Products that go with the cart, from orders that held the same products; never a
    product already in the cart. With a `customer_id`, the products of the customer's orders
    posted since training count too (at half weight), so a new customer's first orders steer
    the suggestions. Cart products the model does not know are named in `warnings`."""
    codes = model.product_codes(body.items)
    unknown = [item for item, code in zip(body.items, codes, strict=True) if code < 0]
    cart = np.unique(codes[codes >= 0])
    anchors, weights = cart, np.ones(len(cart), dtype=np.float32)
    if body.customer_id is not None:
        own = np.setdiff1d(model.recent_products(body.customer_id), cart)
        anchors = np.r_[cart, own]
        weights = np.r_[weights, np.full(len(own), CUSTOMER_ANCHOR_WEIGHT, dtype=np.float32)]
    warnings = [f"unknown product '{item}' (not in model {model.version})" for item in unknown[:20]]
    if len(unknown) > 20:
        warnings.append(f"... and {len(unknown) - 20} more unknown products")
    items = complement_items(model, anchors, body.k, weights) if len(anchors) else []
    # Sub-millisecond sparse work: answered on the event loop, without a thread hop, and
    # serialised once (the items were validated when built).
    body = BasketResponse(model_version=model.version, items=items, warnings=warnings)
    return JSONResponse(body.model_dump(mode="json"))
