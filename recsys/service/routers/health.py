"""Probes and metrics: ``/healthz`` and ``/readyz`` (open) and ``/metrics`` (a read key)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from recsys.service.deps import require_read
from recsys.service.schemas import Status

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Status, summary="The process is alive")
async def healthz() -> Status:
    return Status(status="ok")


@router.get(
    "/readyz",
    response_model=Status,
    summary="A model is loaded",
    responses={503: {"model": Status, "description": "no model loaded yet"}},
)
async def readyz(request: Request) -> Status | JSONResponse:
    model = request.app.state.holder.current
    if model is None:
        return JSONResponse(status_code=503, content={"status": "no model loaded"})
    return Status(status="ready", model_version=model.version)


@router.get(
    "/metrics",
    summary="Prometheus metrics (read key)",
    response_class=Response,
    dependencies=[Depends(require_read)],
)
async def metrics(request: Request) -> Response:
    registry = request.app.state.metrics
    return Response(registry.exposition(), media_type=registry.content_type)
