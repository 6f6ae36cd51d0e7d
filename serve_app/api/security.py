"""API keys (hashed, constant-time) and per-client rate limits."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Annotated

from fastapi import Depends, Request, Response

from serve_app.api.errors import ApiError
from serve_app.api.services import Services, ServicesDep
from serve_app.config import AuthConfig

_UNAUTHORIZED = "Invalid or missing API key"
# The routes that charge a client's budgets, and which: a key whose budget is spent is
# refused them before their bodies are read (RequestContextMiddleware, ratelimit.SpentBudgets).
CHARGED_PATHS: dict[str, tuple[str, ...]] = {
    "/api/v1/translate": ("characters",),
    "/api/v1/translate/stream": ("characters",),
    "/api/v1/detect-language": ("characters",),
    "/api/v1/jobs/translate": ("characters",),
    "/workflows": ("characters",),  # the legacy natural-language workflows
    "/api/v1/documents": ("characters", "upload_bytes"),
}


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_api_key() -> str:
    return "tfs_" + secrets.token_urlsafe(32)


def identify(config: AuthConfig, presented: str | None) -> str | None:
    """The id of the key ``presented``, comparing against every stored hash in constant time."""
    digest = hash_key(presented or "")
    match = None
    for key in config.api_keys:
        if hmac.compare_digest(digest, key.sha256) and presented:
            match = key.id
    return match


def caller(request: Request, services: Services) -> str | None:
    """The id of the key the request presents, ``None`` for none or an unknown one."""
    return key_of(services.args.auth, request.headers.get("authorization", ""))


def key_of(config: AuthConfig, authorization: str) -> str | None:
    """The id of the key an ``Authorization`` header value presents (a bearer token)."""
    scheme, _, credentials = authorization.partition(" ")
    bearer = credentials.strip() if scheme.lower() == "bearer" else None
    return identify(config, bearer)


def spent_wait(services: Services, authorization: str, path: str) -> float:
    """Seconds the key ``authorization`` presents must wait before ``path`` may charge it
    again, as this replica last heard (0: ask the limiter)."""
    kinds = CHARGED_PATHS.get(path)
    if not kinds:
        return 0.0
    key = key_of(services.args.auth, authorization)
    return services.spent.wait(key, kinds) if key is not None else 0.0


def uniform_401() -> tuple[str, str, dict[str, str]]:
    """The one answer to a missing or unknown key: message, code, headers."""
    return _UNAUTHORIZED, "UNAUTHORIZED", {"WWW-Authenticate": "Bearer"}


async def authenticate(request: Request, services: ServicesDep) -> str | None:
    """The caller's key id when auth is on (uniform 401 otherwise), ``None`` when off."""
    if not services.args.auth.enabled:
        return None
    key_id = caller(request, services)
    if key_id is None:
        message, code, headers = uniform_401()
        raise ApiError(401, message, code=code, headers=headers)
    return key_id


Principal = Annotated[str | None, Depends(authenticate)]


async def enforce_rate_limit(services: ServicesDep, key: str, response: Response) -> None:
    """Counts a request for ``key``; 429 with ``retry_after`` when a window is full."""
    config = services.args.rate_limits
    if not config.enabled or services.rate_limiter is None:
        return
    verdict = await services.rate_limiter(key)
    headers = {
        "X-RateLimit-Limit": str(verdict.limit),
        "X-RateLimit-Remaining": str(verdict.remaining),
        "X-RateLimit-Reset": str(verdict.reset),
    }
    if not verdict.allowed:
        retry = str(verdict.retry_after)
        raise ApiError(
            429,
            "Rate limit exceeded. Please try again later.",
            code="RATE_LIMITED",
            headers={**headers, "Retry-After": retry, "X-RateLimit-Retry-After": retry},
            extra={
                "retry_after": verdict.retry_after,
                "limit": f"{config.requests_per_minute} requests per minute",
            },
        )
    response.headers.update(headers)


def client_key(request: Request, principal: str | None) -> str:
    """Whom a request that names no ``client_id`` is charged to: its API key with auth on,
    else the address it comes from (behind a proxy that forwards no address, every anonymous
    client is one). Routes whose body names a ``client_id`` use ``principal or client_id``,
    as their request counts do."""
    if principal is not None:
        return principal
    return f"addr:{request.client.host}" if request.client else "anonymous"


async def charge(services: ServicesDep, key: str, amount: int, *, kind: str = "characters") -> None:
    """Charges ``amount`` characters (or upload bytes) to ``key``'s budget: 429 with
    ``retry_after`` when its windows cannot take it now, 413 when no window ever could."""
    config = services.args.rate_limits
    if not config.enabled or services.rate_limiter is None:
        return
    amount = max(amount, config.smallest_charge(kind))
    unit = "characters" if kind == "characters" else "bytes of uploads"
    windows = config.windows(kind)
    budget, period = min(windows)
    if amount > budget:
        raise ApiError(
            413,
            f"This request alone costs {amount} {unit}; a client may spend {budget} per {period}",
            code="PAYLOAD_TOO_LARGE",
        )
    verdict = await services.rate_limiter(key, kind, amount)
    if not verdict.allowed:
        if verdict.remaining < config.smallest_charge(kind):  # nothing fits: hold the key
            services.spent.spend(key, kind, verdict.retry_after)
        retry = str(verdict.retry_after)
        raise ApiError(
            429,
            f"Rate limit exceeded: {amount} {unit} asked, {verdict.remaining} left in this "
            "window. Please try again later.",
            code="RATE_LIMITED",
            headers={"Retry-After": retry, "X-RateLimit-Retry-After": retry},
            extra={
                "retry_after": verdict.retry_after,
                "limit": f"{windows[0][0]} {unit} per {windows[0][1]}",
            },
        )
