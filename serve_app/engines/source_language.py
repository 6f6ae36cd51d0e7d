"""The one rule for source languages: the one given, or each text's own detected language.

The HTTP translate route, the text-translation job and the workflow translation agent all
call :func:`source_languages`, so a batch of mixed-language texts is translated from each
text's own language everywhere (never from the first text's language for all of them).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from serve_app.engines.detector import UNKNOWN_LANGUAGE, Detection

# Detects each text (top 1 suffices); injected so that this rule stays free of Ray.
DetectTexts = Callable[[list[str]], Awaitable[Sequence[Detection]]]


class SourceNotDetectedError(ValueError):
    """Some texts carry too little signal to tell their language; ``indexes`` names them."""

    def __init__(self, indexes: list[int]) -> None:
        shown = ", ".join(str(index) for index in indexes[:10])
        more = f" and {len(indexes) - 10} more" if len(indexes) > 10 else ""
        super().__init__(
            f"could not detect the source language of text {shown}{more}; pass source_language"
        )
        self.indexes = indexes


@dataclass(frozen=True)
class SourceLanguages:
    """One FLORES-200 code per text, and the detection behind each (``None`` when given)."""

    codes: list[str]
    detections: list[Detection | None]

    @property
    def common(self) -> str | None:
        """The language every text shares, ``None`` for a mixed batch."""
        distinct = set(self.codes)
        return distinct.pop() if len(distinct) == 1 else None


async def source_languages(
    texts: list[str], given: str | None, detect: DetectTexts
) -> SourceLanguages:
    """``given`` for every text when set; otherwise each text's detected language.

    Raises :class:`SourceNotDetectedError` naming every text whose language is ``und``.
    """
    if given:
        return SourceLanguages([given] * len(texts), [None] * len(texts))
    detections = list(await detect(texts))
    unknown = [i for i, found in enumerate(detections) if found.language == UNKNOWN_LANGUAGE]
    if unknown:
        raise SourceNotDetectedError(unknown)
    return SourceLanguages([found.language for found in detections], list(detections))
