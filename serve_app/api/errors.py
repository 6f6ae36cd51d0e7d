"""One error format for every failure: ``{detail, errors[], request_id, timestamp}``."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from serve_app.api.schemas import ErrorItem, ErrorResponse

logger = logging.getLogger("tafsiri.api")


class ApiError(Exception):
    """An error answered to the client with ``status`` and the contract's error body."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        field: str | None = None,
        code: str = "ERROR",
        message: str | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = [ErrorItem(field=field, message=message or detail, code=code)]
        self.headers = headers
        self.extra = extra or {}


def utc_now() -> datetime:
    return datetime.now(UTC)


def request_id_of(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def error_body(
    detail: str, errors: list[ErrorItem], request_id: str | None, **extra: Any
) -> dict[str, Any]:
    """The error format as JSON, built by its model: ``extra`` (``retry_after``, ...) only
    where given."""
    body = ErrorResponse(
        detail=detail, errors=errors, request_id=request_id, timestamp=utc_now(), **extra
    )
    return body.model_dump(mode="json", exclude_unset=True)


_ERROR_DESCRIPTIONS = {
    400: "Bad request: an unknown language, model or region, a malformed token, bad markup",
    401: "No valid API key (when auth is on)",
    403: "Not allowed to this API key, or disabled on this server",
    404: "Not found, expired, or another key's",
    409: "Not in a state that allows it",
    413: "Too large: the body, a text, a job, or more than a key's budget could ever take",
    415: "Not a file type the service reads",
    422: "Invalid request",
    429: "Rate limited: retry after `retry_after` seconds",
    503: "Busy or unavailable: retry shortly (`retry_after`, when given)",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses``: each of ``statuses`` answered with the one error body."""
    return {
        status: {"model": ErrorResponse, "description": _ERROR_DESCRIPTIONS[status]}
        for status in statuses
    }


def _field_path(location: tuple[Any, ...]) -> str:
    parts = [str(part) for part in location if part not in ("body", "query", "path")]
    return ".".join(parts) or "body"


_STATUS_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    429: "RATE_LIMITED",
    503: "UNAVAILABLE",
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(
            error_body(exc.detail, exc.errors, request_id_of(request), **exc.extra),
            status_code=exc.status,
            headers=exc.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            ErrorItem(
                field=_field_path(tuple(error.get("loc", ()))),
                message=error.get("msg", "invalid value"),
                code=str(error.get("type", "value_error")).upper(),
            )
            for error in exc.errors()
        ]
        return JSONResponse(
            error_body("Validation failed", errors, request_id_of(request)), status_code=422
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "HTTP_ERROR")
        detail = str(exc.detail)
        return JSONResponse(
            error_body(
                detail, [ErrorItem(field=None, message=detail, code=code)], request_id_of(request)
            ),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled_error", extra={"request_id": request_id_of(request)})
        return JSONResponse(
            error_body(
                "Internal server error",
                [ErrorItem(field=None, message=type(exc).__name__, code="INTERNAL_ERROR")],
                request_id_of(request),
            ),
            status_code=500,
        )
