"""Sentence-level translation cache: in-process LRU by default, Redis to share across replicas.

A key names everything that decides a sentence's decoding: the model (and its revision and
files), source and target, the decoding options and the sentence as the model sees it (spans
masked). A value is the sentence's hypotheses as token pieces with their scores, so a hit is
assembled exactly as a fresh decode would be. A cache never fails a translation: a Redis
error is a miss (and logged), a value that does not parse is a miss.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Sequence
from typing import Any, Protocol

from cachetools import LRUCache

logger = logging.getLogger(__name__)

# (target pieces, score) per hypothesis, best first: what the model gave for one sentence.
Hypotheses = list[tuple[list[str], float]]


class TranslationCache(Protocol):
    def get_many(self, keys: Sequence[str]) -> list[Hypotheses | None]: ...

    def set_many(self, items: dict[str, Hypotheses]) -> None: ...

    def clear(self) -> None: ...


def cache_key(namespace: str, *parts: object) -> str:
    """A short, stable key for ``parts`` (languages, options, the sentence) under ``namespace``
    (the model)."""
    digest = hashlib.blake2b(
        json.dumps(parts, ensure_ascii=False, separators=(",", ":")).encode(), digest_size=16
    ).hexdigest()
    return f"{namespace}:{digest}"


def _size(value: Hypotheses) -> int:
    """Approximate bytes an entry holds (pieces and their list), for the memory bound."""
    return 64 + sum(56 + sum(49 + len(piece) for piece in pieces) for pieces, _ in value)


class MemoryCache:
    """LRU bounded by approximate bytes; safe to share between the engine's threads."""

    def __init__(self, max_bytes: int) -> None:
        self._entries: LRUCache[str, Hypotheses] = LRUCache(maxsize=max_bytes, getsizeof=_size)
        self._lock = threading.Lock()

    def get_many(self, keys: Sequence[str]) -> list[Hypotheses | None]:
        with self._lock:
            return [self._entries.get(key) for key in keys]

    def set_many(self, items: dict[str, Hypotheses]) -> None:
        with self._lock:
            for key, value in items.items():
                if _size(value) <= self._entries.maxsize:
                    self._entries[key] = value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    @property
    def bytes(self) -> int:
        return int(self._entries.currsize)

    def __len__(self) -> int:
        return len(self._entries)


class RedisCache:
    """Entries shared by every replica, each kept ``ttl_seconds`` (Redis's own eviction
    policy bounds memory when ``maxmemory`` is set)."""

    def __init__(
        self, url: str, *, prefix: str = "tafsiri", ttl_seconds: int = 86_400, client: Any = None
    ) -> None:
        import redis

        self._redis: Any = client or redis.Redis.from_url(
            url, decode_responses=True, socket_timeout=0.5, socket_connect_timeout=0.5
        )
        self._prefix = f"{prefix}:tcache:"
        self._ttl = ttl_seconds

    def get_many(self, keys: Sequence[str]) -> list[Hypotheses | None]:
        if not keys:
            return []
        try:
            raw = self._redis.mget([self._prefix + key for key in keys])
        except Exception as exc:  # a cache outage is a miss, never a failed translation
            logger.warning("translation_cache_unavailable error=%s", exc)
            return [None] * len(keys)
        return [_parse(value) for value in raw]

    def set_many(self, items: dict[str, Hypotheses]) -> None:
        if not items:
            return
        try:
            with self._redis.pipeline(transaction=False) as pipe:
                for key, value in items.items():
                    pipe.set(
                        self._prefix + key, json.dumps(value, ensure_ascii=False), ex=self._ttl
                    )
                pipe.execute()
        except Exception as exc:
            logger.warning("translation_cache_unavailable error=%s", exc)

    def clear(self) -> None:
        """Entries of a replaced model are never read again (their namespace is gone) and
        expire with their TTL; nothing is deleted from a cache other replicas share."""


def _parse(value: str | None) -> Hypotheses | None:
    if value is None:
        return None
    try:
        return [(list(pieces), float(score)) for pieces, score in json.loads(value)]
    except (ValueError, TypeError):
        return None
