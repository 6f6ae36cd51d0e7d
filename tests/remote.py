"""A deployment's method as the routes call it (``await handle.method.remote(...)``),
answered in-process: for tests of the ingress without a Ray."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any


class Remote:
    def __init__(self, answer: Callable[..., Any]) -> None:
        self.answer = answer

    def remote(self, *args: Any) -> Awaitable[Any]:
        async def call() -> Any:
            return self.answer(*args)

        return call()
