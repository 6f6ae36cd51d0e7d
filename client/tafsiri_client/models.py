"""The service's answers (and the bodies the SDK sends), as the client reads them.

These are the client's own models, not the server's: installing the SDK brings none of the
server. They are tolerant where a newer server may differ from the one they were written
against: fields they do not know are kept (``model_extra``, and in ``model_dump``), and a
status, flag or method is any string, not a closed list. What they declare is checked against
the server's OpenAPI description by the server's tests, so it cannot drift.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

# The service's default priority (1, lowest, to 10): what a submission without one gets.
DEFAULT_PRIORITY = 5


class Model(BaseModel):
    """An answer's model: unknown fields are kept, not refused."""

    model_config = ConfigDict(extra="allow")


# --- errors ---------------------------------------------------------------------------------


class ErrorItem(Model):
    """One reason of a refusal: the ``field`` it is about (dotted; None for the request as a
    whole), a ``message`` and a machine-readable ``code`` such as ``UNSUPPORTED_LANGUAGE``."""

    field: str | None = None
    message: str
    code: str


class ErrorBody(Model):
    """The one error format of every failure. ``retry_after`` (seconds) comes with a 429."""

    detail: str
    errors: list[ErrorItem] = Field(default_factory=list)
    request_id: str | None = None
    timestamp: datetime | None = None
    retry_after: float | None = None


# --- translation ----------------------------------------------------------------------------


class QualityOut(Model):
    """How good one translation looks (when ``quality`` or ``min_quality`` was asked for)."""

    score: float
    log_prob: float
    flags: list[str]
    output_language: str | None = None


class GlossaryTermOut(Model):
    """What became of one glossary term found in a text."""

    source: str
    target: str
    found: int
    honoured: int
    applied: bool
    method: str


class MemoryMatchOut(Model):
    """A translation memory's match of one sentence of a text: ``served`` when its
    translation stands in the output, else a suggestion beside the model's."""

    sentence: int
    text: str
    source: str
    translation: str
    score: float
    served: bool


class TranslationItem(Model):
    """One text's translation in a batch or multi-target answer."""

    translated_text: str | None
    status: str = "ok"
    quality: QualityOut | None = None
    glossary_terms: list[GlossaryTermOut] | None = None
    memory_matches: list[MemoryMatchOut] | None = None
    correction_id: str | None = None
    alternatives: list[str] = Field(default_factory=list)
    source_language: str
    source_language_detected: bool
    detection_confidence: float | None = None
    character_count: int


class _Served(Model):
    """What every translate answer reports besides its translations."""

    character_count: int
    cached_sentences: int = 0
    repaired_sentences: int = 0
    inference_time: float
    beam_size: int
    model: str
    model_name: str = "default"
    model_is_fallback: bool
    total_time: float
    request_id: str
    timestamp: datetime


class TranslateResponse(_Served):
    """One text into one target."""

    translated_text: str | None
    status: str = "ok"
    quality: QualityOut | None = None
    glossary_terms: list[GlossaryTermOut] | None = None
    memory_matches: list[MemoryMatchOut] | None = None
    correction_id: str | None = None
    alternatives: list[str] = Field(default_factory=list)
    source_language: str
    target_language: str
    source_language_detected: bool
    detection_confidence: float | None = None


class BatchTranslateResponse(_Served):
    """A list of texts into one target, in order."""

    translations: list[TranslationItem]
    target_language: str


class MultiTargetTranslateResponse(_Served):
    """One text into several targets, keyed by target."""

    target_languages: list[str]
    translations: dict[str, TranslationItem]


class MultiTargetBatchTranslateResponse(_Served):
    """A list of texts into several targets: per target, one item per text, in order."""

    target_languages: list[str]
    translations: dict[str, list[TranslationItem]]


TranslateAnswer = (
    TranslateResponse
    | BatchTranslateResponse
    | MultiTargetTranslateResponse
    | MultiTargetBatchTranslateResponse
)


# --- detection and languages ----------------------------------------------------------------


class CandidateOut(Model):
    language: str
    language_name: str
    confidence: float


class DetectionOut(Model):
    language: str
    language_name: str | None
    confidence: float
    reliable: bool
    candidates: list[CandidateOut]
    character_count: int


class DetectResponse(DetectionOut):
    """The language of one text."""

    model: str
    model_is_fallback: bool
    request_id: str
    timestamp: datetime


class BatchDetectResponse(Model):
    """The languages of a list of texts, in order."""

    results: list[DetectionOut]
    model: str
    model_is_fallback: bool
    request_id: str
    timestamp: datetime


DetectAnswer = DetectResponse | BatchDetectResponse


class Language(Model):
    """One FLORES-200 language."""

    code: str
    name: str
    native_name: str | None
    script: str
    script_name: str
    region: str
    iso639_1: str | None
    iso639_3: str


class LanguagesResponse(Model):
    languages: list[Language]
    total: int
    regions: dict[str, int]


# --- models and health ----------------------------------------------------------------------


class ModelState(Model):
    """A registered model, and what the replica that answered holds of it."""

    name: str
    model: str
    revision: str | None = None
    languages: list[str] | None = None
    default: bool
    replica: dict[str, Any] = Field(default_factory=dict)


class ModelsResponse(Model):
    models: list[ModelState]
    routes: list[dict[str, str]]
    max_models_per_replica: int


class ComponentHealth(Model):
    status: str
    model: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None
    fallback: str | None = None


class HealthResponse(Model):
    status: str
    version: str
    components: dict[str, ComponentHealth]
    models_loaded: dict[str, bool]
    timestamp: datetime


# --- jobs -----------------------------------------------------------------------------------


class JobAccepted(Model):
    """A job was queued: poll its ``token``."""

    token: str
    status: str
    estimated_completion_seconds: int
    message: str
    status_url: str


class JobProgress(Model):
    done: int
    total: int
    percent: float


class DocumentReport(Model):
    """A translated document's integrity report: what became of each segment (paragraph,
    cell, cue, message): ``translated + unchanged + withheld == segments``; placeholders and
    tags in and out; how many outputs had their language read; the quality's min and median
    (None when not measured); and ``warnings`` in words (e.g. "no segment was translated")."""

    segments: int
    translated: int
    unchanged: int
    withheld: int
    from_memory: int = 0
    repaired_sentences: int = 0
    flagged: int = 0
    codes_in: int = 0
    codes_out: int = 0
    codes_mismatched: int = 0
    language_checked: int = 0
    language_checked_share: float = 0.0
    wrong_language: int = 0
    quality_measured: int = 0
    quality_min: float | None = None
    quality_median: float | None = None
    warnings: list[str] = Field(default_factory=list)


class JobStatusResponse(Model):
    """A job's state: ``queued``, ``processing``, then ``done``, ``error``, ``timeout`` or
    ``needs_human``."""

    token: str
    kind: str
    status: str
    created_at: datetime
    updated_at: datetime
    retries: int
    metadata: dict[str, Any]
    progress: JobProgress | None = None
    dsl: str | None = None
    result: dict[str, Any] | None = None
    error_message: str | None = None
    error_details: dict[str, Any] | None = None
    # A document job's integrity report (once done or needs_human).
    report: DocumentReport | None = None


# --- glossaries and corrections -------------------------------------------------------------


class LanguagePairOut(Model):
    source_language: str
    target_language: str


class GlossarySummaryOut(Model):
    id: str
    name: str
    created_at: datetime
    entry_count: int
    language_pairs: list[LanguagePairOut]


class GlossaryEntryOut(Model):
    source_language: str
    target_language: str
    source: str
    target: str


class GlossaryOut(GlossarySummaryOut):
    entries: list[GlossaryEntryOut]


class GlossaryListResponse(Model):
    glossaries: list[GlossarySummaryOut]


class CorrectionOut(Model):
    id: str
    text: str
    translation: str
    source_language: str
    target_language: str
    original: str | None = None
    memory_id: str | None = None
    created_at: datetime
    created_by: str | None


class CorrectionListResponse(Model):
    corrections: list[CorrectionOut]


class MemorySummaryOut(Model):
    id: str
    name: str
    created_at: datetime
    entry_count: int
    languages: list[str]


class MemoryCreated(MemorySummaryOut):
    skipped: int = 0


class MemoryListResponse(Model):
    memories: list[MemorySummaryOut]


# --- streams --------------------------------------------------------------------------------


class StreamEvent(Model):
    """One server-sent event of ``translate_stream``: ``sentence`` (``index``, ``delta`` to
    append, ``translation``) or ``done`` (``translated_text``, ``source_language``,
    ``sentences``, ``model_name``)."""

    model_config = ConfigDict(frozen=True)

    event: str
    data: dict[str, Any]


# --- what the SDK sends ---------------------------------------------------------------------
# The bodies of requests. Unset optional fields (None) are left out of what is sent, so the
# server's own defaults apply and a server older than a field is not sent it. Values are
# checked by the server, not here: a server that accepts more is not held back by the SDK.


class Body(BaseModel):
    """A request body."""

    model_config = ConfigDict(extra="forbid")

    def sent(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


class TranslationOptions(Body):
    """What every way of asking for a translation takes (translate, stream, text job)."""

    target_language: str | list[str]
    source_language: str | None = None
    model: str | None = None
    alternatives: int | None = None
    beam_size: int | None = None
    format: str | None = None
    protect_spans: bool | None = None
    quality: bool | None = None
    min_quality: float | None = None
    glossary_id: str | None = None
    glossary_mode: str | None = None
    memory_id: str | None = None
    memory_mode: str | None = None
    memory_threshold: float | None = None


class TranslateRequest(TranslationOptions):
    text: str | list[str]


class StreamTranslateRequest(TranslationOptions):
    text: str


class DetectRequest(Body):
    text: str | list[str]
    top_k: int | None = None


class WorkflowTranslateRequest(Body):
    natural_language: str
    client_id: str
    priority: int
    metadata: dict[str, Any] | None = None


class TextJobRequest(TranslationOptions):
    texts: list[str]
    client_id: str
    priority: int


class DocumentForm(Body):
    """The form fields of a document upload (the file goes beside them)."""

    target_language: str
    source_language: str | None = None
    output_format: str | None = None
    glossary_id: str | None = None
    glossary_mode: str | None = None
    memory_id: str | None = None
    memory_mode: str | None = None
    memory_threshold: float | None = None
    model: str | None = None
    beam_size: int | None = None
    protect_spans: bool | None = None
    quality: bool | None = None
    min_quality: float | None = None
    priority: int
    client_id: str

    def sent(self) -> dict[str, Any]:
        return {key: str(value) for key, value in super().sent().items()}


class GlossaryEntryIn(Body):
    """One entry as the caller gave it (a dict); keys the SDK does not know are passed on,
    for the server to judge."""

    model_config = ConfigDict(extra="allow")

    source: str
    target: str
    source_language: str | None = None
    target_language: str | None = None


class GlossaryCreate(Body):
    name: str
    source_language: str | None = None
    target_language: str | None = None
    entries: list[GlossaryEntryIn] | None = None
    entries_csv: str | None = None


class CorrectionCreate(Body):
    text: str
    translation: str
    source_language: str
    target_language: str
    original: str | None = None
    memory_id: str | None = None


class MemoryForm(Body):
    """The form fields of a memory upload (the TMX file goes beside them)."""

    name: str | None = None


class DslRequest(Body):
    dsl_yaml: str
    client_id: str | None = None
    validate_only: bool | None = None
    priority: int | None = None


class SuggestRequest(Body):
    context: str
    domain: str
    complexity: str
