"""Request context: request id, response time, body limit and request metrics (pure ASGI)."""

from __future__ import annotations

import json
import math
import re
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from serve_app.api.admission import Admission
from serve_app.api.errors import error_body
from serve_app.api.schemas import ErrorItem
from serve_app.api.security import uniform_401
from serve_app.metrics import Metrics

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


async def send_error(
    send: Send,
    status: int,
    detail: str,
    code: str,
    request_id: str | None,
    *,
    field: str | None = None,
    headers: list[tuple[bytes, bytes]] | None = None,
    **extra: Any,
) -> None:
    """A response in the contract's error format, straight from ASGI middleware."""
    body = json.dumps(
        error_body(detail, [ErrorItem(field=field, message=detail, code=code)], request_id, **extra)
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


# Methods whose requests carry a body: with auth on, every route taking one needs a key.
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class RequestContextMiddleware:
    """Gives every request an id (the client's ``X-Request-ID`` when sane), answers bodies
    over the limit with 413 before reading them, and records latency and status metrics.

    With ``authorized`` (auth on), a request with a body and no valid key is answered with
    the API's uniform 401 before its body is read or parsed: an anonymous client cannot make
    the service read, count or decode megabytes it would refuse anyway. With ``spent`` (the
    seconds a key must wait before a path may charge it again), a key whose budget is spent
    is answered 429 the same way.
    """

    def __init__(
        self,
        app: ASGIApp,
        metrics: Metrics,
        max_body_bytes: int,
        uploads: Mapping[str, int] | None = None,
        authorized: Callable[[str], bool] | None = None,
        spent: Callable[[str, str], float] | None = None,
    ) -> None:
        self.app = app
        self._authorized = authorized
        self._spent = spent
        self._metrics = metrics
        self._max_body_bytes = max_body_bytes
        # File uploads (documents, memories) have limits of their own: path -> bytes.
        self._uploads = dict(uploads or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = dict(scope.get("headers") or [])
        given = headers.get(b"x-request-id", b"").decode("latin-1")
        # Serve's proxy forwards (or makes) an X-Request-ID and echoes it on the response
        # itself; only a request that arrives without one gets the header added here.
        request_id = given if _SAFE_REQUEST_ID.match(given) else uuid.uuid4().hex
        add_id_header = not given
        scope.setdefault("state", {})["request_id"] = request_id
        status_holder = {"status": 500}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                elapsed_ms = (time.perf_counter() - started) * 1000
                extra = [(b"x-response-time", f"{elapsed_ms:.2f}ms".encode())]
                if add_id_header:
                    extra.append((b"x-request-id", request_id.encode()))
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        if (
            self._authorized is not None
            and scope.get("method") in _BODY_METHODS
            and not self._authorized(headers.get(b"authorization", b"").decode("latin-1"))
        ):
            message, code, extra = uniform_401()
            await send_error(
                send_with_headers,
                401,
                message,
                code,
                request_id,
                headers=[(k.lower().encode(), v.encode()) for k, v in extra.items()],
            )
            self._record(scope, 401, time.perf_counter() - started)
            return
        wait = (
            self._spent(headers.get(b"authorization", b"").decode("latin-1"), scope.get("path", ""))
            if self._spent is not None and scope.get("method") in _BODY_METHODS
            else 0.0
        )
        if wait > 0:  # its budget is spent: refused before the body is read or parsed
            retry = str(math.ceil(wait)).encode()
            await send_error(
                send_with_headers,
                429,
                "Rate limit exceeded: this key's budget is spent. Please try again later.",
                "RATE_LIMITED",
                request_id,
                headers=[
                    (b"retry-after", retry),
                    (b"x-ratelimit-retry-after", retry),
                ],
                retry_after=math.ceil(wait),
            )
            self._record(scope, 429, time.perf_counter() - started)
            return
        length = headers.get(b"content-length", b"")
        limit = max(self._max_body_bytes, self._uploads.get(scope.get("path", ""), 0))
        if length.isdigit():
            if int(length) > limit:
                await self._reject_too_large(request_id, limit, send_with_headers)
            else:
                await self.app(scope, receive, send_with_headers)
        else:
            # No length given (chunked): count the bytes as they arrive, before the route.
            replay = await self._read_within(receive, limit)
            if replay is None:
                await self._reject_too_large(request_id, limit, send_with_headers)
            else:
                await self.app(scope, replay, send_with_headers)
        self._record(scope, status_holder["status"], time.perf_counter() - started)

    @staticmethod
    async def _read_within(receive: Receive, limit: int) -> Receive | None:
        """Reads a body of unknown length; ``None`` once it passes ``limit`` bytes, else a
        ``receive`` that hands the app the body read (then the connection's own messages)."""
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
            more = message.get("more_body", False)
        pending: list[Message] = [
            {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        ]

        async def replay() -> Message:
            return pending.pop() if pending else await receive()

        return replay

    @staticmethod
    async def _reject_too_large(request_id: str, limit: int, send: Send) -> None:
        detail = f"Request body exceeds {limit} bytes"
        await send_error(send, 413, detail, "PAYLOAD_TOO_LARGE", request_id, field="body")

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        metrics = self._metrics
        route = scope.get("route")
        # Route templates, never raw paths, keep label cardinality bounded.
        endpoint = getattr(route, "path", None) or "unmatched"
        metrics.requests.labels(endpoint, scope.get("method", ""), str(status)).inc()
        metrics.request_seconds.labels(endpoint).observe(seconds)
        if status >= 400:
            metrics.errors.labels(f"http_{status}", endpoint).inc()


# Cheap endpoints that must answer even when the replica is saturated.
_ALWAYS_ADMITTED = frozenset({"/health", "/status", "/metrics"})


class AdmissionMiddleware:
    """Sheds load before Serve's own queue limit does: past ``api.max_in_flight`` requests in
    flight on this replica, answers 503 in the contract's error format with ``Retry-After``.
    Once the service is stopping it answers every new request so, and closes the connection,
    while the requests in flight finish."""

    def __init__(self, app: ASGIApp, admission: Admission, retry_after_s: int = 1) -> None:
        self.app = app
        self._admission = admission
        self._retry_after = retry_after_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in _ALWAYS_ADMITTED:
            await self.app(scope, receive, send)
            return
        refusal = self._admission.refusal()
        if refusal is not None:
            request_id = scope.get("state", {}).get("request_id")
            headers = [(b"retry-after", str(self._retry_after).encode())]
            if refusal == "stopping":
                detail, code = "Service stopping, retry shortly", "STOPPING"
                headers.append((b"connection", b"close"))
            else:
                detail, code = "Service busy, retry shortly", "OVERLOADED"
            await send_error(
                send,
                503,
                detail,
                code,
                request_id,
                headers=headers,
                retry_after=self._retry_after,
            )
            return
        self._admission.enter()
        try:
            await self.app(scope, receive, send)
        finally:
            self._admission.leave()
