"""Synchronous translation and language detection."""

from __future__ import annotations

import logging
import time
from dataclasses import asdict

from fastapi import APIRouter, Request

from serve_app.api import translating
from serve_app.api.errors import error_responses, request_id_of, utc_now
from serve_app.api.schemas import (
    BatchDetectResponse,
    BatchTranslateResponse,
    CandidateOut,
    DetectionOut,
    DetectRequest,
    DetectResponse,
    GlossaryTermOut,
    MemoryMatchOut,
    MultiTargetBatchTranslateResponse,
    MultiTargetTranslateResponse,
    QualityOut,
    TranslateRequest,
    TranslateResponse,
    TranslationItem,
)
from serve_app.api.security import Principal, charge, client_key
from serve_app.api.services import Services, ServicesDep
from serve_app.api.validation import as_text_list, candidate_codes, target_codes
from serve_app.engines.detector import UNKNOWN_LANGUAGE, Detection
from serve_app.translation.service import TranslatedItem

router = APIRouter(
    prefix="/api/v1",
    tags=["translation"],
    responses=error_responses(400, 401, 404, 413, 422, 429, 503),
)
logger = logging.getLogger("ray.serve")


TranslateAnswer = (
    TranslateResponse
    | BatchTranslateResponse
    | MultiTargetTranslateResponse
    | MultiTargetBatchTranslateResponse
)


@router.post(
    "/translate",
    response_model=TranslateAnswer,
    summary="Translate a text or a list of texts, into one target or several",
)
async def translate(
    body: TranslateRequest, request: Request, services: ServicesDep, principal: Principal
) -> TranslateAnswer:
    started = time.perf_counter()
    texts, single = as_text_list(body.text, services.args.api)
    targets, several = target_codes(body.target_language, services.languages)
    # Charged before any work: each text once per target it is translated into.
    await charge(services, client_key(request, principal), sum(map(len, texts)) * len(targets))
    field_of = translating.texts_field(single)
    done = await translating.translate(
        services,
        await translating.request_of(services, body, texts, targets, principal, field_of),
        field_of,
    )
    outcome = done.outcome
    per_target = {
        target: [
            _item(
                translated,
                source_language=source_code,
                source_language_detected=detection is not None,
                detection_confidence=detection.confidence if detection else None,
                character_count=len(text),
            )
            for translated, source_code, detection, text in zip(
                items, done.sources.codes, done.sources.detections, texts, strict=True
            )
        ]
        for target, items in done.items.items()
    }
    common = {
        "character_count": done.characters,
        "cached_sentences": outcome.cached_sentences,
        "repaired_sentences": outcome.repaired_sentences,
        "inference_time": round(outcome.inference_seconds, 6),
        "beam_size": outcome.beam_size,
        "model": outcome.model,
        "model_name": outcome.model_name,
        "model_is_fallback": outcome.model_is_fallback,
        "total_time": round(time.perf_counter() - started, 6),
        "request_id": request_id_of(request) or "",
        "timestamp": utc_now(),
    }
    logger.info(
        "translation_request",
        extra={
            "event": "translation_request",
            "source_languages": sorted(set(done.sources.codes)),
            "target_language": ",".join(targets),
            "texts": len(texts),
            "character_count": done.characters,
            "inference_time": common["inference_time"],
            "total_time": common["total_time"],
            "batch_requests": outcome.batch_requests,
        },
    )
    if several:
        if single:
            return MultiTargetTranslateResponse(
                translations={target: items[0] for target, items in per_target.items()},
                target_languages=targets,
                **common,
            )
        return MultiTargetBatchTranslateResponse(
            translations=per_target, target_languages=targets, **common
        )
    (items,) = per_target.values()
    if single:
        (item,) = items
        return TranslateResponse(
            **item.model_dump(exclude={"character_count"}), target_language=targets[0], **common
        )
    return BatchTranslateResponse(translations=items, target_language=targets[0], **common)


def _item(translated: TranslatedItem, **details: object) -> TranslationItem:
    """One translation as answered: withheld (no text) when below ``min_quality``."""
    quality, shown = translated.quality, None
    if translated.correction is not None:
        details["correction_id"] = translated.correction.id
    if translated.glossary is not None:
        details["glossary_terms"] = [
            GlossaryTermOut(**report.as_dict()) for report in translated.glossary
        ]
    if translated.memory is not None:
        details["memory_matches"] = [
            MemoryMatchOut(**report.as_dict()) for report in translated.memory
        ]
    if quality is not None:
        shown = QualityOut(**asdict(quality))
    if translated.withheld:
        return TranslationItem(translated_text=None, status="withheld", quality=shown, **details)
    return TranslationItem(
        translated_text=translated.text,
        alternatives=translated.alternatives,
        quality=shown,
        **details,
    )


def _detection_out(services: Services, detection: Detection, text: str) -> DetectionOut:
    def name(code: str) -> str:
        return services.languages.get(code).name

    return DetectionOut(
        language=detection.language,
        language_name=None if detection.language == UNKNOWN_LANGUAGE else name(detection.language),
        confidence=detection.confidence,
        reliable=detection.reliable,
        candidates=[
            CandidateOut(
                language=c.language, language_name=name(c.language), confidence=c.confidence
            )
            for c in detection.candidates
        ],
        character_count=len(text),
    )


@router.post(
    "/detect-language",
    response_model=DetectResponse | BatchDetectResponse,
    summary="Detect the language of a text or a list of texts",
)
async def detect_language(
    body: DetectRequest, request: Request, services: ServicesDep, principal: Principal
) -> DetectResponse | BatchDetectResponse:
    texts, single = as_text_list(body.text, services.args.api)
    await charge(services, client_key(request, principal), sum(map(len, texts)))
    k = body.top_k or services.args.detector.top_k
    candidates = candidate_codes(body.candidates, services.languages, "candidates")
    outcome = await translating.detect_outcome(services, texts, k, candidates)
    results = [
        _detection_out(services, d, t) for d, t in zip(outcome.detections, texts, strict=True)
    ]
    common = {
        "model": outcome.model,
        "model_is_fallback": outcome.model_is_fallback,
        "request_id": request_id_of(request) or "",
        "timestamp": utc_now(),
    }
    if single:
        return DetectResponse(**results[0].model_dump(), **common)
    return BatchDetectResponse(results=results, **common)
