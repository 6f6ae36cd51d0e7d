"""One real local Ray + Serve for the whole test session, shut down at the end."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from serve_app.config import AppArgs
from tests.conftest import free_port, private_serving_env

APP_NAME = "tafsiri"


JOBS_DB = Path(tempfile.mkdtemp(prefix="tafsiri-jobs-")) / "jobs.db"
# The shared Ray's own temporary directory (short: Ray's socket paths must fit 107 bytes), so
# that tests read this session's logs, not those of another Ray started on the machine.
RAY_TEMP_DIR = Path(tempfile.mkdtemp(prefix="tfs-ray-", dir="/tmp"))
RAY_LOGS = RAY_TEMP_DIR / "session_latest" / "logs"
# Where the shared Ray's metrics agent serves Prometheus text (Ray's own export).
RAY_METRICS_PORT = free_port()


def app_args(model_dir: Path, **translator: Any) -> AppArgs:
    return AppArgs.model_validate(
        {
            # The offline models, chosen explicitly; no fallback to hide a missing one.
            "models": "hub",
            "detector": {"model": "lid.176"},
            "translator": {
                "model": str(model_dir),
                "batching": {"max_batch_size": 16, "batch_wait_timeout_s": 0.05},
                **translator,
            },
            "api": {"max_text_chars": 5000, "max_batch_items": 64, "max_body_bytes": 200_000},
            # Every test's synchronous calls come from one address, one client: the character
            # budget is the tests' own where they measure it (test_job_reliability).
            "rate_limits": {"characters_per_minute": 10**9, "characters_per_hour": 10**10},
            # On here (off by default): tests/serve/test_corrections.py; the auth test's app
            # keeps the default and checks the endpoints refuse.
            "corrections": {"enabled": True},
            # Small, so that tests/serve/test_memories.py reaches each limit cheaply.
            "memories": {"max_bytes": 1_000_000, "max_units": 1000},
            # Not the defaults, so that tests can tell these reached Serve (test_deployment).
            "deployments": {
                "orchestrator": {"num_cpus": 0.1, "max_ongoing_requests": 48},
                "detector": {
                    "num_cpus": 0.1,
                    "max_ongoing_requests": 200,
                    "health_check_period_s": 7,
                },
            },
            "jobs": {
                "sqlite_path": str(JOBS_DB),
                "sqlite_synchronous": "NORMAL",
                "lease_seconds": 3,
                "timeout_seconds": 120,
                "chunk_texts": 4,
                "lease_wait_seconds": 2,
            },
        }
    )


def side_app_args(model_dir: Path) -> dict[str, Any]:
    """``app_args`` as JSON, for an application a test deploys beside the session's own, whose
    subject is not detection: fastText alone detects there. The short-text stage (Lingua)
    costs ~5 s of CPU and 1.1 GiB per replica to load; the session's app has it."""
    base = app_args(model_dir).model_dump(mode="json")
    base["detector"]["short_text_stage"] = False
    return base


SEED_PORT = 8001


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


@contextlib.contextmanager
def patched_environ(values: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[int]:
    """Ray with explicit CPUs (the replicas ask for fractions) and Serve on a free port."""
    import ray
    from ray import serve

    # The serve mode the service ships with (HAProxy, direct ingress, ...) for Ray's processes,
    # which take the environment when Ray starts; not for this driver, whose handles are
    # called from tests outside an event loop (that needs the router in a loop of its own).
    with patched_environ(private_serving_env()):
        ray.init(
            num_cpus=4,
            include_dashboard=False,
            log_to_driver=False,
            namespace="tafsiri-tests",
            _temp_dir=str(RAY_TEMP_DIR),
            _metrics_export_port=RAY_METRICS_PORT,
        )
    # The seed's Example 1 script talks to localhost:8001; use that port when it is free.
    port = SEED_PORT if port_is_free(SEED_PORT) else free_port()
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    try:
        yield port
    finally:
        serve.shutdown()
        ray.shutdown()
        shutil.rmtree(RAY_TEMP_DIR, ignore_errors=True)


def deploy(args: AppArgs) -> None:
    from ray import serve

    from serve_app.app import build_app

    serve.run(build_app(args), name=APP_NAME, route_prefix="/")


def wait_healthy(base_url: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base_url}/health", timeout=5).json().get("status") == "healthy":
                return
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.5)
    raise TimeoutError("the application did not become healthy")


@pytest.fixture(scope="session")
def base_url(ray_cluster: int, test_model_dir: Path) -> str:
    deploy(app_args(test_model_dir))
    url = f"http://127.0.0.1:{ray_cluster}"
    wait_healthy(url)
    return url


@pytest.fixture
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=60) as http:
        yield http
