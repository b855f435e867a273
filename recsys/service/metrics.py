"""Prometheus metrics: requests and latency per route, the model served, orders ingested.

Recorded by a plain ASGI middleware (no per-request task or body copy), labelled by the route's
path template (``/v1/customers/{customer_id}/next``), never the raw path, so customer ids do
not multiply the series.
"""

from __future__ import annotations

import time

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

disable_created_metrics()  # the *_created series only double the exposition here

LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    """The service's metric families, in their own registry (one per app)."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "recsys_requests",
            "HTTP requests",
            ("route", "method", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "recsys_request_duration_seconds",
            "Time to answer, by route",
            ("route",),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.model = Gauge(
            "recsys_model_info",
            "The model version served (value 1)",
            ("version",),
            registry=self.registry,
        )
        self.reloads = Counter(
            "recsys_model_loads", "Model loads by result", ("result",), registry=self.registry
        )
        self.orders = Counter(
            "recsys_orders_ingested", "Orders stored by POST /v1/orders", registry=self.registry
        )
        self.duplicates = Counter(
            "recsys_orders_duplicate", "Orders resent and ignored", registry=self.registry
        )

    def model_loaded(self, version: str | None, result: str) -> None:
        self.reloads.labels(result).inc()
        if version is not None:
            self.model.clear()
            self.model.labels(version).set(1)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Counts and times every HTTP request by route template and status."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", "unmatched").replace(":path}", "}")
            self.metrics.requests.labels(template, scope["method"], str(status)).inc()
            self.metrics.latency.labels(template).observe(time.perf_counter() - started)
