"""The FastAPI application: routers per resource, one error shape, metrics, model reload."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

from recsys import __version__
from recsys.service import errors
from recsys.service.config import Settings
from recsys.service.deps import API_KEY_HEADER
from recsys.service.holder import ModelHolder
from recsys.service.metrics import Metrics, MetricsMiddleware
from recsys.service.routers import (
    baskets,
    crm,
    customers,
    forecast,
    health,
    model,
    orders,
    products,
)
from recsys.service.schemas import Error
from recsys.service.store import OrderStore

log = logging.getLogger(__name__)

#: Routes anyone may call (probes of orchestrators and load balancers).
OPEN_PATHS = ("/healthz", "/readyz")

DESCRIPTION = """
Recommendations and demand anticipation from order history.

* **customers**: each customer's "you'll need this next" list, with probabilities, expected
  dates, usual quantities and reasons (or only what is new to them: cross-sell), and their
  reorder cycles: what they buy, how often, what is due or overdue.
* **baskets** and **products**: what goes with a cart or a product.
* **forecast**: expected units per product over the next days, with an 80% interval.
* **orders**: live ingestion, applied at once and learned at the next training.
* **crm**: the account page for a CRM sidebar, and signed links to it.

Every route but `/healthz` and `/readyz` needs an API key in the `X-API-Key` header: a read key,
or an ingest key for `POST /v1/orders`. Errors share one body: `{"error", "field", "detail"}`.
"""


def create_app(
    settings: Settings | None = None, clock: Callable[[], dt.datetime] = dt.datetime.now
) -> FastAPI:
    """The application over ``settings`` (default: from the environment).

    ``clock`` gives "now" (the day lists are computed for unless a request names one).
    """
    settings = settings or Settings.from_env()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not settings.auth_enabled:
            log.warning(
                "no API keys configured (RECSYS_READ_KEYS, RECSYS_INGEST_KEYS): "
                "authentication is off"
            )
        store = OrderStore(settings.orders_path)
        holder = ModelHolder(
            settings.models_dir,
            store,
            poll_seconds=settings.reload_seconds,
            cache_size=settings.cache_customers,
            warm=settings.warm,
            clock=clock,
            on_load=lambda m, result: metrics.model_loaded(m.version if m else None, result),
        )
        app.state.store, app.state.holder = store, holder
        holder.start()
        if holder.current is None:
            log.warning(
                "no model in %s yet: /readyz answers 503 until one is promoted", settings.models_dir
            )
        try:
            yield
        finally:
            holder.stop()
            store.close()

    # The interactive docs' scripts are served by the app (no CDN): /docs works offline.
    app = FastAPIOffline(
        title="recsys",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings, app.state.metrics, app.state.clock = settings, metrics, clock
    errors.install(app)
    for router in (customers, baskets, products, forecast, orders, model, crm, health):
        app.include_router(router.router)
    app.mount(
        "/crm/static",
        StaticFiles(directory=Path(__file__).resolve().parent / "static"),
        name="crm_static",
    )
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    if settings.cors_origins:
        # Outermost, so that a browser's preflight is answered before any key is asked for.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=[API_KEY_HEADER, "Content-Type"],
            max_age=600,
        )
    customise_openapi(app)
    return app


def customise_openapi(app: FastAPI) -> None:
    """Make the OpenAPI document say what the service does: the ``X-API-Key`` scheme on every
    route but the probes (the key is checked inside the routes' dependencies; see
    `recsys.service.deps`), and every error response in the one JSON shape of
    `recsys.service.errors` rather than FastAPI's default validation body."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = build()
            error_ref = {"$ref": "#/components/schemas/Error"}
            for operations in schema["paths"].values():
                for operation in operations.values():
                    for code, response in operation.get("responses", {}).items():
                        schemas = [
                            c.get("schema", {}) for c in response.get("content", {}).values()
                        ]
                        refs = {s.get("$ref", "").rsplit("/", 1)[-1] for s in schemas}
                        # Errors are JSON even on the HTML page's route.
                        if code == "422" or refs & {"Error", "HTTPValidationError"}:
                            response["content"] = {"application/json": {"schema": error_ref}}
            components = schema["components"]["schemas"]
            components.setdefault("Error", Error.model_json_schema())
            for unused in ("HTTPValidationError", "ValidationError"):
                components.pop(unused, None)
            schema.setdefault("components", {})["securitySchemes"] = {
                "apiKey": {
                    "type": "apiKey",
                    "in": "header",
                    "name": API_KEY_HEADER,
                    "description": "a read key, or an ingest key for POST /v1/orders",
                }
            }
            for path, operations in schema["paths"].items():
                if path not in OPEN_PATHS:
                    for operation in operations.values():
                        operation["security"] = [{"apiKey": []}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi
