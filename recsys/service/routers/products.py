"""``/v1/products``: what is bought together with a product."""

from __future__ import annotations

from typing import Annotated

import numpy as np
from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from recsys.service.deps import ReadModel
from recsys.service.engine import ServingModel
from recsys.service.errors import ApiError
from recsys.service.schemas import Complement, ComplementsResponse, Error, IdInPath

router = APIRouter(prefix="/v1/products", tags=["products"])


@router.get(
    "/{product_id:path}/complements",  # product ids may hold a "/" (sent as %2F)
    response_model=ComplementsResponse,
    summary="Frequently bought together",
    responses={401: {"model": Error}, 403: {"model": Error}, 404: {"model": Error}},
)
async def complements(
    model: ReadModel,
    product_id: IdInPath,
    k: Annotated[int, Query(ge=1, le=100)] = 10,
) -> JSONResponse:
    """Products most often in the same orders as this one, normalised so that products that
    are in every order do not crowd out the true complements (cosine of shared orders)."""
    code = model.product_codes([product_id])
    if code[0] < 0:
        raise ApiError(
            404, f"product '{product_id}' is unknown to model {model.version}", "path.product_id"
        )
    body = ComplementsResponse(
        product_id=product_id, model_version=model.version, items=complement_items(model, code, k)
    )
    return JSONResponse(body.model_dump(mode="json"))


def complement_items(
    model: ServingModel, anchors: np.ndarray, k: int, weights: np.ndarray | None = None
) -> list[Complement]:
    """The engine's complements of ``anchors`` as response items with their reasons."""
    best, scores, anchor, share = model.complements(anchors, k, weights)
    ids = model.model.product_ids_
    names = model.product_name(best)
    anchor_names = model.product_name(anchor)
    return [
        Complement(
            product_id=str(ids[p]),
            name=None if names[i] is None else str(names[i]),
            rank=i + 1,
            score=float(scores[i]),
            anchor_product_id=str(ids[anchor[i]]),
            reason_text=f"bought with {anchor_names[i]} in {share[i]:.0%} of orders"
            if share[i] >= 0.005
            else f"sometimes bought with {anchor_names[i]}",
        )
        for i, p in enumerate(best)
    ]
