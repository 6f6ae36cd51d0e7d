"""Synchronous translation and language detection."""

from __future__ import annotations

import logging
import time

from fastapi import APIRouter, Request

from serve_app.api import translating
from serve_app.api.errors import request_id_of, utc_now
from serve_app.api.schemas import (
    BatchDetectResponse,
    BatchTranslateResponse,
    CandidateOut,
    DetectionOut,
    DetectRequest,
    DetectResponse,
    TranslateRequest,
    TranslateResponse,
    TranslationItem,
)
from serve_app.api.services import Services, ServicesDep
from serve_app.api.validation import as_text_list, language_code
from serve_app.engines.detector import UNKNOWN_LANGUAGE, Detection

router = APIRouter(prefix="/api/v1", tags=["translation"])
logger = logging.getLogger("ray.serve")


@router.post(
    "/translate",
    response_model=TranslateResponse | BatchTranslateResponse,
    summary="Translate a text or a list of texts",
)
async def translate(
    body: TranslateRequest, request: Request, services: ServicesDep
) -> TranslateResponse | BatchTranslateResponse:
    started = time.perf_counter()
    texts, single = as_text_list(body.text, services.args.api)
    target = language_code(body.target_language, services.languages, "target_language")
    source = (
        language_code(body.source_language, services.languages, "source_language")
        if body.source_language
        else None
    )
    done = await translating.translate(
        services,
        texts,
        target,
        source,
        single=single,
        alternatives=body.alternatives,
        beam_size=body.beam_size,
    )
    outcome = done.outcome
    items = [
        TranslationItem(
            translated_text=translated,
            alternatives=alternatives,
            source_language=source_code,
            source_language_detected=detection is not None,
            detection_confidence=detection.confidence if detection else None,
            character_count=len(text),
        )
        for translated, alternatives, source_code, detection, text in zip(
            outcome.texts,
            outcome.alternatives,
            done.sources.codes,
            done.sources.detections,
            texts,
            strict=True,
        )
    ]
    common = {
        "target_language": target,
        "character_count": done.characters,
        "inference_time": round(outcome.inference_seconds, 6),
        "beam_size": outcome.beam_size,
        "model": outcome.model,
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
            "target_language": target,
            "texts": len(texts),
            "character_count": done.characters,
            "inference_time": common["inference_time"],
            "total_time": common["total_time"],
            "batch_requests": outcome.batch_requests,
        },
    )
    if single:
        (item,) = items
        return TranslateResponse(**item.model_dump(exclude={"character_count"}), **common)
    return BatchTranslateResponse(translations=items, **common)


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
    body: DetectRequest, request: Request, services: ServicesDep
) -> DetectResponse | BatchDetectResponse:
    texts, single = as_text_list(body.text, services.args.api)
    k = body.top_k or services.args.detector.top_k
    outcome = await translating.detect_outcome(services, texts, k)
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
