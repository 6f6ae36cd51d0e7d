"""Python SDK for Tafsiri: sync :class:`Client` and async :class:`AsyncClient`.

Results are the API's own pydantic models; failures raise :class:`TafsiriError` (or a subclass)
carrying the error format's fields. 429 answers are retried after ``retry_after``.

    from serve_app.client import Client

    with Client("http://127.0.0.1:8000") as tafsiri:
        print(tafsiri.translate("Habari za asubuhi", "eng_Latn").translated_text)
        dsl = tafsiri.translate_workflow("Load iris.csv and show missing values")
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import httpx

from serve_app.api.schemas import (
    BatchDetectResponse,
    BatchTranslateResponse,
    CorrectionListResponse,
    CorrectionOut,
    DetectResponse,
    GlossaryListResponse,
    GlossaryOut,
    GlossarySummaryOut,
    JobAccepted,
    JobStatusResponse,
    LanguagesResponse,
    MultiTargetBatchTranslateResponse,
    MultiTargetTranslateResponse,
    TranslateResponse,
)
from serve_app.engines.languages import Language

T = TypeVar("T")
TERMINAL = frozenset({"done", "error", "timeout", "needs_human"})
DEFAULT_URL = "http://127.0.0.1:8000"


class TafsiriError(Exception):
    """An error answer: ``status``, ``detail``, ``errors`` ([{field, message, code}]),
    ``request_id`` and, for 429, ``retry_after``."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status = status
        self.body = body
        self.detail = str(body.get("detail", f"HTTP {status}"))
        self.errors: list[dict[str, Any]] = body.get("errors") or []
        self.request_id: str | None = body.get("request_id")
        self.retry_after: float | None = body.get("retry_after")
        fields = ", ".join(f"{e.get('field')}: {e.get('message')}" for e in self.errors[:3])
        super().__init__(f"{status} {self.detail}" + (f" ({fields})" if fields else ""))


class BadRequestError(TafsiriError): ...


class AuthenticationError(TafsiriError): ...


class NotFoundError(TafsiriError): ...


class PayloadTooLargeError(TafsiriError): ...


class ValidationFailedError(TafsiriError): ...


class RateLimitError(TafsiriError): ...


class ServerError(TafsiriError): ...


_ERRORS: dict[int, type[TafsiriError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    404: NotFoundError,
    413: PayloadTooLargeError,
    422: ValidationFailedError,
    429: RateLimitError,
}


class JobFailedError(Exception):
    """A job that ended in ``error``, ``timeout`` or ``needs_human``."""

    def __init__(self, job: JobStatusResponse) -> None:
        self.job = job
        super().__init__(f"job {job.token} ended {job.status}: {job.error_message}")


class WaitTimeoutError(TimeoutError):
    pass


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request and how to read its answer."""

    method: str
    path: str
    parse: Callable[[Any], T]
    json: dict[str, Any] | None = None
    params: dict[str, Any] | None = None
    # A multipart upload: the file, and the form's other fields.
    files: dict[str, tuple[str, bytes]] | None = None
    data: dict[str, Any] | None = None
    # The answer is a file: ``parse`` gets its bytes, not JSON.
    binary: bool = False

    def answer(self, response: httpx.Response) -> T:
        if self.binary:
            return self.parse(response.content)
        return self.parse(response.json() if response.content else None)


@dataclass(frozen=True)
class StreamEvent:
    """One server-sent event of :meth:`Client.translate_stream`: ``sentence`` (``index``,
    ``delta`` to append, ``translation``) or ``done`` (``translated_text``,
    ``source_language``, ``sentences``, ``model_name``)."""

    event: str
    data: dict[str, Any]


class _EventReader:
    """Server-sent events out of a stream's lines; an ``error`` event raises."""

    def __init__(self) -> None:
        self._event = "message"

    def feed(self, line: str) -> StreamEvent | None:
        if line.startswith("event:"):
            self._event = line[6:].strip()
        elif line.startswith("data:"):
            event = StreamEvent(self._event, json.loads(line[5:]))
            self._event = "message"
            if event.event == "error":
                raise TafsiriError(500, event.data)
            return event
        return None


def _document_name(path: Path, target: str, output_format: str | None) -> Path:
    """``report.docx`` into French: ``report.fr.docx`` beside it (``.txt`` for a PDF)."""
    suffix = f".{output_format}" if output_format else path.suffix
    if path.suffix.lower() == ".pdf" and not output_format:
        suffix = ".txt"
    return path.with_name(f"{path.stem}.{target.split('_')[0]}{suffix}")


def _error(response: httpx.Response) -> TafsiriError:
    try:
        body = response.json()
    except ValueError:
        body = {"detail": response.text[:500]}
    if not isinstance(body, dict):
        body = {"detail": str(body)}
    kind = _ERRORS.get(
        response.status_code, ServerError if response.status_code >= 500 else TafsiriError
    )
    return kind(response.status_code, body)


class _Endpoints:
    """The requests of every endpoint, shared by both clients."""

    @staticmethod
    def translate(
        text: str | list[str],
        target: str | list[str],
        source: str | None,
        alternatives: int,
        beam_size: int | None,
        text_format: str = "text",
        protect_spans: bool = True,
        quality: bool = False,
        min_quality: float | None = None,
        glossary_id: str | None = None,
        glossary_mode: str = "enforce",
        model: str | None = None,
    ) -> Call[Any]:
        def parse(body: dict[str, Any]) -> Any:
            if "target_languages" in body:
                if isinstance(text, str):
                    return MultiTargetTranslateResponse.model_validate(body)
                return MultiTargetBatchTranslateResponse.model_validate(body)
            if "translations" in body:
                return BatchTranslateResponse.model_validate(body)
            return TranslateResponse.model_validate(body)

        return Call(
            "POST",
            "/api/v1/translate",
            parse,
            {
                "text": text,
                "target_language": target,
                "source_language": source,
                "alternatives": alternatives,
                "beam_size": beam_size,
                "format": text_format,
                "protect_spans": protect_spans,
                "quality": quality,
                "min_quality": min_quality,
                "glossary_id": glossary_id,
                "glossary_mode": glossary_mode,
                # Only when asked: servers before model routing refuse unknown fields.
                **({"model": model} if model is not None else {}),
            },
        )

    @staticmethod
    def models() -> Call[dict[str, Any]]:
        return Call("GET", "/api/v1/models", dict)

    @staticmethod
    def detect(text: str | list[str], top_k: int | None) -> Call[Any]:
        def parse(body: dict[str, Any]) -> DetectResponse | BatchDetectResponse:
            if "results" in body:
                return BatchDetectResponse.model_validate(body)
            return DetectResponse.model_validate(body)

        return Call("POST", "/api/v1/detect-language", parse, {"text": text, "top_k": top_k})

    @staticmethod
    def languages(search: str | None, region: str | None) -> Call[LanguagesResponse]:
        params = {k: v for k, v in {"search": search, "region": region}.items() if v}
        return Call("GET", "/api/v1/languages", LanguagesResponse.model_validate, params=params)

    @staticmethod
    def language(code: str) -> Call[Language]:
        return Call("GET", f"/api/v1/languages/{code}", lambda body: Language(**body))

    @staticmethod
    def submit_workflow_translation(
        natural_language: str, client_id: str, priority: int, metadata: dict[str, Any] | None
    ) -> Call[JobAccepted]:
        return Call(
            "POST",
            "/api/v1/workflows/translate",
            JobAccepted.model_validate,
            {
                "natural_language": natural_language,
                "client_id": client_id,
                "priority": priority,
                "metadata": metadata or {},
            },
        )

    @staticmethod
    def submit_text_job(
        texts: list[str],
        target: str,
        source: str | None,
        client_id: str,
        priority: int,
        text_format: str = "text",
        protect_spans: bool = True,
        quality: bool = False,
        min_quality: float | None = None,
        glossary_id: str | None = None,
        glossary_mode: str = "enforce",
    ) -> Call[JobAccepted]:
        return Call(
            "POST",
            "/api/v1/jobs/translate",
            JobAccepted.model_validate,
            {
                "texts": texts,
                "target_language": target,
                "source_language": source,
                "client_id": client_id,
                "priority": priority,
                "format": text_format,
                "protect_spans": protect_spans,
                "quality": quality,
                "min_quality": min_quality,
                "glossary_id": glossary_id,
                "glossary_mode": glossary_mode,
            },
        )

    @staticmethod
    def submit_document(
        filename: str,
        data: bytes,
        target: str,
        source: str | None,
        client_id: str,
        priority: int,
        output_format: str | None = None,
        glossary_id: str | None = None,
    ) -> Call[JobAccepted]:
        form = {"target_language": target, "client_id": client_id, "priority": str(priority)}
        optional = {
            "source_language": source,
            "output_format": output_format,
            "glossary_id": glossary_id,
        }
        form |= {key: value for key, value in optional.items() if value is not None}
        return Call(
            "POST",
            "/api/v1/documents",
            JobAccepted.model_validate,
            files={"file": (filename, data)},
            data=form,
        )

    @staticmethod
    def document_result(token: str) -> Call[bytes]:
        return Call("GET", f"/api/v1/documents/{token}/result", bytes, binary=True)

    @staticmethod
    def stream_body(
        text: str, target: str, source: str | None, model: str | None, beam_size: int | None
    ) -> dict[str, Any]:
        return {
            "text": text,
            "target_language": target,
            "source_language": source,
            "model": model,
            "beam_size": beam_size,
        }

    @staticmethod
    def create_glossary(
        name: str,
        entries: list[dict[str, str]] | None,
        entries_csv: str | None,
        source: str | None,
        target: str | None,
    ) -> Call[GlossaryOut]:
        body: dict[str, Any] = {"name": name, "source_language": source, "target_language": target}
        body |= {"entries": entries} if entries is not None else {"entries_csv": entries_csv}
        return Call("POST", "/api/v1/glossaries", GlossaryOut.model_validate, body)

    @staticmethod
    def glossaries() -> Call[list[GlossarySummaryOut]]:
        return Call(
            "GET",
            "/api/v1/glossaries",
            lambda body: GlossaryListResponse.model_validate(body).glossaries,
        )

    @staticmethod
    def glossary(glossary_id: str) -> Call[GlossaryOut]:
        return Call("GET", f"/api/v1/glossaries/{glossary_id}", GlossaryOut.model_validate)

    @staticmethod
    def delete_glossary(glossary_id: str) -> Call[None]:
        return Call("DELETE", f"/api/v1/glossaries/{glossary_id}", lambda _: None)

    @staticmethod
    def correct(
        text: str, translation: str, source: str, target: str, original: str | None
    ) -> Call[CorrectionOut]:
        body = {
            "text": text,
            "translation": translation,
            "source_language": source,
            "target_language": target,
            "original": original,
        }
        return Call("POST", "/api/v1/corrections", CorrectionOut.model_validate, body)

    @staticmethod
    def corrections() -> Call[list[CorrectionOut]]:
        return Call(
            "GET",
            "/api/v1/corrections",
            lambda body: CorrectionListResponse.model_validate(body).corrections,
        )

    @staticmethod
    def delete_correction(correction_id: str) -> Call[None]:
        return Call("DELETE", f"/api/v1/corrections/{correction_id}", lambda _: None)

    @staticmethod
    def job(token: str) -> Call[JobStatusResponse]:
        return Call("GET", f"/api/v1/jobs/{token}", JobStatusResponse.model_validate)

    @staticmethod
    def validate_dsl(dsl_yaml: str) -> Call[dict[str, Any]]:
        return Call(
            "POST", "/api/v1/workflows/dsl", dict, {"dsl_yaml": dsl_yaml, "validate_only": True}
        )

    @staticmethod
    def run_dsl(dsl_yaml: str, client_id: str, priority: int) -> Call[dict[str, Any]]:
        return Call(
            "POST",
            "/api/v1/workflows/dsl",
            dict,
            {"dsl_yaml": dsl_yaml, "client_id": client_id, "priority": priority},
        )

    @staticmethod
    def workflow(workflow_id: str) -> Call[dict[str, Any]]:
        return Call("GET", f"/api/v1/workflows/{workflow_id}", dict)

    @staticmethod
    def cancel_workflow(workflow_id: str) -> Call[dict[str, Any]]:
        return Call("DELETE", f"/api/v1/workflows/{workflow_id}", dict)

    @staticmethod
    def suggest(context: str, domain: str, complexity: str) -> Call[dict[str, Any]]:
        return Call(
            "POST",
            "/api/v1/workflows/suggest",
            dict,
            {"context": context, "domain": domain, "complexity": complexity},
        )

    @staticmethod
    def get(path: str) -> Call[dict[str, Any]]:
        return Call("GET", path, dict)


def _retry_delay(response: httpx.Response, attempt: int, max_retries: int) -> float | None:
    """Seconds to wait before retrying a 429; ``None`` for a success; raises for an error."""
    if response.status_code == 429 and attempt < max_retries:
        return min(60.0, float(_error(response).retry_after or 1))
    if response.status_code >= 400:
        raise _error(response)
    return None


class _Poll:
    """Backoff between polls (×1.5 up to 5 s); :class:`WaitTimeoutError` at the deadline."""

    def __init__(self, what: str, timeout: float, interval: float) -> None:
        self.what, self.timeout = what, timeout
        self.deadline = time.monotonic() + timeout
        self.delay = interval

    def next_delay(self, status: str) -> float:
        delay, self.delay = self.delay, min(5.0, self.delay * 1.5)
        if time.monotonic() + delay > self.deadline:
            raise WaitTimeoutError(f"{self.what} still {status} after {self.timeout} s")
        return delay


def _settled(job: JobStatusResponse) -> bool:
    """Whether the job ended; raises :class:`JobFailedError` unless it ended ``done``."""
    if job.status not in TERMINAL:
        return False
    if job.status != "done":
        raise JobFailedError(job)
    return True


def _headers(api_key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}


class Client:
    """Synchronous client. ``max_retries`` applies to 429 answers (after ``retry_after``)."""

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
        self._http = httpx.Client(
            base_url=base_url, timeout=timeout, headers=_headers(api_key), transport=transport
        )
        self.max_retries = max_retries
        self.client_id = client_id

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _run(self, call: Call[T]) -> T:
        for attempt in range(self.max_retries + 1):
            response = self._http.request(
                call.method,
                call.path,
                json=call.json,
                params=call.params,
                files=call.files,
                data=call.data,
            )
            delay = _retry_delay(response, attempt, self.max_retries)
            if delay is None:
                return call.answer(response)
            time.sleep(delay)
        raise AssertionError("unreachable")

    def translate(
        self,
        text: str | list[str],
        target_language: str | list[str],
        source_language: str | None = None,
        *,
        alternatives: int = 0,
        beam_size: int | None = None,
        format: str = "text",
        protect_spans: bool = True,
        quality: bool = False,
        min_quality: float | None = None,
        glossary_id: str | None = None,
        glossary_mode: str = "enforce",
        model: str | None = None,
    ) -> Any:
        """A :class:`TranslateResponse` for a text, a :class:`BatchTranslateResponse` for a
        list; with a list of targets, a :class:`MultiTargetTranslateResponse` (or
        :class:`MultiTargetBatchTranslateResponse`) whose ``translations`` are keyed by target.
        ``alternatives`` next-best translations per text when asked for; ``beam_size``
        overrides the deployment's beam width (1: greedy) up to its ``max_beam_size``.
        ``format="html"`` keeps markup; ``protect_spans`` (on by default) keeps placeholders,
        URLs, e-mail addresses and numbers exactly. ``quality`` adds each translation's
        quality; ``min_quality`` (0..1) withholds those below it (``status == "withheld"``,
        ``translated_text`` None), the others are answered as usual. ``glossary_id`` applies
        one of your glossaries (``glossary_mode`` ``"enforce"`` or ``"prefer"``); each item's
        ``glossary_terms`` says what became of every term found. ``model`` names a
        registered model (:meth:`models`); by default the service routes by pair."""
        return self._run(
            _Endpoints.translate(
                text,
                target_language,
                source_language,
                alternatives,
                beam_size,
                format,
                protect_spans,
                quality,
                min_quality,
                glossary_id,
                glossary_mode,
                model,
            )
        )

    def detect(self, text: str | list[str], top_k: int | None = None) -> Any:
        return self._run(_Endpoints.detect(text, top_k))

    def models(self) -> dict[str, Any]:
        """The registered models, the routes, and what one Translator replica holds."""
        return self._run(_Endpoints.models())

    def languages(self, search: str | None = None, region: str | None = None) -> LanguagesResponse:
        return self._run(_Endpoints.languages(search, region))

    def language(self, code: str) -> Language:
        return self._run(_Endpoints.language(code))

    def health(self) -> dict[str, Any]:
        return self._run(_Endpoints.get("/health"))

    def stats(self) -> dict[str, Any]:
        return self._run(_Endpoints.get("/stats"))

    def submit_workflow_translation(
        self, natural_language: str, *, priority: int = 5, metadata: dict[str, Any] | None = None
    ) -> JobAccepted:
        return self._run(
            _Endpoints.submit_workflow_translation(
                natural_language, self.client_id, priority, metadata
            )
        )

    def submit_text_job(
        self,
        texts: list[str],
        target_language: str,
        source_language: str | None = None,
        *,
        priority: int = 5,
        format: str = "text",
        protect_spans: bool = True,
        quality: bool = False,
        min_quality: float | None = None,
        glossary_id: str | None = None,
        glossary_mode: str = "enforce",
    ) -> JobAccepted:
        return self._run(
            _Endpoints.submit_text_job(
                texts,
                target_language,
                source_language,
                self.client_id,
                priority,
                format,
                protect_spans,
                quality,
                min_quality,
                glossary_id,
                glossary_mode,
            )
        )

    def create_glossary(
        self,
        name: str,
        entries: list[dict[str, str]] | None = None,
        *,
        entries_csv: str | None = None,
        source_language: str | None = None,
        target_language: str | None = None,
    ) -> GlossaryOut:
        """A new glossary from ``entries`` (``{"source", "target"}`` dicts, each optionally
        with its own ``source_language``/``target_language``) or ``entries_csv``."""
        return self._run(
            _Endpoints.create_glossary(name, entries, entries_csv, source_language, target_language)
        )

    def glossaries(self) -> list[GlossarySummaryOut]:
        return self._run(_Endpoints.glossaries())

    def glossary(self, glossary_id: str) -> GlossaryOut:
        return self._run(_Endpoints.glossary(glossary_id))

    def delete_glossary(self, glossary_id: str) -> None:
        self._run(_Endpoints.delete_glossary(glossary_id))

    def correct(
        self,
        text: str,
        translation: str,
        source_language: str,
        target_language: str,
        *,
        original: str | None = None,
    ) -> CorrectionOut:
        """Submits a better ``translation`` of ``text`` (where the server enables
        corrections): your later requests for that exact text and pair get it, marked with
        ``correction_id``. ``original``: the machine translation it replaces (for the audit)."""
        return self._run(
            _Endpoints.correct(text, translation, source_language, target_language, original)
        )

    def corrections(self) -> list[CorrectionOut]:
        return self._run(_Endpoints.corrections())

    def delete_correction(self, correction_id: str) -> None:
        self._run(_Endpoints.delete_correction(correction_id))

    def job(self, token: str) -> JobStatusResponse:
        return self._run(_Endpoints.job(token))

    def wait_job(
        self,
        token: str,
        *,
        timeout: float = 300.0,
        poll_interval: float = 0.5,
        on_progress: Callable[[JobStatusResponse], None] | None = None,
    ) -> JobStatusResponse:
        """Polls with backoff until the job ends; raises :class:`JobFailedError` unless done."""
        poll = _Poll(f"job {token}", timeout, poll_interval)
        while True:
            job = self.job(token)
            if on_progress:
                on_progress(job)
            if _settled(job):
                return job
            time.sleep(poll.next_delay(job.status))

    def submit_document(
        self,
        path: str | Path,
        target_language: str,
        *,
        source_language: str | None = None,
        output_format: str | None = None,
        glossary_id: str | None = None,
        priority: int = 5,
    ) -> JobAccepted:
        """Uploads a file (txt, md, html, srt, vtt, docx, pptx, xlsx, odt, epub, pdf) for
        translation; poll with :meth:`wait_job`, fetch with :meth:`document_result`."""
        file = Path(path)
        return self._run(
            _Endpoints.submit_document(
                file.name,
                file.read_bytes(),
                target_language,
                source_language,
                self.client_id,
                priority,
                output_format,
                glossary_id,
            )
        )

    def document_result(self, token: str) -> bytes:
        return self._run(_Endpoints.document_result(token))

    def translate_document(
        self,
        path: str | Path,
        target_language: str,
        *,
        output: str | Path | None = None,
        source_language: str | None = None,
        output_format: str | None = None,
        glossary_id: str | None = None,
        timeout: float = 3600.0,
        on_progress: Callable[[JobStatusResponse], None] | None = None,
    ) -> Path:
        """Translates a file and writes the translation to ``output`` (default: beside it,
        ``report.fr.docx``); returns that path. Raises :class:`JobFailedError` if the job
        does not end done."""
        accepted = self.submit_document(
            path,
            target_language,
            source_language=source_language,
            output_format=output_format,
            glossary_id=glossary_id,
        )
        job = self.wait_job(accepted.token, timeout=timeout, on_progress=on_progress)
        if job.status != "done":
            raise JobFailedError(job)
        written = Path(output or _document_name(Path(path), target_language, output_format))
        written.write_bytes(self.document_result(accepted.token))
        return written

    def translate_stream(
        self,
        text: str,
        target_language: str,
        source_language: str | None = None,
        *,
        model: str | None = None,
        beam_size: int | None = None,
    ) -> Iterator[StreamEvent]:
        """The translation of a long text as it is made: a ``sentence`` event per sentence,
        in order, then ``done``. Closing the iterator early stops the work on the service."""
        body = _Endpoints.stream_body(text, target_language, source_language, model, beam_size)
        with self._http.stream("POST", "/api/v1/translate/stream", json=body) as response:
            if response.status_code >= 400:
                response.read()
                raise _error(response)
            reader = _EventReader()
            for line in response.iter_lines():
                event = reader.feed(line)
                if event is not None:
                    yield event

    def translate_workflow(
        self,
        natural_language: str,
        *,
        priority: int = 5,
        timeout: float = 300.0,
        poll_interval: float = 0.5,
    ) -> str:
        """Submits natural language and returns the DSL once planned."""
        accepted = self.submit_workflow_translation(natural_language, priority=priority)
        job = self.wait_job(accepted.token, timeout=timeout, poll_interval=poll_interval)
        return job.dsl or ""

    def validate_dsl(self, dsl_yaml: str) -> dict[str, Any]:
        return self._run(_Endpoints.validate_dsl(dsl_yaml))

    def run_dsl(self, dsl_yaml: str, *, priority: int = 5) -> dict[str, Any]:
        return self._run(_Endpoints.run_dsl(dsl_yaml, self.client_id, priority))

    def workflow(self, workflow_id: str) -> dict[str, Any]:
        return self._run(_Endpoints.workflow(workflow_id))

    def cancel_workflow(self, workflow_id: str) -> dict[str, Any]:
        return self._run(_Endpoints.cancel_workflow(workflow_id))

    def wait_workflow(
        self, workflow_id: str, *, timeout: float = 300.0, poll_interval: float = 0.5
    ) -> dict[str, Any]:
        poll = _Poll(f"workflow {workflow_id}", timeout, poll_interval)
        while (run := self.workflow(workflow_id))["status"] not in TERMINAL:
            time.sleep(poll.next_delay(run["status"]))
        return run

    def suggest(
        self, context: str, domain: str = "data-science", complexity: str = "medium"
    ) -> dict[str, Any]:
        return self._run(_Endpoints.suggest(context, domain, complexity))


class AsyncClient:
    """Asynchronous client with the same methods as :class:`Client`, awaited."""

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
            base_url=base_url, timeout=timeout, headers=_headers(api_key), transport=transport
        )
        self.max_retries = max_retries
        self.client_id = client_id

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _run(self, call: Call[T]) -> T:
        for attempt in range(self.max_retries + 1):
            response = await self._http.request(
                call.method,
                call.path,
                json=call.json,
                params=call.params,
                files=call.files,
                data=call.data,
            )
            delay = _retry_delay(response, attempt, self.max_retries)
            if delay is None:
                return call.answer(response)
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def translate(
        self,
        text: str | list[str],
        target_language: str | list[str],
        source_language: str | None = None,
        *,
        alternatives: int = 0,
        beam_size: int | None = None,
        format: str = "text",
        protect_spans: bool = True,
        quality: bool = False,
        min_quality: float | None = None,
        glossary_id: str | None = None,
        glossary_mode: str = "enforce",
        model: str | None = None,
    ) -> Any:
        return await self._run(
            _Endpoints.translate(
                text,
                target_language,
                source_language,
                alternatives,
                beam_size,
                format,
                protect_spans,
                quality,
                min_quality,
                glossary_id,
                glossary_mode,
                model,
            )
        )

    async def detect(self, text: str | list[str], top_k: int | None = None) -> Any:
        return await self._run(_Endpoints.detect(text, top_k))

    async def models(self) -> dict[str, Any]:
        return await self._run(_Endpoints.models())

    async def languages(
        self, search: str | None = None, region: str | None = None
    ) -> LanguagesResponse:
        return await self._run(_Endpoints.languages(search, region))

    async def language(self, code: str) -> Language:
        return await self._run(_Endpoints.language(code))

    async def health(self) -> dict[str, Any]:
        return await self._run(_Endpoints.get("/health"))

    async def submit_workflow_translation(
        self, natural_language: str, *, priority: int = 5, metadata: dict[str, Any] | None = None
    ) -> JobAccepted:
        return await self._run(
            _Endpoints.submit_workflow_translation(
                natural_language, self.client_id, priority, metadata
            )
        )

    async def submit_text_job(
        self,
        texts: list[str],
        target_language: str,
        source_language: str | None = None,
        *,
        priority: int = 5,
        format: str = "text",
        protect_spans: bool = True,
        quality: bool = False,
        min_quality: float | None = None,
        glossary_id: str | None = None,
        glossary_mode: str = "enforce",
    ) -> JobAccepted:
        return await self._run(
            _Endpoints.submit_text_job(
                texts,
                target_language,
                source_language,
                self.client_id,
                priority,
                format,
                protect_spans,
                quality,
                min_quality,
                glossary_id,
                glossary_mode,
            )
        )

    async def create_glossary(
        self,
        name: str,
        entries: list[dict[str, str]] | None = None,
        *,
        entries_csv: str | None = None,
        source_language: str | None = None,
        target_language: str | None = None,
    ) -> GlossaryOut:
        return await self._run(
            _Endpoints.create_glossary(name, entries, entries_csv, source_language, target_language)
        )

    async def glossaries(self) -> list[GlossarySummaryOut]:
        return await self._run(_Endpoints.glossaries())

    async def glossary(self, glossary_id: str) -> GlossaryOut:
        return await self._run(_Endpoints.glossary(glossary_id))

    async def delete_glossary(self, glossary_id: str) -> None:
        await self._run(_Endpoints.delete_glossary(glossary_id))

    async def correct(
        self,
        text: str,
        translation: str,
        source_language: str,
        target_language: str,
        *,
        original: str | None = None,
    ) -> CorrectionOut:
        return await self._run(
            _Endpoints.correct(text, translation, source_language, target_language, original)
        )

    async def corrections(self) -> list[CorrectionOut]:
        return await self._run(_Endpoints.corrections())

    async def delete_correction(self, correction_id: str) -> None:
        await self._run(_Endpoints.delete_correction(correction_id))

    async def job(self, token: str) -> JobStatusResponse:
        return await self._run(_Endpoints.job(token))

    async def wait_job(
        self,
        token: str,
        *,
        timeout: float = 300.0,
        poll_interval: float = 0.5,
        on_progress: Callable[[JobStatusResponse], None] | None = None,
    ) -> JobStatusResponse:
        poll = _Poll(f"job {token}", timeout, poll_interval)
        while True:
            job = await self.job(token)
            if on_progress:
                on_progress(job)
            if _settled(job):
                return job
            await asyncio.sleep(poll.next_delay(job.status))

    async def submit_document(
        self,
        path: str | Path,
        target_language: str,
        *,
        source_language: str | None = None,
        output_format: str | None = None,
        glossary_id: str | None = None,
        priority: int = 5,
    ) -> JobAccepted:
        """Uploads a file (txt, md, html, srt, vtt, docx, pptx, xlsx, odt, epub, pdf) for
        translation; poll with :meth:`wait_job`, fetch with :meth:`document_result`."""
        file = Path(path)
        return await self._run(
            _Endpoints.submit_document(
                file.name,
                await asyncio.to_thread(file.read_bytes),
                target_language,
                source_language,
                self.client_id,
                priority,
                output_format,
                glossary_id,
            )
        )

    async def document_result(self, token: str) -> bytes:
        return await self._run(_Endpoints.document_result(token))

    async def translate_document(
        self,
        path: str | Path,
        target_language: str,
        *,
        output: str | Path | None = None,
        source_language: str | None = None,
        output_format: str | None = None,
        glossary_id: str | None = None,
        timeout: float = 3600.0,
        on_progress: Callable[[JobStatusResponse], None] | None = None,
    ) -> Path:
        """Translates a file and writes the translation to ``output`` (default: beside it,
        ``report.fr.docx``); returns that path. Raises :class:`JobFailedError` if the job
        does not end done."""
        accepted = await self.submit_document(
            path,
            target_language,
            source_language=source_language,
            output_format=output_format,
            glossary_id=glossary_id,
        )
        job = await self.wait_job(accepted.token, timeout=timeout, on_progress=on_progress)
        if job.status != "done":
            raise JobFailedError(job)
        written = Path(output or _document_name(Path(path), target_language, output_format))
        await asyncio.to_thread(written.write_bytes, await self.document_result(accepted.token))
        return written

    async def translate_stream(
        self,
        text: str,
        target_language: str,
        source_language: str | None = None,
        *,
        model: str | None = None,
        beam_size: int | None = None,
    ) -> AsyncIterator[StreamEvent]:
        """The translation of a long text as it is made: a ``sentence`` event per sentence,
        in order, then ``done``. Closing the iterator early stops the work on the service."""
        body = _Endpoints.stream_body(text, target_language, source_language, model, beam_size)
        async with self._http.stream("POST", "/api/v1/translate/stream", json=body) as response:
            if response.status_code >= 400:
                await response.aread()
                raise _error(response)
            reader = _EventReader()
            async for line in response.aiter_lines():
                event = reader.feed(line)
                if event is not None:
                    yield event

    async def translate_workflow(
        self,
        natural_language: str,
        *,
        priority: int = 5,
        timeout: float = 300.0,
        poll_interval: float = 0.5,
    ) -> str:
        accepted = await self.submit_workflow_translation(natural_language, priority=priority)
        job = await self.wait_job(accepted.token, timeout=timeout, poll_interval=poll_interval)
        return job.dsl or ""

    async def validate_dsl(self, dsl_yaml: str) -> dict[str, Any]:
        return await self._run(_Endpoints.validate_dsl(dsl_yaml))

    async def run_dsl(self, dsl_yaml: str, *, priority: int = 5) -> dict[str, Any]:
        return await self._run(_Endpoints.run_dsl(dsl_yaml, self.client_id, priority))

    async def workflow(self, workflow_id: str) -> dict[str, Any]:
        return await self._run(_Endpoints.workflow(workflow_id))

    async def wait_workflow(
        self, workflow_id: str, *, timeout: float = 300.0, poll_interval: float = 0.5
    ) -> dict[str, Any]:
        poll = _Poll(f"workflow {workflow_id}", timeout, poll_interval)
        while True:
            run = await self.workflow(workflow_id)
            if run["status"] in TERMINAL:
                return run
            await asyncio.sleep(poll.next_delay(run["status"]))

    async def suggest(
        self, context: str, domain: str = "data-science", complexity: str = "medium"
    ) -> dict[str, Any]:
        return await self._run(_Endpoints.suggest(context, domain, complexity))
