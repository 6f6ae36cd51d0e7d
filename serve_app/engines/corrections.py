"""Corrections: translations a client says are better than the model's, served in its place.

A correction is an exact match: the same text (after Unicode NFC and whitespace collapsed,
case kept: "Apple" and "apple" may translate differently), the same language pair, the same
owner (API key). The newest correction of a text wins; older ones stay for the audit trail.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass


def correction_key(text: str) -> str:
    """What two texts must share to be "the same text"."""
    return " ".join(unicodedata.normalize("NFC", text).split())


@dataclass(frozen=True)
class Correction:
    id: str
    owner: str
    created_at: float
    source_language: str
    target_language: str
    text: str
    translation: str
    # The machine translation the client saw and corrected, when it said (for the audit).
    original: str | None = None
    # The translation memory it was filed under too (a unit of that memory from then on).
    memory_id: str | None = None


class Corrections:
    """One owner's corrections, looked up by (source, target, text)."""

    def __init__(self, corrections: Iterable[Correction]) -> None:
        # (target, text) -> source -> the newest correction
        self._by_text: dict[tuple[str, str], dict[str, Correction]] = {}
        for correction in sorted(corrections, key=lambda c: c.created_at):  # newest wins
            key = (correction.target_language, correction_key(correction.text))
            self._by_text.setdefault(key, {})[correction.source_language] = correction

    def __len__(self) -> int:
        return sum(len(by_source) for by_source in self._by_text.values())

    def offered(self, text: str, target_language: str) -> dict[str, Correction]:
        """The corrections of ``text`` into ``target_language``, by source language (for a
        job whose texts' sources are detected only when it runs)."""
        if not self._by_text:
            return {}
        return dict(self._by_text.get((target_language, correction_key(text)), {}))

    def find(self, text: str, source_language: str, target_language: str) -> Correction | None:
        if not self._by_text:
            return None
        by_source = self._by_text.get((target_language, correction_key(text)), {})
        return by_source.get(source_language)
