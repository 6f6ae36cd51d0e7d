"""The record store (glossaries, corrections) on both backends: a real SQLite file and a real
redis-server."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest
import ray

from serve_app import actors
from serve_app.config import JobsConfig
from serve_app.engines.corrections import Correction
from serve_app.engines.glossary import Glossary, GlossaryEntry
from serve_app.jobs.actors import job_manager_name
from serve_app.records import (
    CORRECTION,
    DOCUMENT,
    GLOSSARY,
    OwnedRecord,
    Quota,
    Records,
    RecordsSettings,
    RecordsTooLargeError,
    RecordStore,
    RedisRecords,
    SQLiteRecords,
    TooManyRecordsError,
    correction_of,
    correction_record,
    glossary_of,
    glossary_record,
)
from serve_app.records.keeper import RecordKeeper, record_keeper_name


@pytest.fixture(params=["sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RecordStore]:
    if request.param == "sqlite":
        opened: RecordStore = SQLiteRecords(tmp_path / "jobs.db")
    else:
        url = request.getfixturevalue("redis_url")
        opened = RedisRecords(url, prefix=f"test-{uuid.uuid4().hex[:8]}")
    yield opened
    opened.close()


def glossary(owner: str, name: str = "terms") -> Glossary:
    return Glossary(
        uuid.uuid4().hex,
        owner,
        name,
        time.time(),
        [
            GlossaryEntry("eng_Latn", "swh_Latn", "cloud", "wingu"),
            GlossaryEntry("eng_Latn", "swh_Latn", "Ray", "Ray"),
            GlossaryEntry("eng_Latn", "fra_Latn", "cloud", "nuage"),
        ],
    )


def test_create_get_list_delete(store: RecordStore) -> None:
    first, second = glossary("alice", "one"), glossary("alice", "two")
    store.create(GLOSSARY, glossary_record(first), max_per_owner=10)
    store.create(GLOSSARY, glossary_record(second), max_per_owner=10)
    store.create(GLOSSARY, glossary_record(glossary("bob")), max_per_owner=10)
    found = store.get(GLOSSARY, first.id)
    assert found is not None
    assert glossary_of(found) == first  # entries, owner and all, as written
    listed = store.list(GLOSSARY, "alice")
    assert [(r.id, r.summary["name"], r.summary["entry_count"], r.body) for r in listed] == [
        (first.id, "one", 3, ""),  # a listing carries no body
        (second.id, "two", 3, ""),
    ]
    assert listed[0].summary["language_pairs"] == [
        ["eng_Latn", "fra_Latn"],
        ["eng_Latn", "swh_Latn"],
    ]
    assert listed[0].created_at == pytest.approx(first.created_at)
    assert store.get(GLOSSARY, uuid.uuid4().hex) is None
    assert store.get(CORRECTION, first.id) is None  # kinds are apart
    # Only the owner deletes; deleting twice finds nothing the second time.
    assert store.delete(GLOSSARY, first.id, "bob") is False
    assert store.delete(GLOSSARY, first.id, "alice") is True
    assert store.delete(GLOSSARY, first.id, "alice") is False
    assert store.get(GLOSSARY, first.id) is None
    assert [r.id for r in store.list(GLOSSARY, "alice")] == [second.id]
    assert store.list(GLOSSARY, "nobody") == []


def test_an_owner_keeps_at_most_max_per_owner_of_each_kind(store: RecordStore) -> None:
    kept = [glossary("carol") for _ in range(2)]
    for item in kept:
        store.create(GLOSSARY, glossary_record(item), max_per_owner=2)
    with pytest.raises(TooManyRecordsError):
        store.create(GLOSSARY, glossary_record(glossary("carol")), max_per_owner=2)
    store.create(GLOSSARY, glossary_record(glossary("dave")), max_per_owner=2)  # another owner
    # Another kind counts apart.
    store.create(CORRECTION, OwnedRecord(uuid.uuid4().hex, "carol", 1.0, {"a": 1}), 2)
    store.delete(GLOSSARY, kept[0].id, "carol")
    store.create(GLOSSARY, glossary_record(glossary("carol")), max_per_owner=2)  # room again
    assert len(store.list(GLOSSARY, "carol")) == 2


def test_an_owner_keeps_at_most_max_size_of_bodies(store: RecordStore) -> None:
    """Documents are kept by size too: the bodies of an owner's records of one kind, this
    one's included, may not pass ``max_size``; others' and other kinds' do not count."""

    def document(owner: str, size: int) -> OwnedRecord:
        return OwnedRecord(uuid.uuid4().hex, owner, time.time(), {}, "x" * size)

    first = document("frank", 600)
    store.create(DOCUMENT, first, 100, max_size=1000)
    store.create(DOCUMENT, document("frank", 400), 100, max_size=1000)  # exactly full
    with pytest.raises(RecordsTooLargeError):
        store.create(DOCUMENT, document("frank", 1), 100, max_size=1000)
    store.create(DOCUMENT, document("gina", 1000), 100, max_size=1000)  # another owner
    store.create(CORRECTION, document("frank", 1000), 100, max_size=1000)  # another kind
    store.delete(DOCUMENT, first.id, "frank")
    store.create(DOCUMENT, document("frank", 600), 100, max_size=1000)  # room again
    with pytest.raises(RecordsTooLargeError):
        store.create(DOCUMENT, document("frank", 1), 100, max_size=1000)
    assert len(store.list(DOCUMENT, "frank")) == 2


def test_sqlite_file_before_sizes_counts_its_bodies(tmp_path: Path) -> None:
    """Records written before the size column: their sizes are read from the bodies once."""
    path = tmp_path / "jobs.db"
    first = SQLiteRecords(path)
    first.create(DOCUMENT, OwnedRecord(uuid.uuid4().hex, "hana", 1.0, {}, "x" * 600), 10)
    first._db.execute("ALTER TABLE owned DROP COLUMN size")  # as an older release left it
    first.close()
    again = SQLiteRecords(path)
    with pytest.raises(RecordsTooLargeError):
        again.create(DOCUMENT, OwnedRecord(uuid.uuid4().hex, "hana", 2.0, {}, "y" * 401), 10, 1000)
    again.create(DOCUMENT, OwnedRecord(uuid.uuid4().hex, "hana", 2.0, {}, "y" * 400), 10, 1000)
    again.close()


def test_sqlite_records_outlive_the_connection(tmp_path: Path) -> None:
    path = tmp_path / "jobs.db"
    first = SQLiteRecords(path)
    item = glossary("erin")
    first.create(GLOSSARY, glossary_record(item), max_per_owner=5)
    first.close()
    again = SQLiteRecords(path)
    found = again.get(GLOSSARY, item.id)
    assert found is not None
    assert glossary_of(found) == item
    again.close()


def test_expire_deletes_only_that_kind_older_than_the_cutoff(store: RecordStore) -> None:
    old = [OwnedRecord(uuid.uuid4().hex, owner, 100.0, {"n": 1}, "x") for owner in ("a", "b")]
    new = OwnedRecord(uuid.uuid4().hex, "a", 300.0, {"n": 2}, "y")
    for record in [*old, new]:
        store.create(DOCUMENT, record, max_per_owner=10)
    kept = glossary("a")
    store.create(GLOSSARY, glossary_record(kept), max_per_owner=10)
    assert store.expire(DOCUMENT, before=200.0) == 2
    assert [store.get(DOCUMENT, r.id) for r in old] == [None, None]
    assert store.get(DOCUMENT, new.id) == new
    assert [r.id for r in store.list(DOCUMENT, "a")] == [new.id]
    assert store.list(DOCUMENT, "b") == []
    assert store.get(GLOSSARY, kept.id) is not None
    # The expired no longer count against their owner's limit.
    store.create(DOCUMENT, OwnedRecord(uuid.uuid4().hex, "b", 400.0), max_per_owner=1)


def test_records_are_stored_where_earlier_releases_kept_them(
    tmp_path: Path, redis_url: str
) -> None:
    """Kinds are an enum now; what is stored is still the plain name: the SQLite ``kind``
    column and the Redis keys an existing store holds are read as they are."""
    item = glossary("ida")
    sqlite = SQLiteRecords(tmp_path / "jobs.db")
    sqlite.create(GLOSSARY, glossary_record(item), max_per_owner=5)
    assert sqlite._db.execute("SELECT kind, id FROM owned").fetchall() == [("glossary", item.id)]
    sqlite.close()
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    redis = RedisRecords(redis_url, prefix=prefix)
    redis.create(GLOSSARY, glossary_record(item), max_per_owner=5)
    assert set(redis._redis.keys(f"{prefix}:*")) == {
        f"{prefix}:glossary:owner:ida",
        f"{prefix}:glossary:{item.id}",
    }
    redis.close()


def test_a_correction_is_kept_in_its_summary_as_before() -> None:
    correction = Correction(
        uuid.uuid4().hex, "jo", 5.0, "eng_Latn", "swh_Latn", "cloud", "wingu", original="mawingu"
    )
    record = correction_record(correction)
    assert (record.id, record.owner, record.created_at, record.body) == (
        correction.id,
        "jo",
        5.0,
        "",
    )
    assert record.summary == {
        "source_language": "eng_Latn",
        "target_language": "swh_Latn",
        "text": "cloud",
        "translation": "wingu",
        "original": "mawingu",
    }
    assert correction_of(record) == correction


def test_the_service_reads_and_deletes_only_for_the_owner(store: RecordStore) -> None:
    records = Records(store)
    item = glossary("kim")
    records.create(GLOSSARY, glossary_record(item), Quota(count=1))
    found = records.get(GLOSSARY, item.id, "kim")
    assert found is not None
    assert glossary_of(found) == item
    assert records.get(GLOSSARY, item.id, "lee") is None  # another owner's: not found
    assert records.get(CORRECTION, item.id, "kim") is None
    assert records.delete(GLOSSARY, item.id, "lee") is False
    assert [r.id for r in records.list(GLOSSARY, "kim")] == [item.id]
    with pytest.raises(TooManyRecordsError):  # the quota's count
        records.create(GLOSSARY, glossary_record(glossary("kim")), Quota(count=1))
    assert records.delete(GLOSSARY, item.id, "kim") is True
    assert records.list(GLOSSARY, "kim") == []
    big = OwnedRecord(uuid.uuid4().hex, "kim", 1.0, {}, "x" * 11)
    with pytest.raises(RecordsTooLargeError):  # the quota's size
        records.create(DOCUMENT, big, Quota(count=5, size=10))


def keeper_settings(tmp_path: Path, **jobs: object) -> dict[str, object]:
    config = JobsConfig.model_validate({"sqlite_path": str(tmp_path / "jobs.db")} | jobs)
    return RecordsSettings.of(config).model_dump(mode="json")


def test_the_keeper_expires_documents_with_their_jobs(tmp_path: Path) -> None:
    """Uploaded documents go once their jobs' TTL has passed, on the keeper's own clock (at
    start, then every expire_interval_seconds); nothing else goes."""
    settings = keeper_settings(tmp_path, ttl_seconds=600, timeout_seconds=60)
    old = OwnedRecord(uuid.uuid4().hex, "max", time.time() - 700, {}, "old")
    kept = OwnedRecord(uuid.uuid4().hex, "max", time.time() - 300, {}, "new")
    aged = glossary("max")
    store = SQLiteRecords(tmp_path / "jobs.db")
    for record in (old, kept):
        store.create(DOCUMENT, record, max_per_owner=10)
    store.create(GLOSSARY, replace(glossary_record(aged), created_at=1.0), max_per_owner=10)
    store.close()
    ray_before = ray.is_initialized()  # (the serve tests' Ray, in a whole-suite run)
    keeper = RecordKeeper(settings | {"expire_interval_seconds": 0.05})
    # A plain object: no Ray started, nor someone else's joined.
    assert ray.is_initialized() == ray_before
    try:
        deadline = time.monotonic() + 5
        while keeper.get(DOCUMENT, old.id, "max") is not None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert keeper.get(DOCUMENT, old.id, "max") is None
        assert keeper.get(DOCUMENT, kept.id, "max") == kept
        assert keeper.get(GLOSSARY, aged.id, "max") is not None
        # Later uploads age out while the keeper runs.
        late = OwnedRecord(uuid.uuid4().hex, "max", time.time() - 700, {}, "late")
        keeper.create(DOCUMENT, late, Quota(count=10))
        deadline = time.monotonic() + 5
        while keeper.get(DOCUMENT, late.id, "max") is not None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert keeper.get(DOCUMENT, late.id, "max") is None
    finally:
        keeper.stop()


def test_the_keeper_has_a_generation_per_store_not_per_job_tuning(tmp_path: Path) -> None:
    """Its name follows where the records are and how long documents stay; tuning the jobs
    (leases, workers) leaves the keeper, and the records it serves, as they were."""
    base = JobsConfig(sqlite_path=str(tmp_path / "a.db"))
    tuned = base.model_copy(update={"lease_seconds": 12.0, "max_workers": 2})
    assert record_keeper_name(tuned) == record_keeper_name(base)
    assert record_keeper_name(tuned).startswith(f"{base.manager_name}-records-")
    for other in (
        base.model_copy(update={"sqlite_path": str(tmp_path / "b.db")}),
        base.model_copy(update={"ttl_seconds": 7200.0}),
        base.model_copy(update={"manager_name": "tafsiri-other"}),
    ):
        assert record_keeper_name(other) != record_keeper_name(base)


def test_no_generation_retires_the_other_actor(monkeypatch: pytest.MonkeyPatch) -> None:
    """The keeper's name begins with the job manager's: each retires idle generations of its
    own kind only, never the other actor."""
    jobs = JobsConfig()
    manager, keeper = job_manager_name(jobs), record_keeper_name(jobs)
    old_manager = job_manager_name(jobs.model_copy(update={"lease_seconds": 5.0}))
    old_keeper = record_keeper_name(jobs.model_copy(update={"ttl_seconds": 7200.0}))
    named = [manager, keeper, old_manager, old_keeper]
    killed: list[str] = []

    class Idle:
        def __init__(self, name: str) -> None:
            self.name = name
            self.idle_seconds = SimpleNamespace(remote=lambda: 10**6)

    monkeypatch.setattr(
        actors.ray.util,
        "list_named_actors",
        lambda all_namespaces: [{"name": n, "namespace": "tafsiri"} for n in named],
    )
    monkeypatch.setattr(actors.ray, "get_actor", lambda name, namespace: Idle(name))
    monkeypatch.setattr(actors.ray, "get", lambda ref, timeout: ref)
    monkeypatch.setattr(actors.ray, "kill", lambda actor, no_restart: killed.append(actor.name))
    for own, base in ((manager, jobs.manager_name), (keeper, f"{jobs.manager_name}-records")):
        generation = actors.Generational()
        generation._base = base
        generation.retire_superseded(own, "tafsiri")
    assert killed == [old_manager, old_keeper]
