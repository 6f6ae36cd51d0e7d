"""Synchronous translation and language detection."""

from __future__ import annotations

import logging
import time

from fastapi import APIRouter, Request

from serve_app.api.errors import ApiError, request_id_of, utc_now
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
from serve_app.messages import DetectCall, DetectOutcome, TranslateCall, TranslateOutcome

router = APIRouter(prefix="/api/v1", tags=["translation"])
logger = logging.getLogger("ray.serve")


async def detect_texts(services: Services, texts: list[str], k: int) -> list[Detection]:
    outcome: DetectOutcome = await services.detector.detect.remote(DetectCall(texts, k))
    services.metrics.detection_batch_size.observe(outcome.batch_requests)
    for detection in outcome.detections:
        services.metrics.detections.labels(detection.language).inc()
    return outcome.detections


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
    detections: list[Detection | None] = [None] * len(texts)
    if body.source_language:
        source = language_code(body.source_language, services.languages, "source_language")
        sources = [source] * len(texts)
    else:
        found = await detect_texts(services, texts, 1)
        for index, detection in enumerate(found):
            if detection.language == UNKNOWN_LANGUAGE:
                raise ApiError(
                    400,
                    "Could not detect the source language; pass source_language",
                    field="text" if single else f"text.{index}",
                    code="DETECTION_FAILED",
                )
        detections = list(found)
        sources = [detection.language for detection in found]

    widest = services.args.translator.max_beam_size
    if body.beam_size is not None and body.beam_size > widest:
        raise ApiError(
            400,
            f"beam_size {body.beam_size} is wider than this deployment allows ({widest})",
            field="beam_size",
            code="BEAM_SIZE_TOO_LARGE",
        )
    outcome: TranslateOutcome = await services.translator.translate.remote(
        TranslateCall(
            texts, sources, target, alternatives=body.alternatives, beam_size=body.beam_size
        )
    )
    if outcome.error:
        raise ApiError(400, outcome.error, field=outcome.error_field, code="UNSUPPORTED_LANGUAGE")

    metrics = services.metrics
    metrics.batch_size.observe(outcome.batch_requests)
    metrics.batch_sentences.observe(outcome.batch_sentences)
    metrics.inference_seconds.observe(outcome.inference_seconds)
    characters = sum(len(text) for text in texts)
    metrics.characters.inc(characters)
    for source in sources:
        metrics.translations.labels(source, target).inc()

    items = [
        TranslationItem(
            translated_text=translated,
            alternatives=alternatives,
            source_language=source,
            source_language_detected=detection is not None,
            detection_confidence=detection.confidence if detection else None,
            character_count=len(text),
        )
        for translated, alternatives, source, detection, text in zip(
            outcome.texts, outcome.alternatives, sources, detections, texts, strict=True
        )
    ]
    common = {
        "target_language": target,
        "character_count": characters,
        "inference_time": round(outcome.inference_seconds, 6),
        "beam_size": outcome.beam_size,
        "total_time": round(time.perf_counter() - started, 6),
        "request_id": request_id_of(request) or "",
        "timestamp": utc_now(),
    }
    logger.info(
        "translation_request",
        extra={
            "event": "translation_request",
            "source_languages": sorted(set(sources)),
            "target_language": target,
            "texts": len(texts),
            "character_count": characters,
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
    detections = await detect_texts(services, texts, k)
    results = [_detection_out(services, d, t) for d, t in zip(detections, texts, strict=True)]
    request_id, now = request_id_of(request) or "", utc_now()
    if single:
        return DetectResponse(**results[0].model_dump(), request_id=request_id, timestamp=now)
    return BatchDetectResponse(results=results, request_id=request_id, timestamp=now)
