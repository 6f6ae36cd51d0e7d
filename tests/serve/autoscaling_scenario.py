"""Replica autoscaling and node autoscaling together, on one machine (run by test_cluster.py).

Ray's fake multi-node provider (``RAY_FAKE_CLUSTER=1``, the provider behind
``ray.cluster_utils.AutoscalingCluster``) gives the Ray autoscaler a node type it may launch:
each "node" is a real raylet on this machine advertising ``WORKER_CPUS`` CPUs. The head holds
one Translator replica (1 CPU) beside the small deployments and no second one, so:

1. 32 clients translate while jobs are submitted (a backlog of 50-text jobs). Serve's
   autoscaler asks for more Translator replicas (requests in flight) and the queue-driven
   policy for more JobWorkers (0.5 CPU each here); they cannot be placed; the Ray autoscaler
   launches worker nodes; the replicas start there. Every request must be answered with the
   exact output of the copy model (no 5xx), and every job must be done.
2. The load stops; Serve scales both back down; the idle nodes are released.

One cycle of nodes up and down covers both kinds of autoscaling (the two used to run one after
the other, twice the time for no further check).

Prints one JSON line: the seconds each step took and the failures. The head runs on its own
GCS port and temp dir; everything it started is killed by an environment marker at the end
(``ray stop`` would stop every Ray on the machine, including the test session's).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psutil
import ray
from ray import serve

from serve_app.app import build_app
from serve_app.config import AppArgs
from tests.serve.cluster_scenario import final_statuses, free_port

WORKER_CPUS = 2
MAX_WORKER_NODES = 3
IDLE_TIMEOUT_MINUTES = 0.1
CLIENTS = 32
MARKER = "TAFSIRI_AUTOSCALING_SCENARIO"


def autoscaling_config(gcs_address: str) -> dict[str, Any]:
    """The fake provider's cluster config (the fields of Ray's fake_multi_node example)."""
    return {
        "cluster_name": "tafsiri-fake",
        "max_workers": MAX_WORKER_NODES,
        "provider": {
            "type": "fake_multinode",
            "gcs_address": gcs_address,
            "use_node_id_as_ip": True,
            "disable_node_updaters": True,
            "disable_launch_config_check": True,
        },
        "available_node_types": {
            "ray.head.default": {"resources": {}, "node_config": {}, "max_workers": 0},
            "cpu_worker": {
                "resources": {"CPU": WORKER_CPUS, "object_store_memory": 150_000_000},
                "node_config": {},
                "min_workers": 0,
                "max_workers": MAX_WORKER_NODES,
            },
        },
        "head_node_type": "ray.head.default",
        "auth": {},
        "upscaling_speed": 1.0,
        "idle_timeout_minutes": IDLE_TIMEOUT_MINUTES,
        "docker": {},
        "initialization_commands": [],
        "setup_commands": [],
        "head_setup_commands": [],
        "worker_setup_commands": [],
        "head_start_ray_commands": [],
        "worker_start_ray_commands": [],
        "file_mounts": {},
        "cluster_synced_files": [],
        "file_mounts_sync_continuously": False,
        "rsync_exclude": [],
        "rsync_filter": [],
    }


def start_head(workdir: Path, marker: str) -> str:
    """Starts the head (its GCS address returned) with the fake provider as its autoscaler."""
    port = free_port()
    ip = ray.util.get_node_ip_address()
    address = f"{ip}:{port}"
    config = workdir / "autoscaling.json"
    config.write_text(json.dumps(autoscaling_config(address)))
    temp_dir = tempfile.mkdtemp(prefix="tfs-as-", dir="/tmp")  # short: unix socket paths
    env = {
        **os.environ,
        "RAY_FAKE_CLUSTER": "1",
        # `ray start` turns token authentication on; this head is private to the scenario.
        "RAY_AUTH_MODE": "disabled",
        "AUTOSCALER_UPDATE_INTERVAL_S": "1",
        "RAY_TMPDIR": temp_dir,
        MARKER: marker,
    }
    subprocess.run(
        [
            sys.executable,
            "-m",
            "ray.scripts.scripts",
            "start",
            "--head",
            f"--port={port}",
            "--num-cpus=2",
            "--object-store-memory=200000000",
            f"--temp-dir={temp_dir}",
            f"--autoscaling-config={config}",
            "--include-dashboard=false",
            "--disable-usage-stats",
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    return address


def kill_everything_started(marker: str) -> int:
    """Kills every process carrying this run's marker in its environment."""
    killed = 0
    for process in psutil.process_iter(["pid"]):
        with contextlib.suppress(psutil.Error):
            if process.pid != os.getpid() and process.environ().get(MARKER) == marker:
                process.send_signal(signal.SIGKILL)
                killed += 1
    return killed


def worker_nodes() -> int:
    return sum(1 for n in ray.nodes() if n["Alive"] and not _is_head(n))


def _is_head(node: dict[str, Any]) -> bool:
    return "node:__internal_head__" in node.get("Resources", {})


def replicas(deployment: str) -> int:
    """RUNNING replicas of ``deployment`` as Serve's controller reports them."""
    status = serve.status().applications["tafsiri"].deployments[deployment]
    return int(status.replica_states.get("RUNNING", 0))


def wait_until(condition: Callable[[], bool], seconds: float) -> float | None:
    """Seconds until ``condition()`` holds, or None if it did not within ``seconds``."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        with contextlib.suppress(Exception):
            if condition():
                return round(time.monotonic() - started, 1)
        time.sleep(1)
    return None


async def translate_until(url: str, stop: asyncio.Event) -> dict[str, int]:
    """``CLIENTS`` clients translating until ``stop``: answered, failed and wrong outputs."""
    counts = {"answered": 0, "failed": 0, "wrong": 0}

    async def client(http: httpx.AsyncClient, number: int) -> None:
        i = 0
        while not stop.is_set():
            text = f"Client {number} asks for sentence {i}, please."
            i += 1
            try:
                response = await http.post(
                    "/api/v1/translate",
                    json={
                        "text": text,
                        "source_language": "eng_Latn",
                        "target_language": "fra_Latn",
                    },
                )
            except httpx.HTTPError:
                counts["failed"] += 1
                continue
            if response.status_code != 200:
                counts["failed"] += 1
            elif response.json()["translated_text"] != text:
                counts["wrong"] += 1
            else:
                counts["answered"] += 1

    async with httpx.AsyncClient(base_url=url, timeout=120) as http:
        await asyncio.gather(*(client(http, n) for n in range(CLIENTS)))
    return counts


def submit_backlog(url: str) -> dict[str, Any]:
    """A steady stream of 50-text jobs (10 a second) until the queue-driven autoscaler has
    added JobWorkers, which do not fit on the head beside the Translators: nodes must come."""
    result: dict[str, Any] = {"workers_up_s": None}
    tokens: list[str] = []
    scaled = False
    started = time.monotonic()
    with httpx.Client(base_url=url, timeout=60) as http:
        while time.monotonic() - started < 180 and len(tokens) < 600:
            for _ in range(10):
                response = http.post(
                    "/api/v1/jobs/translate",
                    json={
                        "texts": [f"Job {len(tokens)} sentence {j}." for j in range(50)],
                        "source_language": "eng_Latn",
                        "target_language": "fra_Latn",
                    },
                )
                response.raise_for_status()
                tokens.append(response.json()["token"])
            with contextlib.suppress(Exception):  # Serve's status, asked amid node churn
                scaled = replicas("JobWorker") >= 3
            if scaled:
                result["workers_up_s"] = round(time.monotonic() - started, 1)
                break
            time.sleep(1)
    result["peak_job_workers"] = replicas("JobWorker")
    result["peak_worker_nodes"] = worker_nodes()
    # The head cannot hold the extra JobWorkers: those running on a worker node are there
    # because the queue-driven policy asked for replicas that only new nodes could take.
    result["job_workers_on_worker_nodes"] = on_worker_nodes("JobWorker")
    result["tokens"] = tokens
    return result


def on_worker_nodes(deployment: str) -> int:
    """Alive replicas of ``deployment`` placed on a worker node (not the head), from the
    GCS's actor table (the head runs no dashboard, so no state API)."""
    from ray._private.state import actors

    heads = {n["NodeID"] for n in ray.nodes() if n["Alive"] and _is_head(n)}
    return sum(
        1
        for actor in actors().values()
        if actor["State"] == "ALIVE"
        and f"#{deployment}#" in (actor["Name"] or "")
        and actor["Address"]["NodeID"] not in heads
    )


def wait_for_jobs(url: str, tokens: list[str]) -> dict[str, Any]:
    """Every job's final status (``final_statuses``), and the seconds until all had one."""
    started = time.monotonic()
    with httpx.Client(base_url=url, timeout=60) as http:
        statuses = final_statuses(http, tokens, 300)
    drained = len(statuses) == len(tokens)
    return {
        "drained_s": round(time.monotonic() - started, 1) if drained else None,
        "statuses": statuses,
    }


def scale_out_phase(url: str) -> dict[str, Any]:
    """Both kinds of load at once: 32 clients translating (request-based Translator
    autoscaling) and a job backlog (queue-driven JobWorker autoscaling). One cycle of nodes
    up and down covers both."""
    stop = asyncio.Event()
    result: dict[str, Any] = {}

    async def run() -> None:
        loop = asyncio.get_running_loop()
        load = asyncio.create_task(translate_until(url, stop))
        backlog = loop.run_in_executor(None, submit_backlog, url)
        started = time.monotonic()
        result["replicas_up_s"] = await loop.run_in_executor(
            None, wait_until, lambda: replicas("Translator") >= 3, 180
        )
        result["nodes_up_s"] = await loop.run_in_executor(
            None, wait_until, lambda: worker_nodes() >= 1, 10
        )
        if result["nodes_up_s"] is not None and result["replicas_up_s"] is not None:
            result["nodes_up_s"] = round(result["replicas_up_s"] + result["nodes_up_s"], 1)
        result["peak_translators"] = replicas("Translator")
        result["peak_worker_nodes"] = worker_nodes()
        await asyncio.sleep(5)  # keep serving on the scaled-out cluster for a while
        stop.set()
        result["requests"] = await load
        result["load_s"] = round(time.monotonic() - started, 1)
        jobs = await backlog
        result["peak_worker_nodes"] = max(result["peak_worker_nodes"], jobs["peak_worker_nodes"])
        result["jobs"] = {
            "workers_up_s": jobs["workers_up_s"],
            "peak_job_workers": jobs["peak_job_workers"],
            "on_worker_nodes": jobs["job_workers_on_worker_nodes"],
            "submitted": len(jobs["tokens"]),
            **await loop.run_in_executor(None, wait_for_jobs, url, jobs["tokens"]),
        }

    asyncio.run(run())
    return result


def scale_in_phase() -> dict[str, Any]:
    """After the load: Translators and JobWorkers back to one each, then no worker node."""
    started, down = time.monotonic(), {"Translator": None, "JobWorker": None}

    def both_down() -> bool:
        for deployment, seconds in down.items():
            if seconds is None and replicas(deployment) == 1:
                down[deployment] = round(time.monotonic() - started, 1)
        return None not in down.values()

    wait_until(both_down, 240)
    return {
        "replicas_down_s": down["Translator"],
        "workers_down_s": down["JobWorker"],
        "nodes_down_s": wait_until(lambda: worker_nodes() == 0, 180),
    }


def main(model_dir: str, workdir: str) -> dict[str, Any]:
    # The test passes its own marker, so it can clean up even if this process is killed.
    marker = os.environ.get(MARKER) or uuid.uuid4().hex
    address = start_head(Path(workdir), marker)
    report: dict[str, Any] = {}
    try:
        ray.init(address=address, log_to_driver=False)
        port = free_port()
        serve.start(http_options={"host": "127.0.0.1", "port": port})
        args = AppArgs.model_validate(
            {
                "models": "hub",
                "translator": {"model": model_dir},
                # One Lingua per replica is 1.1 GiB; detection is not what scales here.
                "detector": {"model": "lid.176", "short_text_stage": False},
                "jobs": {
                    "sqlite_path": str(Path(workdir) / "jobs.db"),
                    "lease_seconds": 5,
                    "lease_wait_seconds": 2,
                    "min_workers": 1,
                    "max_workers": 4,
                    "target_jobs_per_worker": 2,
                    "workers_upscale_delay_s": 1,
                    "workers_downscale_delay_s": 5,
                    "chunk_texts": 2,
                },
                "rate_limits": {"enabled": False},
                "deployments": {
                    "translator": {
                        "num_cpus": 1,
                        "max_ongoing_requests": 32,
                        "autoscaling": {
                            "min_replicas": 1,
                            "max_replicas": 4,
                            "initial_replicas": 1,
                            "target_ongoing_requests": 2,
                            "upscale_delay_s": 1,
                            "downscale_delay_s": 5,
                        },
                    },
                    "job_worker": {"num_cpus": 0.5, "max_ongoing_requests": 8},
                    # Jobs' chunks: a sliver beside the rest, so the app fits on the head at
                    # start (no node before any load) and a second replica leaves quickly.
                    "bulk_translator": {
                        "num_cpus": 0.05,
                        "max_ongoing_requests": 64,
                        "autoscaling": {
                            "min_replicas": 1,
                            "max_replicas": 2,
                            "initial_replicas": 1,
                            "target_ongoing_requests": 8,
                            "upscale_delay_s": 1,
                            "downscale_delay_s": 5,
                        },
                    },
                },
            }
        )
        serve.run(build_app(args), name="tafsiri", route_prefix="/")
        url = f"http://127.0.0.1:{port}"
        report["worker_nodes_at_start"] = worker_nodes()
        report["load"] = scale_out_phase(url)
        report |= scale_in_phase()
    finally:
        with contextlib.suppress(Exception):
            serve.shutdown()
        ray.shutdown()
        report["processes_killed"] = kill_everything_started(marker)
    return report


if __name__ == "__main__":
    with contextlib.redirect_stdout(sys.stderr):
        outcome = main(sys.argv[1], sys.argv[2])
    print(json.dumps(outcome))
