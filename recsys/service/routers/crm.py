"""``/crm``: the account page for a CRM sidebar, and the signed links that open it.

The page is plain HTML with one stylesheet served by the app and an inline SVG timeline: it
works offline, without JavaScript, in an iframe about 360 px wide.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path as FilePath
from typing import Annotated
from urllib.parse import quote

import numpy as np
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from recsys.service import links
from recsys.service.account import SECTION_SIZE, summarise, timeline_svg
from recsys.service.deps import API_KEY_HEADER, ReadModel, check_key, now, serving
from recsys.service.errors import ApiError
from recsys.service.routers.customers import customer_list, resolve_day
from recsys.service.schemas import (
    CUSTOMER_ROUTE_ERRORS,
    Error,
    IdInPath,
    LinkRequest,
    SignedLink,
)

router = APIRouter(tags=["crm"])
templates = Jinja2Templates(directory=FilePath(__file__).resolve().parent.parent / "templates")


@router.get(
    "/crm/customers/{customer_id:path}",
    response_class=HTMLResponse,
    summary="Account page for a CRM sidebar",
    responses=CUSTOMER_ROUTE_ERRORS,
)
async def customer_page(
    request: Request,
    customer_id: IdInPath,
    expires: Annotated[int | None, Query(description="signed link: expiry (Unix time)")] = None,
    signature: Annotated[str | None, Query(max_length=128, description="signed link")] = None,
    as_of: Annotated[dt.date | None, Query(description="the day (default: today)")] = None,
) -> HTMLResponse:
    """The account at a glance (orders, cadence, last order, trend, a year of orders), what
    is due now, what is overdue (the reason to call), and what to suggest, each with its
    reason. Open with a read key in `X-API-Key`, or a link from `POST /v1/crm/links`."""
    settings = request.app.state.settings
    if signature is not None or expires is not None:
        if not (
            signature
            and expires
            and links.verify(settings.link_secret, customer_id, expires, signature)
        ):
            raise ApiError(401, "this link is invalid or has expired; ask the CRM for a new one")
    else:
        check_key(request, request.headers.get(API_KEY_HEADER), "read")
    model = serving(request)
    day = resolve_day(model, now(request), as_of)
    items = await customer_list(model, customer_id, day)
    new = await customer_list(model, customer_id, day, new_only=True)
    account = summarise(
        customer_id,
        day,
        model.customer_orders(customer_id),
        model.item_dicts(items, np.arange(len(items.product))),
        model.item_dicts(new, np.arange(min(len(new.product), SECTION_SIZE))),
        model.model.horizon_days_,
    )
    return templates.TemplateResponse(
        request,
        "crm_customer.html",
        {
            "a": account,
            "version": model.version,
            "timeline": timeline_svg(account),
            "css": request.url_for("crm_static", path="crm.css").path,
        },
    )


@router.post(
    "/v1/crm/links",
    response_model=SignedLink,
    summary="A short-lived link to a customer's CRM page",
    responses={401: {"model": Error}, 403: {"model": Error}, 422: {"model": Error}},
)
async def signed_link(body: LinkRequest, request: Request, model: ReadModel) -> SignedLink:
    """A URL that opens the customer's page without an API key until it expires: for the CRM
    to put in an iframe."""
    expires = int(time.time()) + body.ttl_seconds
    signature = links.sign(request.app.state.settings.link_secret, body.customer_id, expires)
    # Quoted by hand: an id may hold a "/", which url_for refuses in a path parameter.
    path = "crm/customers/" + quote(body.customer_id, safe="")
    url = request.base_url.replace(path=request.base_url.path + path).include_query_params(
        expires=expires, signature=signature
    )
    return SignedLink(url=str(url), expires_at=dt.datetime.fromtimestamp(expires, dt.timezone.utc))
