"""What an ingress replica admits: load shedding, and nothing new once the service stops."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from serve_app.api.admission import Admission
from serve_app.api.middleware import AdmissionMiddleware
from serve_app.serving import StopNotice


def run(admission: Admission, path: str, app_done: asyncio.Event | None = None) -> Any:
    """Calls the middleware once; returns the response's status, headers and body."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if app_done is not None:
            await app_done.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def call() -> tuple[int, dict[bytes, bytes], bytes]:
        scope = {"type": "http", "path": path, "method": "POST", "state": {}}
        await AdmissionMiddleware(app, admission)(scope, receive, send)
        return sent[0]["status"], dict(sent[0]["headers"]), sent[1]["body"]

    return call()


def test_a_stopping_replica_refuses_new_requests_and_finishes_those_it_has() -> None:
    async def scenario() -> None:
        admission = Admission(limit=2)
        release = asyncio.Event()
        in_flight = asyncio.ensure_future(run(admission, "/api/v1/translate", release))
        await asyncio.sleep(0)
        assert admission.in_flight == 1
        admission.stop()
        status, headers, body = await run(admission, "/api/v1/translate")
        assert status == 503
        assert headers[b"connection"] == b"close"  # the client goes elsewhere
        assert headers[b"retry-after"] == b"1"
        assert json.loads(body)["errors"][0]["code"] == "STOPPING"
        assert (await run(admission, "/health"))[0] == 200  # still answers its probes
        idle = asyncio.ensure_future(admission.idle())
        await asyncio.sleep(0)
        assert not idle.done()
        release.set()
        assert (await in_flight)[0] == 200
        await asyncio.wait_for(idle, 1)
        assert admission.in_flight == 0

    asyncio.run(scenario())


def test_past_the_limit_requests_are_shed_as_overloaded() -> None:
    async def scenario() -> None:
        admission = Admission(limit=1)
        release = asyncio.Event()
        first = asyncio.ensure_future(run(admission, "/api/v1/translate", release))
        await asyncio.sleep(0)
        status, headers, body = await run(admission, "/api/v1/translate")
        assert (status, json.loads(body)["errors"][0]["code"]) == (503, "OVERLOADED")
        assert b"connection" not in headers
        release.set()
        assert (await first)[0] == 200
        assert admission.refusal() is None

    asyncio.run(scenario())


def test_the_stop_notice_waits_for_every_watching_replica() -> None:
    async def scenario() -> None:
        notice = StopNotice()
        watches = [asyncio.ensure_future(notice.watch(name)) for name in ("a", "b")]
        await asyncio.sleep(0)
        assert await notice.busy() == ["a", "b"]
        assert not any(watch.done() for watch in watches)
        await notice.stop()
        await asyncio.wait_for(asyncio.gather(*watches), 1)
        await notice.drained("a")
        assert await notice.busy() == ["b"]
        await notice.drained("b")
        assert await notice.busy() == []

    asyncio.run(scenario())
