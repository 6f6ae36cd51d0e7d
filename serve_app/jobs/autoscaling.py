"""Queue-driven autoscaling policy for the JobWorker deployment (Ray Serve custom policy).

Workers report ``queue_depth`` (queued + processing jobs) through
``record_autoscaling_stats``; the policy asks for one replica per ``target_jobs_per_worker``
jobs, within the deployment's min/max replicas.
"""

from __future__ import annotations

import math
from typing import Any


def desired_replicas(depth: float, per_worker: int, low: int, high: int) -> int:
    return max(low, min(high, math.ceil(depth / max(1, per_worker))))


class QueueDepthPolicy:
    """Instantiated once by Serve with ``policy_kwargs``; called on every autoscaling tick."""

    def __init__(self, target_jobs_per_worker: int = 8) -> None:
        self.target_jobs_per_worker = target_jobs_per_worker

    def __call__(self, ctx: Any) -> tuple[int, dict[str, Any]]:
        metrics = ctx.aggregated_metrics or {}
        reported = metrics.get("queue_depth") or {}
        # Every worker reports the same global depth; the highest is the freshest signal.
        depth = max(reported.values()) if reported else 0.0
        replicas = desired_replicas(
            depth,
            self.target_jobs_per_worker,
            ctx.capacity_adjusted_min_replicas,
            ctx.capacity_adjusted_max_replicas,
        )
        return replicas, {"queue_depth": depth}


def worker_autoscaling_config(
    target_jobs_per_worker: int = 8,
    min_workers: int = 1,
    max_workers: int = 4,
    upscale_delay_s: float = 5,
    downscale_delay_s: float = 60,
) -> dict[str, Any]:
    """The JobWorker's Serve ``autoscaling_config``: replicas follow the queue depth."""
    return {
        "min_replicas": min_workers,
        "max_replicas": max_workers,
        "upscale_delay_s": upscale_delay_s,
        "downscale_delay_s": downscale_delay_s,
        "policy": {
            "policy_function": "serve_app.jobs.autoscaling:QueueDepthPolicy",
            "policy_kwargs": {"target_jobs_per_worker": target_jobs_per_worker},
        },
    }
