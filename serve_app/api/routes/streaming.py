"""Long text as server-sent events: each sentence as soon as it is translated, in order.

The text is cut into sentences by the same segmenter the Translator uses, and each sentence is
one Translator call (a few in flight at once: Serve's dynamic batching puts them in batches
with everyone else's requests), so the sentences and their separators, joined, are what
``POST /api/v1/translate`` answers for the same text, letter for letter. A client that goes
away cancels the calls in flight and sends no more.

Events: ``sentence`` (``{"index", "delta", "translation"}``: append ``delta``, the separator
before the sentence and its translation), then ``done`` (``{"translated_text",
"source_language", "sentences", "model_name"}``) or ``error`` (the error format).
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from serve_app.api import translating
from serve_app.api.errors import ApiError, error_body, error_responses, request_id_of
from serve_app.api.schemas import StreamTranslateRequest
from serve_app.api.security import Principal, charge, client_key
from serve_app.api.services import ServicesDep
from serve_app.api.validation import language_code
from serve_app.engines.segmenter import segment
from serve_app.engines.source_language import SourceNotDetectedError, source_languages

router = APIRouter(
    prefix="/api/v1",
    tags=["translation"],
    responses=error_responses(400, 401, 413, 422, 429, 503),
)
# Sentences in flight per stream: enough to fill batches, few enough to stop soon.
IN_FLIGHT = 8
# How much of the text its language is detected from.
DETECT_CHARS = 4000


def _event(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


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
    await charge(services, client_key(request, principal), len(body.text))
    target = language_code(body.target_language, services.languages, "target_language")
    source = body.source_language and language_code(
        body.source_language, services.languages, "source_language"
    )
    translating.check_beam(services, body.beam_size)
    if not source:
        try:
            found = await source_languages(
                [body.text[:DETECT_CHARS]],
                None,
                lambda batch: translating.detect(services, batch, 1),
            )
        except SourceNotDetectedError as exc:
            raise ApiError(
                400,
                "Could not detect the source language; pass source_language",
                field="text",
                code="DETECTION_FAILED",
            ) from exc
        source = found.codes[0]
    pieces = segment(body.text, services.args.translator.max_sentence_chars)
    metrics = services.metrics

    async def one(sentence: str) -> translating.Translated:
        return await translating.translate(
            services,
            [sentence],
            [target],
            source,
            single=True,
            beam_size=body.beam_size,
            model=body.model,
            owner=principal,
        )

    async def events() -> AsyncIterator[str]:
        sentences, separators = pieces.sentences, pieces.separators
        pending: deque[asyncio.Task[translating.Translated]] = deque()
        parts: list[str] = []
        model_name = ""
        next_sent = 0  # sentences handed to the Translator
        index_sent = 0  # sentences streamed to the client
        try:
            for index in range(len(sentences)):
                while next_sent < len(sentences) and len(pending) < IN_FLIGHT:
                    pending.append(asyncio.ensure_future(one(sentences[next_sent])))
                    next_sent += 1
                try:
                    done = await pending.popleft()
                except ApiError as exc:
                    yield _event(
                        "error", error_body(exc.detail, exc.errors, request_id_of(request))
                    )
                    return
                translation = done.outcome.texts[0]
                model_name = done.outcome.model_name
                metrics.streamed_sentences.labels("sent").inc()
                index_sent += 1
                delta = separators[index] + translation
                parts.append(delta)
                yield _event(
                    "sentence", {"index": index, "delta": delta, "translation": translation}
                )
            parts.append(separators[-1])
            yield _event(
                "done",
                {
                    "translated_text": "".join(parts),
                    "source_language": source,
                    "sentences": len(sentences),
                    "model_name": model_name,
                },
            )
        finally:
            # The client went away (or an error ended the stream): nothing more is decoded.
            for task in pending:
                task.cancel()
            unsent = len(sentences) - index_sent
            if unsent:
                metrics.streamed_sentences.labels("cancelled").inc(unsent)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
