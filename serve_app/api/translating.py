"""The ingress's side of a translation: the replica's TranslationService, its refusals as
the API's errors, and the metrics of each translation and detection."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from serve_app.api import corrections, glossaries, memories
from serve_app.api.errors import ApiError
from serve_app.api.schemas import TranslationOptions
from serve_app.api.services import Services
from serve_app.api.validation import candidate_codes, language_code
from serve_app.engines.glossary import Glossary
from serve_app.engines.markup import MarkupError
from serve_app.messages import DetectCall, DetectOutcome
from serve_app.translation.request import (
    MemoryOffer,
    Term,
    TranslationRequest,
    correction_offers,
    found_terms,
    memory_offers,
)
from serve_app.translation.service import (
    CORRECTIONS_MODEL,
    Translated,
    TranslationError,
    off_the_loop,
)


def refused(exc: TranslationError, field_of: Callable[[int], str]) -> ApiError:
    """``exc`` as the API's error: 503 when a model could not be had, else 400; its field
    named the entry point's way (``field_of`` a text's index)."""
    field = exc.field or (field_of(exc.index) if exc.index is not None else field_of(0))
    return ApiError(503 if exc.unavailable else 400, exc.message, field=field, code=exc.code)


def texts_field(single: bool, name: str = "text") -> Callable[[int], str]:
    """How a text is named in an error: ``text`` alone, ``text.3`` in a list."""
    return (lambda _: name) if single else (lambda index: f"{name}.{index}")


async def readable(
    services: Services, texts: list[str], text_format: str, field_of: Callable[[int], str]
) -> list[str]:
    """Each text's readable text; 400 INVALID_MARKUP naming a text whose markup is refused."""
    try:
        return await services.translation.readable(texts, text_format)
    except TranslationError as exc:
        raise refused(exc, field_of) from exc


async def glossary_terms(
    services: Services,
    glossary: Glossary,
    texts: list[str],
    text_format: str,
    targets: list[str],
    field_of: Callable[[int], str],
) -> tuple[Term, ...]:
    """The ``glossary``'s terms found in ``texts`` (their readable text) into ``targets``:
    what a request carries of its glossary."""
    found_in = await readable(services, texts, text_format, field_of)
    return await off_the_loop(found_in, lambda: found_terms(glossary, found_in, targets))


async def memory_matches(
    services: Services,
    body: TranslationOptions,
    texts: list[str],
    targets: list[str],
    source: str | None,
    principal: str | None,
    field_of: Callable[[int], str],
) -> tuple[MemoryOffer, ...] | None:
    """The matches of the texts' sentences in the caller's memory ``body.memory_id`` (None
    without one), looked up in a worker thread: a memory's first fuzzy lookup in a replica
    builds its index."""
    if body.memory_id is None:
        return None
    memory = await memories.load(services, body.memory_id, principal, "memory_id")
    threshold = body.memory_threshold or services.args.memories.default_threshold
    max_chars = services.args.translator.max_sentence_chars

    def lookup() -> tuple[MemoryOffer, ...]:
        return memory_offers(
            memory,
            texts,
            targets,
            sources=None if source is None else [source],
            text_format=body.format,
            protect_spans=body.protect_spans,
            max_sentence_chars=max_chars,
            threshold=threshold,
        )

    try:
        return await asyncio.to_thread(lookup)
    except MarkupError as exc:  # (refused the same way by the glossary's or the service's)
        raise ApiError(400, str(exc), field=field_of(0), code="INVALID_MARKUP") from exc


async def request_of(
    services: Services,
    body: TranslationOptions,
    texts: list[str],
    targets: list[str],
    principal: str | None,
    field_of: Callable[[int], str],
) -> TranslationRequest:
    """What ``body`` asks of ``texts`` into ``targets``, checked (source language, model,
    beam), with what it needs of the caller's glossary, translation memory and corrections
    as they stand now."""
    source = (
        language_code(body.source_language, services.languages, "source_language")
        if body.source_language
        else None
    )
    candidates = candidate_codes(body.source_candidates, services.languages, "source_candidates")
    try:
        services.translation.check_beam(body.beam_size)
        services.translation.check_model(body.model)
    except TranslationError as exc:
        raise refused(exc, field_of) from exc
    terms = None
    if body.glossary_id is not None:
        glossary = await glossaries.load(services, body.glossary_id, principal, "glossary_id")
        terms = await glossary_terms(services, glossary, texts, body.format, targets, field_of)
    elif body.format != "text":  # refused now: a job would fail only when it runs
        await readable(services, texts, body.format, field_of)
    remembered = await memory_matches(services, body, texts, targets, source, principal, field_of)
    return TranslationRequest(
        texts=texts,
        targets=targets,
        source=source,
        source_candidates=candidates,
        text_format=body.format,
        protect_spans=body.protect_spans,
        alternatives=body.alternatives,
        beam_size=body.beam_size,
        model=body.model,
        quality=body.quality,
        min_quality=body.min_quality,
        glossary=terms,
        glossary_mode=body.glossary_mode,
        corrections=correction_offers(await corrections.table(services, principal), texts, targets),
        memory=remembered,
        memory_mode=body.memory_mode,
        owner=principal or "",
    )


async def translate(
    services: Services, request: TranslationRequest, field_of: Callable[[int], str]
) -> Translated:
    """The request translated by the replica's service, recorded in the metrics."""
    try:
        translated = await services.translation.translate(request)
    except TranslationError as exc:
        raise refused(exc, field_of) from exc
    record(services, translated)
    return translated


async def detect_outcome(
    services: Services, texts: list[str], k: int, candidates: frozenset[str] | None = None
) -> DetectOutcome:
    """The LanguageDetector's top-``k`` detections of ``texts``, counted in the metrics."""
    outcome: DetectOutcome = await services.detector.detect.remote(DetectCall(texts, k, candidates))
    services.count_detections(outcome)
    return outcome


def record(services: Services, translated: Translated) -> None:
    metrics, outcome = services.metrics, translated.outcome
    if outcome.model != CORRECTIONS_MODEL:  # a Translator call was made
        metrics.batch_size.observe(outcome.batch_requests)
        metrics.batch_sentences.observe(outcome.batch_sentences)
        metrics.inference_seconds.observe(outcome.inference_seconds)
        for name in outcome.model_name.split(","):
            metrics.model_requests.labels(name).inc()
            metrics.model_batch_size.labels(name).observe(outcome.batch_requests)
    items = translated.all_items
    served = sum(item.correction is not None for item in items)
    if served:
        metrics.corrections_served.inc(served)
    matched = [report for item in items for report in item.memory or ()]
    if matched:
        from_memory = sum(report.served for report in matched)
        metrics.memory_sentences.labels("served").inc(from_memory)
        metrics.memory_sentences.labels("suggested").inc(len(matched) - from_memory)
    if translated.withheld:
        metrics.withheld_translations.inc(translated.withheld)
    metrics.characters.inc(translated.characters)
    if outcome.repaired_sentences:
        metrics.repaired_sentences.inc(outcome.repaired_sentences)
    metrics.cache_sentences.labels("hit").inc(outcome.cached_sentences)
    metrics.cache_sentences.labels("miss").inc(outcome.sentences - outcome.cached_sentences)
    for target in translated.request.targets:
        for source in translated.sources.codes:
            metrics.translations.labels(source, target).inc()
    for item in items:
        for flag in item.quality.flags if item.quality else ():
            metrics.quality_flags.labels(flag).inc()
