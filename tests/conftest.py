"""Fixtures shared by every test: the built copy model and the real fastText detector."""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

# Tests never reach a model hub: only the local Hugging Face cache is read (Ray's workers
# inherit this from the test process).
os.environ["HF_HUB_OFFLINE"] = "1"

from serve_app.engines.detector import LanguageDetector
from serve_app.engines.translator import Translator
from serve_app.testmodel.build import build_test_model


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The order of a run: the unit tests, then the tests that start a Ray of their own
    (clusters, a killed and restarted app), then those on the session's shared Ray. The
    latter starts with the first test that asks for it and stops at the end of the run, so
    tests run before it have the machine to themselves, not beside an idle Ray and its
    apps (on 2 cores that idle Ray made the cluster scenarios a third slower)."""

    def group(item: pytest.Item) -> int:
        if item.get_closest_marker("serve") is None:
            return 0
        return 1 if item.get_closest_marker("own_ray") is not None else 2

    items.sort(key=group)  # stable: the files' order within each group


@pytest.fixture(scope="session")
def test_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_test_model(tmp_path_factory.mktemp("models") / "tiny-nllb")


@pytest.fixture(scope="session")
def translator(test_model_dir: Path) -> Translator:
    return Translator(test_model_dir, intra_threads=1)


@pytest.fixture(scope="session")
def detector() -> LanguageDetector:
    return LanguageDetector.from_config("lid.176")


def start_redis(directory: Path, port: int, *, durable: bool) -> subprocess.Popen[bytes]:
    """A real redis-server on loopback ``port`` keeping its files in ``directory``; with
    ``durable`` as production runs it (AOF, fsync every write), else nothing on disk."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed: `make system-deps` installs it")
    persistence = (
        ["--appendonly", "yes", "--appendfsync", "always"]
        if durable
        else ["--save", "", "--appendonly", "no"]
    )
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory), *persistence],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return process
        time.sleep(0.05)
    process.kill()
    pytest.fail(f"redis-server did not listen on {port}")


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server on a free loopback port for the session."""
    port = free_port()
    process = start_redis(tmp_path_factory.mktemp("redis"), port, durable=False)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# Direct-ingress port blocks for the test Rays, above Serve's default block (30000..) that a
# service or benchmark on the machine would use, one block per Ray this process starts.
_INGRESS_BLOCKS = itertools.count(30_100, 100)


def private_serving_env() -> dict[str, str]:
    """The shipped serve mode (``serve_app.serving``) for one Ray of a test, with ports of its
    own (HAProxy's stats and metrics, the ingress replicas' block), so that two Rays on the
    machine (the session's and a scenario's) never share a port: ingress replicas bind theirs
    with SO_REUSEPORT, and a shared one splits one Ray's requests between both.

    An ingress replica that stops stays reachable for a drain period first, so that load
    balancers deregister it: 30 s by default, which every app a test deletes or redeploys
    would wait out. Here HAProxy is the only balancer, reloaded by Serve's controller as
    replicas change and retrying a refused connection elsewhere, so a few seconds cover it
    (the redeploy-under-load tests check that no request fails)."""
    from serve_app.serving import MODE_VARIABLE, serving_env

    env = serving_env(
        os.environ.get(MODE_VARIABLE, "fast"),
        stats_port=free_port(),
        metrics_port=free_port(),
        direct_ingress_base=next(_INGRESS_BLOCKS),
    )
    env["RAY_SERVE_DIRECT_INGRESS_MIN_DRAINING_PERIOD_S"] = str(INGRESS_DRAIN_S)
    return env


# Seconds a stopping ingress replica stays reachable in the tests' Rays (Ray's default: 30).
INGRESS_DRAIN_S = 3
