"""HTTP request and response models (the contract of ``shared/seeds``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from serve_app.dsl.validator import Workflow
from serve_app.engines.languages import Language
from serve_app.jobs.model import JobStatus
from serve_app.priority import DEFAULT_PRIORITY, Priority


class ErrorItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: str | None = Field(
        description="The request field at fault, as a dotted path; null: the request as a whole."
    )
    message: str
    code: str = Field(description="What went wrong, for programs: `NOT_FOUND`, `RATE_LIMITED`...")


class DslValidation(BaseModel):
    """What validating a DSL workflow found."""

    valid: bool
    warnings: list[str]
    errors: list[ErrorItem]
    parsed_workflow: Workflow | None = Field(
        description="The workflow as it will run (null unless valid); optional keys without "
        "a value (a workflow's `description`, a task's `timeout`) are left out."
    )


class ErrorResponse(BaseModel):
    """The one body of every error the API answers (and of a stream's `error` event)."""

    model_config = ConfigDict(extra="forbid")

    detail: str
    errors: list[ErrorItem]
    request_id: str | None
    timestamp: datetime
    # Only in the errors that have them (left out of the body otherwise).
    retry_after: int | None = Field(
        None, description="429 and 503: seconds to wait before retrying (as `Retry-After`)."
    )
    limit: str | None = Field(None, description="429 of a rate limit: the limit reached.")
    validation_results: DslValidation | None = Field(
        None, description="422 of `POST /api/v1/workflows/dsl`: the validation report."
    )


# Targets one translate request may name (each multiplies the work of the request).
MAX_TARGETS = 8


TextFormat = Annotated[
    Literal["text", "html"],
    Field(
        description="`html`: tags, attributes, comments and entities come back as they were, "
        "inline tags (`<b>`, `<a>`) stay inside their sentence, and `<script>`, `<style>`, "
        '`<code>`, `translate="no"` and `class="notranslate"` content is not translated. '
        "Attribute values are not translated.",
        examples=["html"],
    ),
]
ProtectSpans = Annotated[
    bool,
    Field(
        description="Keep placeholders (`{name}`, `{{var}}`, `%s`, `%1$s`, `${x}`), URLs, e-mail "
        "addresses and numbers exactly as they are, whatever the model does."
    ),
]

AskQuality = Annotated[
    bool,
    Field(
        description="Return each translation's quality: the model's score, whether the output "
        "is in the target language, and flags for repetition loops, untranslated output and "
        "suspicious length ratios (one more language-detection pass over the outputs)."
    ),
]
MinQuality = Annotated[
    float | None,
    Field(
        ge=0,
        le=1,
        description="Withhold translations whose quality score is below this (0..1): such an "
        "item comes back with `status: withheld`, `translated_text: null` and its quality; "
        "the other items are unaffected. Implies `quality`.",
        examples=[0.3],
    ),
]
GlossaryId = Annotated[
    str | None,
    Field(
        description="Apply this glossary (one of yours: `POST /api/v1/glossaries`); its "
        "entries for each text's language pair are used.",
        examples=["3f2b8c1d9e0a4b5c8d7e6f5a4b3c2d1e"],
    ),
]
GlossaryMode = Annotated[
    Literal["enforce", "prefer"],
    Field(
        description="`enforce`: every term found is written as its target, whatever the model "
        "does (the model sees a placeholder in its place). `prefer`: the model sees the term "
        "and the hypothesis holding the most target terms wins; a term counts as honoured "
        "only where the output really holds it."
    ),
]
MemoryId = Annotated[
    str | None,
    Field(
        description="Use this translation memory (one of yours: `POST /api/v1/memories`): a "
        "sentence it holds exactly is answered from it without the model; fuzzy matches at "
        "or above `memory_threshold` are reported in `memory_matches`.",
        examples=["3f2b8c1d9e0a4b5c8d7e6f5a4b3c2d1e"],
    ),
]
MemoryMode = Annotated[
    Literal["suggest", "prefer"],
    Field(
        description="`suggest`: a fuzzy match comes back beside the model's translation. "
        "`prefer`: the best fuzzy match is served instead of the model's translation of that "
        "sentence. Exact matches are served either way."
    ),
]
MemoryThreshold = Annotated[
    float | None,
    Field(
        ge=0.5,
        le=1.0,
        description="A fuzzy match's least score (0..1, RapidFuzz's normalised Indel "
        "similarity of the normalised sentences); `memories.default_threshold` (0.85) when "
        "omitted.",
    ),
]

Targets = str | Annotated[list[str], Field(min_length=1, max_length=MAX_TARGETS)]


Candidates = Annotated[
    list[str] | None,
    Field(
        None,
        min_length=1,
        max_length=256,
        description="Only these languages may be answered (the languages a client serves); "
        "ranked among themselves, never `reliable` when the text most likely is in none of "
        "them. Unknown codes are a 400 naming them.",
        examples=[["eng_Latn", "fra_Latn", "swh_Latn"]],
    ),
]


class TranslationOptions(BaseModel):
    """What every way of asking for a translation accepts (translate, stream, text job,
    document), each option the same everywhere."""

    model_config = ConfigDict(extra="forbid")

    target_language: Targets = Field(
        ...,
        description="FLORES-200 code, e.g. eng_Latn (or ISO 639); or a list of up to "
        f"{MAX_TARGETS} targets, all decoded in the same batch, results keyed by target.",
        examples=["eng_Latn", ["eng_Latn", "fra_Latn"]],
    )
    source_language: str | None = Field(None, description="Detected when omitted.")
    source_candidates: Candidates = None
    model: str | None = Field(
        None,
        description="A registered model by name (GET /api/v1/models); by default the routing "
        "table picks one per language pair.",
        max_length=64,
    )
    alternatives: int = Field(
        0, ge=0, le=4, description="Alternative translations to return besides the best one."
    )
    beam_size: int | None = Field(
        None,
        ge=1,
        le=16,
        description="Beam width for this request (1: greedy, fastest); the deployment's "
        "`beam_size` when omitted, at most its `max_beam_size`.",
    )
    format: TextFormat = "text"
    protect_spans: ProtectSpans = True
    quality: AskQuality = False
    min_quality: MinQuality = None
    glossary_id: GlossaryId = None
    glossary_mode: GlossaryMode = "enforce"
    memory_id: MemoryId = None
    memory_mode: MemoryMode = "suggest"
    memory_threshold: MemoryThreshold = None


class TranslateRequest(TranslationOptions):
    text: str | list[str] = Field(
        ..., description="Text to translate, or a list of texts.", examples=["Habari ya asubuhi"]
    )


class StreamTranslateRequest(TranslationOptions):
    """One long text, its sentences streamed back as server-sent events as they are done."""

    text: str = Field(..., min_length=1, description="Up to `api.max_job_chars` characters.")


class GlossaryTermOut(BaseModel):
    """What became of one glossary term found in a text."""

    source: str
    target: str
    found: int = Field(description="Sentences of the text the term was found in.")
    honoured: int = Field(description="Of those, sentences whose output holds the target.")
    applied: bool = Field(description="Honoured in every sentence it was found in.")
    method: Literal["substituted", "model"]


GlossaryTerms = Annotated[
    list[GlossaryTermOut] | None,
    Field(description="With a glossary: each of its terms found in the text, and its fate."),
]


class MemoryMatchOut(BaseModel):
    """A translation memory's match of one sentence of a text."""

    sentence: int = Field(description="The sentence's index in the text (from 0).")
    text: str = Field(description="The sentence, normalised (NFC, whitespace collapsed).")
    source: str = Field(description="The memory's segment that matched.")
    translation: str = Field(description="The memory's translation of that segment.")
    score: float = Field(description="1 for an exact match; else the fuzzy score (0..1).")
    served: bool = Field(
        description="Its translation stands in the output (exact, or fuzzy in `prefer` mode); "
        "false: a suggestion beside the model's translation."
    )


MemoryMatches = Annotated[
    list[MemoryMatchOut] | None,
    Field(description="With a memory: each sentence of the text it matched."),
]


class QualityOut(BaseModel):
    """How good one translation looks (only when asked for)."""

    score: float = Field(
        description="0..1: exp(the model's log-probability per token) of the weakest "
        "sentence, halved for every flag raised; what `min_quality` is compared with."
    )
    log_prob: float = Field(
        description="The model's mean log-probability per output token (length-normalised)."
    )
    flags: list[Literal["repetition", "untranslated", "length_ratio", "wrong_language"]] = Field(
        description="`repetition`: a loop the source does not have; `untranslated`: the "
        "source came back; `length_ratio`: output tokens far fewer or more than the "
        "source's; `wrong_language`: the output reads reliably as another language."
    )
    output_language: str | None = Field(
        None, description="The language detected in the output (FLORES-200)."
    )


ItemStatus = Annotated[
    Literal["ok", "withheld"],
    Field(description="`withheld`: below the request's `min_quality`; no text is given."),
]
TranslatedText = Annotated[
    str | None, Field(description="The translation; null when withheld (see `status`).")
]


AlternativeTexts = Annotated[
    list[str],
    Field(default_factory=list, description="Next-best translations, best first (if asked for)."),
]

DecodedBeam = Annotated[int, Field(description="Beam width the texts were decoded with.")]


CorrectionId = Annotated[
    str | None,
    Field(description="Set when your correction answered this text instead of the model."),
]


class TranslationItem(BaseModel):
    translated_text: TranslatedText
    status: ItemStatus = "ok"
    quality: QualityOut | None = None
    glossary_terms: GlossaryTerms = None
    memory_matches: MemoryMatches = None
    correction_id: CorrectionId = None
    alternatives: AlternativeTexts
    source_language: str
    source_language_detected: bool
    detection_confidence: float | None = None
    character_count: int


ServedModel = Annotated[str, Field(description="The model that served this answer.")]
FallbackFlag = Annotated[
    bool,
    Field(
        description="True when the configured model could not be had and the bundled offline "
        "fallback served instead: its output is not a real translation or detection."
    ),
]


class _Served(BaseModel):
    """What every translate answer reports besides its translations."""

    character_count: int = Field(description="Characters translated (each text once per target).")
    cached_sentences: int = Field(
        0,
        description="Sentences (of every text and target) served from the translation cache "
        "instead of the model.",
    )
    repaired_sentences: int = Field(
        0,
        description="Sentences whose model output lost a protected span or inline tag, so they "
        "were translated piece by piece around it (spans kept, fluency may suffer).",
    )
    inference_time: float
    beam_size: DecodedBeam
    model: ServedModel
    model_name: str = Field(
        "default",
        description="The registered name of the model that served (several, comma-separated, "
        "when the texts' pairs were routed to different models).",
    )
    model_is_fallback: FallbackFlag
    total_time: float
    request_id: str
    timestamp: datetime


class TranslateResponse(_Served):
    translated_text: TranslatedText
    status: ItemStatus = "ok"
    quality: QualityOut | None = None
    glossary_terms: GlossaryTerms = None
    memory_matches: MemoryMatches = None
    correction_id: CorrectionId = None
    alternatives: AlternativeTexts
    source_language: str
    target_language: str
    source_language_detected: bool
    detection_confidence: float | None = None


class BatchTranslateResponse(_Served):
    translations: list[TranslationItem]
    target_language: str


class MultiTargetTranslateResponse(_Served):
    """One text into several targets (``target_language`` was a list)."""

    target_languages: list[str] = Field(description="The targets, as asked (normalised).")
    translations: dict[str, TranslationItem] = Field(description="Per target language.")


class MultiTargetBatchTranslateResponse(_Served):
    """A list of texts into several targets: per target, one item per text, in order."""

    target_languages: list[str] = Field(description="The targets, as asked (normalised).")
    translations: dict[str, list[TranslationItem]] = Field(description="Per target language.")


class DetectRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str | list[str] = Field(..., description="Text, or a list of texts.")
    top_k: int | None = Field(None, ge=1, le=10, description="Candidates per text.")
    candidates: Candidates = None


class CandidateOut(BaseModel):
    language: str
    language_name: str
    confidence: float


class DetectionOut(BaseModel):
    language: str
    language_name: str | None
    confidence: float
    reliable: bool
    candidates: list[CandidateOut]
    character_count: int


class DetectResponse(DetectionOut):
    model: ServedModel
    model_is_fallback: FallbackFlag
    request_id: str
    timestamp: datetime


class BatchDetectResponse(BaseModel):
    results: list[DetectionOut]
    model: ServedModel
    model_is_fallback: FallbackFlag
    request_id: str
    timestamp: datetime


class LanguagesResponse(BaseModel):
    languages: list[Language]
    total: int
    regions: dict[str, int]


class ComponentHealth(BaseModel):
    status: Literal["healthy", "degraded", "unhealthy"]
    model: str | None = None
    details: dict[str, object] = Field(default_factory=dict)
    error: str | None = None
    fallback: str | None = Field(
        None, description="Degraded: why the configured model is not the one serving."
    )


class HealthResponse(BaseModel):
    status: Literal["healthy", "degraded", "unhealthy"]
    version: str
    components: dict[str, ComponentHealth]
    models_loaded: dict[str, bool]
    timestamp: datetime


class StatusResponse(BaseModel):
    """Liveness; the details only for a caller with a key when ``api.public_docs`` is off."""

    status: Literal["ok"]
    service: str
    version: str | None = None
    environment: str | None = None
    uptime_seconds: float | None = None
    timestamp: datetime


_CLIENT_ID = r"^[A-Za-z0-9_.:@-]{1,64}$"


class WorkflowTranslateRequest(BaseModel):
    """Natural language to DSL, asynchronously (the hybrid API's submit)."""

    model_config = ConfigDict(extra="forbid")

    natural_language: str = Field(..., max_length=5000, description="10 to 5000 characters.")
    client_id: str = Field("default", pattern=_CLIENT_ID)
    priority: Priority = DEFAULT_PRIORITY
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("natural_language")
    @classmethod
    def _long_enough(cls, value: str) -> str:
        if len(value.strip()) < 10:
            raise ValueError("Natural language content too brief, provide more details")
        return value


class TextJobRequest(TranslationOptions):
    """Long documents or many texts, translated asynchronously with progress."""

    texts: list[str] = Field(..., min_length=1, max_length=10_000)
    client_id: str = Field("default", pattern=_CLIENT_ID)
    priority: Priority = DEFAULT_PRIORITY
    metadata: dict[str, Any] = Field(default_factory=dict)
    min_quality: Annotated[
        float | None,
        Field(
            ge=0,
            le=1,
            description="A job with a translation below this quality ends `needs_human`; its "
            "`error_details` hold every translation (null where withheld) with its quality.",
        ),
    ] = None


class GlossaryEntryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str = Field(description="The term as it appears in source texts.")
    target: str = Field(description="Its translation, written as given.")
    source_language: str | None = Field(None, description="The glossary's when omitted.")
    target_language: str | None = Field(None, description="The glossary's when omitted.")


class GlossaryCreate(BaseModel):
    """A named glossary: entries as JSON or as CSV, for one language pair or several."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "product terms",
                    "source_language": "en",
                    "target_language": "sw",
                    "entries": [
                        {"source": "cloud", "target": "wingu"},
                        {"source": "Tafsiri", "target": "Tafsiri"},
                    ],
                },
                {
                    "name": "from a spreadsheet",
                    "entries_csv": "source_language,target_language,source,target\n"
                    "en,sw,cloud,wingu\nen,fr,cloud,nuage\n",
                },
            ]
        },
    )

    name: str = Field(..., min_length=1, max_length=128)
    source_language: str | None = Field(None, description="Default for entries without one.")
    target_language: str | None = Field(None, description="Default for entries without one.")
    entries: list[GlossaryEntryIn] | None = None
    entries_csv: str | None = Field(
        None,
        description="CSV lines `source,target` (the glossary's languages) or "
        "`source_language,target_language,source,target`; a header row is skipped.",
    )

    @model_validator(mode="after")
    def _one_form(self) -> GlossaryCreate:
        if (self.entries is None) == (self.entries_csv is None):
            raise ValueError("give the entries either as `entries` or as `entries_csv`")
        return self


class LanguagePairOut(BaseModel):
    source_language: str
    target_language: str


class GlossarySummaryOut(BaseModel):
    id: str
    name: str
    created_at: datetime
    entry_count: int
    language_pairs: list[LanguagePairOut]


class GlossaryEntryOut(BaseModel):
    source_language: str
    target_language: str
    source: str
    target: str


class GlossaryOut(GlossarySummaryOut):
    entries: list[GlossaryEntryOut]


class GlossaryListResponse(BaseModel):
    glossaries: list[GlossarySummaryOut]


class MemorySummaryOut(BaseModel):
    id: str
    name: str
    created_at: datetime
    entry_count: int = Field(description="Units (TMX `<tu>`) it holds, as uploaded.")
    languages: list[str] = Field(description="Its languages (FLORES-200); any may be a source.")


class MemoryCreated(MemorySummaryOut):
    skipped: int = Field(
        description="Units of the file left out: fewer than two languages this service "
        "knows, or a segment longer than `memories.max_segment_chars`."
    )


class MemoryListResponse(BaseModel):
    memories: list[MemorySummaryOut]


class CorrectionCreate(BaseModel):
    """A better translation of a text (LibreTranslate's ``/suggest``): with corrections
    enabled, it answers that exact text (same pair, your key) from then on."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "text": "Karibu Tafsiri",
                    "translation": "Welcome to Tafsiri",
                    "source_language": "sw",
                    "target_language": "en",
                    "original": "Welcome Tafsiri",
                }
            ]
        },
    )

    text: str = Field(..., min_length=1, description="The source text, as it is translated.")
    translation: str = Field(..., min_length=1, description="Its better translation.")
    source_language: str
    target_language: str
    original: str | None = Field(
        None, description="The machine translation being corrected (kept for the audit)."
    )
    memory_id: str | None = Field(
        None,
        description="One of your translation memories: the correction becomes one of its "
        "units too (found by its sentences, exported with it).",
    )


class CorrectionOut(BaseModel):
    id: str
    text: str
    translation: str
    source_language: str
    target_language: str
    original: str | None = None
    memory_id: str | None = None
    created_at: datetime
    created_by: str | None = Field(description="The API key id that made it (null: no auth).")


class CorrectionListResponse(BaseModel):
    corrections: list[CorrectionOut]


class JobAccepted(BaseModel):
    token: str
    status: Literal["queued"]
    estimated_completion_seconds: int
    message: str
    status_url: str


class JobProgress(BaseModel):
    done: int
    total: int
    percent: float


class DocumentReport(BaseModel):
    """A translated document's integrity report (``serve_app.documents.report``): what
    became of each segment (paragraph, cell, cue, message). ``translated + unchanged +
    withheld = segments``."""

    segments: int = Field(description="The document's segments.")
    translated: int = Field(
        description="Its translation stands in the file and reads differently from its source."
    )
    unchanged: int = Field(
        description="Its translation stands in the file and reads as its source (case and "
        "spacing aside): a name, or a segment the model handed back untranslated."
    )
    withheld: int = Field(
        description="No translation of it stands in the file: in a localization file, one "
        "that lost or doubled a placeholder or tag (the source is kept, marked for review); "
        "elsewhere, one below `min_quality` (the job ends `needs_human`)."
    )
    from_memory: int = Field(
        description="A translation memory served at least one of its sentences."
    )
    repaired_sentences: int = Field(
        description="Sentences (not segments) translated piece by piece because the model "
        "lost a protected span or tag."
    )
    flagged: int = Field(
        description="Its quality raised a flag or scored below `min_quality` (with quality)."
    )
    codes_in: int = Field(
        description="Placeholders and tags in the sources of the segments with a translation."
    )
    codes_out: int = Field(description="Placeholders and tags in those translations.")
    codes_mismatched: int = Field(
        description="Segments whose translation holds other placeholders or tags than its source."
    )
    language_checked: int = Field(
        description="Segments whose output language the detector read (with quality)."
    )
    language_checked_share: float = Field(description="`language_checked` / `segments`, 0..1.")
    wrong_language: int = Field(
        description="Segments read reliably as another language than the target."
    )
    quality_measured: int = Field(description="Segments whose quality was measured.")
    quality_min: float | None = Field(None, description="The lowest quality score measured.")
    quality_median: float | None = Field(None, description="The median quality score measured.")
    warnings: list[str] = Field(
        description="What a person must not miss, in words: no segment translated, segments "
        "withheld, placeholders lost, wrong language, quality flags."
    )


class JobStatusResponse(BaseModel):
    token: str
    kind: str
    status: Literal["queued", "processing", "done", "error", "timeout", "needs_human"]
    created_at: datetime
    updated_at: datetime
    retries: int
    metadata: dict[str, Any]
    progress: JobProgress | None = None
    dsl: str | None = None
    result: dict[str, Any] | None = None
    error_message: str | None = None
    error_details: dict[str, Any] | None = None
    report: DocumentReport | None = Field(
        None,
        description="A document job's integrity report, once it is done or `needs_human` "
        "(also in `result.report`, or `error_details.report`).",
    )


class DslRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dsl_yaml: str = Field(..., min_length=1, max_length=64_000)
    client_id: str = Field("default", pattern=_CLIENT_ID)
    validate_only: bool = False
    priority: Priority = DEFAULT_PRIORITY
    metadata: dict[str, Any] = Field(default_factory=dict)


Complexity = Literal["simple", "medium", "complex"]


class SuggestRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    context: str = Field(..., min_length=3, max_length=5000)
    domain: str = Field("data-science", max_length=64)
    complexity: Complexity = "medium"


class LegacyWorkflowRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    natural_language: str = Field(..., min_length=3, max_length=5000)
    client_id: str = Field("default", pattern=_CLIENT_ID)


class WorkflowStarted(BaseModel):
    workflow_id: str = Field(description="Poll it at `/api/v1/workflows/{workflow_id}`.")
    status: Literal["running"]
    message: str
    validation_results: DslValidation


# A workflow run's times as they have always been answered: ISO 8601 with "+00:00".
IsoTimestamp = Annotated[
    datetime,
    PlainSerializer(datetime.isoformat, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class WorkflowTaskState(BaseModel):
    status: Literal["pending", "running", "done", "error", "skipped", "cancelled"]
    attempts: int
    seconds: float
    output: dict[str, Any] | None = Field(
        description="The outputs the action declares; null until the run's result holds them."
    )
    error: str | None


class WorkflowProgress(BaseModel):
    done: int
    total: int


class WorkflowRun(BaseModel):
    """A workflow run and each of its tasks; `error_message` and `error_details` only in a
    run that failed (`error`, `timeout`, `needs_human`)."""

    workflow_id: str
    name: str | None
    status: JobStatus
    created_at: IsoTimestamp
    updated_at: IsoTimestamp
    retries: int
    progress: WorkflowProgress
    tasks: dict[str, WorkflowTaskState] = Field(description="By task id.")
    metadata: dict[str, Any] = Field(description="As submitted, with `priority` and `client_id`.")
    error_message: str | None = None
    error_details: dict[str, Any] | None = None


# Its fields come first in the legacy answer: pydantic orders fields from the last base on.
class _LegacyWorkflowHead(BaseModel):
    natural_language: str
    dsl: str = Field(description="The workflow planned from it, as DSL (YAML).")


class LegacyWorkflowResponse(WorkflowRun, _LegacyWorkflowHead):
    """The planned DSL, then the run as it stood when it ended or the wait did."""

    request_id: str | None


class WorkflowSuggestion(BaseModel):
    title: str
    description: str
    dsl: str = Field(description="A valid workflow (YAML).")
    estimated_minutes: int


class SuggestResponse(BaseModel):
    suggestions: list[WorkflowSuggestion]
    context: str
    domain: str
    complexity: Complexity
    generated_at: datetime


class AgentActionOut(BaseModel):
    name: str
    description: str
    params: dict[str, Any] = Field(description="The action's params, as a JSON Schema.")
    outputs: list[str] = Field(description="The fields `${task_id.field}` may reference.")
    available: bool = Field(description="A handler serves it.")


class AgentOut(BaseModel):
    name: str
    description: str
    actions: list[AgentActionOut]


class AgentsResponse(BaseModel):
    agents: list[AgentOut]


class QueueStatsOut(BaseModel):
    queue_depth: int
    processing: int
    by_status: dict[str, int]
    completed_last_minute: int
    oldest_queued_age_seconds: float
    totals: dict[str, int]


class StatsResponse(BaseModel):
    translation_queue: QueueStatsOut
    backend: str
    timestamp: datetime
