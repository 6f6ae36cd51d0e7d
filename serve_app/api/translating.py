"""One synchronous translation, from validated input to the Translator's outcome.

The route validates and shapes; this module applies the source-language rule, the beam
policy, calls the Translator and records the request's metrics.
"""

from __future__ import annotations

from dataclasses import dataclass

from serve_app.api.errors import ApiError
from serve_app.api.glossaries import terms_for
from serve_app.api.services import Services
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
) -> Translated:
    """Translates ``texts`` (FLORES-200 codes already normalised) into each of ``targets``,
    all in one Translator call (so in one batch). HTML is detected on its readable text.
    With ``quality``, each translation's quality is measured, its output language included
    (one more detector call for all of them). With a ``glossary``, its entries found in the
    texts are applied (``glossary_mode``) and each one's fate reported."""
    check_beam(services, beam_size)
    # Markup is checked here, at the edge, and detection reads only the page's text.
    readable = (
        texts
        if text_format == "text"
        else [
            check_markup(text, text_format, "text" if single else f"text.{i}")
            for i, text in enumerate(texts)
        ]
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
    call = TranslateCall(
        texts,
        sources.codes,
        targets[0],
        alternatives=alternatives,
        beam_size=beam_size,
        target_languages=tuple(targets) if len(targets) > 1 else (),
        text_format=text_format,
        protect_spans=protect_spans,
        quality=quality,
        glossary=terms_for(glossary, readable, sources.codes, targets) if glossary else (),
        glossary_mode=glossary_mode,
    )
    outcome: TranslateOutcome = await services.translator.translate.remote(call)
    if outcome.error:
        raise ApiError(
            400,
            outcome.error,
            field=outcome.error_field,
            code=outcome.error_code or "UNSUPPORTED_LANGUAGE",
        )
    qualities: list[Quality | None] = [None] * len(outcome.texts)
    if quality:
        qualities = list(
            await check_output_languages(
                [q for q in outcome.qualities if q is not None],
                outcome.texts,
                [target for target in targets for _ in texts],
                lambda batch: _output_languages(services, batch),
                services.languages.same_language,
                text_format,
            )
        )
    reports = None
    if glossary is not None:
        reports = outcome.glossary or [[] for _ in outcome.texts]
    translated = Translated(texts, targets, sources, outcome, qualities, reports)
    _record(services, translated)
    return translated


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
    metrics.batch_size.observe(outcome.batch_requests)
    metrics.batch_sentences.observe(outcome.batch_sentences)
    metrics.inference_seconds.observe(outcome.inference_seconds)
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
