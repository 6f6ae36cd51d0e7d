"""Translator deployment: dynamic batching across concurrent requests over the engine."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

import ray
from ray import serve

from deployments.batching import BatchWait, WorkerPool
from serve_app.config import TRANSLATOR_BATCHING, CacheConfig, TranslatorConfig
from serve_app.engines.cache import MemoryCache, RedisCache, TranslationCache
from serve_app.engines.device import device_defaults, on_reserved_devices
from serve_app.engines.models import Loaded, ModelUnavailableError
from serve_app.engines.translator import TranslationRequest, Translator
from serve_app.health import WorkEvidence, check_memory, replica_details
from serve_app.loading import batch_size, decoding_options, load_registered, load_translator
from serve_app.messages import ComponentInfo, TranslateCall, TranslateOutcome
from serve_app.routing import model_name
from serve_app.serving import lower_priority, scheduling_class
from serve_app.translation.calls import ServedModel, answer_calls

logger = logging.getLogger("ray.serve")

# Settings that need a new engine; the rest are applied to the running one.
_ENGINE_FIELDS = (
    "model",
    "revision",
    "tokenizer",
    "fallback_model",
    "device",
    "compute_type",
    "inter_threads",
    "intra_threads",
)
HEALTH_PROBE = TranslationRequest("Health check.", "eng_Latn", "fra_Latn")
# Flushes Serve hands over at once (max_ongoing_requests 128 / 32 per flush): those that
# find no free worker wait in the WorkerPool, and merge there.
FORMED_FLUSHES = 4
# Characters of a call whose cache probe runs on the replica's loop (see translate()).
INLINE_PROBE_CHARS = 2000
# Serve's multiplexing keeps its per-replica LRU here (ray/serve/api.py); its size is set
# from translator.max_models_per_replica before each load (the decorator's is a constant).
_MULTIPLEX_WRAPPER = "__serve_multiplex_wrapper"
MAX_REGISTERED = 64


@dataclass(eq=False)
class _Served:
    """A loaded model and its name; ``on_unload`` runs once, when Serve's LRU drops it."""

    name: str
    loaded: Loaded[Translator]
    on_unload: Any = None

    @property
    def engine(self) -> Translator:
        return self.loaded.engine

    def __del__(self) -> None:
        callback, self.on_unload = self.on_unload, None
        if callback is not None:
            callback(self.name)


def make_cache(config: CacheConfig) -> TranslationCache | None:
    if config.backend == "memory":
        return MemoryCache(config.max_mib * 2**20)
    if config.backend == "redis":
        if not config.redis_url:
            raise ValueError("translator.cache.backend redis needs translator.cache.redis_url")
        return RedisCache(
            config.redis_url, prefix=config.redis_prefix, ttl_seconds=config.ttl_seconds
        )
    return None


@serve.deployment(name="Translator")
class TranslatorDeployment:
    """All settings arrive as ``user_config`` (a :class:`TranslatorConfig`), so a redeploy
    that changes them reconfigures the running replicas instead of replacing them."""

    _engine: Translator
    _loaded: Loaded[Translator]
    _config: TranslatorConfig
    _cache: TranslationCache | None

    def __init__(self, nice: int = 0, idle: bool = False) -> None:
        """``nice`` > 0 (the BulkTranslator): this process runs that many steps of niceness
        lower, with ``idle`` in the SCHED_IDLE class too, its engine's threads as well (they
        are started after this, and inherit it). See ``serving.lower_priority``."""
        self._lower_by, self._idle = nice, idle
        self._nice = lower_priority(nice, idle=idle)
        self._calls = 0  # translate calls answered (health details)
        # Per registered model: loads, unloads (Serve's LRU) and calls (health details).
        self._model_stats: dict[str, dict[str, int]] = {}
        self._load_errors: dict[str, str] = {}
        self._load_seconds: dict[str, float] = {}
        self._evidence = WorkEvidence()  # decodes that show the model works (check_health)

    async def reconfigure(self, user_config: dict[str, Any]) -> None:
        """Applies new settings; a new model is loaded aside and swapped in atomically, so
        requests in flight finish on the old engine and none fails during a reload."""
        config = TranslatorConfig.model_validate(user_config)
        # auto takes a GPU only if this replica reserved one (num_gpus): Ray no longer hides
        # the node's GPUs from a replica that reserved none.
        config = config.model_copy(
            update={"device": on_reserved_devices(config.device, ray.get_gpu_ids())}
        )
        previous = getattr(self, "_config", None)
        if previous is None or any(
            getattr(config, name) != getattr(previous, name) for name in _ENGINE_FIELDS
        ):
            loaded = await asyncio.to_thread(load_translator, config)
            if self._lower_by:  # any thread that started meanwhile from one not yet lowered
                lower_priority(self._lower_by, idle=self._idle)
            self._engine, self._loaded = loaded.engine, loaded
            self._default = _Served("default", loaded)
            logger.info("translator_model_loaded model=%s", loaded.model)
            previous_cache: TranslationCache | None = getattr(self, "_cache", None)
            if previous_cache is not None:
                previous_cache.clear()  # a reloaded model's sentences are decoded afresh
        if previous is None or config.cache != previous.cache:
            self._cache = make_cache(config.cache)
        self._engine.cache = self._cache
        # Left unset, batch sizes are the device's: the engine's, resolved when it loaded.
        self._options = decoding_options(config, self._engine.device)
        self._batching = config.batching.enabled
        self._apply_batching(config)
        self._config = config
        self._size_lru()

    def _apply_batching(self, config: TranslatorConfig) -> None:
        size = batch_size(config, self._engine.device)
        self._translate_batch.set_max_batch_size(size)
        if not hasattr(self, "_wait"):
            self._wait = BatchWait(self._translate_batch)
            self._pool = WorkerPool()
        self._pool.workers, self._pool.max_calls = self._engine.workers, size
        self._wait.configure(config.batching.batch_wait_timeout_s, config.batching.work_conserving)

    def _stats(self, name: str) -> dict[str, int]:
        return self._model_stats.setdefault(
            name, {"loads": 0, "unloads": 0, "calls": 0, "failures": 0}
        )

    def _unloaded(self, name: str) -> None:
        self._stats(name)["unloads"] += 1
        logger.info("translator_model_unloaded name=%s", name)

    @serve.multiplexed(max_num_models_per_replica=MAX_REGISTERED)
    async def _load_registered(self, model_id: str) -> _Served:
        """A registered model (``translator.models``), loaded on first use; Serve keeps the
        most recently used per replica and routes calls for one to replicas that hold it."""
        name = model_name(model_id)
        config = self._config
        if name not in config.models:
            raise ModelUnavailableError(f"no model {name!r} is registered")
        started = time.perf_counter()
        try:
            loaded = await asyncio.to_thread(load_registered, config, name)
        except Exception as exc:
            # Unavailable, said in /health and /api/v1/models; the other models serve on.
            self._stats(name)["failures"] += 1
            self._load_errors[name] = str(exc)
            raise
        self._load_errors.pop(name, None)
        self._load_seconds[name] = round(time.perf_counter() - started, 3)
        self._size_lru()
        if self._lower_by:
            lower_priority(self._lower_by, idle=self._idle)
        loaded.engine.cache = self._cache
        self._stats(name)["loads"] += 1
        logger.info("translator_model_loaded name=%s model=%s", name, loaded.model)
        return _Served(name, loaded, self._unloaded)

    def _size_lru(self) -> None:
        """Serve's LRU takes translator.max_models_per_replica. Its wrapper exists from the
        first load on, so this runs after each load (the size the next load is checked
        against) and on reconfigure."""
        wrapper = getattr(self, _MULTIPLEX_WRAPPER, None)
        if wrapper is not None:
            wrapper.max_num_models_per_replica = self._config.max_models_per_replica

    async def _served(self, model_id: str) -> _Served:
        """The model a call's multiplexed id names; the default for none."""
        if not model_id:
            return self._default
        served: _Served = await self._load_registered(model_id)
        return served

    async def translate(self, call: TranslateCall) -> TranslateOutcome:
        self._calls += 1
        model_id = serve.get_multiplexed_model_id()
        try:
            served = await self._served(model_id)
        except (ModelUnavailableError, OSError, RuntimeError, ValueError) as exc:
            logger.warning("translator_model_unavailable id=%s error=%s", model_id, exc)
            return TranslateOutcome(
                error=f"model {model_name(model_id)!r} is unavailable: {exc}",
                error_field="model",
                error_code="MODEL_UNAVAILABLE",
            )
        if model_id:
            self._stats(served.name)["calls"] += 1
        if served.engine.cache is not None:
            # Checked before batching: a call whose every sentence is cached waits for no
            # flush and reaches no model. A small call's probe of the in-process cache costs
            # microseconds, less than a thread hop; Redis and large calls go to a thread.
            if (
                isinstance(served.engine.cache, MemoryCache)
                and sum(map(len, call.texts)) <= INLINE_PROBE_CHARS
            ):
                cached = self._translate_from_cache(call, served)
            else:
                cached = await asyncio.to_thread(self._translate_from_cache, call, served)
            if cached is not None:
                return cached
        if not self._batching:
            (outcome,) = await self._run([call], served)
            return outcome
        return await self._translate_batch(call)

    @serve.batch(
        max_batch_size=device_defaults("cpu").max_batch_size,
        batch_wait_timeout_s=TRANSLATOR_BATCHING.batch_wait_timeout_s,
        max_concurrent_batches=FORMED_FLUSHES,
    )
    async def _translate_batch(self, calls: list[TranslateCall]) -> list[TranslateOutcome]:
        # Serve splits batches by multiplexed model id: one flush, one model.
        served = await self._served(serve.get_multiplexed_model_id())
        chars = sum(
            len(text) * max(1, len(call.target_languages)) for call in calls for text in call.texts
        )

        async def work(merged: list[TranslateCall], workers: int) -> list[TranslateOutcome]:
            return await self._run(merged, served, workers)

        with self._wait.running():
            return await self._pool.run(served, calls, chars, work)

    def _translate_from_cache(
        self, call: TranslateCall, served: _Served
    ) -> TranslateOutcome | None:
        outcomes = self._outcomes([call], served, None, cached_only=True)
        return outcomes[0] if outcomes else None

    async def _run(
        self, calls: list[TranslateCall], served: _Served, parallel: int | None = None
    ) -> list[TranslateOutcome]:
        with self._evidence.decoding():
            outcomes = await asyncio.to_thread(
                self._outcomes, calls, served, parallel, cached_only=False
            )
        assert outcomes is not None
        return outcomes

    def _outcomes(
        self,
        calls: list[TranslateCall],
        served: _Served,
        parallel: int | None,
        *,
        cached_only: bool,
    ) -> list[TranslateOutcome] | None:
        """The calls' outcomes; with ``cached_only``, None unless the cache holds every
        sentence (an error, e.g. an unknown language, is answered at once too)."""
        loaded = served.loaded
        return answer_calls(
            served.engine,
            calls,
            self._options,  # one snapshot per flush
            ServedModel(served.name, loaded.model, loaded.fallback_reason is not None),
            parallel,
            cached_only=cached_only,
        )

    def info(self) -> ComponentInfo:
        return ComponentInfo(
            model=self._loaded.model,
            fallback_reason=self._loaded.fallback_reason,
            load_seconds=self._engine.load_seconds,
            details={
                "languages": len(self._engine.supported_languages),
                "compute_type": self._engine.compute_type,
                "device": self._engine.device,
                "workers": self._engine.workers,
                "batching": {
                    **self._config.batching.model_dump(),
                    "max_batch_size": batch_size(self._config, self._engine.device),
                },
                "max_batch_tokens": self._options.max_batch_tokens,
                "beam_size": self._options.beam_size,
                "nice": self._nice,
                "scheduling": scheduling_class(),
                "calls": self._calls,
                "max_models_per_replica": self._config.max_models_per_replica,
                "registered_models": self._registered_details(),
                **replica_details(),
            },
        )

    def _registered_details(self) -> dict[str, dict[str, Any]]:
        """Each registered model as this replica sees it: held now, available (its last load
        did not fail, else the error), seconds its last load took, loads, unloads, calls and
        failed loads."""
        wrapper = getattr(self, _MULTIPLEX_WRAPPER, None)
        held = {model_name(mid) for mid in (wrapper.models if wrapper is not None else {})}
        return {
            name: {
                "loaded": name in held,
                "available": name not in self._load_errors,
                "last_error": self._load_errors.get(name),
                "load_seconds": self._load_seconds.get(name),
                **self._stats(name),
            }
            for name in self._config.models
        }

    async def check_health(self) -> None:
        """Fails unless the model is seen to work: its recent or running decodes show it
        (``WorkEvidence``), or it translates a sentence within the timeout."""
        if self._evidence.needs_probe("Translator"):
            with self._evidence.decoding():  # a probe that worked is evidence too
                output = await asyncio.wait_for(
                    asyncio.to_thread(
                        self._engine.translate, [HEALTH_PROBE], self._options, use_cache=False
                    ),
                    timeout=30,
                )
            if not output.results or not output.results[0].text.strip():
                raise RuntimeError("translator produced no output for the health probe")
        check_memory(self._config.max_memory_mib, "Translator")
