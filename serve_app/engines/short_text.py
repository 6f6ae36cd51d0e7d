"""The second detection stage: Lingua's n-gram models, strong where fastText is weak.

fastText reads character n-grams of a whole line and needs a sentence to be sure; it also does
not know several languages (lid.176 has no Zulu, Xhosa, Shona, Sotho, Tswana, Tsonga, Ganda or
Maori). Lingua (``lingua-language-detector``, Apache-2.0, models bundled in its wheel) scores
75 languages with 1- to 5-gram models that hold up on a two-word snippet. Its answers are mapped
to FLORES-200 through the one language database; Latin, which NLLB-200 does not have, maps to
nothing and is dropped.

Two modes share one set of loaded models (about 1.2 GiB, loaded in ~9 s): the high-accuracy
mode for short texts, where it matters, and the low-accuracy (trigram) mode, three times
faster, for long ones, where both agree.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from serve_app.engines.languages import LanguageDatabase

# From this many characters on, a text is scored in the fast (trigram-only) mode.
LONG_TEXT_CHARS = 120
# Lingua gains nothing from more than a few hundred characters; its cost grows with length.
MAX_STAGE_CHARS = 400


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
        from lingua import LanguageDetectorBuilder

        started = time.perf_counter()
        builder = LanguageDetectorBuilder.from_all_languages().with_preloaded_language_models()
        self._accurate = builder.build()
        # Same builder, trigram models only: shares the models loaded above.
        self._fast = builder.with_low_accuracy_mode().build()
        self.load_seconds = time.perf_counter() - started
        self._codes = lingua_languages(languages)
        self.languages = frozenset(self._codes.values())
        self.long_text_chars = long_text_chars

    def probabilities(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """For each text, its probability per FLORES-200 language Lingua knows (sums to ~1)."""
        texts = [_clip(text) for text in texts]
        short = [i for i, text in enumerate(texts) if len(text) < self.long_text_chars]
        long = [i for i, text in enumerate(texts) if len(text) >= self.long_text_chars]
        results: list[dict[str, float]] = [{} for _ in texts]
        for detector, indices in ((self._accurate, short), (self._fast, long)):
            if not indices:
                continue
            scored = detector.compute_language_confidence_values_in_parallel(
                [texts[i] for i in indices]
            )
            for i, values in zip(indices, scored, strict=True):
                out = results[i]
                for value in values:
                    code = self._codes.get(value.language)
                    if code is not None and value.value > 0.0:
                        out[code] = value.value
        return results


def _clip(text: str) -> str:
    if len(text) <= MAX_STAGE_CHARS:
        return text
    cut = text.rfind(" ", 0, MAX_STAGE_CHARS)
    return text[: cut if cut > 0 else MAX_STAGE_CHARS]
