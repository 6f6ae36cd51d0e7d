"""Schemathesis against the running app's OpenAPI: whatever it sends, never a server error.

The schemathesis CLI runs all of its phases (examples, coverage, fuzzing, and the stateful
phase that chains operations such as submit → poll through inferred links) with up to
``MAX_EXAMPLES`` cases per operation, well over 1000 requests in all. The only check is
``not_a_server_error``: 4xx answers are the contract working (400/404/413/422/429). Its JSON
report is read back to count what was sent.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.serve, pytest.mark.slow]
MAX_EXAMPLES = 60


def test_no_server_errors_under_fuzzing(base_url: str, tmp_path: Path) -> None:
    binary = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert binary, "schemathesis is a dev dependency"
    report = tmp_path / "report.ndjson"
    run = subprocess.run(
        [
            binary,
            "run",
            f"{base_url}/openapi.json",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            str(MAX_EXAMPLES),
            "--seed",
            "20261122",
            # One worker: with two threads schemathesis' coverage phase can crash inside
            # CPython 3.11's ast.parse (not thread-safe: "AST constructor recursion depth
            # mismatch"), failing the run for a reason that is not the server's.
            "--workers",
            "1",
            "--request-timeout",
            "30",
            # The synchronous legacy endpoint waits for runs; fuzzing it would only add waiting.
            "--exclude-path",
            "/workflows",
            "--report",
            "ndjson",
            "--report-ndjson-path",
            str(report),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tmp_path,  # schemathesis keeps a cache in its working directory
        check=False,
    )
    assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-2000:]
    requests = sum(line.count('"response"') for line in report.read_text().splitlines())
    assert requests >= 1000, f"only {requests} requests were sent"
    print(f"schemathesis: {requests} requests, 0 server errors")  # for RELIABILITY.md
