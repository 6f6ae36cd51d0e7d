"""Every endpoint of the SDK, once: its route, its body, how its answer is read.

Both :class:`~tafsiri_client.Client` and :class:`~tafsiri_client.AsyncClient` inherit
:class:`Endpoints`; ``_core`` says how one definition serves both. The routes are the module
constants below: the server's tests check each against the server's OpenAPI description.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx

from tafsiri_client._core import (
    FILE,
    JSON_OBJECT,
    NOTHING,
    TERMINAL,
    Answer,
    Blocking,
    Call,
    Poll,
    Request,
    Route,
    Steps,
    as_model,
    endpoint,
    send,
    settled,
    stream_endpoint,
)
from tafsiri_client.models import (
    DEFAULT_PRIORITY,
    BatchDetectResponse,
    BatchTranslateResponse,
    CorrectionCreate,
    CorrectionListResponse,
    CorrectionOut,
    DetectAnswer,
    DetectRequest,
    DetectResponse,
    DocumentForm,
    DslRequest,
    GlossaryCreate,
    GlossaryEntryIn,
    GlossaryListResponse,
    GlossaryOut,
    GlossarySummaryOut,
    HealthResponse,
    JobAccepted,
    JobStatusResponse,
    Language,
    LanguagesResponse,
    MemoryCreated,
    MemoryForm,
    MemoryListResponse,
    MemorySummaryOut,
    ModelsResponse,
    MultiTargetBatchTranslateResponse,
    MultiTargetTranslateResponse,
    StreamTranslateRequest,
    SuggestRequest,
    TextJobRequest,
    TranslateAnswer,
    TranslateRequest,
    TranslateResponse,
    WorkflowTranslateRequest,
)

T = TypeVar("T")


def _translate_answer(response: httpx.Response) -> TranslateAnswer:
    """The four shapes of a translate answer, told apart by their fields."""
    body = response.json()
    translations = body.get("translations")
    kind: type[TranslateAnswer]
    if isinstance(translations, dict):
        several = any(isinstance(items, list) for items in translations.values())
        kind = MultiTargetBatchTranslateResponse if several else MultiTargetTranslateResponse
    elif translations is not None:
        kind = BatchTranslateResponse
    else:
        kind = TranslateResponse
    return kind.model_validate(body)


def _detect_answer(response: httpx.Response) -> DetectAnswer:
    body = response.json()
    kind: type[DetectAnswer] = BatchDetectResponse if "results" in body else DetectResponse
    return kind.model_validate(body)


def _glossaries(response: httpx.Response) -> list[GlossarySummaryOut]:
    return GlossaryListResponse.model_validate_json(response.content).glossaries


def _corrections(response: httpx.Response) -> list[CorrectionOut]:
    return CorrectionListResponse.model_validate_json(response.content).corrections


def _memories(response: httpx.Response) -> list[MemorySummaryOut]:
    return MemoryListResponse.model_validate_json(response.content).memories


HEALTH = Route("GET", "/health", as_model(HealthResponse))
STATS = Route("GET", "/stats", JSON_OBJECT)
TRANSLATE = Route(
    "POST",
    "/api/v1/translate",
    Answer(
        _translate_answer,
        (
            TranslateResponse,
            BatchTranslateResponse,
            MultiTargetTranslateResponse,
            MultiTargetBatchTranslateResponse,
        ),
    ),
    body=TranslateRequest,
)
TRANSLATE_STREAM = Route(
    "POST",
    "/api/v1/translate/stream",
    Answer(lambda _: None, media="text/event-stream"),
    body=StreamTranslateRequest,
)
DETECT = Route(
    "POST",
    "/api/v1/detect-language",
    Answer(_detect_answer, (DetectResponse, BatchDetectResponse)),
    body=DetectRequest,
)
LANGUAGES = Route(
    "GET", "/api/v1/languages", as_model(LanguagesResponse), query=("search", "region")
)
LANGUAGE = Route("GET", "/api/v1/languages/{code}", as_model(Language))
MODELS = Route("GET", "/api/v1/models", as_model(ModelsResponse))
WORKFLOW_TRANSLATION = Route(
    "POST", "/api/v1/workflows/translate", as_model(JobAccepted), body=WorkflowTranslateRequest
)
TEXT_JOB = Route("POST", "/api/v1/jobs/translate", as_model(JobAccepted), body=TextJobRequest)
JOB = Route("GET", "/api/v1/jobs/{token}", as_model(JobStatusResponse))
DOCUMENT = Route("POST", "/api/v1/documents", as_model(JobAccepted), body=DocumentForm, form=True)
DOCUMENT_RESULT = Route("GET", "/api/v1/documents/{token}/result", FILE)
CREATE_GLOSSARY = Route("POST", "/api/v1/glossaries", as_model(GlossaryOut), body=GlossaryCreate)
GLOSSARIES = Route("GET", "/api/v1/glossaries", Answer(_glossaries, (GlossaryListResponse,)))
GLOSSARY = Route("GET", "/api/v1/glossaries/{glossary_id}", as_model(GlossaryOut))
DELETE_GLOSSARY = Route("DELETE", "/api/v1/glossaries/{glossary_id}", NOTHING)
CORRECT = Route("POST", "/api/v1/corrections", as_model(CorrectionOut), body=CorrectionCreate)
CORRECTIONS = Route("GET", "/api/v1/corrections", Answer(_corrections, (CorrectionListResponse,)))
DELETE_CORRECTION = Route("DELETE", "/api/v1/corrections/{correction_id}", NOTHING)
CREATE_MEMORY = Route(
    "POST", "/api/v1/memories", as_model(MemoryCreated), body=MemoryForm, form=True
)
MEMORIES = Route("GET", "/api/v1/memories", Answer(_memories, (MemoryListResponse,)))
MEMORY = Route("GET", "/api/v1/memories/{memory_id}", as_model(MemorySummaryOut))
EXPORT_MEMORY = Route("GET", "/api/v1/memories/{memory_id}/export", FILE)
DELETE_MEMORY = Route("DELETE", "/api/v1/memories/{memory_id}", NOTHING)
DSL = Route("POST", "/api/v1/workflows/dsl", JSON_OBJECT, body=DslRequest)
WORKFLOW = Route("GET", "/api/v1/workflows/{workflow_id}", JSON_OBJECT)
CANCEL_WORKFLOW = Route("DELETE", "/api/v1/workflows/{workflow_id}", JSON_OBJECT)
SUGGEST = Route("POST", "/api/v1/workflows/suggest", JSON_OBJECT, body=SuggestRequest)


def document_name(path: Path, target: str, output_format: str | None) -> Path:
    """``report.docx`` into French: ``report.fr.docx`` beside it (``.txt`` for a PDF)."""
    suffix = f".{output_format}" if output_format else path.suffix
    if path.suffix.lower() == ".pdf" and not output_format:
        suffix = ".txt"
    if path.suffix.lower() == ".pot" and not output_format:  # a template comes back a PO
        suffix = ".po"
    return path.with_name(f"{path.stem}.{target.split('_')[0]}{suffix}")


class Endpoints:
    """The methods of both clients. ``client_id`` names the caller to the job queues and
    the rate limits (without API keys); ``max_retries`` applies to 429 answers."""

    client_id: str
    max_retries: int

    def _send(self, call: Call[T]) -> Steps[T]:
        return send(call, self.max_retries)

    # --- translation and detection ------------------------------------------------------

    @endpoint
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
        memory_id: str | None = None,
        memory_mode: str = "suggest",
        memory_threshold: float | None = None,
    ) -> Steps[TranslateAnswer]:
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
        ``glossary_terms`` says what became of every term found. ``memory_id`` uses one of
        your translation memories: a sentence it holds is answered from it, fuzzy matches at
        or above ``memory_threshold`` come back in each item's ``memory_matches`` (served
        instead of the model's with ``memory_mode="prefer"``). ``model`` names a
        registered model (:meth:`models`); by default the service routes by pair."""
        body = TranslateRequest(
            text=text,
            target_language=target_language,
            source_language=source_language,
            model=model,
            alternatives=alternatives,
            beam_size=beam_size,
            format=format,
            protect_spans=protect_spans,
            quality=quality,
            min_quality=min_quality,
            glossary_id=glossary_id,
            glossary_mode=glossary_mode,
            memory_id=memory_id,
            memory_mode=memory_mode,
            memory_threshold=memory_threshold,
        )
        return self._send(TRANSLATE.call(body))

    @stream_endpoint
    def translate_stream(
        self,
        text: str,
        target_language: str | list[str],
        source_language: str | None = None,
        *,
        model: str | None = None,
        alternatives: int = 0,
        beam_size: int | None = None,
        format: str = "text",
        protect_spans: bool = True,
        quality: bool = False,
        min_quality: float | None = None,
        glossary_id: str | None = None,
        glossary_mode: str = "enforce",
        memory_id: str | None = None,
        memory_mode: str = "suggest",
        memory_threshold: float | None = None,
    ) -> Request:
        """The translation of a long text as it is made: a ``sentence`` event per sentence
        (and target), in order, then ``done``; the options are :meth:`translate`'s. Closing
        the iterator early stops the work on the service."""
        return TRANSLATE_STREAM.request(
            StreamTranslateRequest(
                text=text,
                target_language=target_language,
                source_language=source_language,
                model=model,
                alternatives=alternatives,
                beam_size=beam_size,
                format=format,
                protect_spans=protect_spans,
                quality=quality,
                min_quality=min_quality,
                glossary_id=glossary_id,
                glossary_mode=glossary_mode,
                memory_id=memory_id,
                memory_mode=memory_mode,
                memory_threshold=memory_threshold,
            )
        )

    @endpoint
    def detect(self, text: str | list[str], top_k: int | None = None) -> Steps[DetectAnswer]:
        """A :class:`DetectResponse` for a text, a :class:`BatchDetectResponse` for a list;
        ``top_k`` candidates each."""
        return self._send(DETECT.call(DetectRequest(text=text, top_k=top_k)))

    @endpoint
    def languages(
        self, search: str | None = None, region: str | None = None
    ) -> Steps[LanguagesResponse]:
        """The languages, or those whose name or code holds ``search``, in ``region``."""
        return self._send(LANGUAGES.call(params={"search": search, "region": region}))

    @endpoint
    def language(self, code: str) -> Steps[Language]:
        """One language by any accepted code (FLORES-200, ISO 639-1 or 639-3)."""
        return self._send(LANGUAGE.call(code=code))

    @endpoint
    def models(self) -> Steps[ModelsResponse]:
        """The registered models, the routes, and what one Translator replica holds."""
        return self._send(MODELS.call())

    @endpoint
    def health(self) -> Steps[HealthResponse]:
        """Each component's health (an unhealthy service answers 503: :class:`ServerError`)."""
        return self._send(HEALTH.call())

    @endpoint
    def stats(self) -> Steps[dict[str, Any]]:
        """The job queue's statistics."""
        return self._send(STATS.call())

    # --- jobs and documents -------------------------------------------------------------

    @endpoint
    def submit_workflow_translation(
        self,
        natural_language: str,
        *,
        priority: int = DEFAULT_PRIORITY,
        metadata: dict[str, Any] | None = None,
    ) -> Steps[JobAccepted]:
        """Queues natural language to be planned into a DSL workflow; poll with
        :meth:`wait_job` (its ``dsl``)."""
        body = WorkflowTranslateRequest(
            natural_language=natural_language,
            client_id=self.client_id,
            priority=priority,
            metadata=metadata or {},
        )
        return self._send(WORKFLOW_TRANSLATION.call(body))

    @endpoint
    def submit_text_job(
        self,
        texts: list[str],
        target_language: str | list[str],
        source_language: str | None = None,
        *,
        priority: int = DEFAULT_PRIORITY,
        model: str | None = None,
        alternatives: int = 0,
        beam_size: int | None = None,
        format: str = "text",
        protect_spans: bool = True,
        quality: bool = False,
        min_quality: float | None = None,
        glossary_id: str | None = None,
        glossary_mode: str = "enforce",
        memory_id: str | None = None,
        memory_mode: str = "suggest",
        memory_threshold: float | None = None,
    ) -> Steps[JobAccepted]:
        """Queues many texts (or a long one, split) for translation; poll with
        :meth:`wait_job` (its ``result["translations"]``: a list per text, or keyed by target
        for a list of targets). The options are :meth:`translate`'s; ``min_quality``: a
        translation below it ends the job ``needs_human``."""
        body = TextJobRequest(
            texts=texts,
            target_language=target_language,
            source_language=source_language,
            client_id=self.client_id,
            priority=priority,
            model=model,
            alternatives=alternatives,
            beam_size=beam_size,
            format=format,
            protect_spans=protect_spans,
            quality=quality,
            min_quality=min_quality,
            glossary_id=glossary_id,
            glossary_mode=glossary_mode,
            memory_id=memory_id,
            memory_mode=memory_mode,
            memory_threshold=memory_threshold,
        )
        return self._send(TEXT_JOB.call(body))

    @endpoint
    def job(self, token: str) -> Steps[JobStatusResponse]:
        """A job's state, progress and (once done) result."""
        return self._send(JOB.call(token=token))

    @endpoint
    def wait_job(
        self,
        token: str,
        *,
        timeout: float = 300.0,
        poll_interval: float = 0.5,
        on_progress: Callable[[JobStatusResponse], None] | None = None,
    ) -> Steps[JobStatusResponse]:
        """Polls with backoff until the job ends; raises :class:`JobFailedError` unless done,
        :class:`WaitTimeoutError` after ``timeout`` seconds. ``on_progress`` sees each poll."""
        poll = Poll(f"job {token}", timeout, poll_interval)
        while True:
            job = yield from Endpoints.job.steps(self, token)
            if on_progress:
                on_progress(job)
            if settled(job):
                return job
            yield poll.sleep(job.status)

    @endpoint
    def submit_document(
        self,
        path: str | Path,
        target_language: str,
        *,
        source_language: str | None = None,
        output_format: str | None = None,
        glossary_id: str | None = None,
        glossary_mode: str | None = None,
        memory_id: str | None = None,
        memory_mode: str | None = None,
        memory_threshold: float | None = None,
        model: str | None = None,
        beam_size: int | None = None,
        protect_spans: bool | None = None,
        quality: bool | None = None,
        min_quality: float | None = None,
        priority: int = DEFAULT_PRIORITY,
    ) -> Steps[JobAccepted]:
        """Uploads a file (txt, md, html, srt, vtt, docx, pptx, xlsx, odt, epub, pdf, or a
        localization file: po, pot, xlf, strings.xml, json, yaml, arb, strings, xcstrings) for
        translation; poll with :meth:`wait_job`, fetch with :meth:`document_result`. The
        options are :meth:`translate`'s that a file can take (one target, no alternatives);
        below ``min_quality`` the job ends ``needs_human`` and no file is written (a
        localization file is written with those translations marked for review)."""
        file = Path(path)
        data: bytes = yield Blocking(file.read_bytes)
        form = DocumentForm(
            target_language=target_language,
            source_language=source_language,
            output_format=output_format,
            glossary_id=glossary_id,
            glossary_mode=glossary_mode,
            memory_id=memory_id,
            memory_mode=memory_mode,
            memory_threshold=memory_threshold,
            model=model,
            beam_size=beam_size,
            protect_spans=protect_spans,
            quality=quality,
            min_quality=min_quality,
            priority=priority,
            client_id=self.client_id,
        )
        return (yield from self._send(DOCUMENT.call(form, file=(file.name, data))))

    @endpoint
    def document_result(self, token: str) -> Steps[bytes]:
        """The translated file of a done document job."""
        return self._send(DOCUMENT_RESULT.call(token=token))

    @endpoint
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
    ) -> Steps[Path]:
        """Translates a file and writes the translation to ``output`` (default: beside it,
        ``report.fr.docx``); returns that path. Raises :class:`JobFailedError` if the job
        does not end done."""
        accepted = yield from Endpoints.submit_document.steps(
            self,
            path,
            target_language,
            source_language=source_language,
            output_format=output_format,
            glossary_id=glossary_id,
        )
        yield from Endpoints.wait_job.steps(
            self, accepted.token, timeout=timeout, on_progress=on_progress
        )
        written = Path(output or document_name(Path(path), target_language, output_format))
        content = yield from Endpoints.document_result.steps(self, accepted.token)
        yield Blocking(functools.partial(written.write_bytes, content))
        return written

    # --- glossaries and corrections -----------------------------------------------------

    @endpoint
    def create_glossary(
        self,
        name: str,
        entries: list[dict[str, str]] | None = None,
        *,
        entries_csv: str | None = None,
        source_language: str | None = None,
        target_language: str | None = None,
    ) -> Steps[GlossaryOut]:
        """A new glossary from ``entries`` (``{"source", "target"}`` dicts, each optionally
        with its own ``source_language``/``target_language``) or ``entries_csv``."""
        body = GlossaryCreate(
            name=name,
            source_language=source_language,
            target_language=target_language,
            entries=None if entries is None else [GlossaryEntryIn(**e) for e in entries],
            entries_csv=entries_csv,
        )
        return self._send(CREATE_GLOSSARY.call(body))

    @endpoint
    def glossaries(self) -> Steps[list[GlossarySummaryOut]]:
        """Your glossaries (without their entries)."""
        return self._send(GLOSSARIES.call())

    @endpoint
    def glossary(self, glossary_id: str) -> Steps[GlossaryOut]:
        """One of your glossaries, with its entries."""
        return self._send(GLOSSARY.call(glossary_id=glossary_id))

    @endpoint
    def delete_glossary(self, glossary_id: str) -> Steps[None]:
        return self._send(DELETE_GLOSSARY.call(glossary_id=glossary_id))

    @endpoint
    def correct(
        self,
        text: str,
        translation: str,
        source_language: str,
        target_language: str,
        *,
        original: str | None = None,
        memory_id: str | None = None,
    ) -> Steps[CorrectionOut]:
        """Submits a better ``translation`` of ``text`` (where the server enables
        corrections): your later requests for that exact text and pair get it, marked with
        ``correction_id``. ``original``: the machine translation it replaces (for the audit).
        ``memory_id``: one of your translation memories, which holds it as a unit too."""
        body = CorrectionCreate(
            text=text,
            translation=translation,
            source_language=source_language,
            target_language=target_language,
            original=original,
            memory_id=memory_id,
        )
        return self._send(CORRECT.call(body))

    @endpoint
    def corrections(self) -> Steps[list[CorrectionOut]]:
        """Your corrections, oldest first."""
        return self._send(CORRECTIONS.call())

    @endpoint
    def delete_correction(self, correction_id: str) -> Steps[None]:
        return self._send(DELETE_CORRECTION.call(correction_id=correction_id))

    # --- translation memories -------------------------------------------------------------

    @endpoint
    def create_memory(self, path: str | Path, *, name: str | None = None) -> Steps[MemoryCreated]:
        """Uploads a TMX file as a new translation memory (named after the file unless
        ``name``); its ``skipped`` units were left out (fewer than two known languages)."""
        file = Path(path)
        data: bytes = yield Blocking(file.read_bytes)
        form = MemoryForm(name=name)
        return (yield from self._send(CREATE_MEMORY.call(form, file=(file.name, data))))

    @endpoint
    def memories(self) -> Steps[list[MemorySummaryOut]]:
        """Your translation memories."""
        return self._send(MEMORIES.call())

    @endpoint
    def memory(self, memory_id: str) -> Steps[MemorySummaryOut]:
        """One of your translation memories (its units counted with the corrections filed
        under it)."""
        return self._send(MEMORY.call(memory_id=memory_id))

    @endpoint
    def export_memory(self, memory_id: str) -> Steps[bytes]:
        """One of your translation memories as a TMX 1.4b file."""
        return self._send(EXPORT_MEMORY.call(memory_id=memory_id))

    @endpoint
    def delete_memory(self, memory_id: str) -> Steps[None]:
        return self._send(DELETE_MEMORY.call(memory_id=memory_id))

    # --- workflows ----------------------------------------------------------------------

    @endpoint
    def translate_workflow(
        self,
        natural_language: str,
        *,
        priority: int = DEFAULT_PRIORITY,
        timeout: float = 300.0,
        poll_interval: float = 0.5,
    ) -> Steps[str]:
        """Submits natural language and returns the DSL once planned."""
        accepted = yield from Endpoints.submit_workflow_translation.steps(
            self, natural_language, priority=priority
        )
        job = yield from Endpoints.wait_job.steps(
            self, accepted.token, timeout=timeout, poll_interval=poll_interval
        )
        return job.dsl or ""

    @endpoint
    def validate_dsl(self, dsl_yaml: str) -> Steps[dict[str, Any]]:
        """``valid``, ``errors`` and ``warnings`` of a DSL workflow, without running it."""
        return self._send(DSL.call(DslRequest(dsl_yaml=dsl_yaml, validate_only=True)))

    @endpoint
    def run_dsl(self, dsl_yaml: str, *, priority: int = DEFAULT_PRIORITY) -> Steps[dict[str, Any]]:
        """Starts a DSL workflow; its ``workflow_id`` is for :meth:`wait_workflow`."""
        body = DslRequest(dsl_yaml=dsl_yaml, client_id=self.client_id, priority=priority)
        return self._send(DSL.call(body))

    @endpoint
    def workflow(self, workflow_id: str) -> Steps[dict[str, Any]]:
        """A workflow run's status, per-task state and results."""
        return self._send(WORKFLOW.call(workflow_id=workflow_id))

    @endpoint
    def cancel_workflow(self, workflow_id: str) -> Steps[dict[str, Any]]:
        return self._send(CANCEL_WORKFLOW.call(workflow_id=workflow_id))

    @endpoint
    def wait_workflow(
        self, workflow_id: str, *, timeout: float = 300.0, poll_interval: float = 0.5
    ) -> Steps[dict[str, Any]]:
        """Polls with backoff until the run ends (whatever its status); raises
        :class:`WaitTimeoutError` after ``timeout`` seconds."""
        poll = Poll(f"workflow {workflow_id}", timeout, poll_interval)
        while True:
            run = yield from Endpoints.workflow.steps(self, workflow_id)
            if run["status"] in TERMINAL:
                return run
            yield poll.sleep(run["status"])

    @endpoint
    def suggest(
        self, context: str, domain: str = "data-science", complexity: str = "medium"
    ) -> Steps[dict[str, Any]]:
        """Workflows suggested for a context."""
        body = SuggestRequest(context=context, domain=domain, complexity=complexity)
        return self._send(SUGGEST.call(body))
