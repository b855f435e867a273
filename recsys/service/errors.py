"""One error shape for every 4xx/5xx: ``{"error": ..., "field": ..., "detail": ...}``."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

log = logging.getLogger(__name__)


class ApiError(HTTPException):
    """An HTTP error about one field of the request."""

    def __init__(self, status_code: int, message: str, field: str | None = None) -> None:
        super().__init__(status_code, message)
        self.field = field


def invalid(field: str, message: str) -> ApiError:
    """422 for a value that passed the schema but makes no sense here."""
    return ApiError(422, f"{field}: {message}", field)


def install(app: FastAPI) -> None:
    """Register the handlers that give every error the same JSON body."""

    @app.exception_handler(RequestValidationError)
    async def validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {
                "field": ".".join(str(part) for part in e["loc"]),
                "message": e["msg"],
                "type": e["type"],
            }
            for e in exc.errors()
        ]
        first = problems[0] if problems else {"field": None, "message": "invalid request"}
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        return JSONResponse(
            status_code=422,
            content={
                "error": f"{first['field']}: {first['message']}{more}",
                "field": first["field"],
                "detail": problems,
            },
        )

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse(
            status_code=exc.status_code,
            content={"error": str(exc.detail), "field": getattr(exc, "field", None)},
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(status_code=500, content={"error": "internal error", "field": None})
