"""What a record holds for each kind, both ways: a Glossary (summary: name, counts, pairs;
body: the entries as JSON), a Correction (all in its summary, no body) and a
TranslationMemory (summary: name, counts, languages; body: each unit's variants as JSON).

The shapes are what earlier releases wrote; a change here must read those as well.
"""

from __future__ import annotations

import json
from dataclasses import asdict

from serve_app.engines.corrections import Correction
from serve_app.engines.glossary import Glossary, GlossaryEntry
from serve_app.engines.memory import MemoryUnit, TranslationMemory
from serve_app.records.model import OwnedRecord


def glossary_record(glossary: Glossary) -> OwnedRecord:
    return OwnedRecord(
        glossary.id,
        glossary.owner,
        glossary.created_at,
        {
            "name": glossary.name,
            "entry_count": len(glossary.entries),
            "language_pairs": glossary.language_pairs,
        },
        json.dumps([asdict(entry) for entry in glossary.entries], ensure_ascii=False),
    )


def glossary_of(record: OwnedRecord) -> Glossary:
    entries = [GlossaryEntry(**entry) for entry in json.loads(record.body)]
    return Glossary(record.id, record.owner, record.summary["name"], record.created_at, entries)


# Kept in the record itself, not in its summary.
_RECORD_FIELDS = ("id", "owner", "created_at")


def correction_record(correction: Correction) -> OwnedRecord:
    summary = {k: v for k, v in asdict(correction).items() if k not in _RECORD_FIELDS}
    if correction.memory_id is None:  # written as before memories (and read back so)
        del summary["memory_id"]
    return OwnedRecord(correction.id, correction.owner, correction.created_at, summary)


def correction_of(record: OwnedRecord) -> Correction:
    return Correction(
        id=record.id, owner=record.owner, created_at=record.created_at, **record.summary
    )


def memory_record(memory: TranslationMemory, skipped: int = 0) -> OwnedRecord:
    return OwnedRecord(
        memory.id,
        memory.owner,
        memory.created_at,
        {
            "name": memory.name,
            "entry_count": len(memory.units),
            "languages": memory.languages,
            "skipped": skipped,
        },
        json.dumps([unit.variants for unit in memory.units], ensure_ascii=False),
    )


def memory_of(record: OwnedRecord) -> TranslationMemory:
    units = [
        MemoryUnit(tuple((code, text) for code, text in variants))
        for variants in json.loads(record.body)
    ]
    return TranslationMemory(
        record.id, record.owner, record.summary["name"], record.created_at, units
    )
