"""Quality signals of a translation, and the rule that withholds one below ``min_quality``.

The engine scores each decoded sentence from what it already holds (the model's score, the
source and output pieces); the caller adds one check that needs the language detector (is
the output in the target language?). A text's quality is its weakest sentence's:

- ``log_prob``: the model's mean log-probability per output token (CTranslate2's score with
  ``length_penalty`` 1), averaged over the text's sentences;
- ``flags``: ``repetition`` (an n-gram loop the source does not have), ``untranslated`` (the
  output is the source again), ``length_ratio`` (output tokens far from the source's),
  ``wrong_language`` (the detector reliably reads another language than the target);
- ``score`` in 0..1: ``exp(log_prob)`` of the weakest sentence, halved for every flag raised.
  This is what ``min_quality`` is compared with.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from serve_app.engines.glossary import TermReport
from serve_app.engines.markup import MarkupError, readable_text
from serve_app.engines.source_language import DetectTexts
from serve_app.engines.spans import SENTINEL

REPETITION = "repetition"
UNTRANSLATED = "untranslated"
LENGTH_RATIO = "length_ratio"
WRONG_LANGUAGE = "wrong_language"
FLAGS = (REPETITION, UNTRANSLATED, LENGTH_RATIO, WRONG_LANGUAGE)

# A loop: an n-gram (n <= 4 pieces) repeated back to back this many times more than the
# source repeats any.
MAX_LOOP_NGRAM = 4
EXTRA_REPEATS = 3
# Output/source token ratios outside these bounds are suspicious (NLLB's SentencePiece is
# shared by all 200 languages, so token counts compare across scripts far better than
# characters); sentences shorter than MIN_RATIO_TOKENS are too short to judge.
MIN_RATIO, MAX_RATIO, MIN_RATIO_TOKENS = 0.4, 2.5, 8
# "Untranslated" needs this many letters: "Paris." or "OK" may well be their translation.
MIN_UNTRANSLATED_LETTERS = 8
FLAG_PENALTY = 0.5


@dataclass(frozen=True)
class Quality:
    """The quality of one translated text (see the module's docstring)."""

    score: float
    log_prob: float
    flags: tuple[str, ...] = ()
    # The detector's reading of the output, when it was checked (None: not checked).
    output_language: str | None = None

    def flagged(self, flag: str) -> Quality:
        """This quality with ``flag`` raised (its score halved once per new flag)."""
        if flag in self.flags:
            return self
        return replace(self, flags=(*self.flags, flag), score=self.score * FLAG_PENALTY)


@dataclass
class SentenceSignals:
    """What the engine measured of one decoded sentence."""

    log_prob: float
    flags: set[str] = field(default_factory=set)

    @property
    def score(self) -> float:
        return math.exp(self.log_prob) * FLAG_PENALTY ** len(self.flags)


def longest_loop(tokens: Sequence[str]) -> int:
    """How many times the most repeated n-gram (n <= 4) of ``tokens`` occurs back to back."""
    best = 1
    for n in range(1, MAX_LOOP_NGRAM + 1):
        for start in range(n):  # every phase of the n-gram grid
            run, previous = 1, None
            for i in range(start, len(tokens) - n + 1, n):
                gram = tuple(tokens[i : i + n])
                run = run + 1 if gram == previous else 1
                previous = gram
                best = max(best, run)
    return best


def sentence_signals(
    *,
    log_prob: float,
    source_text: str,
    output_text: str,
    source_pieces: Sequence[str],
    output_pieces: Sequence[str],
    same_language: bool,
) -> SentenceSignals:
    """The engine's signals for one sentence (texts as the model saw and wrote them)."""
    signals = SentenceSignals(log_prob)
    if longest_loop(output_pieces) >= longest_loop(source_pieces) + EXTRA_REPEATS:
        signals.flags.add(REPETITION)
    if (
        not same_language
        and _normalised(output_text) == _normalised(source_text)
        and sum(char.isalpha() for char in SENTINEL.sub("", source_text))
        >= MIN_UNTRANSLATED_LETTERS
    ):
        signals.flags.add(UNTRANSLATED)
    if len(source_pieces) >= MIN_RATIO_TOKENS:
        ratio = len(output_pieces) / len(source_pieces)
        if not MIN_RATIO <= ratio <= MAX_RATIO:
            signals.flags.add(LENGTH_RATIO)
    return signals


def _normalised(text: str) -> str:
    return " ".join(text.casefold().split())


def text_quality(sentences: Sequence[SentenceSignals]) -> Quality:
    """A text's quality from its decoded sentences' (one with none, all spans and digits,
    is as good as it gets: it is kept as it stands)."""
    if not sentences:
        return Quality(score=1.0, log_prob=0.0)
    flags = sorted({flag for sentence in sentences for flag in sentence.flags}, key=FLAGS.index)
    return Quality(
        score=round(min(sentence.score for sentence in sentences), 6),
        log_prob=round(sum(s.log_prob for s in sentences) / len(sentences), 6),
        flags=tuple(flags),
    )


@dataclass(frozen=True)
class Translations:
    """Translated texts with their qualities (None where not measured) and, with a
    glossary, each text's term reports."""

    texts: list[str]
    qualities: list[Quality | None]
    glossary: list[list[TermReport]] | None = None


# FLORES-200 codes -> whether they name the same language (a macrolanguage and its members
# count as one: a Swahili target read as zsm/swc is not "wrong").
SameLanguage = Callable[[str, str], bool]


async def check_output_languages(
    qualities: Sequence[Quality | None],
    outputs: Sequence[str],
    targets: Sequence[str],
    detect: DetectTexts,
    same_language: SameLanguage,
    text_format: str = "text",
) -> list[Quality | None]:
    """``qualities`` with ``output_language`` set and ``wrong_language`` raised where the
    detector reliably reads an output as another language than its target (all measured
    outputs in one detector call; HTML is read for its text). An output with no quality (a
    correction: not measured) is not read and stays None."""
    checked = list(qualities)
    measured = {k: quality for k, quality in enumerate(qualities) if quality is not None}
    if not measured:
        return checked
    detections = await detect([_readable(outputs[k], text_format) for k in measured])
    for (k, quality), detection in zip(measured.items(), detections, strict=True):
        quality = replace(quality, output_language=detection.language)
        if detection.reliable and not same_language(detection.language, targets[k]):
            quality = quality.flagged(WRONG_LANGUAGE)
        checked[k] = quality
    return checked


def _readable(output: str, text_format: str) -> str:
    try:
        return readable_text(output, text_format)
    except MarkupError:  # our own output: read it as it stands rather than fail
        return output


def withheld(quality: Quality | None, min_quality: float | None) -> bool:
    """Whether a translation of ``quality`` is withheld under ``min_quality``."""
    return min_quality is not None and quality is not None and quality.score < min_quality
