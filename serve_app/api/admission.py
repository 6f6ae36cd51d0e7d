"""What an ingress replica admits: up to ``api.max_in_flight`` requests at once, and none once
the service is stopping, when the replica waits for those it has (``tafsiri serve`` on
SIGTERM: ``serve_app.serving.serve_until_stopped``)."""

from __future__ import annotations

import asyncio
from typing import Literal

Refusal = Literal["overloaded", "stopping"]


class Admission:
    """Counts one replica's requests in flight; refuses new ones past ``limit`` or once
    :meth:`stop` was called."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_flight = 0
        self.stopping = False
        self._idle = asyncio.Event()
        self._idle.set()

    def refusal(self) -> Refusal | None:
        """Why a new request is refused now, if it is."""
        if self.stopping:
            return "stopping"
        if self.in_flight >= self.limit:
            return "overloaded"
        return None

    def enter(self) -> None:
        self.in_flight += 1
        self._idle.clear()

    def leave(self) -> None:
        self.in_flight -= 1
        if self.in_flight == 0:
            self._idle.set()

    def stop(self) -> None:
        """Admits nothing more; the requests in flight go on."""
        self.stopping = True

    async def idle(self) -> None:
        """Returns once no request is in flight."""
        await self._idle.wait()
