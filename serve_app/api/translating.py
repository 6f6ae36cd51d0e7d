"""One synchronous translation, from validated input to the Translator's outcome.

The route validates and shapes; this module applies the source-language rule, the beam
policy, calls the Translator and records the request's metrics.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

from serve_app.api.errors import ApiError
from serve_app.api.glossaries import terms_for
from serve_app.api.services import Services
from serve_app.engines.corrections import Correction, Corrections
from serve_app.engines.detector import Detection
from serve_app.engines.glossary import Glossary, TermReport
from serve_app.engines.markup import MarkupError, readable_text
from serve_app.engines.quality import Quality, check_output_languages
from serve_app.engines.source_language import (
    SourceLanguages,
    SourceNotDetectedError,
    source_languages,
)
from serve_app.messages import DetectCall, DetectOutcome, TranslateCall, TranslateOutcome
from serve_app.routing import UnknownModelError

# The "model" of an answer that only corrections gave (no model was asked).
CORRECTIONS_MODEL = "corrections"
# Texts longer than this together are parsed and matched in a worker thread, not on the
# event loop every other request of the replica waits on (shorter: the hop costs more).
OFF_THE_LOOP_CHARS = 16_384

T = TypeVar("T")


async def off_the_loop(texts: Sequence[str], work: Callable[[], T]) -> T:
    """``work()``, in a worker thread when ``texts`` hold more than OFF_THE_LOOP_CHARS."""
    if sum(map(len, texts)) > OFF_THE_LOOP_CHARS:
        return await asyncio.to_thread(work)
    return work()


@dataclass(frozen=True)
class Translated:
    texts: list[str]
    targets: list[str]
    sources: SourceLanguages
    outcome: TranslateOutcome
    # One per translation (target-major, as the outcome's texts) when quality was asked.
    qualities: list[Quality | None]
    # With a glossary: per translation (target-major), each term found and its fate.
    glossary: list[list[TermReport]] | None = None
    # Per translation (target-major): the caller's correction that answered it, if one did.
    corrections: list[Correction | None] | None = None

    @property
    def characters(self) -> int:
        """Characters translated: each text's once per target."""
        return sum(len(text) for text in self.texts) * len(self.targets)

    def by_target(self) -> dict[str, list[TranslatedItem]]:
        """Each target's translations, in text order."""
        n, outcome = len(self.texts), self.outcome
        return {
            target: [
                TranslatedItem(
                    outcome.texts[k],
                    outcome.alternatives[k],
                    self.qualities[k],
                    None if self.glossary is None else self.glossary[k],
                    None if self.corrections is None else self.corrections[k],
                )
                for k in range(i * n, (i + 1) * n)
            ]
            for i, target in enumerate(self.targets)
        }


@dataclass(frozen=True)
class TranslatedItem:
    """One text's translation into one target."""

    text: str
    alternatives: list[str]
    quality: Quality | None
    glossary: list[TermReport] | None
    correction: Correction | None = None


async def detect_outcome(services: Services, texts: list[str], k: int) -> DetectOutcome:
    """The LanguageDetector's top-``k`` detections of ``texts``, counted in the metrics."""
    outcome: DetectOutcome = await services.detector.detect.remote(DetectCall(texts, k))
    services.metrics.detection_batch_size.observe(outcome.batch_requests)
    for detection in outcome.detections:
        services.metrics.detections.labels(detection.language).inc()
    return outcome


async def detect(services: Services, texts: list[str], k: int) -> list[Detection]:
    return (await detect_outcome(services, texts, k)).detections


def check_beam(services: Services, beam_size: int | None) -> None:
    """A request may narrow or widen the beam up to the deployment's ``max_beam_size``."""
    widest = services.args.translator.max_beam_size
    if beam_size is not None and beam_size > widest:
        raise ApiError(
            400,
            f"beam_size {beam_size} is wider than this deployment allows ({widest})",
            field="beam_size",
            code="BEAM_SIZE_TOO_LARGE",
        )


async def translate(
    services: Services,
    texts: list[str],
    targets: list[str],
    source: str | None,
    *,
    single: bool,
    alternatives: int = 0,
    beam_size: int | None = None,
    text_format: str = "text",
    protect_spans: bool = True,
    quality: bool = False,
    glossary: Glossary | None = None,
    glossary_mode: str = "enforce",
    corrections: Corrections | None = None,
    model: str | None = None,
    owner: str | None = None,
) -> Translated:
    """Translates ``texts`` (FLORES-200 codes already normalised) into each of ``targets``,
    all in one Translator call (so in one batch). HTML is detected on its readable text.
    With ``quality``, each translation's quality is measured, its output language included
    (one more detector call for all of them). With a ``glossary``, its entries found in the
    texts are applied (``glossary_mode``) and each one's fate reported. A text with one of the
    caller's ``corrections`` (for its pair) is answered with it; one corrected into every
    target never reaches the Translator. ``model`` names a registered model; else each pair
    goes to the model the routing table gives it (``serve_app.routing``). ``owner`` (the
    caller's key id) is the part of the translation cache the call uses."""
    check_beam(services, beam_size)
    # Markup is checked here, at the edge, and detection reads only the page's text.
    readable = (
        texts
        if text_format == "text"
        else await off_the_loop(
            texts,
            lambda: [
                check_markup(text, text_format, "text" if single else f"text.{i}")
                for i, text in enumerate(texts)
            ],
        )
    )
    try:
        sources = await source_languages(readable, source, lambda batch: detect(services, batch, 1))
    except SourceNotDetectedError as exc:
        index = exc.indexes[0]
        raise ApiError(
            400,
            "Could not detect the source language; pass source_language",
            field="text" if single else f"text.{index}",
            code="DETECTION_FAILED",
        ) from exc
    corrected = {
        (i, target): correction
        for i, (text, code) in enumerate(zip(texts, sources.codes, strict=True))
        for target in targets
        if corrections is not None and (correction := corrections.find(text, code, target))
    }
    # Texts the model must translate: those without a correction into some target.
    sent = [i for i in range(len(texts)) if any((i, t) not in corrected for t in targets)]
    outcome = TranslateOutcome(model=CORRECTIONS_MODEL)
    if sent:
        # The glossary's terms in the texts sent, found once for every call (a call split
        # over models carries the terms of all: the Translator applies those it finds).
        terms: tuple[tuple[str, str, str, str], ...] = ()
        if glossary is not None:
            found_in = [readable[i] for i in sent]
            terms = await off_the_loop(
                found_in,
                lambda: terms_for(glossary, found_in, [sources.codes[i] for i in sent], targets),
            )

        def call(indexes: list[int], call_targets: list[str]) -> TranslateCall:
            """The Translator call for the texts ``indexes`` into ``call_targets``."""
            chosen = [sources.codes[i] for i in indexes]
            return TranslateCall(
                [texts[i] for i in indexes],
                chosen,
                call_targets[0],
                alternatives=alternatives,
                beam_size=beam_size,
                target_languages=tuple(call_targets) if len(call_targets) > 1 else (),
                text_format=text_format,
                protect_spans=protect_spans,
                quality=quality,
                glossary=terms,
                glossary_mode=glossary_mode,
                cache_scope=owner or "",
            )

        outcome = await _translate_routed(
            services, sent, [sources.codes[i] for i in sent], targets, model, call
        )
    if outcome.error:
        raise ApiError(
            503 if outcome.error_code == "MODEL_UNAVAILABLE" else 400,
            outcome.error,
            field=outcome.error_field,
            code=outcome.error_code or "UNSUPPORTED_LANGUAGE",
        )
    outcome, applied = _merged(outcome, len(texts), sent, targets, corrected)
    qualities: list[Quality | None] = [None] * len(outcome.texts)
    if quality:
        qualities = await check_output_languages(
            outcome.qualities,
            outcome.texts,
            [target for target in targets for _ in texts],
            lambda batch: _output_languages(services, batch),
            services.languages.same_language,
            text_format,
        )
    reports = None
    if glossary is not None:
        reports = outcome.glossary or [[] for _ in outcome.texts]
    translated = Translated(texts, targets, sources, outcome, qualities, reports, applied)
    _record(services, translated)
    return translated


async def _translate_routed(
    services: Services,
    sent: list[int],
    codes: list[str],
    targets: list[str],
    model: str | None,
    call: Callable[[list[int], list[str]], TranslateCall],
) -> TranslateOutcome:
    """The Translator's outcome for the texts ``sent`` (sources ``codes``) into ``targets``,
    target-major, each (text, target) translated by the model routed to it: one call when
    a single model serves them all (nearly always), else one call per (model, target), all
    at once, put back in order."""
    router = services.router
    try:  # once per distinct pair, not per text
        chosen = {
            (code, target): router.choose(code, target, model)
            for code, target in {(code, target) for target in targets for code in codes}
        }
    except UnknownModelError as exc:
        raise ApiError(400, str(exc), field="model", code="UNKNOWN_MODEL") from exc
    if len(set(chosen.values())) == 1:
        (name,) = set(chosen.values())
        outcome: TranslateOutcome = await services.translator_for(name).translate.remote(
            call(sent, targets)
        )
        return outcome
    groups: dict[tuple[str, str], list[int]] = {}
    for target in targets:
        for k, code in enumerate(codes):
            groups.setdefault((chosen[code, target], target), []).append(k)
    keys = list(groups)
    outcomes: list[TranslateOutcome] = await asyncio.gather(
        *(
            services.translator_for(name).translate.remote(
                call([sent[k] for k in groups[name, target]], [target])
            )
            for name, target in keys
        )
    )
    for got in outcomes:
        if got.error:
            return got
    at = {
        (target, k): (g, position)
        for g, (_, target) in enumerate(keys)
        for position, k in enumerate(groups[keys[g]])
    }
    merged = TranslateOutcome(
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
    for target in targets:
        for k in range(len(sent)):
            g, position = at[target, k]
            got = outcomes[g]
            merged.texts.append(got.texts[position])
            merged.alternatives.append(got.alternatives[position])
            merged.qualities.append(got.qualities[position] if got.qualities else None)
            merged.glossary.append(got.glossary[position] if got.glossary else [])
    return merged


def _merged(
    outcome: TranslateOutcome,
    count: int,
    sent: list[int],
    targets: list[str],
    corrected: dict[tuple[int, str], Correction],
) -> tuple[TranslateOutcome, list[Correction | None]]:
    """The Translator's outcome for the ``sent`` texts widened back to all ``count`` texts
    (target-major), corrections in their places; and which correction each item is."""
    if not corrected:
        return outcome, [None] * len(outcome.texts)
    at = {i: position for position, i in enumerate(sent)}
    texts, alternatives, qualities, reports, applied = [], [], [], [], []
    for t, target in enumerate(targets):
        for i in range(count):
            correction = corrected.get((i, target))
            k = t * len(sent) + at[i] if i in at else -1
            applied.append(correction)
            texts.append(correction.translation if correction else outcome.texts[k])
            alternatives.append([] if correction else outcome.alternatives[k])
            qualities.append(None if correction or not outcome.qualities else outcome.qualities[k])
            reports.append([] if correction or not outcome.glossary else outcome.glossary[k])
    merged = replace(
        outcome, texts=texts, alternatives=alternatives, qualities=qualities, glossary=reports
    )
    return merged, applied


async def _output_languages(services: Services, outputs: list[str]) -> list[Detection]:
    """The detector's reading of translations (not counted as detections in the metrics)."""
    outcome: DetectOutcome = await services.detector.detect.remote(DetectCall(outputs, 1))
    return outcome.detections


def check_markup(text: str, text_format: str, field: str) -> str:
    """``text``'s readable text (see :func:`readable_text`); 400 if its markup is refused."""
    try:
        return readable_text(text, text_format)
    except MarkupError as exc:
        raise ApiError(400, str(exc), field=field, code="INVALID_MARKUP") from exc


def _record(services: Services, translated: Translated) -> None:
    metrics, outcome = services.metrics, translated.outcome
    if outcome.model != CORRECTIONS_MODEL:  # a Translator call was made
        metrics.batch_size.observe(outcome.batch_requests)
        metrics.batch_sentences.observe(outcome.batch_sentences)
        metrics.inference_seconds.observe(outcome.inference_seconds)
        for name in outcome.model_name.split(","):
            metrics.model_requests.labels(name).inc()
            metrics.model_batch_size.labels(name).observe(outcome.batch_requests)
    served = sum(correction is not None for correction in translated.corrections or ())
    if served:
        metrics.corrections_served.inc(served)
    metrics.characters.inc(translated.characters)
    if outcome.repaired_sentences:
        metrics.repaired_sentences.inc(outcome.repaired_sentences)
    metrics.cache_sentences.labels("hit").inc(outcome.cached_sentences)
    metrics.cache_sentences.labels("miss").inc(outcome.sentences - outcome.cached_sentences)
    for target in translated.targets:
        for source in translated.sources.codes:
            metrics.translations.labels(source, target).inc()
    for quality in translated.qualities:
        for flag in quality.flags if quality else ():
            metrics.quality_flags.labels(flag).inc()
