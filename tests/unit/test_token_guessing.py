"""Tokens cannot be guessed: they come from the OS CSPRNG, carry no structure a guesser could
walk (time, counters, a seeded PRNG), and a store full of them answers no near guess."""

from __future__ import annotations

import random
import time
from collections import Counter
from pathlib import Path

from serve_app.jobs.model import Job, new_token
from serve_app.jobs.sqlite_store import SQLiteJobStore


def test_tokens_do_not_follow_a_seeded_prng() -> None:
    random.seed(1234)
    first = [new_token() for _ in range(5)]
    random.seed(1234)
    second = [new_token() for _ in range(5)]
    assert first != second


def test_tokens_have_no_shared_structure() -> None:
    """Time-based (uuid1) or counter tokens share long prefixes and skew digit counts."""
    tokens = [new_token() for _ in range(20_000)]
    assert len(set(tokens)) == len(tokens)
    # 20k random 128-bit values: two sharing their first 8 hex digits is a ~5% event.
    prefixes = Counter(token[:8] for token in tokens)
    assert max(prefixes.values()) <= 2
    # Every hex digit equally likely in every position (chi-square, 15 degrees of freedom;
    # 60 is far beyond the 99.99th percentile of the distribution).
    expected = len(tokens) / 16
    for position in range(32):
        counts = Counter(token[position] for token in tokens)
        chi2 = sum((counts[d] - expected) ** 2 / expected for d in "0123456789abcdef")
        assert chi2 < 60, (position, chi2)


def test_near_guesses_of_real_tokens_hit_nothing(tmp_path: Path) -> None:
    """A guesser who knows 500 tokens tries their neighbours (±1, every last digit): with
    sequential or time-ordered tokens these would hit; with ours none does."""
    store = SQLiteJobStore(tmp_path / "jobs.db", synchronous="NORMAL")
    now = time.time()
    real = []
    for _ in range(500):
        job = Job(
            token=new_token(),
            kind="text_translation",
            payload={},
            created_at=now,
            deadline_at=now + 300,
            expires_at=now + 3600,
        )
        real.append(store.submit(job).token)
    guesses = set()
    for token in real:
        value = int(token, 16)
        guesses |= {f"{(value + step) % 2**128:032x}" for step in (-1, 1)}
        guesses |= {token[:-1] + digit for digit in "0123456789abcdef"}
    guesses -= set(real)
    assert len(guesses) >= 500 * 15  # 15 other last digits; ±1 mostly among them
    assert sum(store.get(guess) is not None for guess in guesses) == 0
    assert all(store.get(token) is not None for token in real)
