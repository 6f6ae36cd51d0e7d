"""The second detection stage: Lingua's n-gram models, strong where fastText is weak.

fastText reads character n-grams of a whole line and needs a sentence to be sure; it also does
not know several languages (lid.176 has no Zulu, Xhosa, Shona, Sotho, Tswana, Tsonga, Ganda or
Maori). Lingua (``lingua-language-detector``, Apache-2.0, models bundled in its wheel) scores
75 languages with 1- to 5-gram models that hold up on a two-word snippet. Its answers are mapped
to FLORES-200 through the one language database; Latin, which NLLB-200 does not have, maps to
nothing and is dropped.

Two modes share one set of models (Lingua keeps them in tables of the process, shared by all
its detectors): the high-accuracy mode for short texts, where it matters, and the low-accuracy
(trigram) mode, three times faster, for long ones, where both agree. Only the models Lingua
reads are held. Thirteen of its languages are each the only one of their script (Greek, Thai,
Korean, ...): Lingua answers their text from the script, before reading any n-gram, and gives
text without their scripts nothing from their models. So a text without their scripts is read
by detectors of the other languages, whose models are loaded; a text with them by detectors of
all languages, which load a model only when the script does not decide (a tie of two scripts,
"Ελλάδα Greece"): the first such text loads the thirteen's models (~120 MiB, under a second)
and they stay, so no text costs that load twice. Both answer as Lingua over all its
languages does.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from typing import Any

from serve_app.engines.heap import release_freed_memory
from serve_app.engines.languages import LanguageDatabase

# From this many characters on, a text is scored in the fast (trigram-only) mode.
LONG_TEXT_CHARS = 120
# Lingua gains nothing from more than a few hundred characters; its cost grows with length.
MAX_STAGE_CHARS = 400
# Lingua's languages each of which is the only one of its script among them.
SCRIPT_ANSWERED = frozenset(
    {
        "ARMENIAN",
        "BENGALI",
        "CHINESE",
        "GEORGIAN",
        "GREEK",
        "GUJARATI",
        "HEBREW",
        "JAPANESE",
        "KOREAN",
        "PUNJABI",
        "TAMIL",
        "TELUGU",
        "THAI",
    }
)
# Any character of those languages' scripts (Unicode blocks, a few of them shared with
# characters of other scripts; such a text is only read by the detectors of all languages).
SCRIPT_ANSWERED_CHARACTER = re.compile(
    "["
    r"\u0370-\u03ff\u0530-\u05ff\u0980-\u0aff\u0b80-\u0c7f\u0e00-\u0e7f\u10a0-\u11ff"
    r"\u1c90-\u1cbf\u1d00-\u1dbf\u1f00-\u1fff\u2126\u2d00-\u2d2f\u2e80-\u2fff\u3000-\u30ff"
    r"\u3130-\u318f\u31c0-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua960-\ua97f\uab30-\uab6f"
    r"\uac00-\ud7ff\uf900-\ufaff\ufb00-\ufb4f\uff00-\uffef\U00010140-\U000101cf"
    r"\U00011fc0-\U00011fff\U00016fe0-\U00016fff\U0001aff0-\U0001b16f\U0001d200-\U0001d24f"
    r"\U0001f200-\U0001f2ff\U00020000-\U0003ffff"
    "]"
)


def lingua_languages(database: LanguageDatabase | None = None) -> dict[Any, str]:
    """Lingua's languages that NLLB-200 has, each with its FLORES-200 code (no model loaded)."""
    from lingua import Language

    database = database or LanguageDatabase.default()
    codes = {
        language: database.from_lid_label(language.iso_code_639_3.name.lower())
        for language in Language.all()
    }
    return {language: code for language, code in codes.items() if code is not None}


class ShortTextStage:
    """Lingua over all its languages, answering probability maps keyed by FLORES-200 code."""

    name = "lingua"

    def __init__(
        self, languages: LanguageDatabase | None = None, long_text_chars: int = LONG_TEXT_CHARS
    ) -> None:
        from lingua import Language, LanguageDetectorBuilder

        started = time.perf_counter()
        # The languages whose models are loaded now (the rest load when a text needs them).
        self.preloaded = frozenset(
            language for language in Language.all() if language.name not in SCRIPT_ANSWERED
        )
        read = LanguageDetectorBuilder.from_languages(
            *self.preloaded
        ).with_preloaded_language_models()
        accurate = read.build()
        fast = read.with_low_accuracy_mode().build()  # the builder's setting changes in place
        every = LanguageDetectorBuilder.from_all_languages()  # loads a model when first read
        # (accurate, fast): for texts without the thirteen's scripts, and for texts with them.
        self._without_scripts = (accurate, fast)
        self._with_scripts = (every.build(), every.with_low_accuracy_mode().build())
        release_freed_memory()
        self.load_seconds = time.perf_counter() - started
        self._codes = lingua_languages(languages)
        self.languages = frozenset(self._codes.values())
        self.long_text_chars = long_text_chars

    def probabilities(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """For each text, its probability per FLORES-200 language Lingua knows (sums to ~1)."""
        texts = [_clip(text) for text in texts]
        results: list[dict[str, float]] = [{} for _ in texts]
        scripts = [i for i, text in enumerate(texts) if SCRIPT_ANSWERED_CHARACTER.search(text)]
        others = [i for i, text in enumerate(texts) if not SCRIPT_ANSWERED_CHARACTER.search(text)]
        self._score(texts, others, *self._without_scripts, results)
        self._score(texts, scripts, *self._with_scripts, results)
        return results

    def _score(
        self,
        texts: list[str],
        indices: list[int],
        accurate: Any,
        fast: Any,
        results: list[dict[str, float]],
    ) -> None:
        short = [i for i in indices if len(texts[i]) < self.long_text_chars]
        long = [i for i in indices if len(texts[i]) >= self.long_text_chars]
        for detector, chosen in ((accurate, short), (fast, long)):
            if not chosen:
                continue
            scored = detector.compute_language_confidence_values_in_parallel(
                [texts[i] for i in chosen]
            )
            for i, values in zip(chosen, scored, strict=True):
                out = results[i]
                for value in values:
                    code = self._codes.get(value.language)
                    if code is not None and value.value > 0.0:
                        out[code] = value.value


def _clip(text: str) -> str:
    if len(text) <= MAX_STAGE_CHARS:
        return text
    cut = text.rfind(" ", 0, MAX_STAGE_CHARS)
    return text[: cut if cut > 0 else MAX_STAGE_CHARS]
