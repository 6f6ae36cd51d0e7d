"""Long text as server-sent events: each sentence as soon as it is translated, in order.

The text is cut into sentences by the same segmenter the Translator uses, and each sentence is
one Translator call (a few in flight at once: Serve's dynamic batching puts them in batches
with everyone else's requests), so the sentences and their separators, joined, are what
``POST /api/v1/translate`` answers for the same text, letter for letter. Every option of
``/translate`` applies (through the same TranslationService). A client that goes away
cancels the calls in flight and sends no more.

Events: ``sentence``, one per sentence and target (``{"index", "target_language", "delta",
"translation"}``: append ``delta``, the separator before the sentence and its translation;
with ``alternatives``, ``quality``, a glossary or a correction, the same fields as a
``/translate`` item; a sentence below ``min_quality`` has ``"status": "withheld"``, a null
``translation`` and a ``delta`` of its separator only), then ``done`` (``{"translated_text",
"target_language", "source_language", "sentences", "model_name", "withheld"}``; with several
targets ``translated_texts`` and ``target_languages`` instead) or ``error`` (the error
format). HTML comes as one piece (its tags may span sentences), as does a text you
corrected.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from serve_app.api import translating
from serve_app.api.errors import ApiError, error_body, error_responses, request_id_of
from serve_app.api.schemas import StreamTranslateRequest
from serve_app.api.security import Principal, charge, client_key
from serve_app.api.services import ServicesDep
from serve_app.api.validation import target_codes
from serve_app.translation.service import TranslatedItem, TranslationError

router = APIRouter(
    prefix="/api/v1",
    tags=["translation"],
    responses=error_responses(400, 401, 413, 422, 429, 503),
)
# Sentences in flight per stream: enough to fill batches, few enough to stop soon.
IN_FLIGHT = 8


def _event(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _sentence(
    index: int, target: str, separator: str, item: TranslatedItem, alternatives: bool
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "index": index,
        "target_language": target,
        "delta": separator + (item.text or ""),
        "translation": item.text,
    }
    if item.withheld:
        data["status"] = "withheld"
    if alternatives:
        data["alternatives"] = item.alternatives
    if item.quality is not None:
        data["quality"] = asdict(item.quality)
    if item.glossary is not None:
        data["glossary_terms"] = [report.as_dict() for report in item.glossary]
    if item.memory is not None:
        data["memory_matches"] = [report.as_dict() for report in item.memory]
    if item.correction is not None:
        data["correction_id"] = item.correction.id
    return data


@router.post(
    "/translate/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
    summary="Translate a long text, its sentences streamed as server-sent events",
)
async def translate_stream(
    body: StreamTranslateRequest, request: Request, services: ServicesDep, principal: Principal
) -> StreamingResponse:
    limit = services.args.api.max_job_chars
    if len(body.text) > limit:
        raise ApiError(
            413,
            f"Text too long: {len(body.text)} characters, the limit is {limit}",
            field="text",
            code="PAYLOAD_TOO_LARGE",
        )
    targets, several = target_codes(body.target_language, services.languages)
    await charge(services, client_key(request, principal), len(body.text) * len(targets))
    field_of = translating.texts_field(True)
    asked = await translating.request_of(services, body, [body.text], targets, principal, field_of)
    stream = services.translation.stream(
        asked, max_sentence_chars=services.args.translator.max_sentence_chars, ahead=IN_FLIGHT
    )
    # The source is found and the first sentence translated before the response starts: a
    # refusal of either (an undetectable text, a pair or model that cannot be served) is an
    # HTTP error in the error format, not a stream that ends at once.
    try:
        first = await anext(stream, None)
    except TranslationError as exc:
        await stream.aclose()
        raise translating.refused(exc, field_of) from exc
    metrics = services.metrics

    async def events() -> AsyncIterator[str]:
        parts: dict[str, list[str]] = {target: [] for target in targets}
        withheld: dict[str, list[int]] = {target: [] for target in targets}
        source, model_name, sentences, streamed = "", "", 0, 0
        try:
            piece = first
            while piece is not None:
                done = piece.translated
                translating.record(services, done)
                source, model_name = done.sources.codes[0], done.outcome.model_name
                sentences = piece.total
                for target in targets:
                    (item,) = done.items[target]
                    parts[target].append(piece.separator + (item.text or ""))
                    if item.withheld:
                        withheld[target].append(piece.index)
                    yield _event(
                        "sentence",
                        _sentence(
                            piece.index, target, piece.separator, item, asked.alternatives > 0
                        ),
                    )
                for target in targets:
                    parts[target].append(piece.trailing)
                streamed += 1
                metrics.streamed_sentences.labels("sent").inc()
                try:
                    piece = await anext(stream, None)
                except TranslationError as exc:
                    error = translating.refused(exc, field_of)
                    yield _event(
                        "error", error_body(error.detail, error.errors, request_id_of(request))
                    )
                    return
            texts = {target: "".join(parts[target]) for target in targets}
            if first is None:  # no sentence (whitespace only): the text is its translation
                texts, source = dict.fromkeys(targets, body.text), asked.source or ""
            summary: dict[str, Any] = {
                "source_language": source,
                "sentences": sentences,
                "model_name": model_name,
            }
            if several:
                summary |= {
                    "translated_texts": texts,
                    "target_languages": targets,
                    "withheld": withheld,
                }
            else:
                summary |= {
                    "translated_text": texts[targets[0]],
                    "target_language": targets[0],
                    "withheld": withheld[targets[0]],
                }
            yield _event("done", summary)
        finally:
            # The client went away (or an error ended the stream): nothing more is decoded.
            await stream.aclose()
            unsent = max(0, sentences - streamed)
            if unsent:
                metrics.streamed_sentences.labels("cancelled").inc(unsent)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
