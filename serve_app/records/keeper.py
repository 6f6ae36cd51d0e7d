"""The record keeper: the Ray actor that holds the record store (glossaries, corrections,
uploaded documents) for every ingress replica.

Named, detached and restartable like the job manager (one generation per configuration, see
:mod:`serve_app.actors`), and as stateless: the store is durable, so a crash or a new
generation loses nothing. It is an actor of its own so that a synchronous translation that
reads a glossary or the caller's corrections does not depend on the job queue's actor (its
restarts, its load); it costs one idle process and no CPU reservation.

It also deletes uploaded documents once the jobs translating them have expired.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any

from serve_app.actors import Generational, generation_name, named_actor
from serve_app.config import JobsConfig
from serve_app.engines.corrections import Corrections
from serve_app.engines.glossary import Glossary
from serve_app.records.codecs import correction_of, glossary_of
from serve_app.records.model import CORRECTION, DOCUMENT, GLOSSARY, OwnedRecord, Quota, RecordKind
from serve_app.records.service import Records, RecordsSettings, open_records

# Calls served at once (reads need not queue behind a write's fsync; SQLite serialises
# its own writes).
KEEPER_CONCURRENCY = 16


class RecordKeeper(Generational):
    """Thin actor over :class:`~serve_app.records.service.Records`, plus document expiry."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.settings = RecordsSettings.model_validate(config)
        self.records = Records(open_records(self.settings))
        self._stop = threading.Event()
        self._expirer = threading.Thread(target=self._expire_forever, daemon=True)
        self._expirer.start()
        self._start_generation(self.settings.keeper_name)

    def _expire_forever(self) -> None:
        while True:
            with contextlib.suppress(Exception):  # the store may be restarting: next round
                self.expire_documents()
            if self._stop.wait(self.settings.expire_interval_seconds):
                return

    def expire_documents(self) -> int:
        """Deletes the uploaded documents whose jobs no longer answer; how many went."""
        return self.records.expire(DOCUMENT, time.time() - self.settings.document_ttl_seconds)

    def create(self, kind: RecordKind, record: OwnedRecord, quota: Quota) -> None:
        self.touch()
        self.records.create(kind, record, quota)

    def get(self, kind: RecordKind, record_id: str, owner: str) -> OwnedRecord | None:
        self.touch()
        return self.records.get(kind, record_id, owner)

    def list(self, kind: RecordKind, owner: str) -> list[OwnedRecord]:
        self.touch()
        return self.records.list(kind, owner)

    def delete(self, kind: RecordKind, record_id: str, owner: str) -> bool:
        self.touch()
        return self.records.delete(kind, record_id, owner)

    def ping(self) -> str:
        return "ok"

    def stop(self) -> None:
        """Ends the expiry and closes the store (tests; an actor is simply killed)."""
        self._stop.set()
        self._expirer.join(timeout=10)
        self.records.close()


def record_keeper_name(config: JobsConfig) -> str:
    """The actor name of ``config``'s generation (tests and operators look it up)."""
    settings = RecordsSettings.of(config)
    return generation_name(settings.keeper_name, settings.model_dump(mode="json"))


def record_keeper(config: JobsConfig) -> Any:
    """The record keeper of the job store ``config`` names, created on first use."""
    settings = RecordsSettings.of(config)
    return named_actor(
        RecordKeeper,
        settings.keeper_name,
        settings.namespace,
        settings.model_dump(mode="json"),
        max_concurrency=KEEPER_CONCURRENCY,
    )


class KeeperRecords:
    """A caller's glossaries and corrections read through the record keeper (for the
    Orchestrator's workflow translations; the ingress reads them through its own cache)."""

    def __init__(self, keeper: Any, corrections_enabled: bool) -> None:
        self._keeper = keeper
        self._corrections = corrections_enabled

    async def glossary(self, owner: str, glossary_id: str) -> Glossary | None:
        found: OwnedRecord | None = await self._keeper.get.remote(GLOSSARY, glossary_id, owner)
        return None if found is None else glossary_of(found)

    async def corrections(self, owner: str) -> Corrections | None:
        if not self._corrections:
            return None
        found: list[OwnedRecord] = await self._keeper.list.remote(CORRECTION, owner)
        return Corrections(correction_of(record) for record in found)
