"""What a record is: something a client owns and keeps (a glossary, a correction, an uploaded
document, a translation memory), written once and deleted once.

There is no update, so a reader may keep one it read for a while (the ingress does). Each has
a ``summary`` (what a listing shows, small) and a ``body`` (read only with the record itself:
a glossary's entries, a document's bytes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class RecordKind(StrEnum):
    """Kinds are apart: their own ids, their own quotas. The values are stored (the SQLite
    ``kind`` column, a part of each Redis key), so they never change."""

    GLOSSARY = "glossary"
    CORRECTION = "correction"
    # An uploaded document (base64 body), kept as long as the job translating it answers.
    DOCUMENT = "document"
    # A translation memory (its units as JSON in the body).
    MEMORY = "memory"


GLOSSARY = RecordKind.GLOSSARY
CORRECTION = RecordKind.CORRECTION
DOCUMENT = RecordKind.DOCUMENT
MEMORY = RecordKind.MEMORY


class TooManyRecordsError(Exception):
    """The owner keeps as many records of this kind as allowed already."""


class RecordsTooLargeError(TooManyRecordsError):
    """The owner's records of this kind would pass the size allowed (their bodies' length)."""


@dataclass(frozen=True)
class OwnedRecord:
    id: str
    owner: str
    created_at: float
    summary: dict[str, Any] = field(default_factory=dict)
    body: str = ""  # empty in listings


@dataclass(frozen=True)
class Quota:
    """What one owner may keep of one kind: ``count`` records, and (when set) ``size``
    characters of their bodies together."""

    count: int
    size: int | None = None
