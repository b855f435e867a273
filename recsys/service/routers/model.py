"""``/v1/model``: what is serving."""

from __future__ import annotations

from fastapi import APIRouter

from recsys.service.deps import ReadModel
from recsys.service.schemas import Error, ModelInfo

router = APIRouter(prefix="/v1", tags=["model"])


@router.get(
    "/model",
    response_model=ModelInfo,
    summary="The model serving now",
    responses={401: {"model": Error}, 403: {"model": Error}, 503: {"model": Error}},
)
def model_info(model: ReadModel) -> ModelInfo:
    """Version, training time and data range, and the validation metrics recorded when it
    was trained."""
    manifest = model.manifest
    data = manifest.get("data", {})
    return ModelInfo(
        version=model.version,
        created=manifest["created"],
        horizon_days=model.model.horizon_days_,
        first_order=data.get("first_order", ""),
        last_order=data.get("last_order", ""),
        customers=int(data.get("customers", 0)),
        products=int(data.get("products", 0)),
        lines=int(data.get("lines", 0)),
        validation={k: float(v) for k, v in manifest.get("validation", {}).items()},
        orders_since_training=model.orders_since_training,
    )
