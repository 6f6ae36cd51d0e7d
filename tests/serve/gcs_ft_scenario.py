"""GCS fault-tolerance scenario, run as its own process by test_cluster.py.

A Ray head whose GCS keeps its tables in an external Redis (``RAY_REDIS_ADDRESS``), as the
KubeRay manifest runs it. The app is deployed, jobs are accepted, then the GCS process is
killed: while it is down, the HTTP API must keep translating and accepting jobs (the data
plane needs no GCS), and once a GCS is started again it must reload the cluster from Redis
with every replica still the same actor and every accepted job done. Prints one JSON line.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
import uuid
from typing import Any
from urllib.parse import urlparse

import httpx

MIN_ROUNDS = 5


def log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} scenario: {message}", file=sys.stderr, flush=True)


def main(model_dir: str, workdir: str, redis_url: str, outage_seconds: float) -> dict[str, Any]:
    redis = urlparse(redis_url)
    # Read by the head node when it starts: the GCS tables go to Redis under this namespace.
    os.environ["RAY_REDIS_ADDRESS"] = f"{redis.hostname}:{redis.port}"
    # Ray's system-config variables are case-sensitive (RAY_<config name>).
    namespace = f"tafsiri-gcs-ft-{uuid.uuid4().hex[:8]}"
    os.environ["RAY_external_storage_namespace"] = namespace  # noqa: SIM112
    os.environ["RAY_gcs_rpc_server_reconnect_timeout_s"] = "120"  # noqa: SIM112

    import ray
    from ray import serve
    from ray.cluster_utils import Cluster

    from serve_app.app import build_app
    from tests.serve.cluster_scenario import (
        deploy,
        final_statuses,
        serve_replicas,
        shut_down,
        submit,
    )

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 2})
    ray.init(address=cluster.address, log_to_driver=False)
    report: dict[str, Any] = {}
    try:
        # As the KubeRay manifest runs it: the job store and the rate limits in the same
        # Redis as the GCS tables (other databases), the limits counted there by the ingress.
        base = f"redis://{redis.hostname}:{redis.port}"
        port, args = deploy(
            model_dir,
            workdir,
            jobs={"backend": "redis", "redis_url": f"{base}/1", "redis_prefix": namespace},
            rate_limits={
                "storage_uri": f"{base}/2",
                "key_prefix": namespace,
                "burst": 100,
                "requests_per_minute": 1000,
            },
        )
        before = {a.actor_id for a in serve_replicas()}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:
            tokens = [
                submit(http, [f"Before {i}. Second sentence."]).json()["token"] for i in range(5)
            ]

            log("killing the GCS")
            cluster.head_node.kill_gcs_server()
            log("GCS killed")
            down_since = time.monotonic()
            translated = failed = 0
            accepted_during = refused_during = 0
            during: list[str] = []
            # At least `outage_seconds`, and at least MIN_ROUNDS rounds of translate + submit
            # (a slow machine gets a longer outage, not fewer checks), at most a minute.
            while time.monotonic() - down_since < 60 and (
                time.monotonic() - down_since < outage_seconds or translated + failed < MIN_ROUNDS
            ):
                text = f"Outage {translated + failed}. Still served."
                try:
                    response = http.post(
                        "/api/v1/translate",
                        json={"text": text, "source_language": "en", "target_language": "sw"},
                    )
                    ok = response.status_code == 200
                    ok = ok and response.json()["translated_text"] == text
                except httpx.HTTPError:
                    ok = False
                translated += ok
                failed += not ok
                try:
                    label = f"During {accepted_during + refused_during}"
                    job = submit(http, [f"{label}. Second sentence."])
                    if job.status_code == 202:
                        tokens.append(job.json()["token"])
                        during.append(job.json()["token"])
                        accepted_during += 1
                    else:
                        refused_during += 1
                except httpx.HTTPError as exc:
                    report.setdefault("submit_errors", []).append(repr(exc)[:200])
                    refused_during += 1
                time.sleep(0.2)

            # Only jobs accepted while the GCS was down, and the GCS still down: done now means
            # done during the outage. Workers on a loaded machine lag the submissions, so they
            # get up to a minute more of outage to drain them (a lag, not a loss, is fine).
            drain_until = time.monotonic() + 60
            while True:
                done_meanwhile = sum(
                    http.get(f"/api/v1/jobs/{token}").json()["status"] == "done" for token in during
                )
                if done_meanwhile == len(during) or time.monotonic() > drain_until:
                    break
                time.sleep(0.5)
            log(f"starting the GCS again: {translated} translated, {failed} failed meanwhile")
            outage = round(time.monotonic() - down_since, 1)
            cluster.head_node.start_gcs_server()
            log("GCS started")
            recovered_at = time.monotonic()
            # The control plane works again: Serve's own view, and new replicas (actor
            # creation needs the GCS) from a redeploy asking for a second ingress.
            status = serve.status().applications["tafsiri"].status
            # Taken before the redeploy below, which replaces every replica.
            after = {a.actor_id for a in serve_replicas()}
            scaled = args.model_dump(mode="json")
            scaled["deployments"]["ingress"]["num_replicas"] = 2
            serve.run(build_app(scaled), name="tafsiri", route_prefix="/")
            ingress = serve.status().applications["tafsiri"].deployments["Ingress"]
            ingress_running = ingress.replica_states.get("RUNNING", 0)
            report["recovery_and_redeploy_seconds"] = round(time.monotonic() - recovered_at, 1)

            statuses = final_statuses(http, tokens, 180)
        report |= {
            "outage_seconds": outage,
            "translated_during_outage": translated,
            "failed_during_outage": failed,
            "jobs_accepted_during_outage": accepted_during,
            "jobs_refused_during_outage": refused_during,
            "jobs_accepted_and_done_during_outage": done_meanwhile,
            "app_status_after": str(status),
            "ingress_replicas_after_redeploy": ingress_running,
            "jobs": len(tokens),
            "statuses": statuses,
            "replicas_before": len(before),
            "replicas_kept": len(before & after),
            "replicas_after": len(after),
        }
        return report
    finally:
        shut_down(cluster)


if __name__ == "__main__":
    with contextlib.redirect_stdout(sys.stderr):
        result = main(sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]))
    print(json.dumps(result))
