"""FastAPI dependencies: API-key checks, the serving model, the order store, the clock.

All are ``async def`` although none awaits: FastAPI runs a plain ``def`` dependency in a worker
thread, and a thread hop per dependency cost more than the whole cached "next" answer.
"""

from __future__ import annotations

import secrets
from typing import Annotated

import pandas as pd
from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import APIKeyHeader

from recsys.service.config import Settings
from recsys.service.engine import ServingModel
from recsys.service.store import OrderStore

_api_key = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="a read key, or an ingest key for orders"
)


async def settings(request: Request) -> Settings:
    return request.app.state.settings


def _check(request: Request, key: str | None, kind: str) -> None:
    config: Settings = request.app.state.settings
    if not config.auth_enabled:
        return
    if not key:
        raise HTTPException(
            401,
            "missing API key: send it in the X-API-Key header",
            headers={"WWW-Authenticate": "X-API-Key"},
        )
    wanted = config.read_keys if kind == "read" else config.ingest_keys
    if any(secrets.compare_digest(key, k) for k in wanted):
        return
    other = config.ingest_keys if kind == "read" else config.read_keys
    if any(secrets.compare_digest(key, k) for k in other):
        raise HTTPException(
            403, f"this API key may not {'read' if kind == 'read' else 'ingest orders'}"
        )
    raise HTTPException(401, "unknown API key", headers={"WWW-Authenticate": "X-API-Key"})


async def require_read(request: Request, key: Annotated[str | None, Security(_api_key)]) -> None:
    _check(request, key, "read")


async def require_ingest(request: Request, key: Annotated[str | None, Security(_api_key)]) -> None:
    _check(request, key, "ingest")


async def serving_model(request: Request) -> ServingModel:
    """The model serving now; a request keeps this one even if a reload swaps it meanwhile."""
    model = request.app.state.holder.current
    if model is None:
        raise HTTPException(503, "no model is loaded yet: train one with 'recsys train'")
    return model


async def order_store(request: Request) -> OrderStore:
    return request.app.state.store


async def now(request: Request) -> pd.Timestamp:
    return request.app.state.clock()


Model = Annotated[ServingModel, Depends(serving_model)]
Store = Annotated[OrderStore, Depends(order_store)]
Now = Annotated[pd.Timestamp, Depends(now)]
