"""A real 2-node Ray cluster: replicas spread over both nodes, a node removed loses no job."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.serve, pytest.mark.slow]


def test_two_node_cluster_spreads_replicas_and_survives_node_loss(
    test_model_dir: Path, tmp_path: Path
) -> None:
    run = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).with_name("cluster_scenario.py")),
            str(test_model_dir),
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert run.returncode == 0, run.stderr[-4000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["nodes_with_replicas"] == 2, result
    assert result["statuses"] == ["done"] * result["jobs"], result
