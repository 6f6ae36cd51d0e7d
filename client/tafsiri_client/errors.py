"""What the SDK raises: the service's refusals (:class:`TafsiriError` and a subclass per
status), a job that did not end ``done`` and a wait that ran out of time."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import httpx
from pydantic import ValidationError

from tafsiri_client.models import ErrorBody, ErrorItem, JobStatusResponse


class TafsiriError(Exception):
    """An error answer. ``error`` is its body as a model; ``status``, ``detail``, ``errors``
    ([:class:`ErrorItem`]: ``field``, ``message``, ``code``), ``request_id`` and, with a 429,
    ``retry_after`` are read from it."""

    def __init__(self, status: int, error: ErrorBody) -> None:
        self.status = status
        self.error = error
        self.detail = error.detail
        self.errors: list[ErrorItem] = error.errors
        self.request_id = error.request_id
        self.retry_after = error.retry_after
        fields = ", ".join(f"{e.field}: {e.message}" for e in self.errors[:3])
        super().__init__(f"{status} {self.detail}" + (f" ({fields})" if fields else ""))


class BadRequestError(TafsiriError):
    """400: a value the service cannot use (an unknown language, refused markup, ...)."""


class AuthenticationError(TafsiriError):
    """401: no API key, or one the service does not know."""


class NotFoundError(TafsiriError):
    """404: no such language, job, glossary or correction (or not yours)."""


class PayloadTooLargeError(TafsiriError):
    """413: past a size limit."""


class ValidationFailedError(TafsiriError):
    """422: the request does not have the API's shape."""


class RateLimitError(TafsiriError):
    """429, once the retries are spent; ``retry_after`` says when to come back."""


class ServerError(TafsiriError):
    """5xx: the service failed or is unavailable."""


_BY_STATUS: dict[int, type[TafsiriError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    404: NotFoundError,
    413: PayloadTooLargeError,
    422: ValidationFailedError,
    429: RateLimitError,
}


def error_body(status: int, content: bytes, retry_after_header: str | None = None) -> ErrorBody:
    """An error answer's body as the error format, however far it is from it (a proxy's HTML
    page, an empty body): what cannot be read becomes ``detail``."""
    try:
        found: Any = json.loads(content) if content else None
    except ValueError:
        found = None
    if isinstance(found, dict):
        try:
            body = ErrorBody.model_validate(found)
        except ValidationError:  # JSON, but not the error format: its detail, if it has one
            request_id = found.get("request_id")
            body = ErrorBody(
                detail=str(found.get("detail") or f"HTTP {status}"),
                request_id=request_id if isinstance(request_id, str) else None,
            )
    else:
        text = content.decode("utf-8", "replace").strip()[:500]
        body = ErrorBody(detail=text or f"HTTP {status}")
    if body.retry_after is None and retry_after_header:
        with contextlib.suppress(ValueError):  # an HTTP date: the 1 s default then
            body.retry_after = float(retry_after_header)
    return body


def error_of(response: httpx.Response) -> TafsiriError:
    """The exception for an error answer, of the class its status has."""
    status = response.status_code
    kind = _BY_STATUS.get(status, ServerError if status >= 500 else TafsiriError)
    return kind(status, error_body(status, response.content, response.headers.get("retry-after")))


class JobFailedError(Exception):
    """A job that ended ``error``, ``timeout`` or ``needs_human``; ``job`` is its state."""

    def __init__(self, job: JobStatusResponse) -> None:
        self.job = job
        super().__init__(f"job {job.token} ended {job.status}: {job.error_message}")


class WaitTimeoutError(TimeoutError):
    """A job or workflow still running when the wait's ``timeout`` was up."""
