"""Named, detached, restartable Ray actors, one generation per configuration.

The job manager and the in-memory rate limiter are shared by every replica, found by name.
Their name carries a fingerprint of the configuration they were made with, because Ray
restarts a crashed actor with the arguments it was *created* with: an actor reused across a
redeploy and reconfigured in place would fall back to its old settings on its next restart.
With one generation per configuration, a redeploy that changes the job settings gets an actor
that runs them, while replicas of the old version finish against the old one; the newest
generation retires superseded ones once they have been idle a while.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from typing import Any

import ray

log = logging.getLogger(__name__)

# A superseded generation that has served no call for this long is ended by the newest one.
RETIRE_IDLE_SECONDS = 300.0
RETIRE_CHECK_SECONDS = 60.0


def generation_name(base: str, config: dict[str, Any]) -> str:
    """``base`` plus a fingerprint of ``config``: equal configs share one actor."""
    canonical = json.dumps(config, sort_keys=True, default=str).encode()
    return f"{base}-{hashlib.sha256(canonical).hexdigest()[:10]}"


def named_actor(
    cls: type, base: str, namespace: str, config: dict[str, Any], *, max_concurrency: int = 1
) -> Any:
    """The actor of ``cls`` for ``config``, created on first use (``config`` is its argument);
    ``max_concurrency`` > 1 makes it a threaded actor."""
    remote = ray.remote(
        num_cpus=0, max_restarts=-1, max_task_retries=-1, max_concurrency=max_concurrency
    )(cls)
    return remote.options(
        name=generation_name(base, config),
        namespace=namespace,
        lifetime="detached",
        get_if_exists=True,
    ).remote(config)


class Generational:
    """Mixin for such actors: counts idleness and retires other, idle generations."""

    _base: str
    _last_call: float

    def _start_generation(self, base: str) -> None:
        """Call from the actor's constructor: starts the retiring thread (inside Ray only)."""
        self._base = base
        self._last_call = time.monotonic()
        if not ray.is_initialized():  # a plain object (tests): asking Ray would start one
            return
        context = ray.get_runtime_context()
        name = context.get_actor_name()
        if name:
            threading.Thread(
                target=self._retire_forever, args=(name, context.namespace), daemon=True
            ).start()

    def touch(self) -> None:
        self._last_call = time.monotonic()

    def idle_seconds(self) -> float:
        return time.monotonic() - self._last_call

    def _retire_forever(self, own_name: str, namespace: str) -> None:
        while True:
            time.sleep(RETIRE_CHECK_SECONDS)
            try:
                self.retire_superseded(own_name, namespace)
            except Exception:  # noqa: S112 - the GCS may be restarting: try again later
                continue

    def retire_superseded(self, own_name: str, namespace: str) -> list[str]:
        """Ends the other generations of this actor that have been idle long enough."""
        retired = []
        prefix = f"{self._base}-"
        for entry in ray.util.list_named_actors(all_namespaces=True):
            name = entry["name"]
            if entry["namespace"] != namespace or name == own_name:
                continue
            if not name.startswith(prefix) or len(name) != len(own_name):
                continue
            try:
                other = ray.get_actor(name, namespace=namespace)
                if ray.get(other.idle_seconds.remote(), timeout=10) < RETIRE_IDLE_SECONDS:
                    continue
                ray.kill(other, no_restart=True)
                retired.append(name)
                log.info("retired superseded actor generation %s", name)
            except Exception:  # noqa: S112 - gone already, or busy: looked at again later
                continue
        return retired
