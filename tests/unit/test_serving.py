"""The serve mode: which of Ray Serve's switches each mode sets, and the fallback."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pytest

from serve_app import serving


@pytest.fixture(autouse=True)
def _restore_environ() -> Iterator[None]:
    """``apply_serving_env`` writes ``os.environ``; later tests (and the serve tests' Ray)
    must not inherit what these tests set."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


def test_fast_mode_turns_on_haproxy_and_throughput_optimized_serve() -> None:
    env = serving.serving_env("fast")
    assert env == {
        "RAY_worker_niceness": "5",  # replicas above the bulk lane (both modes)
        "RAY_SERVE_THROUGHPUT_OPTIMIZED": "1",
        "RAY_SERVE_ENABLE_HA_PROXY": "1",
        "RAY_SERVE_REQUEST_PATH_LOG_BUFFER_SIZE": "1",  # logs reach the file at once
        "RAY_SERVE_METRICS_EXPORT_INTERVAL_MS": "1000",  # fewer wake-ups while idle
        "RAY_SERVE_CONTROL_LOOP_INTERVAL_S": "0.5",  # the controller's loop, likewise
    }
    assert serving.serving_env("classic") == {"RAY_worker_niceness": "5"}


def test_a_private_ray_gets_ports_of_its_own() -> None:
    env = serving.serving_env(
        "fast", stats_port=1234, metrics_port=5678, direct_ingress_base=30_200
    )
    assert env["RAY_SERVE_DIRECT_INGRESS_MIN_HTTP_PORT"] == "30200"
    assert env["RAY_SERVE_DIRECT_INGRESS_MAX_HTTP_PORT"] == "30299"
    assert env["RAY_SERVE_DIRECT_INGRESS_MIN_GRPC_PORT"] == "40200"
    assert env["RAY_SERVE_DIRECT_INGRESS_MAX_GRPC_PORT"] == "40299"
    assert env["RAY_SERVE_HAPROXY_STATS_PORT"] == "1234"
    assert env["RAY_SERVE_HAPROXY_METRICS_PORT"] == "5678"


def test_an_unknown_mode_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="fast, classic"):
        serving.serving_env("turbo")


def test_the_bundled_haproxy_is_found_on_linux() -> None:
    binary = serving.haproxy_binary()
    assert binary is not None
    assert os.access(binary, os.X_OK)


def test_without_haproxy_fast_falls_back_to_classic_and_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RAY_SERVE_HAPROXY_BINARY_PATH", "/nonexistent/haproxy")
    monkeypatch.delenv("TAFSIRI_SERVE_MODE", raising=False)
    monkeypatch.delenv("RAY_SERVE_ENABLE_HA_PROXY", raising=False)
    assert serving.apply_serving_env() == "classic"
    assert "no HAProxy binary" in capsys.readouterr().err
    assert "RAY_SERVE_ENABLE_HA_PROXY" not in os.environ


def test_applied_mode_keeps_what_the_operator_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TAFSIRI_SERVE_MODE", raising=False)
    monkeypatch.setenv("RAY_SERVE_THROUGHPUT_OPTIMIZED", "0")
    monkeypatch.delenv("RAY_SERVE_ENABLE_HA_PROXY", raising=False)
    assert serving.apply_serving_env() == "fast"
    assert os.environ["RAY_SERVE_THROUGHPUT_OPTIMIZED"] == "0"
    assert os.environ["RAY_SERVE_ENABLE_HA_PROXY"] == "1"


def test_lower_priority_lowers_every_thread_and_threads_started_later() -> None:
    """In a child process (a lowered niceness cannot be raised again without privileges):
    the threads running before the call and one started after it run ``steps`` lower than
    the process started, in the SCHED_IDLE class; a second call lowers no further."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(
        """
        import os, threading, json
        from serve_app.serving import lower_priority
        start = os.getpriority(os.PRIO_PROCESS, 0)
        ready, stop, ids = threading.Event(), threading.Event(), []
        def sleeper():
            ids.append(threading.get_native_id()); ready.set(); stop.wait()
        before = threading.Thread(target=sleeper); before.start(); ready.wait()
        first = lower_priority(7, idle=True)
        ready.clear()
        after = threading.Thread(target=sleeper); after.start(); ready.wait()
        again = lower_priority(7)
        nices = [os.getpriority(os.PRIO_PROCESS, tid) for tid in ids]
        idle = [os.sched_getscheduler(tid) == os.SCHED_IDLE for tid in ids]
        stop.set(); before.join(); after.join()
        print(json.dumps([start, first, again, nices, idle]))
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    start, first, again, nices, idle = json.loads(run.stdout)
    expected = min(19, start + 7)
    assert first == again == expected
    assert nices == [expected, expected]
    assert idle == [True, True]  # SCHED_IDLE, for the thread before and the one after
