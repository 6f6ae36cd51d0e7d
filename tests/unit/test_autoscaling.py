from types import SimpleNamespace

import pytest

from serve_app.jobs.autoscaling import QueueDepthPolicy, desired_replicas


def context(depths: list[float], low: int = 1, high: int = 4) -> SimpleNamespace:
    return SimpleNamespace(
        aggregated_metrics={"queue_depth": {f"replica-{i}": d for i, d in enumerate(depths)}},
        capacity_adjusted_min_replicas=low,
        capacity_adjusted_max_replicas=high,
    )


@pytest.mark.parametrize(
    ("depth", "expected"), [(0, 1), (1, 1), (8, 1), (9, 2), (24, 3), (25, 4), (1000, 4)]
)
def test_one_replica_per_target_jobs_within_bounds(depth: float, expected: int) -> None:
    replicas, state = QueueDepthPolicy(target_jobs_per_worker=8)(context([depth]))
    assert replicas == expected
    assert state == {"queue_depth": depth}


def test_takes_the_highest_report_and_handles_no_metrics() -> None:
    assert QueueDepthPolicy(4)(context([3, 17, 9]))[0] == 4
    empty = SimpleNamespace(
        aggregated_metrics=None, capacity_adjusted_min_replicas=2, capacity_adjusted_max_replicas=5
    )
    assert QueueDepthPolicy(4)(empty)[0] == 2
    assert desired_replicas(10, 0, 1, 10) == 10  # a zero target never divides by zero
