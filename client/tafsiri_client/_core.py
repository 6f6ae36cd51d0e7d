"""The SDK without I/O: each endpoint written once, as steps that both clients run.

An endpoint's steps are a generator. It yields what it needs done: a :class:`Request` to send
(it is sent back the ``httpx.Response``), a :class:`Sleep` (between retries and polls), or
:class:`Blocking` local work such as reading a file (sent back its result). It returns the
endpoint's result. :class:`Client` runs the steps with blocking calls, :class:`AsyncClient`
awaits them; retries, error answers, polling and parsing live here, once.

``@endpoint`` makes a steps method a method of both clients: called on a :class:`Client` it
returns the result, on an :class:`AsyncClient` an awaitable of it. ``@stream_endpoint`` does
the same for the one streamed answer (server-sent events): an iterator of events, or an async
iterator.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Generator, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, Self, TypeVar, overload
from urllib.parse import quote

import httpx
from pydantic import BaseModel

from tafsiri_client.errors import (
    JobFailedError,
    TafsiriError,
    WaitTimeoutError,
    error_body,
    error_of,
)
from tafsiri_client.models import Body, JobStatusResponse, StreamEvent

if TYPE_CHECKING:
    from tafsiri_client.client import AsyncClient, Client

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
P = ParamSpec("P")
F = TypeVar("F", bound=Callable[..., Any])

# A job or workflow in one of these states is over.
TERMINAL = frozenset({"done", "error", "timeout", "needs_human"})


@dataclass(frozen=True)
class Request:
    """One HTTP request, relative to the client's base URL."""

    method: str
    path: str
    json: Any = None
    params: dict[str, str] | None = None
    # A multipart upload: the form's fields, and its file (name, bytes).
    data: dict[str, str] | None = None
    files: dict[str, tuple[str, bytes]] | None = None


@dataclass(frozen=True)
class Sleep:
    seconds: float


@dataclass(frozen=True)
class Blocking:
    """Local blocking work (a file read or written): the async client runs it in a thread."""

    run: Callable[[], Any]


Op = Request | Sleep | Blocking
# An endpoint's steps: what it needs done, then its result.
Steps = Generator[Op, Any, T]


@dataclass(frozen=True)
class Answer(Generic[T]):
    """How a route's successful answer is read. ``models`` are what its JSON is read into,
    checked against the server's description of the route (``media`` says what the answer
    is when it is not JSON)."""

    read: Callable[[httpx.Response], T]
    models: tuple[type[BaseModel], ...] = ()
    media: str = "application/json"


def as_model(kind: type[M]) -> Answer[M]:
    """An answer that is one model."""
    return Answer(lambda response: kind.model_validate_json(response.content), (kind,))


def _json_object(response: httpx.Response) -> dict[str, Any]:
    found = response.json()
    if not isinstance(found, dict):
        raise TypeError(f"expected a JSON object, got {type(found).__name__}")
    return found


# An answer the server describes as a free JSON object (workflows, stats): a dict.
JSON_OBJECT: Answer[dict[str, Any]] = Answer(_json_object)
# 204 No Content.
NOTHING: Answer[None] = Answer(lambda _: None, media="")
# A file, as its bytes.
FILE: Answer[bytes] = Answer(lambda response: response.content, media="*/*")


@dataclass(frozen=True)
class Call(Generic[T]):
    """A request and how its answer is read."""

    request: Request
    answer: Answer[T]


@dataclass(frozen=True)
class Route(Generic[T]):
    """One of the API's routes as the SDK calls it: its method and path (``{name}`` for a
    path parameter), the model of its body (JSON, or with ``form`` a multipart form beside a
    file), the query parameters it may send and how its answer is read. Routes are module
    constants of ``tafsiri_client._endpoints``, where the server's tests find them all."""

    method: str
    path: str
    answer: Answer[T]
    body: type[Body] | None = None
    form: bool = False
    query: tuple[str, ...] = field(default=())

    def request(
        self,
        body: Body | None = None,
        *,
        params: dict[str, str | None] | None = None,
        file: tuple[str, bytes] | None = None,
        **path: str,
    ) -> Request:
        if not (body is None if self.body is None else isinstance(body, self.body)):
            raise TypeError(f"{self.method} {self.path} takes a {self.body}, not {body!r}")
        unknown = set(params or {}) - set(self.query)
        if unknown:
            raise TypeError(f"{self.method} {self.path} takes no query {sorted(unknown)}")
        quoted = {name: quote(value, safe="") for name, value in path.items()}
        sent = body.sent() if body is not None else None
        return Request(
            self.method,
            self.path.format(**quoted),
            json=None if self.form else sent,
            params={k: v for k, v in (params or {}).items() if v} or None,
            data=sent if self.form else None,
            files={"file": file} if file is not None else None,
        )

    def call(
        self,
        body: Body | None = None,
        *,
        params: dict[str, str | None] | None = None,
        file: tuple[str, bytes] | None = None,
        **path: str,
    ) -> Call[T]:
        return Call(self.request(body, params=params, file=file, **path), self.answer)


def retry_delay(response: httpx.Response) -> float:
    """Seconds to wait before retrying a 429: its ``retry_after`` (1 s when it gives none),
    at most 60."""
    body = error_body(response.status_code, response.content, response.headers.get("retry-after"))
    return min(60.0, body.retry_after or 1.0)


def send(call: Call[T], max_retries: int) -> Steps[T]:
    """Sends a request; a 429 is sent again after its ``retry_after``, up to ``max_retries``
    times. An error answer raises :class:`TafsiriError` (of its status's class)."""
    for attempt in itertools.count():
        response: httpx.Response = yield call.request
        if response.status_code == 429 and attempt < max_retries:
            yield Sleep(retry_delay(response))
            continue
        if response.status_code >= 400:
            raise error_of(response)
        return call.answer.read(response)
    raise AssertionError("unreachable")


class Poll:
    """Backoff between polls (×1.5, up to 5 s); :class:`WaitTimeoutError` at the deadline."""

    def __init__(self, what: str, timeout: float, interval: float) -> None:
        self.what, self.timeout = what, timeout
        self.deadline = time.monotonic() + timeout
        self.delay = interval

    def sleep(self, status: str) -> Sleep:
        delay, self.delay = self.delay, min(5.0, self.delay * 1.5)
        if time.monotonic() + delay > self.deadline:
            raise WaitTimeoutError(f"{self.what} still {status} after {self.timeout} s")
        return Sleep(delay)


def settled(job: JobStatusResponse) -> bool:
    """Whether the job is over; raises :class:`JobFailedError` unless it ended ``done``."""
    if job.status not in TERMINAL:
        return False
    if job.status != "done":
        raise JobFailedError(job)
    return True


class EventReader:
    """Server-sent events out of a stream's lines; an ``error`` event raises
    :class:`TafsiriError` (status 500: the stream had begun)."""

    def __init__(self) -> None:
        self._event = "message"

    def feed(self, line: str) -> StreamEvent | None:
        if line.startswith("event:"):
            self._event = line[6:].strip()
        elif line.startswith("data:"):
            event = StreamEvent(event=self._event, data=json.loads(line[5:]))
            self._event = "message"
            if event.event == "error":
                raise TafsiriError(500, error_body(500, line[5:].encode()))
            return event
        return None


def run_steps(steps: Steps[T], do: Callable[[Op], Any]) -> T:
    """Runs steps with blocking calls: ``do`` carries out each op."""
    reply: Any = None
    while True:
        try:
            op = steps.send(reply)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        reply = do(op)


async def arun_steps(steps: Steps[T], do: Callable[[Op], Coroutine[Any, Any, Any]]) -> T:
    """Runs steps on an event loop: ``do`` awaits each op."""
    reply: Any = None
    while True:
        try:
            op = steps.send(reply)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        reply = await do(op)


def bound(method: F, definition: Callable[..., Any]) -> F:
    """A client's method made of an endpoint's definition: its name, docstring and signature
    (less ``self``), for ``help`` and editors."""
    method.__name__ = definition.__name__
    method.__qualname__ = definition.__qualname__
    method.__doc__ = definition.__doc__
    method.__signature__ = _signature_less_self(definition)  # type: ignore[attr-defined]
    return method


@functools.cache
def _signature_less_self(definition: Callable[..., Any]) -> inspect.Signature:
    signature = inspect.signature(definition)
    return signature.replace(
        parameters=list(signature.parameters.values())[1:],
        return_annotation=inspect.Signature.empty,
    )


class endpoint(Generic[P, T]):  # noqa: N801 (a decorator, named like one)
    """A method of both clients, written once as steps (see the module's docstring)."""

    def __init__(self, steps: Callable[Concatenate[Any, P], Steps[T]]) -> None:
        self.steps = steps
        self.__doc__ = steps.__doc__
        self.__wrapped__ = steps

    @overload
    def __get__(self, client: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(self, client: Client, owner: type[Any]) -> Callable[P, T]: ...
    @overload
    def __get__(
        self, client: AsyncClient, owner: type[Any]
    ) -> Callable[P, Coroutine[Any, Any, T]]: ...
    def __get__(self, client: Any, owner: type[Any]) -> Any:
        if client is None:
            return self
        return client._bind(self.steps)


class stream_endpoint(Generic[P]):  # noqa: N801 (a decorator, named like one)
    """A streamed method of both clients: its request, written once; the events come as an
    iterator from :class:`Client`, an async iterator from :class:`AsyncClient`. Closing it
    early closes the connection."""

    def __init__(self, request: Callable[Concatenate[Any, P], Request]) -> None:
        self.request = request
        self.__doc__ = request.__doc__
        self.__wrapped__ = request

    @overload
    def __get__(self, client: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(self, client: Client, owner: type[Any]) -> Callable[P, Iterator[StreamEvent]]: ...
    @overload
    def __get__(
        self, client: AsyncClient, owner: type[Any]
    ) -> Callable[P, AsyncIterator[StreamEvent]]: ...
    def __get__(self, client: Any, owner: type[Any]) -> Any:
        if client is None:
            return self
        return client._bind_stream(self.request)
