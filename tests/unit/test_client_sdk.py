"""The SDK against a scripted service (httpx's mock transport): both clients send the same
requests and read the same models, errors come as typed exceptions, 429s are retried, jobs
are waited for and streams read. The real service is in tests/serve/test_client.py."""

from __future__ import annotations

import asyncio
import inspect
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tafsiri_client import (
    AsyncClient,
    BadRequestError,
    BatchDetectResponse,
    BatchTranslateResponse,
    Client,
    DetectResponse,
    JobFailedError,
    JobStatusResponse,
    MultiTargetBatchTranslateResponse,
    MultiTargetTranslateResponse,
    NotFoundError,
    RateLimitError,
    ServerError,
    StreamEvent,
    TafsiriError,
    TranslateResponse,
    WaitTimeoutError,
)

NOW = "2026-01-02T03:04:05Z"
SERVED = {
    "character_count": 5,
    "inference_time": 0.1,
    "beam_size": 4,
    "model": "tiny",
    "model_is_fallback": False,
    "total_time": 0.2,
    "request_id": "req-1",
    "timestamp": NOW,
}
ITEM = {
    "translated_text": "Habari",
    "source_language": "eng_Latn",
    "source_language_detected": False,
    "character_count": 5,
}
DETECTION = {
    "language": "fra_Latn",
    "language_name": "French",
    "confidence": 0.9,
    "reliable": True,
    "candidates": [{"language": "fra_Latn", "language_name": "French", "confidence": 0.9}],
    "character_count": 7,
}
LANGUAGE = {
    "code": "swh_Latn",
    "name": "Swahili",
    "native_name": "Kiswahili",
    "script": "Latn",
    "script_name": "Latin",
    "region": "Africa",
    "iso639_1": "sw",
    "iso639_3": "swh",
}
ACCEPTED = {
    "token": "tok",
    "status": "queued",
    "estimated_completion_seconds": 2,
    "message": "queued",
    "status_url": "/api/v1/jobs/tok",
}
JOB = {
    "token": "tok",
    "kind": "text",
    "status": "done",
    "created_at": NOW,
    "updated_at": NOW,
    "retries": 0,
    "metadata": {},
    "dsl": "workflow: {}",
    "result": {"translations": ["Habari"]},
}
SUMMARY = {
    "id": "g1",
    "name": "terms",
    "created_at": NOW,
    "entry_count": 1,
    "language_pairs": [{"source_language": "eng_Latn", "target_language": "swh_Latn"}],
}
MEMORY = {"id": "m1", "name": "tm", "created_at": NOW, "entry_count": 2, "languages": ["en", "sw"]}
TMX = b'<tmx version="1.4"><header srclang="en"/><body/></tmx>'
GLOSSARY = {
    **SUMMARY,
    "entries": [
        {
            "source_language": "eng_Latn",
            "target_language": "swh_Latn",
            "source": "cloud",
            "target": "wingu",
        }
    ],
}
CORRECTION = {
    "id": "c1",
    "text": "Habari",
    "translation": "Hello",
    "source_language": "swh_Latn",
    "target_language": "eng_Latn",
    "created_at": NOW,
    "created_by": None,
}
RUN = {"workflow_id": "w1", "status": "done", "tasks": {}}
STREAM = (
    'event: sentence\ndata: {"index": 0, "delta": "One.", "translation": "One."}\n\n'
    'event: sentence\ndata: {"index": 1, "delta": " Two.", "translation": "Two."}\n\n'
    'event: done\ndata: {"translated_text": "One. Two.", "source_language": "eng_Latn", '
    '"sentences": 2, "model_name": "default"}\n\n'
)


def translated(body: dict[str, Any]) -> dict[str, Any]:
    """The answer's shape follows the request's, as the service's does."""
    texts, targets = body["text"], body["target_language"]
    if isinstance(targets, list):
        per = [ITEM] * len(texts) if isinstance(texts, list) else ITEM
        return {**SERVED, "target_languages": targets, "translations": dict.fromkeys(targets, per)}
    if isinstance(texts, list):
        return {**SERVED, "translations": [ITEM] * len(texts), "target_language": targets}
    return {**SERVED, **ITEM, "target_language": targets, "added_by_a_newer_server": 1}


def service(request: httpx.Request) -> httpx.Response:
    """A scripted Tafsiri: one canned answer per route."""
    route = f"{request.method} {request.url.path}"
    body = (
        json.loads(request.content)
        if request.headers.get("content-type") == ("application/json")
        else None
    )
    answers: dict[str, Callable[[], httpx.Response]] = {
        "POST /api/v1/translate": lambda: httpx.Response(200, json=translated(body)),
        "POST /api/v1/translate/stream": lambda: httpx.Response(
            200, text=STREAM, headers={"content-type": "text/event-stream"}
        ),
        "POST /api/v1/detect-language": lambda: httpx.Response(
            200,
            json={**SERVED, "results": [DETECTION]}
            if isinstance(body["text"], list)
            else {**SERVED, **DETECTION},
        ),
        "GET /api/v1/languages": lambda: httpx.Response(
            200, json={"languages": [LANGUAGE], "total": 1, "regions": {"Africa": 1}}
        ),
        "GET /api/v1/languages/sw": lambda: httpx.Response(200, json=LANGUAGE),
        "GET /api/v1/models": lambda: httpx.Response(
            200,
            json={
                "models": [{"name": "default", "model": "tiny", "default": True}],
                "routes": [],
                "max_models_per_replica": 2,
            },
        ),
        "GET /health": lambda: httpx.Response(
            200,
            json={
                "status": "healthy",
                "version": "0.1.0",
                "components": {"translator": {"status": "healthy"}},
                "models_loaded": {"translation": True},
                "timestamp": NOW,
            },
        ),
        "GET /stats": lambda: httpx.Response(200, json={"backend": "sqlite"}),
        "POST /api/v1/workflows/translate": lambda: httpx.Response(202, json=ACCEPTED),
        "POST /api/v1/jobs/translate": lambda: httpx.Response(202, json=ACCEPTED),
        "GET /api/v1/jobs/tok": lambda: httpx.Response(200, json=JOB),
        "POST /api/v1/documents": lambda: httpx.Response(202, json=ACCEPTED),
        "GET /api/v1/documents/tok/result": lambda: httpx.Response(200, content=b"translated"),
        "POST /api/v1/glossaries": lambda: httpx.Response(201, json=GLOSSARY),
        "GET /api/v1/glossaries": lambda: httpx.Response(200, json={"glossaries": [SUMMARY]}),
        "GET /api/v1/glossaries/g1": lambda: httpx.Response(200, json=GLOSSARY),
        "DELETE /api/v1/glossaries/g1": lambda: httpx.Response(204),
        "POST /api/v1/memories": lambda: httpx.Response(201, json={**MEMORY, "skipped": 1}),
        "GET /api/v1/memories": lambda: httpx.Response(200, json={"memories": [MEMORY]}),
        "GET /api/v1/memories/m1": lambda: httpx.Response(200, json=MEMORY),
        "GET /api/v1/memories/m1/export": lambda: httpx.Response(200, content=TMX),
        "DELETE /api/v1/memories/m1": lambda: httpx.Response(204),
        "POST /api/v1/corrections": lambda: httpx.Response(201, json=CORRECTION),
        "GET /api/v1/corrections": lambda: httpx.Response(200, json={"corrections": [CORRECTION]}),
        "DELETE /api/v1/corrections/c1": lambda: httpx.Response(204),
        "POST /api/v1/workflows/dsl": lambda: httpx.Response(200, json={"valid": True, **RUN}),
        "GET /api/v1/workflows/w1": lambda: httpx.Response(200, json=RUN),
        "DELETE /api/v1/workflows/w1": lambda: httpx.Response(200, json={**RUN, "status": "x"}),
        "POST /api/v1/workflows/suggest": lambda: httpx.Response(200, json={"suggestions": []}),
    }
    answer = answers.get(route)
    if answer is None:
        return httpx.Response(404, json={"detail": f"no {route}", "errors": [], "timestamp": NOW})
    return answer()


def sent(request: httpx.Request) -> tuple[str, str, Any]:
    """What a request carried: JSON as data, a form by its field names and values."""
    kind = request.headers.get("content-type", "")
    if kind.startswith("multipart/form-data"):
        fields = re.findall(
            rb'name="(\w+)"(?:; filename="[^"]*")?\r\n(?:[^\r]*\r\n)*?\r\n([^\r]*)', request.content
        )
        content: Any = sorted((k.decode(), v.decode()) for k, v in fields)
    else:
        content = json.loads(request.content) if request.content else None
    return request.method, str(request.url), content


Answering = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """The scripted service, keeping each request."""

    def __init__(self, answer: Answering = service) -> None:
        self.answer = answer
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        return self.answer(request)


def run_both(
    name: str,
    *args: Any,
    answer: Answering = service,
    **kwargs: Any,
) -> tuple[Any, Any, Recorder, Recorder]:
    """One method on a :class:`Client` and an :class:`AsyncClient`: results and requests."""
    sync, async_ = Recorder(answer), Recorder(answer)
    with Client("http://tafsiri.test", transport=httpx.MockTransport(sync)) as client:
        first = getattr(client, name)(*args, **kwargs)

    async def call() -> Any:
        transport = httpx.MockTransport(async_)
        async with AsyncClient("http://tafsiri.test", transport=transport) as client:
            return await getattr(client, name)(*args, **kwargs)

    return first, asyncio.run(call()), sync, async_


CALLS: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
    ("translate", ("Hello", "sw"), {}),
    ("translate", (["A.", "B."], "sw", "en"), {"alternatives": 1, "model": "tiny"}),
    ("translate", ("Hello", ["sw", "fr"]), {"quality": True, "min_quality": 0.5}),
    ("translate", (["A."], ["sw", "fr"]), {"glossary_id": "g1", "glossary_mode": "prefer"}),
    ("detect", ("Bonjour",), {}),
    ("detect", (["Bonjour", "Hallo"],), {"top_k": 2}),
    ("languages", (), {"region": "Africa"}),
    ("language", ("sw",), {}),
    ("models", (), {}),
    ("health", (), {}),
    ("stats", (), {}),
    ("submit_workflow_translation", ("Load iris.csv and show it",), {"priority": 7}),
    ("submit_text_job", (["A.", "B."], "sw"), {"format": "html", "min_quality": 0.2}),
    ("job", ("tok",), {}),
    ("wait_job", ("tok",), {}),
    ("document_result", ("tok",), {}),
    ("create_glossary", ("terms", [{"source": "cloud", "target": "wingu"}]), {}),
    ("create_glossary", ("terms",), {"entries_csv": "cloud,wingu\n", "source_language": "en"}),
    ("glossaries", (), {}),
    ("glossary", ("g1",), {}),
    ("delete_glossary", ("g1",), {}),
    ("memories", (), {}),
    ("memory", ("m1",), {}),
    ("export_memory", ("m1",), {}),
    ("delete_memory", ("m1",), {}),
    ("correct", ("Habari", "Hello", "sw", "en"), {"original": "Hi"}),
    ("corrections", (), {}),
    ("delete_correction", ("c1",), {}),
    ("translate_workflow", ("Load iris.csv and show it",), {}),
    ("validate_dsl", ("workflow: {}",), {}),
    ("run_dsl", ("workflow: {}",), {"priority": 3}),
    ("workflow", ("w1",), {}),
    ("cancel_workflow", ("w1",), {}),
    ("wait_workflow", ("w1",), {}),
    ("suggest", ("sales data",), {}),
]


# Tested on their own below.
UNCALLED = {"translate_stream", "submit_document", "translate_document", "create_memory"}


@pytest.mark.parametrize(("name", "args", "kwargs"), CALLS, ids=[c[0] for c in CALLS])
def test_both_clients_send_the_same_requests_and_read_the_same_results(
    name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    first, second, sync, async_ = run_both(name, *args, **kwargs)
    assert first == second
    assert [sent(r) for r in sync.requests] == [sent(r) for r in async_.requests]
    assert sync.requests, "nothing was sent"


def test_a_memory_is_created_from_a_tmx_file(tmp_path: Path) -> None:
    tmx = tmp_path / "tm.tmx"
    tmx.write_bytes(TMX)
    first, second, sync, async_ = run_both("create_memory", tmx)
    assert first == second
    assert (first.id, first.skipped) == ("m1", 1)
    (request,) = sync.requests
    assert (request.method, request.url.path) == ("POST", "/api/v1/memories")
    assert TMX in request.content
    assert b'filename="tm.tmx"' in request.content
    assert [sent(r) for r in sync.requests] == [sent(r) for r in async_.requests]


def test_every_endpoint_is_a_method_of_both_clients() -> None:
    def public(client: object) -> set[str]:
        return {n for n in dir(client) if not n.startswith("_") and callable(getattr(client, n))}

    sync, async_ = Client(), AsyncClient()
    assert public(sync) - {"close"} == public(async_) - {"aclose"}
    assert public(sync) == {*(c[0] for c in CALLS), *UNCALLED, "close"}
    for name in public(async_) - {"aclose", "translate_stream"}:
        assert inspect.iscoroutinefunction(getattr(async_, name)), name
    assert inspect.isasyncgenfunction(async_.translate_stream)


def test_a_method_has_its_definitions_name_docs_and_signature() -> None:
    method = Client().translate
    assert method.__name__ == "translate"
    assert "MultiTargetTranslateResponse" in (method.__doc__ or "")
    assert list(inspect.signature(method).parameters)[:3] == [
        "text",
        "target_language",
        "source_language",
    ]
    assert Client.translate.__doc__ == method.__doc__


def test_each_shape_of_a_translate_answer_is_its_model() -> None:
    shapes = [
        ("Hi", "sw", TranslateResponse),
        (["Hi"], "sw", BatchTranslateResponse),
        ("Hi", ["sw", "fr"], MultiTargetTranslateResponse),
        (["Hi"], ["sw", "fr"], MultiTargetBatchTranslateResponse),
    ]
    for text, target, model in shapes:
        answer, *_ = run_both("translate", text, target)
        assert type(answer) is model
    single, *_ = run_both("translate", "Hi", "sw")
    assert single.model_extra == {"added_by_a_newer_server": 1}  # kept, not refused
    assert type(run_both("detect", "Hi")[0]) is DetectResponse
    assert type(run_both("detect", ["Hi"])[0]) is BatchDetectResponse


def test_what_is_sent() -> None:
    _, _, sync, _ = run_both("translate", "Hello", "sw")
    body = json.loads(sync.requests[0].content)
    assert "model" not in body  # unset: left out, so servers before the field take it
    assert body["format"] == "text"
    assert body["protect_spans"] is True
    _, _, sync, _ = run_both("languages", search="swa")
    assert str(sync.requests[0].url) == "http://tafsiri.test/api/v1/languages?search=swa"
    _, _, sync, _ = run_both("submit_text_job", ["A"], "sw")
    assert json.loads(sync.requests[0].content)["client_id"] == "default"
    with Client(api_key="k3y", transport=httpx.MockTransport(Recorder())) as client:
        client.health()
        request = client._http.build_request("GET", "/")
    assert request.headers["authorization"] == "Bearer k3y"
    assert request.headers["user-agent"].startswith("tafsiri-client/")


def error(status: int, **body: Any) -> Callable[[httpx.Request], httpx.Response]:
    return lambda _: httpx.Response(status, json={"timestamp": NOW, **body})


def test_an_error_answer_is_a_typed_exception() -> None:
    refused = error(
        400,
        detail="Unknown language",
        errors=[{"field": "target_language", "message": "unknown", "code": "UNSUPPORTED_LANGUAGE"}],
        request_id="req-9",
    )
    for client_error in caught("language", "xx", answer=refused):
        assert type(client_error) is BadRequestError
        assert client_error.status == 400
        assert client_error.errors[0].code == "UNSUPPORTED_LANGUAGE"
        assert client_error.request_id == "req-9"
        assert client_error.error.detail == "Unknown language"
        assert "target_language: unknown" in str(client_error)
    missing = error(404, detail="Not found")
    assert {type(e) for e in caught("glossary", "g2", answer=missing)} == {NotFoundError}
    html = lambda _: httpx.Response(502, text="<html>Bad gateway</html>")  # noqa: E731
    for client_error in caught("health", answer=html):
        assert type(client_error) is ServerError
        assert client_error.detail == "<html>Bad gateway</html>"
    odd = error(418, detail=None, something="else")
    for client_error in caught("health", answer=odd):
        assert (type(client_error), client_error.detail) == (TafsiriError, "HTTP 418")


def caught(name: str, *args: Any, answer: Answering) -> Iterator[Exception]:
    """The exception each client raises for the call."""
    client = Client(transport=httpx.MockTransport(answer))
    with client, pytest.raises(Exception) as sync:  # noqa: PT011 (the caller checks the class)
        getattr(client, name)(*args)

    async def call() -> None:
        async with AsyncClient(transport=httpx.MockTransport(answer)) as client:
            await getattr(client, name)(*args)

    with pytest.raises(Exception) as async_:  # noqa: PT011
        asyncio.run(call())
    yield sync.value
    yield async_.value


def test_a_429_is_retried_after_its_retry_after() -> None:
    def limited_twice() -> Recorder:
        refusals = [httpx.Response(429, json={"detail": "slow down", "retry_after": 0.01})] * 2
        return Recorder(lambda request: refusals.pop() if refusals else service(request))

    recorder = limited_twice()
    with Client(transport=httpx.MockTransport(recorder)) as client:
        assert client.job("tok").status == "done"
    assert len(recorder.requests) == 3

    async def call() -> str:
        async with AsyncClient(transport=httpx.MockTransport(limited_twice())) as client:
            return (await client.job("tok")).status

    assert asyncio.run(call()) == "done"
    always = Recorder(
        lambda _: httpx.Response(429, json={"detail": "slow"}, headers={"Retry-After": "0.01"})
    )
    client = Client(max_retries=1, transport=httpx.MockTransport(always))
    with client, pytest.raises(RateLimitError) as limited:
        client.job("tok")
    assert limited.value.retry_after == 0.01  # from the header, when the body has none
    assert len(always.requests) == 2


def jobs(*statuses: str) -> Callable[[httpx.Request], httpx.Response]:
    """A job that is in each of ``statuses`` in turn (then stays in the last)."""
    states = list(statuses)

    def answer(_: httpx.Request) -> httpx.Response:
        status = states.pop(0) if len(states) > 1 else states[0]
        return httpx.Response(200, json={**JOB, "status": status, "error_message": "why"})

    return answer


def seen_as(seen: list[str]) -> Callable[[JobStatusResponse], None]:
    return lambda job: seen.append(job.status)


def test_waiting_for_a_job() -> None:
    seen: list[str] = []
    with Client(transport=httpx.MockTransport(jobs("queued", "processing", "done"))) as client:
        job = client.wait_job("tok", poll_interval=0.001, on_progress=seen_as(seen))
    assert (job.status, seen) == ("done", ["queued", "processing", "done"])
    for failed in caught("wait_job", "tok", answer=jobs("processing", "needs_human")):
        assert isinstance(failed, JobFailedError)
        assert failed.job.status == "needs_human"
        assert "ended needs_human: why" in str(failed)

    async def wait() -> None:
        async with AsyncClient(transport=httpx.MockTransport(jobs("processing"))) as client:
            await client.wait_job("tok", timeout=0.05, poll_interval=0.01)

    with pytest.raises(WaitTimeoutError, match="job tok still processing"):
        asyncio.run(wait())


def test_a_document_is_uploaded_waited_for_and_written_beside_it(tmp_path: Path) -> None:
    report = tmp_path / "report.docx"
    report.write_bytes(b"original")
    recorder = Recorder()
    with Client(transport=httpx.MockTransport(recorder)) as client:
        written = client.translate_document(report, "fr", source_language="en")
    assert written == tmp_path / "report.fr.docx"
    assert written.read_bytes() == b"translated"
    upload = sent(recorder.requests[0])
    assert upload[2] == sorted(
        [
            ("client_id", "default"),
            ("file", "original"),
            ("priority", "5"),
            ("source_language", "en"),
            ("target_language", "fr"),
        ]
    )

    async def translate() -> Path:
        async with AsyncClient(transport=httpx.MockTransport(service)) as client:
            return await client.translate_document(report, "sw", output=tmp_path / "out.docx")

    assert asyncio.run(translate()).read_bytes() == b"translated"


def test_a_stream_is_read_as_events_by_both_clients() -> None:
    with Client(transport=httpx.MockTransport(service)) as client:
        events = list(client.translate_stream("One. Two.", "sw", "en"))
    assert [e.event for e in events] == ["sentence", "sentence", "done"]
    assert events[-1].data["translated_text"] == "One. Two."

    async def read() -> list[StreamEvent]:
        async with AsyncClient(transport=httpx.MockTransport(service)) as client:
            return [e async for e in client.translate_stream("One. Two.", "sw", "en")]

    assert asyncio.run(read()) == events
    broken = lambda _: httpx.Response(  # noqa: E731
        200,
        text='event: error\ndata: {"detail": "The model failed", "errors": []}\n\n',
        headers={"content-type": "text/event-stream"},
    )
    client = Client(transport=httpx.MockTransport(broken))
    with client, pytest.raises(TafsiriError, match="The model failed"):
        list(client.translate_stream("One.", "sw"))
    refused = error(413, detail="Text too long")
    client = Client(transport=httpx.MockTransport(refused))
    with client, pytest.raises(TafsiriError, match="413 Text too long"):
        list(client.translate_stream("One.", "sw"))
