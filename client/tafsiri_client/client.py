"""The two clients: the same endpoints (``_endpoints.Endpoints``), run with blocking calls
(:class:`Client`) or awaited (:class:`AsyncClient`). What each adds is how it carries out a
step: send a request, sleep, do blocking local work, read a stream."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Any, ParamSpec, TypeVar

import httpx

from tafsiri_client._core import (
    EventReader,
    Op,
    Request,
    Sleep,
    Steps,
    arun_steps,
    bound,
    run_steps,
)
from tafsiri_client._endpoints import Endpoints
from tafsiri_client._version import __version__
from tafsiri_client.errors import error_of
from tafsiri_client.models import StreamEvent

T = TypeVar("T")
P = ParamSpec("P")

DEFAULT_URL = "http://127.0.0.1:8000"


def _http_options(base_url: str, api_key: str | None, timeout: float) -> dict[str, Any]:
    headers = {"User-Agent": f"tafsiri-client/{__version__}"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    return {"base_url": base_url, "timeout": timeout, "headers": headers}


class Client(Endpoints):
    """Synchronous client. ``api_key``: the service's key, when it has auth on.
    ``max_retries`` applies to 429 answers (each after its ``retry_after``). ``client_id``
    names the caller without a key (job queues, rate limits). ``transport``: httpx's, for
    tests or proxies."""

    def __init__(
        self,
        base_url: str = DEFAULT_URL,
        *,
        api_key: str | None = None,
        timeout: float = 60.0,
        max_retries: int = 3,
        client_id: str = "default",
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(**_http_options(base_url, api_key, timeout), transport=transport)
        self.max_retries = max_retries
        self.client_id = client_id

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _do(self, op: Op) -> Any:
        if isinstance(op, Request):
            return self._http.request(
                op.method, op.path, json=op.json, params=op.params, data=op.data, files=op.files
            )
        if isinstance(op, Sleep):
            time.sleep(op.seconds)
            return None
        return op.run()

    def _bind(self, steps: Callable[..., Steps[T]]) -> Callable[..., T]:
        def run(*args: Any, **kwargs: Any) -> T:
            return run_steps(steps(self, *args, **kwargs), self._do)

        return bound(run, steps)

    def _bind_stream(self, request: Callable[..., Request]) -> Callable[..., Iterator[StreamEvent]]:
        def events(*args: Any, **kwargs: Any) -> Iterator[StreamEvent]:
            sent = request(self, *args, **kwargs)
            with self._http.stream(sent.method, sent.path, json=sent.json) as response:
                if response.status_code >= 400:
                    response.read()
                    raise error_of(response)
                reader = EventReader()
                for line in response.iter_lines():
                    if (event := reader.feed(line)) is not None:
                        yield event

        return bound(events, request)


class AsyncClient(Endpoints):
    """Asynchronous client: the methods of :class:`Client`, awaited (``translate_stream``
    is an async iterator)."""

    def __init__(
        self,
        base_url: str = DEFAULT_URL,
        *,
        api_key: str | None = None,
        timeout: float = 60.0,
        max_retries: int = 3,
        client_id: str = "default",
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._http = httpx.AsyncClient(
            **_http_options(base_url, api_key, timeout), transport=transport
        )
        self.max_retries = max_retries
        self.client_id = client_id

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _do(self, op: Op) -> Any:
        if isinstance(op, Request):
            return await self._http.request(
                op.method, op.path, json=op.json, params=op.params, data=op.data, files=op.files
            )
        if isinstance(op, Sleep):
            await asyncio.sleep(op.seconds)
            return None
        return await asyncio.to_thread(op.run)

    def _bind(self, steps: Callable[..., Steps[T]]) -> Callable[..., Coroutine[Any, Any, T]]:
        async def run(*args: Any, **kwargs: Any) -> T:
            return await arun_steps(steps(self, *args, **kwargs), self._do)

        return bound(run, steps)

    def _bind_stream(
        self, request: Callable[..., Request]
    ) -> Callable[..., AsyncIterator[StreamEvent]]:
        async def events(*args: Any, **kwargs: Any) -> AsyncIterator[StreamEvent]:
            sent = request(self, *args, **kwargs)
            async with self._http.stream(sent.method, sent.path, json=sent.json) as response:
                if response.status_code >= 400:
                    await response.aread()
                    raise error_of(response)
                reader = EventReader()
                async for line in response.aiter_lines():
                    if (event := reader.feed(line)) is not None:
                        yield event

        return bound(events, request)
