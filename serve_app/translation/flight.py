"""Keep up to N calls in flight, their results taken in order."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


async def in_order(
    calls: Sequence[Callable[[], Awaitable[T]]], ahead: int
) -> AsyncGenerator[T, None]:
    """Each call's result, in the calls' order, with up to ``ahead`` calls started at once.

    A failed call raises at its turn; leaving the iteration early (an error, a client gone,
    a cancelled job) cancels every call still in flight, so nothing more is computed."""
    if ahead < 1:
        raise ValueError(f"ahead must be at least 1, got {ahead}")
    pending: deque[asyncio.Future[T]] = deque()
    started = 0
    try:
        for _ in range(len(calls)):
            while started < len(calls) and len(pending) < ahead:
                pending.append(asyncio.ensure_future(calls[started]()))
                started += 1
            yield await pending.popleft()
    finally:
        for future in pending:
            future.cancel()
