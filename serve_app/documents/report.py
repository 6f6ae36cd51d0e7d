"""The integrity report of a translated document: what happened to each of its segments, so
that a file that came back untranslated, or with placeholders lost, cannot pass unnoticed.

Plain Python over what a document job has at its end: the segments as they were sent (the
HTML snippets of :func:`~serve_app.documents.formats.segments`) and what came back for each
(its translation, quality, memory matches). Computed once, by the job, and answered in its
result as ``report`` (:meth:`IntegrityReport.as_dict`). The counts, per segment:

- ``segments``: the document's segments (paragraphs, cells, cues, messages);
- ``translated``: its translation stands in the file and reads differently from its source;
- ``unchanged``: its translation stands in the file and reads as its source (a name, "OK",
  or a model that handed the source back); ``translated + unchanged + withheld = segments``;
- ``withheld``: no translation of it stands in the file: in a localization file, one that
  lost or doubled a placeholder or tag (its source is kept, marked for review); elsewhere,
  one below ``min_quality`` (the job ends ``needs_human``);
- ``from_memory``: a translation memory served at least one of its sentences;
- ``repaired_sentences``: sentences (not segments) the engine translated piece by piece
  because the model lost a protected span or tag;
- ``flagged``: its quality raised a flag (repetition, untranslated, length_ratio,
  wrong_language) or scored below ``min_quality`` (in a localization file: marked for
  review);
- ``codes_in`` / ``codes_out``: placeholders (``%s``, ``{name}``, ...) and tags (inline HTML,
  a localization file's codes, a paragraph's runs), in the sources and in their
  translations, over the segments that have a translation; ``codes_mismatched``: those
  segments whose translation holds another set than its source;
- ``language_checked`` (and its ``language_checked_share`` of ``segments``): segments whose
  output language the detector read (with quality measured); ``wrong_language``: read
  reliably as another language than the target;
- ``quality_measured``, ``quality_min``, ``quality_median``: over the measured scores (null
  when none was measured);
- ``warnings``: what a person should not miss, in words (no segment translated, segments
  withheld, codes lost, wrong language, flags).
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from html.parser import HTMLParser
from typing import Any

from serve_app.documents.messages import codes_kept
from serve_app.engines.spans import PLACEHOLDERS

# Formats whose segments are messages with codes (serve_app.documents.formats.MESSAGE_FORMATS;
# a unit test keeps the two equal): a mismatched message keeps its source.
LOCALIZATION_FORMATS = frozenset(
    {"po", "pot", "xlf", "xml", "json", "yaml", "arb", "strings", "xcstrings"}
)
WRONG_LANGUAGE = "wrong_language"
# Fewer translated segments than this share of the whole: a warning.
LOW_TRANSLATED_SHARE = 0.5


@dataclass(frozen=True)
class IntegrityReport:
    """A translated document's integrity (see the module's docstring)."""

    segments: int
    translated: int
    unchanged: int
    withheld: int
    from_memory: int
    repaired_sentences: int
    flagged: int
    codes_in: int
    codes_out: int
    codes_mismatched: int
    language_checked: int
    wrong_language: int
    quality_measured: int
    quality_min: float | None
    quality_median: float | None
    warnings: tuple[str, ...] = ()

    @property
    def language_checked_share(self) -> float:
        return round(self.language_checked / self.segments, 4) if self.segments else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "language_checked_share": self.language_checked_share,
            "warnings": list(self.warnings),
        }


class _Scan(HTMLParser):
    """A snippet's readable text and its codes (tags and placeholders), counted."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.codes: Counter[str] = Counter()
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        shown = " ".join(f"{name}={value!r}" for name, value in sorted(attrs, key=str))
        self.codes[f"<{tag} {shown}>"] += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        self.codes[f"</{tag}>"] += 1

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        self.codes.update(match.group() for match in PLACEHOLDERS.finditer(data))


def _scanned(snippet: str) -> tuple[str, Counter[str]]:
    scan = _Scan()
    scan.feed(snippet)
    scan.close()
    return " ".join("".join(scan.text).casefold().split()), scan.codes


def _plural(count: int, what: str) -> str:
    return f"{count} {what}{'' if count == 1 else 's'}"


def integrity_report(
    sources: Sequence[str],
    translations: Sequence[str | None],
    qualities: Sequence[Mapping[str, Any] | None] | None = None,
    *,
    localization: bool = False,
    min_quality: float | None = None,
    repaired_sentences: int = 0,
    memory_matches: Sequence[Sequence[Mapping[str, Any]] | None] | None = None,
) -> IntegrityReport:
    """The report of a document whose segments ``sources`` (HTML snippets, as sent) came
    back as ``translations`` (None: withheld under ``min_quality``), each with its quality
    (``Quality`` as a dict, None: not measured) and translation memory matches (each
    ``{"served": bool, ...}``) where there are. ``localization``: the segments are messages,
    and one whose codes did not come back exactly keeps its source (withheld)."""
    qualities = qualities or [None] * len(sources)
    memory_matches = memory_matches or [None] * len(sources)
    translated = unchanged = codes_in = codes_out = mismatched = 0
    withheld_quality = withheld_codes = 0
    for source, translation in zip(sources, translations, strict=True):
        if translation is None:
            withheld_quality += 1
            continue
        source_text, source_codes = _scanned(source)
        text, codes = _scanned(translation)
        codes_in += source_codes.total()
        codes_out += codes.total()
        mismatched += codes != source_codes
        if localization and not codes_kept(source, translation):
            withheld_codes += 1
        elif text == source_text:
            unchanged += 1
        else:
            translated += 1
    measured = [quality for quality in qualities if quality is not None]
    scores = sorted(float(quality["score"]) for quality in measured)
    flagged = sum(
        bool(quality.get("flags"))
        or (min_quality is not None and float(quality["score"]) < min_quality)
        for quality in measured
    )
    wrong = sum(WRONG_LANGUAGE in (quality.get("flags") or ()) for quality in measured)
    checked = sum(quality.get("output_language") is not None for quality in measured)
    from_memory = sum(
        any(match.get("served") for match in matches or ()) for matches in memory_matches
    )
    total = len(sources)
    withheld = withheld_quality + withheld_codes
    warnings = []
    if total and translated == 0:
        warnings.append("no segment was translated: the file reads as its source")
    elif translated < total * LOW_TRANSLATED_SHARE:
        warnings.append(f"only {translated} of {_plural(total, 'segment')} were translated")
    if withheld_codes:
        warnings.append(
            f"{_plural(withheld_codes, 'segment')} lost or doubled a placeholder or tag: "
            "the source text stands in the file"
        )
    if withheld_quality:
        warnings.append(f"{_plural(withheld_quality, 'segment')} withheld below min_quality")
    if mismatched and not localization:
        warnings.append(
            f"{_plural(mismatched, 'segment')} came back with other placeholders or tags "
            "than the source's"
        )
    if wrong:
        warnings.append(f"{_plural(wrong, 'segment')} read as another language than the target")
    if flagged:
        warnings.append(f"{_plural(flagged, 'segment')} flagged for review by quality")
    return IntegrityReport(
        segments=total,
        translated=translated,
        unchanged=unchanged,
        withheld=withheld,
        from_memory=from_memory,
        repaired_sentences=repaired_sentences,
        flagged=flagged,
        codes_in=codes_in,
        codes_out=codes_out,
        codes_mismatched=mismatched,
        language_checked=checked,
        wrong_language=wrong,
        quality_measured=len(scores),
        quality_min=scores[0] if scores else None,
        quality_median=round(statistics.median(scores), 6) if scores else None,
        warnings=tuple(warnings),
    )
