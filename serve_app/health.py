"""Replica self-checks shared by the deployments' ``check_health``."""

from __future__ import annotations

from typing import Any

import psutil


def resident_mib() -> float:
    """This process's resident memory in MiB."""
    return float(psutil.Process().memory_info().rss) / 2**20


def replica_details() -> dict[str, Any]:
    """Which Serve replica this is and its resident memory, for the components' ``info``."""
    from ray import serve

    return {
        "replica": serve.get_replica_context().replica_id.unique_id,
        "resident_mib": round(resident_mib()),
    }


def check_memory(limit_mib: int | None, component: str) -> None:
    """Fails the health check of a replica grown past ``limit_mib``, so that Serve replaces it
    (a fresh process) before the node's OOM killer picks a victim mid-batch."""
    if limit_mib is None:
        return
    used = resident_mib()
    if used > limit_mib:
        raise RuntimeError(
            f"{component} replica resident memory {used:.0f} MiB is over max_memory_mib="
            f"{limit_mib}; failing the health check so that Serve replaces the replica"
        )
