"""One text translation, from a :class:`TranslationRequest` to its translations.

Plain Python over injected calls (the Translator of a model, the detector), so the ingress,
the job worker and the Orchestrator each plug in their own handles and the rules live once:
the markup check, the source-language rule, corrections, routing texts to models, glossary
terms and translation memory matches, quality with the output-language check, withholding
under ``min_quality``, chunks kept in flight for long jobs and sentence-by-sentence
streaming.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from functools import partial
from typing import TypeVar

from serve_app.engines.corrections import Correction
from serve_app.engines.detector import Detection
from serve_app.engines.glossary import TermReport
from serve_app.engines.languages import LanguageDatabase
from serve_app.engines.markup import MarkupError, readable_text
from serve_app.engines.memory import MemoryReport
from serve_app.engines.quality import Quality, check_output_languages, withheld
from serve_app.engines.segmenter import segment
from serve_app.engines.source_language import (
    SourceLanguages,
    SourceNotDetectedError,
    source_languages,
)
from serve_app.messages import DetectCall, DetectOutcome, TranslateCall, TranslateOutcome
from serve_app.routing import ModelRouter, UnknownModelError
from serve_app.translation.flight import in_order
from serve_app.translation.request import TranslationRequest

# The "model" of an answer that only corrections gave (no model was asked).
CORRECTIONS_MODEL = "corrections"
# How much of a text read as one (a document, a stream) its language is detected from.
DETECT_AS_ONE_CHARS = 4000
# Texts longer than this together are parsed and matched in a worker thread, not on the
# event loop every other request of the process waits on (shorter: the hop costs more).
OFF_THE_LOOP_CHARS = 16_384

T = TypeVar("T")
# (the model's registered name, the call) -> the Translator's outcome.
CallTranslator = Callable[[str, TranslateCall], Awaitable[TranslateOutcome]]
# (texts, top k) -> the detector's outcome.
CallDetector = Callable[[DetectCall], Awaitable[DetectOutcome]]
# (done, total) in the request's weights (a document's sentences).
Progress = Callable[[int, int], Awaitable[None]]


async def off_the_loop(texts: Sequence[str], work: Callable[[], T]) -> T:
    """``work()``, in a worker thread when ``texts`` hold more than OFF_THE_LOOP_CHARS."""
    if sum(map(len, texts)) > OFF_THE_LOOP_CHARS:
        return await asyncio.to_thread(work)
    return work()


class TranslationError(Exception):
    """The request cannot be translated as asked. ``code`` is the API's error code; ``index``
    the text it concerns, if one; ``unavailable``: a model could not be had (retry later)."""

    def __init__(
        self,
        message: str,
        code: str,
        *,
        index: int | None = None,
        field: str | None = None,
        unavailable: bool = False,
    ) -> None:
        super().__init__(message)
        self.message, self.code, self.index = message, code, index
        self.field, self.unavailable = field, unavailable


@dataclass(frozen=True)
class TranslatedItem:
    """One text's translation into one target (``text`` None when withheld)."""

    text: str | None
    alternatives: list[str]
    quality: Quality | None
    glossary: list[TermReport] | None
    correction: Correction | None = None
    # With a translation memory: each sentence it matched, served or suggested.
    memory: list[MemoryReport] | None = None

    @property
    def withheld(self) -> bool:
        return self.text is None


@dataclass(frozen=True)
class Translated:
    request: TranslationRequest
    sources: SourceLanguages
    # Each target's items, in text order.
    items: dict[str, list[TranslatedItem]]
    # What the Translator calls reported together (model, beam, cache, timings); its
    # ``texts`` are empty.
    outcome: TranslateOutcome = field(default_factory=TranslateOutcome)

    @property
    def characters(self) -> int:
        return self.request.characters

    @property
    def all_items(self) -> list[TranslatedItem]:
        """Every item, target by target."""
        return [item for items in self.items.values() for item in items]

    @property
    def withheld(self) -> int:
        return sum(item.withheld for item in self.all_items)


@dataclass(frozen=True)
class StreamedSentence:
    """One sentence of a streamed text, translated into every target."""

    index: int
    separator: str  # what stood before it in the text (kept verbatim)
    translated: Translated
    trailing: str  # after the last sentence: what ended the text; else ""
    total: int  # the text's sentences


@dataclass
class _Piece:
    """One (text, target) translation while a request is put together."""

    text: str
    alternatives: list[str] = field(default_factory=list)
    quality: Quality | None = None
    glossary: list[TermReport] = field(default_factory=list)
    correction: Correction | None = None
    memory: list[MemoryReport] = field(default_factory=list)


class TranslationService:
    def __init__(
        self,
        translate: CallTranslator,
        detect: CallDetector,
        router: ModelRouter,
        languages: LanguageDatabase,
        *,
        max_beam_size: int,
        on_detected: Callable[[DetectOutcome], None] | None = None,
    ) -> None:
        self._translate = translate
        self._detect = detect
        self._router = router
        self._languages = languages
        self._max_beam = max_beam_size
        self._on_detected = on_detected

    # -- the request's checks, also made by entry points that refuse early (job submission)

    def check_beam(self, beam_size: int | None) -> None:
        """A request may narrow or widen the beam up to the deployment's ``max_beam_size``."""
        if beam_size is not None and beam_size > self._max_beam:
            raise TranslationError(
                f"beam_size {beam_size} is wider than this deployment allows ({self._max_beam})",
                "BEAM_SIZE_TOO_LARGE",
                field="beam_size",
            )

    def check_model(self, model: str | None) -> None:
        """A request may name any registered model."""
        if model is not None:
            try:
                self._router.choose("", "", model)
            except UnknownModelError as exc:
                raise TranslationError(str(exc), "UNKNOWN_MODEL", field="model") from exc

    async def readable(self, texts: Sequence[str], text_format: str) -> list[str]:
        """Each text's readable text (HTML: its text, what detection and glossaries read);
        INVALID_MARKUP naming the first text whose markup is refused."""
        if text_format == "text":
            return list(texts)

        def parse() -> list[str]:
            found = []
            for index, text in enumerate(texts):
                try:
                    found.append(readable_text(text, text_format))
                except MarkupError as exc:
                    raise TranslationError(str(exc), "INVALID_MARKUP", index=index) from exc
            return found

        return await off_the_loop(texts, parse)

    async def detect(
        self, texts: list[str], k: int = 1, candidates: frozenset[str] | None = None
    ) -> list[Detection]:
        outcome = await self._detect(DetectCall(texts, k, candidates))
        if self._on_detected is not None:
            self._on_detected(outcome)
        return outcome.detections

    async def sources(self, request: TranslationRequest, readable: list[str]) -> SourceLanguages:
        """The request's source per text: given, detected per text, or read as one."""
        count = len(readable)

        async def detect(texts: list[str]) -> list[Detection]:
            return await self.detect(texts, 1, request.source_candidates)

        try:
            if request.detect_as_one and not request.source:
                whole = await source_languages(
                    ["\n".join(readable)[:DETECT_AS_ONE_CHARS]], None, detect
                )
                return SourceLanguages(whole.codes * count, whole.detections * count)
            return await source_languages(readable, request.source, detect)
        except SourceNotDetectedError as exc:
            if request.detect_as_one or count == 1:
                message, index = "Could not detect the source language", None
            else:  # which of them
                message, index = str(exc).capitalize(), exc.indexes[0]
            raise TranslationError(
                message.removesuffix("; pass source_language") + "; pass source_language",
                "DETECTION_FAILED",
                index=index,
            ) from exc

    # -- translating

    async def translate(
        self,
        request: TranslationRequest,
        *,
        chunk_texts: int | None = None,
        chunks_ahead: int = 1,
        weights: Sequence[int] | None = None,
        progress: Progress | None = None,
        sources: SourceLanguages | None = None,
    ) -> Translated:
        """Translates the request. Texts go to the Translator in one call (so one batch),
        or, with ``chunk_texts``, in chunks of that many texts, ``chunks_ahead`` in flight,
        ``progress`` told after each (in ``weights``, one per text; 1 each by default)."""
        self.check_beam(request.beam_size)
        texts, targets = request.texts, request.targets
        readable = await self.readable(texts, request.text_format)
        if sources is None:
            sources = await self.sources(request, readable)
        pieces: dict[tuple[int, str], _Piece] = {}
        for offer in request.corrections:
            if offer.target in targets and sources.codes[offer.text] == offer.source:
                pieces[offer.text, offer.target] = _Piece(
                    offer.translation,
                    correction=Correction(
                        offer.id,
                        request.owner,
                        0.0,
                        offer.source,
                        offer.target,
                        texts[offer.text],
                        offer.translation,
                    ),
                )
        # Texts the model must translate: those without a correction into some target.
        sent = [i for i in range(len(texts)) if any((i, t) not in pieces for t in targets)]
        weight = list(weights) if weights is not None else [1] * len(texts)
        total, done = sum(weight), sum(weight[i] for i in range(len(texts)) if i not in sent)
        if progress is not None:
            await progress(done, total)
        outcomes: list[TranslateOutcome] = []
        if sent:
            size = chunk_texts or len(sent)
            chunks = [sent[start : start + size] for start in range(0, len(sent), size)]
            calls = [partial(self._routed, request, chunk, sources.codes) for chunk in chunks]
            async with aclosing(in_order(calls, chunks_ahead)) as results:
                position = 0
                async for got, outcome in results:
                    for key, piece in got.items():  # a correction stands where there is one
                        pieces.setdefault(key, piece)
                    outcomes.append(outcome)
                    done += sum(weight[i] for i in chunks[position])
                    position += 1
                    if progress is not None:
                        await progress(done, total)
        if request.measured:
            await self._measure(request, pieces)
        items = {
            target: [self._item(request, pieces[i, target]) for i in range(len(texts))]
            for target in targets
        }
        return Translated(request, sources, items, _together(outcomes))

    async def stream(
        self, request: TranslationRequest, *, max_sentence_chars: int, ahead: int
    ) -> AsyncGenerator[StreamedSentence, None]:
        """The request's one text, sentence by sentence, each into every target as soon as
        it is done (``ahead`` sentences in flight); the sentences and their separators,
        joined, are what :meth:`translate` gives for the whole text. Its language is read
        from its start. HTML (whose tags may span sentences) and a text the caller corrected
        come as one piece."""
        (text,) = request.texts
        readable = await self.readable(request.texts, request.text_format)
        sources = await self.sources(request.model_copy(update={"detect_as_one": True}), readable)
        source = sources.codes[0]
        if request.text_format != "text" or any(
            offer.source == source for offer in request.corrections
        ):
            whole = await self.translate(request, sources=sources)
            yield StreamedSentence(0, "", whole, "", 1)
            return
        pieces = segment(text, max_sentence_chars)
        one = request.model_copy(update={"source": source, "corrections": ()})
        calls = [
            partial(self.translate, one.model_copy(update={"texts": [sentence]}))
            for sentence in pieces.sentences
        ]
        last = len(calls) - 1
        async with aclosing(in_order(calls, ahead)) as results:
            index = 0
            async for translated in results:
                trailing = pieces.separators[-1] if index == last else ""
                yield StreamedSentence(
                    index, pieces.separators[index], translated, trailing, len(calls)
                )
                index += 1

    def _item(self, request: TranslationRequest, piece: _Piece) -> TranslatedItem:
        kept = not withheld(piece.quality, request.min_quality)
        return TranslatedItem(
            piece.text if kept else None,
            piece.alternatives if kept else [],
            piece.quality,
            None if request.glossary is None else piece.glossary,
            piece.correction,
            None if request.memory is None else piece.memory,
        )

    async def _measure(
        self, request: TranslationRequest, pieces: dict[tuple[int, str], _Piece]
    ) -> None:
        """Sets each model translation's quality with its output language checked (one
        detector call for all; corrections are people's translations: not measured)."""
        keys = list(pieces)
        checked = await check_output_languages(
            [pieces[key].quality for key in keys],
            [pieces[key].text for key in keys],
            [target for _, target in keys],
            self.detect_outputs,
            self._languages.same_language,
            request.text_format,
        )
        for key, quality in zip(keys, checked, strict=True):
            pieces[key].quality = quality

    async def detect_outputs(self, outputs: list[str]) -> list[Detection]:
        """The detector's reading of translations (not reported as detections)."""
        return (await self._detect(DetectCall(outputs, 1))).detections

    async def _routed(
        self, request: TranslationRequest, indexes: list[int], codes: list[str]
    ) -> tuple[dict[tuple[int, str], _Piece], TranslateOutcome]:
        """The texts ``indexes`` translated into every target, each (text, target) by the
        model routed to it: one call when a single model serves them all (nearly always),
        else one call per (model, target), all at once."""
        try:  # once per distinct pair, not per text
            chosen = {
                pair: self._router.choose(*pair, request.model)
                for pair in {(codes[i], target) for target in request.targets for i in indexes}
            }
        except UnknownModelError as exc:
            raise TranslationError(str(exc), "UNKNOWN_MODEL", field="model") from exc
        groups: dict[tuple[str, tuple[str, ...]], list[int]] = {}
        if len(set(chosen.values())) == 1:
            groups[next(iter(chosen.values())), tuple(request.targets)] = indexes
        else:
            for target in request.targets:
                for i in indexes:
                    groups.setdefault((chosen[codes[i], target], (target,)), []).append(i)
        keys = list(groups)
        outcomes: list[TranslateOutcome] = await asyncio.gather(
            *(
                self._translate(name, self._call(request, groups[name, targets], codes, targets))
                for name, targets in keys
            )
        )
        pieces: dict[tuple[int, str], _Piece] = {}
        for key, outcome in zip(keys, outcomes, strict=True):
            if outcome.error:
                raise TranslationError(
                    outcome.error,
                    outcome.error_code or "UNSUPPORTED_LANGUAGE",
                    field=outcome.error_field,
                    unavailable=outcome.error_code == "MODEL_UNAVAILABLE",
                )
            group, k = groups[key], 0
            for target in key[1]:  # target-major, as the call's targets
                for i in group:
                    pieces[i, target] = _Piece(
                        outcome.texts[k],
                        outcome.alternatives[k] if outcome.alternatives else [],
                        outcome.qualities[k] if outcome.qualities else None,
                        outcome.glossary[k] if outcome.glossary else [],
                        memory=outcome.memory[k] if outcome.memory else [],
                    )
                    k += 1
        return pieces, _together(outcomes)

    def _call(
        self,
        request: TranslationRequest,
        indexes: list[int],
        codes: list[str],
        targets: Sequence[str],
    ) -> TranslateCall:
        sent = set(indexes)
        return TranslateCall(
            [request.texts[i] for i in indexes],
            [codes[i] for i in indexes],
            targets[0],
            alternatives=request.alternatives,
            beam_size=request.beam_size,
            target_languages=tuple(targets) if len(targets) > 1 else (),
            text_format=request.text_format,
            protect_spans=request.protect_spans,
            quality=request.measured,
            glossary=request.glossary or (),
            glossary_mode=request.glossary_mode,
            # Only the matches of these texts' sentences, into these targets.
            memory=tuple(
                offer.match
                for offer in request.memory or ()
                if offer.target in targets and not sent.isdisjoint(offer.texts)
            ),
            memory_mode=request.memory_mode,
            cache_scope=request.owner,
        )


def _together(outcomes: Sequence[TranslateOutcome]) -> TranslateOutcome:
    """What several Translator calls reported, as one (no texts): the models that served,
    the widest beam, the largest batch and the longest inference; sentences and cache hits
    summed."""
    if not outcomes:
        return TranslateOutcome(model=CORRECTIONS_MODEL)
    return TranslateOutcome(
        model=",".join(dict.fromkeys(o.model for o in outcomes)),
        model_name=",".join(dict.fromkeys(o.model_name for o in outcomes)),
        model_is_fallback=any(o.model_is_fallback for o in outcomes),
        beam_size=max(o.beam_size for o in outcomes),
        batch_requests=max(o.batch_requests for o in outcomes),
        batch_sentences=sum(o.batch_sentences for o in outcomes),
        inference_seconds=max(o.inference_seconds for o in outcomes),
        sentences=sum(o.sentences for o in outcomes),
        cached_sentences=sum(o.cached_sentences for o in outcomes),
        repaired_sentences=sum(o.repaired_sentences for o in outcomes),
    )
