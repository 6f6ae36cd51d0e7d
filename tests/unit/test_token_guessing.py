"""Tokens cannot be guessed: 100,000 random guesses against a populated store find nothing."""

from __future__ import annotations

import secrets
import time
from pathlib import Path

from serve_app.jobs.model import Job, new_token
from serve_app.jobs.sqlite_store import SQLiteJobStore


def test_100k_random_tokens_hit_nothing(tmp_path: Path) -> None:
    store = SQLiteJobStore(tmp_path / "jobs.db", synchronous="NORMAL")
    now = time.time()
    real = set()
    for _ in range(1000):
        job = Job(
            token=new_token(),
            kind="text_translation",
            payload={},
            created_at=now,
            deadline_at=now + 300,
            expires_at=now + 3600,
        )
        store.submit(job)
        real.add(job.token)
    hits = sum(
        store.get(guess) is not None for guess in (secrets.token_hex(16) for _ in range(100_000))
    )
    assert hits == 0
    assert all(store.get(token) is not None for token in list(real)[:100])
