"""Records a client owns and keeps: glossaries, corrections, uploaded documents and translation
memories. The model, the store (SQLite or Redis, in the job store's
database), the codecs of each kind and a Ray-free service; the actor that holds the store at
runtime is :mod:`serve_app.records.keeper`."""

from serve_app.records.codecs import (
    correction_of,
    correction_record,
    glossary_of,
    glossary_record,
    memory_of,
    memory_record,
)
from serve_app.records.model import (
    CORRECTION,
    DOCUMENT,
    GLOSSARY,
    MEMORY,
    OwnedRecord,
    Quota,
    RecordKind,
    RecordsTooLargeError,
    TooManyRecordsError,
)
from serve_app.records.service import Records, RecordsSettings, open_records
from serve_app.records.store import RecordStore, RedisRecords, SQLiteRecords

__all__ = [
    "CORRECTION",
    "DOCUMENT",
    "GLOSSARY",
    "MEMORY",
    "OwnedRecord",
    "Quota",
    "RecordKind",
    "RecordStore",
    "Records",
    "RecordsSettings",
    "RecordsTooLargeError",
    "RedisRecords",
    "SQLiteRecords",
    "TooManyRecordsError",
    "correction_of",
    "correction_record",
    "glossary_of",
    "glossary_record",
    "memory_of",
    "memory_record",
    "open_records",
]
