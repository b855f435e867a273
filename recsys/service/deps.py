"""FastAPI dependencies: API-key checks, the serving model, the order store, the clock.

All are ``async def`` although none awaits: FastAPI runs a plain ``def`` dependency in a worker
thread, and a thread hop per dependency cost more than the whole cached "next" answer.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from recsys.service.config import Settings
from recsys.service.engine import ServingModel
from recsys.service.store import OrderStore

API_KEY_HEADER = "X-API-Key"


def check_key(request: Request, key: str | None, kind: str) -> None:
    """Raise 401/403 unless ``key`` is one of the configured keys of ``kind``."""
    config: Settings = request.app.state.settings
    if not config.auth_enabled:
        return
    if not key:
        raise HTTPException(
            401,
            "missing API key: send it in the X-API-Key header",
            headers={"WWW-Authenticate": API_KEY_HEADER},
        )
    given = key.encode()  # bytes: compare_digest refuses non-ASCII str
    wanted = config.read_keys if kind == "read" else config.ingest_keys
    if any(secrets.compare_digest(given, k.encode()) for k in wanted):
        return
    other = config.ingest_keys if kind == "read" else config.read_keys
    if any(secrets.compare_digest(given, k.encode()) for k in other):
        raise HTTPException(
            403, f"this API key may not {'read' if kind == 'read' else 'ingest orders'}"
        )
    raise HTTPException(401, "unknown API key", headers={"WWW-Authenticate": API_KEY_HEADER})


def serving(request: Request) -> ServingModel:
    """The model serving now, or 503."""
    model = request.app.state.holder.current
    if model is None:
        raise HTTPException(503, "no model is loaded yet: train one with 'recsys train'")
    return model


# The key is read from the headers here rather than through a `Security(APIKeyHeader)`
# sub-dependency: each dependency level costs the hottest route ~10% of its throughput. The
# OpenAPI document declares the scheme instead (`app.document_api_key`).


async def require_read(request: Request) -> None:
    """A read key (routes that need no model)."""
    check_key(request, request.headers.get(API_KEY_HEADER), "read")


async def read_model(request: Request) -> ServingModel:
    """A read key, then the model serving now: a request keeps this one even if a reload
    swaps it meanwhile."""
    check_key(request, request.headers.get(API_KEY_HEADER), "read")
    return serving(request)


async def ingest_store(request: Request) -> OrderStore:
    """An ingest key, then the order store."""
    check_key(request, request.headers.get(API_KEY_HEADER), "ingest")
    return request.app.state.store


def now(request: Request) -> dt.datetime:
    """The service's clock (injectable through `create_app`, for tests and replays)."""
    return request.app.state.clock()


ReadModel = Annotated[ServingModel, Depends(read_model)]
IngestStore = Annotated[OrderStore, Depends(ingest_store)]
