"""Two-node scenario, run as its own process by test_cluster.py (a driver joins one Ray).

Starts a real 2-node Ray cluster on this machine. First a batch: a Parquet corpus translated
by a Ray Data actor pool spread over both nodes. Then the service: deploys the app, reports on
which nodes the replicas landed, submits jobs, removes the worker node. Prints the outcomes
(the batch's rows, every job's final status) as one JSON line on stdout. One cluster for both:
starting one costs as much as either check.
"""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import ray
from ray import serve
from ray.cluster_utils import Cluster
from ray.util.state import list_actors

from serve_app.app import build_app
from serve_app.config import AppArgs
from tests.serve.batch_cluster_scenario import translate_corpus


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def deploy(
    model_dir: str,
    workdir: str,
    jobs: dict[str, Any] | None = None,
    rate_limits: dict[str, Any] | None = None,
) -> tuple[int, AppArgs]:
    """Serve on a free port with the app on the connected cluster: its port and args."""
    port = free_port()
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    args = AppArgs.model_validate(
        {
            "translator": {"model": model_dir},
            "detector": {"model": "lid.176"},
            "models": "hub",
            "jobs": {
                "sqlite_path": str(Path(workdir) / "jobs.db"),
                "lease_seconds": 3,
                "lease_wait_seconds": 2,
                **(jobs or {}),
            },
            "rate_limits": rate_limits or {"enabled": False},
        }
    )
    serve.run(build_app(args), name="tafsiri", route_prefix="/")
    return port, args


def serve_replicas() -> list[Any]:
    """The alive Serve replica actors of the cluster (state API)."""
    return [
        a
        for a in list_actors(detail=True, limit=1000)
        if a.state == "ALIVE" and "SERVE_REPLICA" in (a.name or "")
    ]


def submit(http: httpx.Client, texts: list[str]) -> httpx.Response:
    """Submits an English-to-French text-translation job."""
    return http.post(
        "/api/v1/jobs/translate",
        json={"texts": texts, "source_language": "en", "target_language": "fr"},
    )


def final_statuses(http: httpx.Client, tokens: list[str], seconds: float) -> list[str]:
    """Polls every job until it ends or ``seconds`` pass: the sorted final statuses."""
    statuses: dict[str, str] = {}
    deadline = time.monotonic() + seconds
    while len(statuses) < len(tokens) and time.monotonic() < deadline:
        for token in tokens:
            if token not in statuses:
                with contextlib.suppress(httpx.HTTPError, ValueError, KeyError):
                    body = http.get(f"/api/v1/jobs/{token}").json()
                    if body["status"] in {"done", "error", "timeout", "needs_human"}:
                        statuses[token] = body["status"]
        time.sleep(0.5)
    return sorted(statuses.values())


def shut_down(cluster: Cluster) -> None:
    with contextlib.suppress(Exception):
        serve.shutdown()
    ray.shutdown()
    cluster.shutdown()


def main(model_dir: str, workdir: str) -> dict[str, object]:
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 2})
    worker = cluster.add_node(num_cpus=2)
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, log_to_driver=False)
    try:
        batch = translate_corpus(model_dir, workdir)
        port, _ = deploy(model_dir, workdir, jobs={"min_workers": 2, "max_workers": 2})
        replicas = serve_replicas()
        nodes = {a.node_id for a in replicas}
        url = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=url, timeout=60) as http:
            tokens = [
                submit(http, [f"Cluster job {i}.", f"Second {i}."]).json()["token"]
                for i in range(30)
            ]
            cluster.remove_node(worker)
            statuses = final_statuses(http, tokens, 240)
        return {
            "batch": batch,
            "nodes_with_replicas": len(nodes),
            "replicas": len(replicas),
            "jobs": len(tokens),
            "statuses": statuses,
        }
    finally:
        shut_down(cluster)


if __name__ == "__main__":
    with contextlib.redirect_stdout(sys.stderr):
        result = main(sys.argv[1], sys.argv[2])
    print(json.dumps(result))
