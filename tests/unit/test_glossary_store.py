"""The glossary store on both backends: a real SQLite file and a real redis-server."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from serve_app.engines.glossary import Glossary, GlossaryEntry
from serve_app.jobs.glossary_store import (
    GlossaryStore,
    RedisGlossaryStore,
    SQLiteGlossaryStore,
    TooManyGlossariesError,
)


@pytest.fixture(params=["sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[GlossaryStore]:
    if request.param == "sqlite":
        opened: GlossaryStore = SQLiteGlossaryStore(tmp_path / "jobs.db")
    else:
        url = request.getfixturevalue("redis_url")
        opened = RedisGlossaryStore(url, prefix=f"test-{uuid.uuid4().hex[:8]}")
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


def test_create_get_list_delete(store: GlossaryStore) -> None:
    first, second = glossary("alice", "one"), glossary("alice", "two")
    store.create(first, max_per_owner=10)
    store.create(second, max_per_owner=10)
    store.create(glossary("bob"), max_per_owner=10)
    assert store.get(first.id) == first  # entries, owner and all, as written
    listed = store.list("alice")
    assert [(s.id, s.name, s.entry_count) for s in listed] == [
        (first.id, "one", 3),
        (second.id, "two", 3),
    ]
    assert listed[0].language_pairs == [("eng_Latn", "fra_Latn"), ("eng_Latn", "swh_Latn")]
    assert store.get(uuid.uuid4().hex) is None
    # Only the owner deletes; deleting twice finds nothing the second time.
    assert store.delete(first.id, "bob") is False
    assert store.delete(first.id, "alice") is True
    assert store.delete(first.id, "alice") is False
    assert store.get(first.id) is None
    assert [s.id for s in store.list("alice")] == [second.id]
    assert store.list("nobody") == []


def test_an_owner_keeps_at_most_max_per_owner(store: GlossaryStore) -> None:
    kept = [glossary("carol") for _ in range(2)]
    for item in kept:
        store.create(item, max_per_owner=2)
    with pytest.raises(TooManyGlossariesError):
        store.create(glossary("carol"), max_per_owner=2)
    store.create(glossary("dave"), max_per_owner=2)  # another owner is not affected
    store.delete(kept[0].id, "carol")
    store.create(glossary("carol"), max_per_owner=2)  # room again
    assert len(store.list("carol")) == 2


def test_sqlite_glossaries_outlive_the_connection(tmp_path: Path) -> None:
    path = tmp_path / "jobs.db"
    first = SQLiteGlossaryStore(path)
    item = glossary("erin")
    first.create(item, max_per_owner=5)
    first.close()
    again = SQLiteGlossaryStore(path)
    assert again.get(item.id) == item
    again.close()
