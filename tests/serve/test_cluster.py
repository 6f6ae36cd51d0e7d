"""Ray beyond one process: a real 2-node cluster (replicas spread over both nodes, a node removed
loses no job) and a GCS outage on a head whose GCS keeps its tables in Redis."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import private_serving_env

pytestmark = [pytest.mark.serve, pytest.mark.slow, pytest.mark.own_ray]
ROOT = Path(__file__).resolve().parents[2]


def run_scenario(script: str, *args: str, timeout: int) -> dict[str, Any]:
    """Runs ``script`` (next to this file) as its own driver process: its last stdout line,
    parsed (the scenarios print one JSON line)."""
    run = subprocess.run(
        [sys.executable, str(Path(__file__).with_name(script)), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=ROOT,
        env={
            **os.environ,
            **private_serving_env(),
            "PYTHONPATH": str(ROOT),
        },
    )
    assert run.returncode == 0, run.stderr[-4000:]
    result: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.timeout(660)  # the scenario's own limit is 600 s
def test_two_node_cluster_batches_spreads_replicas_and_survives_node_loss(
    test_model_dir: Path, tmp_path: Path
) -> None:
    """A real 2-node cluster. Ray Data's actor pool: three actors on both nodes, every row
    exact (the copy model) and in order, the null row kept. Then the service: replicas on
    both nodes, and the worker node removed under 30 jobs loses none."""
    result = run_scenario("cluster_scenario.py", str(test_model_dir), str(tmp_path), timeout=600)
    batch = result["batch"]
    assert batch["rows"] == 400, result
    assert batch["exact"] is True, result
    assert batch["in_order"] is True, result
    assert batch["errors"] == 0, result
    assert batch["actor_nodes"] == 2, result
    assert result["nodes_with_replicas"] == 2, result
    assert result["statuses"] == ["done"] * result["jobs"], result


def test_gcs_outage_with_external_redis_loses_nothing(
    test_model_dir: Path, tmp_path: Path, redis_url: str
) -> None:
    """GCS fault tolerance as the KubeRay manifest runs it (GCS tables, jobs and rate limits
    in one Redis): with the GCS process killed, the API keeps translating and accepting jobs,
    workers keep finishing them; a GCS started again reloads the cluster from Redis, every
    replica is still the same actor, a redeploy can create replicas again, and every accepted
    job is done."""
    result = run_scenario(
        "gcs_ft_scenario.py", str(test_model_dir), str(tmp_path), redis_url, "10", timeout=600
    )
    assert result["failed_during_outage"] == 0, result
    assert result["translated_during_outage"] >= 5, result
    assert result["jobs_refused_during_outage"] == 0, result
    assert result["jobs_accepted_during_outage"] >= 5, result
    # Workers finished every job accepted while the GCS was down, before it came back.
    done = result["jobs_accepted_and_done_during_outage"]
    assert done == result["jobs_accepted_during_outage"], result
    assert result["app_status_after"] == "ApplicationStatus.RUNNING", result
    assert result["ingress_replicas_after_redeploy"] == 2, result
    assert result["replicas_kept"] == result["replicas_before"] >= 5, result
    assert result["statuses"] == ["done"] * result["jobs"], result


@pytest.mark.timeout(600)  # ~3 min: one cycle of scaling up and down, with fixed delays
def test_replica_and_node_autoscaling_together(
    test_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Serve's autoscaler asks for Translator replicas (request load) and JobWorkers (a job
    backlog, queue-driven) that the head cannot hold; Ray's autoscaler (fake multi-node
    provider) launches worker nodes for them; every request is answered exactly and every job
    is done; after the load replicas and then nodes go away. Figures: docs/benchmarks.md."""
    from tests.serve.autoscaling_scenario import MARKER, kill_everything_started

    marker = uuid.uuid4().hex
    monkeypatch.setenv(MARKER, marker)  # on every process the scenario's head starts
    try:
        result = run_scenario(
            "autoscaling_scenario.py", str(test_model_dir), str(tmp_path), timeout=540
        )
    finally:
        # Whatever happened to the scenario, nothing of its Ray outlives the test.
        kill_everything_started(marker)
    print(json.dumps(result))  # the figures, with -s
    load = result["load"]
    assert result["worker_nodes_at_start"] == 0, result
    assert load["replicas_up_s"] is not None, result
    assert load["nodes_up_s"] is not None, result
    assert load["peak_translators"] >= 3, result
    assert load["peak_worker_nodes"] >= 1, result
    assert load["requests"]["failed"] == 0, result
    assert load["requests"]["wrong"] == 0, result
    assert load["requests"]["answered"] > 100, result
    jobs = load["jobs"]
    assert jobs["workers_up_s"] is not None, result
    assert jobs["peak_job_workers"] >= 3, result
    assert jobs["on_worker_nodes"] >= 1, result  # JobWorkers too outgrew the head
    assert jobs["statuses"] == ["done"] * jobs["submitted"], result
    assert result["replicas_down_s"] is not None, result
    assert result["workers_down_s"] is not None, result
    assert result["nodes_down_s"] is not None, result
    assert result["processes_killed"] > 0, result
