"""Faults: a worker dies mid-job, the job manager dies, the whole app restarts.

Each leaves the shared application deployed and healthy, as it found it.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from serve_app.api.security import hash_key
from serve_app.config import AppArgs
from serve_app.jobs.actors import job_manager_name
from tests.conftest import free_port, start_redis
from tests.serve.conftest import (
    APP_NAME,
    JOBS_DB,
    RAY_LOGS,
    RAY_METRICS_PORT,
    app_args,
    deploy,
    side_app_args,
    wait_healthy,
)
from tests.serve.test_jobs import submit_text_job, wait_for

pytestmark = [pytest.mark.serve, pytest.mark.slow]


def named_actors(fragment: str) -> list[dict[str, Any]]:
    import ray

    return [a for a in ray.util.list_named_actors(all_namespaces=True) if fragment in a["name"]]


def kill(actor: dict[str, Any], restart: bool) -> None:
    import ray

    ray.kill(ray.get_actor(actor["name"], namespace=actor["namespace"]), no_restart=not restart)


@dataclass
class Load:
    """What a background client submitting text jobs saw."""

    statuses: list[int] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)


@contextlib.contextmanager
def submitting(
    base_url: str, texts_of: Callable[[int], list[str]], pause_s: float = 0.0
) -> Iterator[Load]:
    """Submits the jobs ``texts_of(0), texts_of(1), ...`` from a thread while the block runs
    (clients rotating over 1,000 ids, so rate limits do not bite: with 40, a 30-second
    redeploy under back-to-back submissions passed 60 a minute for some ids in one CI run)."""
    load, stop = Load(), threading.Event()

    def run() -> None:
        with httpx.Client(base_url=base_url, timeout=60) as http:
            i = 0
            while not stop.is_set():
                response = http.post(
                    "/api/v1/jobs/translate",
                    json={
                        "texts": texts_of(i),
                        "source_language": "en",
                        "target_language": "fr",
                        "client_id": f"load-{i % 1000}",
                    },
                )
                load.statuses.append(response.status_code)
                if response.status_code == 202:
                    load.tokens.append(response.json()["token"])
                i += 1
                time.sleep(pause_s)

    thread = threading.Thread(target=run)
    thread.start()
    try:
        yield load
    finally:
        stop.set()
        thread.join(timeout=60)


def test_worker_killed_mid_job_is_rerun_to_one_result(client: httpx.Client) -> None:
    texts = [f"Long document line {i} about water, markets and schools." for i in range(1500)]
    token = submit_text_job(client, texts)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/jobs/{token}").json()
        if body["status"] == "processing" and body.get("progress", {}).get("done", 0) > 0:
            break
        time.sleep(0.05)
    assert body["status"] == "processing", body
    assert body["progress"]["done"] < body["progress"]["total"]
    (worker,) = named_actors(f"{APP_NAME}#JobWorker#")
    kill(worker, restart=False)

    done = wait_for(client, f"/api/v1/jobs/{token}", timeout=180)
    assert done["status"] == "done", done
    assert done["retries"] >= 1  # the lost lease was counted and the job run again
    assert done["result"]["translations"] == texts


def current_job_manager(test_model_dir: Path) -> dict[str, Any]:
    """The job manager generation the shared app's replicas use."""
    name = job_manager_name(app_args(test_model_dir).jobs)
    (manager,) = named_actors(name)
    return manager


def test_job_manager_killed_every_token_still_answers(
    client: httpx.Client, test_model_dir: Path
) -> None:
    tokens = [submit_text_job(client, [f"Before the crash {i}."]) for i in range(8)]
    kill(current_job_manager(test_model_dir), restart=True)
    for token in tokens:
        assert wait_for(client, f"/api/v1/jobs/{token}", timeout=120)["status"] == "done"


def test_full_restart_with_sqlite_loses_no_accepted_job(
    client: httpx.Client, base_url: str, test_model_dir: Path
) -> None:
    from ray import serve

    tokens = [submit_text_job(client, [f"Accepted before the restart {i}."] * 3) for i in range(20)]
    serve.delete(APP_NAME)
    for actor in named_actors("tafsiri-job-manager"):
        kill(actor, restart=False)
    assert JOBS_DB.exists()

    deploy(app_args(test_model_dir))
    wait_healthy(base_url)
    for token in tokens:
        body = wait_for(client, f"/api/v1/jobs/{token}", timeout=120)
        assert body["status"] == "done", body


def test_api_keys_and_job_isolation(ray_cluster: int, test_model_dir: Path, tmp_path: Path) -> None:
    from ray import serve

    from serve_app.app import build_app

    keys = {"alice": "tfs_alice_" + uuid.uuid4().hex, "bob": "tfs_bob_" + uuid.uuid4().hex}
    base = side_app_args(test_model_dir)
    base["auth"] = {
        "enabled": True,
        "api_keys": [{"id": name, "sha256": hash_key(key)} for name, key in keys.items()],
    }
    base["jobs"] |= {
        "manager_name": "tafsiri-secure-jobs",
        "sqlite_path": str(tmp_path / "secure.db"),
    }
    base["rate_limits"]["limiter_name"] = "tafsiri-secure-limiter"
    base["corrections"] = {"enabled": False}  # the default
    args = AppArgs.model_validate(base)
    serve.run(build_app(args), name="secure", route_prefix="/secure")
    url = f"http://127.0.0.1:{ray_cluster}/secure"
    try:
        with httpx.Client(base_url=url, timeout=60) as http:
            deadline = time.monotonic() + 90
            while http.get("/health").json().get("status") != "healthy":
                assert time.monotonic() < deadline
                time.sleep(0.5)
            payload = {"texts": ["Secret text."], "source_language": "en", "target_language": "fr"}
            missing = http.post("/api/v1/jobs/translate", json=payload)
            wrong = http.post(
                "/api/v1/jobs/translate",
                json=payload,
                headers={"Authorization": "Bearer tfs_wrong"},
            )
            for response in (missing, wrong):
                assert response.status_code == 401
                assert response.json()["detail"] == "Invalid or missing API key"
                assert response.headers["www-authenticate"] == "Bearer"
            assert (
                http.post(
                    "/api/v1/translate",
                    json={"text": "Hello there friend", "target_language": "fr"},
                ).status_code
                == 401
            )
            markers: list[str] = []

            def marked(headers: dict[str, str]) -> dict[str, str]:
                markers.append(f"leak-check-{uuid.uuid4().hex}")
                return {**headers, "X-Request-ID": markers[-1]}

            alice = {"Authorization": f"Bearer {keys['alice']}"}
            bob = {"Authorization": f"Bearer {keys['bob']}"}
            wrong = {"Authorization": f"Bearer {keys['alice']}x"}
            accepted = http.post("/api/v1/jobs/translate", json=payload, headers=marked(alice))
            assert accepted.status_code == 202, accepted.text
            token = accepted.json()["token"]
            assert http.get(f"/api/v1/jobs/{token}", headers=marked(alice)).status_code == 200
            assert http.get(f"/api/v1/jobs/{token}", headers=marked(bob)).status_code == 404
            assert http.get(f"/api/v1/jobs/{token}", headers=marked(wrong)).status_code == 401
            assert http.get(f"/api/v1/jobs/{token}", headers=marked({})).status_code == 401
            # Glossaries are per key: another key's is not found, neither listed nor usable.
            created = http.post(
                "/api/v1/glossaries",
                json={
                    "name": "alice's",
                    "source_language": "en",
                    "target_language": "fr",
                    "entries": [{"source": "secret", "target": "confidentiel"}],
                },
                headers=marked(alice),
            )
            assert created.status_code == 201, created.text
            glossary = created.json()["id"]
            assert http.get(f"/api/v1/glossaries/{glossary}", headers=alice).status_code == 200
            for response in (
                http.get(f"/api/v1/glossaries/{glossary}", headers=bob),
                http.delete(f"/api/v1/glossaries/{glossary}", headers=bob),
                http.post(
                    "/api/v1/translate",
                    json={"text": "A secret.", "target_language": "fr", "glossary_id": glossary},
                    headers=bob,
                ),
            ):
                assert response.status_code == 404, response.text
                assert response.json()["errors"][0]["code"] == "GLOSSARY_NOT_FOUND"
            assert http.get("/api/v1/glossaries", headers=bob).json() == {"glossaries": []}
            assert http.get("/api/v1/glossaries").status_code == 401
            used = http.post(
                "/api/v1/translate",
                json={
                    "text": "A secret.",
                    "source_language": "en",
                    "target_language": "fr",
                    "glossary_id": glossary,
                },
                headers=alice,
            )
            assert used.json()["translated_text"] == "A confidentiel."
            # So are translation memories.
            tmx = (
                b'<tmx version="1.4"><body><tu><tuv xml:lang="en"><seg>A secret.</seg></tuv>'
                b'<tuv xml:lang="fr"><seg>Un secret.</seg></tuv></tu></body></tmx>'
            )
            uploaded = http.post(
                "/api/v1/memories", files={"file": ("alice.tmx", tmx)}, headers=alice
            )
            assert uploaded.status_code == 201, uploaded.text
            memory = uploaded.json()["id"]
            for response in (
                http.get(f"/api/v1/memories/{memory}", headers=bob),
                http.get(f"/api/v1/memories/{memory}/export", headers=bob),
                http.delete(f"/api/v1/memories/{memory}", headers=bob),
                http.post(
                    "/api/v1/translate",
                    json={"text": "A secret.", "target_language": "fr", "memory_id": memory},
                    headers=bob,
                ),
            ):
                assert response.status_code == 404, response.text
                assert response.json()["errors"][0]["code"] == "MEMORY_NOT_FOUND"
            assert http.get("/api/v1/memories", headers=bob).json() == {"memories": []}
            assert http.get("/api/v1/memories").status_code == 401
            remembered = http.post(
                "/api/v1/translate",
                json={
                    "text": "A secret.",
                    "source_language": "en",
                    "target_language": "fr",
                    "memory_id": memory,
                },
                headers=alice,
            )
            assert remembered.json()["translated_text"] == "Un secret."
            # Corrections are off by default: their endpoints say so.
            refused = http.post(
                "/api/v1/corrections",
                json={
                    "text": "A secret.",
                    "translation": "Un secret.",
                    "source_language": "en",
                    "target_language": "fr",
                },
                headers=alice,
            )
            assert refused.status_code == 403, refused.text
            assert refused.json()["errors"][0]["code"] == "CORRECTIONS_DISABLED"
            # What an anonymous caller sees of the service: each component's status only.
            public = http.get("/health").json()
            assert public["status"] == "healthy"
            assert all(
                set(component) <= {"status", "details", "model", "error", "fallback"}
                and not component["details"]
                and component["model"] is None
                and component["fallback"] is None
                for component in public["components"].values()
            ), public
            full = http.get("/health", headers=alice).json()
            assert full["components"]["translator"]["details"]["resident_mib"] > 0
            for path in ("/metrics", "/stats"):
                assert http.get(path).status_code == 401, path
                assert http.get(path, headers=alice).status_code == 200, path

        # Keys are only ever held hashed: no log line of the session carries one in clear.
        # Every request's id is found first, so the scan reads logs that hold all of them.
        def log_files() -> list[Path]:
            return [p for p in RAY_LOGS.rglob("*") if p.is_file() and p.stat().st_size < 50e6]

        deadline = time.monotonic() + 30
        while missing := [
            m for m in markers if not any(m.encode() in p.read_bytes() for p in log_files())
        ]:
            assert time.monotonic() < deadline, f"requests {missing} not in the logs of {RAY_LOGS}"
            time.sleep(0.5)
        secrets = [key.encode() for key in keys.values()] + [f"{keys['alice']}x".encode()]
        leaked = [str(p) for p in log_files() if any(k in p.read_bytes() for k in secrets)]
        assert leaked == []
    finally:
        serve.delete("secure")
        for actor in named_actors("tafsiri-secure"):
            kill(actor, restart=False)


def test_bulk_translator_replica_killed_during_200_jobs_loses_none(client: httpx.Client) -> None:
    """Jobs' sentences go to the BulkTranslator: its replica killed with 200 jobs in flight."""
    tokens = [submit_text_job(client, [f"In flight {i}.", f"Second text {i}."]) for i in range(200)]
    (translator,) = named_actors(f"{APP_NAME}#BulkTranslator#")
    kill(translator, restart=False)
    finished = [wait_for(client, f"/api/v1/jobs/{token}", timeout=240) for token in tokens]
    assert [job["status"] for job in finished].count("done") == 200, [
        (job["status"], job.get("error_message")) for job in finished if job["status"] != "done"
    ][:5]
    for index, job in enumerate(finished):
        assert job["result"]["translations"] == [f"In flight {index}.", f"Second text {index}."]


def test_rolling_redeploy_under_load_fails_no_job(
    client: httpx.Client, base_url: str, test_model_dir: Path
) -> None:
    try:
        with submitting(base_url, lambda i: [f"Rolling {i}."]) as load:
            time.sleep(1.0)
            # A changed ingress argument replaces the ingress replicas (a rolling update).
            changed = app_args(test_model_dir)
            changed.api.max_text_chars = 4999
            deploy(changed)
            time.sleep(1.0)
    finally:
        deploy(app_args(test_model_dir))
        wait_healthy(base_url)
    assert load.statuses
    assert set(load.statuses) <= {202}, sorted(set(load.statuses))
    for token in load.tokens:
        assert wait_for(client, f"/api/v1/jobs/{token}", timeout=120)["status"] == "done"


def test_flooding_sheds_load_with_503_retry_after_never_500(
    ray_cluster: int, test_model_dir: Path, tmp_path: Path
) -> None:
    import asyncio

    from ray import serve

    from serve_app.app import build_app

    base = side_app_args(test_model_dir)
    base["api"] |= {"max_in_flight": 3}
    base["jobs"] |= {"manager_name": "tafsiri-flood-jobs", "sqlite_path": str(tmp_path / "f.db")}
    base["rate_limits"]["limiter_name"] = "tafsiri-flood-limiter"
    serve.run(build_app(AppArgs.model_validate(base)), name="flood", route_prefix="/flood")
    url = f"http://127.0.0.1:{ray_cluster}/flood"

    async def flood() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=url, timeout=60) as http:
            return await asyncio.gather(
                *[
                    http.post(
                        "/api/v1/translate",
                        json={
                            "text": f"Flood request {i}. " * 30,
                            "source_language": "en",
                            "target_language": "fr",
                        },
                    )
                    for i in range(120)
                ]
            )

    def resident_mib() -> dict[str, float]:
        """The ingress replica's RSS (its /metrics) and the translator's (/health)."""
        metrics = httpx.get(f"{url}/metrics", timeout=30).text
        (ingress,) = [
            float(line.split()[-1]) / 2**20
            for line in metrics.splitlines()
            if line.startswith("process_resident_memory_bytes ")
        ]
        health = httpx.get(f"{url}/health", timeout=30).json()
        return {
            "ingress": ingress,
            "translator": health["components"]["translator"]["details"]["resident_mib"],
        }

    try:
        wait_healthy(url)
        responses = asyncio.run(flood())
        warm = resident_mib()
        for _ in range(3):
            asyncio.run(flood())
        grown = {name: used - warm[name] for name, used in resident_mib().items()}
        print(f"flood: resident memory after the first flood {warm}, growth over 3 more {grown}")
        # Load is shed, not queued: three more floods leave memory where the first left it.
        assert all(growth < 64 for growth in grown.values()), grown
        codes = [r.status_code for r in responses]
        assert set(codes) <= {200, 503}, sorted(set(codes))
        assert codes.count(200) >= 3
        shed = [r for r in responses if r.status_code == 503]
        assert shed, "nothing was shed: the limit did not bite"
        assert all(r.headers["retry-after"] == "1" for r in shed)
        assert all(r.json()["errors"][0]["code"] == "OVERLOADED" for r in shed)
        assert all(r.json()["request_id"] == r.headers["x-request-id"] for r in shed)
        assert httpx.get(f"{url}/health", timeout=30).status_code == 200
    finally:
        serve.delete("flood")
        for actor in named_actors("tafsiri-flood"):
            kill(actor, restart=False)


def served_per_replica(application: str, endpoint: str, total: int) -> dict[str, float]:
    """Requests each Ingress replica of ``application`` answered on ``endpoint``, from Ray's
    metrics export, once the export has caught up with ``total`` of them."""
    import re

    pattern = re.compile(r"^ray_tafsiri_requests_total\{(?P<tags>.*)\} (?P<value>\S+)$", re.M)
    counts: dict[str, float] = {}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text = httpx.get(f"http://127.0.0.1:{RAY_METRICS_PORT}/metrics", timeout=10).text
        counts = {}
        for match in pattern.finditer(text):
            tags = match["tags"]
            if f'application="{application}"' in tags and f'endpoint="{endpoint}"' in tags:
                replica = re.search(r'replica="([^"]+)"', tags)
                key = replica[1] if replica else "?"
                counts[key] = counts.get(key, 0.0) + float(match["value"])
        if sum(counts.values()) >= total:
            break
        time.sleep(1)
    return counts


@pytest.mark.parametrize("storage", ["memory", "redis"])
def test_rate_limit_is_exact_across_two_ingress_replicas(
    ray_cluster: int,
    test_model_dir: Path,
    tmp_path: Path,
    storage: str,
    request: pytest.FixtureRequest,
) -> None:
    import asyncio

    from ray import serve

    from serve_app.app import build_app

    base = side_app_args(test_model_dir)
    base["deployments"]["ingress"] |= {"num_replicas": 2}
    base["jobs"] |= {"manager_name": "tafsiri-rl-jobs", "sqlite_path": str(tmp_path / "rl.db")}
    # The minute window binds (10), not the per-second one: 40 requests on two cores may
    # span more than a second, and the count must not depend on how fast they arrive.
    base["rate_limits"] |= {
        "limiter_name": "tafsiri-rl-limiter",
        "burst": 40,
        "requests_per_minute": 10,
        # Characters too: 2,000 a minute, the largest request allowed being 1,000.
        "characters_per_minute": 2000,
        "characters_per_hour": 20_000,
    }
    base["api"] |= {"max_job_chars": 1000, "max_text_chars": 500, "max_batch_items": 2}
    if storage == "redis":
        # Each ingress replica counts into Redis itself: no limiter actor at all.
        base["rate_limits"] |= {"storage_uri": request.getfixturevalue("redis_url")}
    # An application of its own per storage: Ray's metrics export keeps the series of an
    # earlier run's replicas, which must not count as this run's.
    app_name = f"ratelimit-{storage}"
    serve.run(build_app(AppArgs.model_validate(base)), name=app_name, route_prefix=f"/rl-{storage}")
    url = f"http://127.0.0.1:{ray_cluster}/rl-{storage}"

    async def burst() -> list[int]:
        async with httpx.AsyncClient(base_url=url, timeout=60) as http:
            responses = await asyncio.gather(
                *[
                    http.post(
                        "/api/v1/jobs/translate",
                        json={
                            "texts": ["Counted."],
                            "source_language": "en",
                            "target_language": "fr",
                            "client_id": "one-client",
                        },
                    )
                    for _ in range(40)
                ]
            )
        return [r.status_code for r in responses]

    try:
        wait_healthy(url)
        status = serve.status().applications[app_name].deployments["Ingress"]
        assert status.replica_states.get("RUNNING", 0) == 2
        # Serve calls a replica RUNNING before HAProxy's health checks (2, some seconds
        # apart) have admitted it: until the second one answers /health, every request of
        # the burst would reach the first.
        deadline = time.monotonic() + 60
        while len(served_per_replica(app_name, "/health", total=0)) < 2:
            assert time.monotonic() < deadline, "HAProxy never sent a request to both replicas"
            for _ in range(4):
                httpx.get(f"{url}/health", timeout=10)
            time.sleep(1)
        codes = asyncio.run(burst())
        assert set(codes) <= {202, 429}
        assert codes.count(202) == 10  # the limit, exactly, shared by both replicas
        # Synchronous translation is charged by characters, across both replicas too:
        # four texts of 495 nearly fill the minute's 2,000, the fifth is refused.
        with httpx.Client(base_url=url, timeout=60) as http:
            text = {"text": "Habari. " * 61 + "Karibu.", "source_language": "sw"}
            answers = [
                http.post("/api/v1/translate", json=text | {"target_language": "en"})
                for _ in range(5)
            ]
        assert [a.status_code for a in answers] == [200] * 4 + [429], answers[-1].text
        assert answers[-1].json()["errors"][0]["code"] == "RATE_LIMITED"
        limiter_actors = named_actors("tafsiri-rl-limiter")
        assert len(limiter_actors) == (1 if storage == "memory" else 0)
        # Both replicas answered part of the 40 (each one's count, in Ray's metrics export).
        served = served_per_replica(app_name, "/api/v1/jobs/translate", total=40)
        assert len(served) == 2, served
        assert all(count > 0 for count in served.values()), served
    finally:
        serve.delete(app_name)
        for actor in named_actors("tafsiri-rl"):
            kill(actor, restart=False)


def test_replica_failing_its_health_check_is_replaced(ray_cluster: int) -> None:
    from ray import serve

    from deployments.detector import DetectorDeployment
    from serve_app.config import DetectorConfig

    def deploy_detector(max_memory_mib: int | None) -> Any:
        # fastText alone: every replica Serve starts and stops here would load Lingua (~5 s).
        settings = DetectorConfig(
            model="lid.176", short_text_stage=False, max_memory_mib=max_memory_mib
        )
        config = settings.model_dump(mode="json")
        deployment = DetectorDeployment.options(
            name="ProbedDetector",
            user_config=config,
            health_check_period_s=1,
            health_check_timeout_s=10,
            ray_actor_options={"num_cpus": 0.05},
        )
        return serve.run(deployment.bind(), name="healthcheck", route_prefix=None)

    def replica_of(handle: Any) -> str:
        replica: str = handle.info.remote().result(timeout_s=30).details["replica"]
        return replica

    def deployment_status() -> str:
        app = serve.status().applications["healthcheck"]
        return str(app.deployments["ProbedDetector"].status.value)

    try:
        first = replica_of(deploy_detector(None))
        # A limit below what any replica uses: the running replica's next check fails, Serve
        # stops it, and the update is reported failed (every replacement fails too).
        with pytest.raises(RuntimeError, match="ProbedDetector"):
            deploy_detector(1)
        assert deployment_status() in {"UNHEALTHY", "DEPLOY_FAILED"}
        # Lift the limit: Serve's replacement replica comes up and stays healthy.
        handle = deploy_detector(None)
        deadline = time.monotonic() + 60
        while deployment_status() != "HEALTHY" and time.monotonic() < deadline:
            time.sleep(0.5)
        assert deployment_status() == "HEALTHY"
        assert replica_of(handle) != first, "the unhealthy replica was not replaced"
    finally:
        serve.delete("healthcheck")


def test_job_workers_scale_up_with_the_queue(
    ray_cluster: int, test_model_dir: Path, tmp_path: Path
) -> None:
    from ray import serve

    from serve_app.app import build_app

    base = side_app_args(test_model_dir)
    base["jobs"] |= {
        "manager_name": "tafsiri-scale-jobs",
        "sqlite_path": str(tmp_path / "scale.db"),
        "worker_concurrency": 1,
        "target_jobs_per_worker": 2,
        "min_workers": 1,
        "max_workers": 3,
        "workers_upscale_delay_s": 1,
    }
    base["rate_limits"] |= {"enabled": False}
    serve.run(build_app(AppArgs.model_validate(base)), name="scaling", route_prefix="/scaling")
    url = f"http://127.0.0.1:{ray_cluster}/scaling"

    def workers() -> int:
        app = serve.status().applications["scaling"]
        return int(app.deployments["JobWorker"].replica_states.get("RUNNING", 0))

    try:
        wait_healthy(url)
        assert workers() == 1
        with httpx.Client(base_url=url, timeout=60) as http:

            def submit(i: int) -> str:
                return submit_text_job(http, [f"Queued job {i}, line {j}." for j in range(300)])

            def backlog() -> int:
                queue = http.get("/stats").json()["translation_queue"]
                return int(queue["queue_depth"] + queue["processing"])

            tokens = [submit(i) for i in range(8)]
            start = time.monotonic()
            peak, deadline = 1, start + 90
            while peak < 3 and time.monotonic() < deadline:
                # Kept at >= 8 jobs (4 workers' worth at 2 each, capped at max_workers 3)
                # however fast jobs finish, until the deployment has scaled.
                while backlog() < 8 and len(tokens) < 200:
                    tokens.append(submit(len(tokens)))
                peak = max(peak, workers())
                time.sleep(0.5)
            print(
                f"scaling: {peak} JobWorker replicas after {time.monotonic() - start:.1f} s, "
                f"{len(tokens)} jobs submitted"
            )
            assert peak == 3, f"JobWorker replicas peaked at {peak}"
            for token in tokens:
                assert wait_for(http, f"/api/v1/jobs/{token}", timeout=180)["status"] == "done"
    finally:
        serve.delete("scaling")
        for actor in named_actors("tafsiri-scale"):
            kill(actor, restart=False)


def test_job_settings_changed_by_a_redeploy_under_load_are_the_ones_used(
    client: httpx.Client, base_url: str, test_model_dir: Path
) -> None:
    """Raising jobs.lease_seconds 3 -> 12 in a redeploy while jobs keep arriving: the leases
    the job manager hands out afterwards last 12 s (a reused actor kept 3 s, and workers
    beating every 4 s lost every lease), and every job accepted meanwhile is done."""
    import sqlite3

    def lease_lengths(since: float) -> set[float]:
        with sqlite3.connect(f"file:{JOBS_DB}?mode=ro", uri=True) as db:
            rows = db.execute("SELECT data FROM jobs WHERE status = 'processing'").fetchall()
        jobs = [json.loads(row[0]) for row in rows]
        return {
            round(job["lease_expires_at"] - job["updated_at"], 3)
            for job in jobs
            if job["created_at"] > since and job["lease_expires_at"]
        }

    changed = app_args(test_model_dir)
    changed.jobs.lease_seconds = 12

    def texts(i: int) -> list[str]:
        return [f"Reconfigured {i}, line {j}." for j in range(40)]

    try:
        with submitting(base_url, texts, pause_s=0.1) as load:
            time.sleep(1.0)
            deploy(changed)
            wait_healthy(base_url)
            redeployed = time.time()
            seen: set[float] = set()
            deadline = time.monotonic() + 60
            while not seen and time.monotonic() < deadline:
                seen = lease_lengths(redeployed)
                time.sleep(0.05)
            assert seen == {12.0}, seen
            assert named_actors(job_manager_name(changed.jobs))
    finally:
        deploy(app_args(test_model_dir))
        wait_healthy(base_url)
    assert set(load.statuses) == {202}, sorted(set(load.statuses))
    retried: dict[str, str] = {}
    for token in load.tokens:
        body = wait_for(client, f"/api/v1/jobs/{token}", timeout=180)
        assert body["status"] == "done", body
        if body["retries"]:
            with sqlite3.connect(f"file:{JOBS_DB}?mode=ro", uri=True) as db:
                (data,) = db.execute("SELECT data FROM jobs WHERE token = ?", (token,)).fetchone()
            retried[token] = f"{body['retries']}: {json.loads(data).get('error_message')}"
    # With the old defect every lease handed out after the redeploy was lost, and nearly every
    # job retried. One 3 s lease (this suite's) may lapse while two redeploys restart every
    # replica on 2 cores (seen once in ~10 runs): one job, once, for that reason only. Any
    # other reason (a failed call, a replica swapped mid-chunk) fails the test.
    assert len(retried) <= 1, retried
    assert all(reason.startswith("1: worker ") for reason in retried.values()), retried
    assert all(reason.endswith("lost its lease") for reason in retried.values()), retried


def test_redis_backed_app_rides_out_a_redis_restart_mid_job(
    ray_cluster: int, test_model_dir: Path, tmp_path: Path
) -> None:
    """The app as the cluster manifest runs it (jobs and rate limits in one durable Redis,
    durability required). Redis is shut down and restarted from its AOF while a long job
    runs: the worker's failed store calls are retried, no job slot is lost (the JobWorker
    replica is the same one afterwards), submissions meanwhile get 503 + Retry-After (never
    a 500), and every accepted job is done with its exact result."""
    import subprocess

    from ray import serve

    from serve_app.app import build_app

    port = free_port()
    redis = start_redis(tmp_path, port, durable=True)
    base = side_app_args(test_model_dir)
    base["jobs"] |= {
        "backend": "redis",
        "redis_url": f"redis://127.0.0.1:{port}/1",
        "redis_durability": "require",
        "manager_name": "tafsiri-redisapp-jobs",
    }
    base["rate_limits"] |= {"storage_uri": f"redis://127.0.0.1:{port}/2"}
    serve.run(build_app(AppArgs.model_validate(base)), name="redisapp", route_prefix="/redisapp")
    url = f"http://127.0.0.1:{ray_cluster}/redisapp"

    def worker_replicas() -> set[str]:
        return {a["name"] for a in named_actors("redisapp#JobWorker#")}

    try:
        wait_healthy(url)
        with httpx.Client(base_url=url, timeout=60) as http:

            def submit(texts: list[str]) -> httpx.Response:
                return http.post(
                    "/api/v1/jobs/translate",
                    json={
                        "texts": texts,
                        "source_language": "en",
                        "target_language": "fr",
                        "client_id": f"redis-{uuid.uuid4().hex[:8]}",
                    },
                )

            long_texts = [f"Line {i} of a long document about rivers." for i in range(1500)]
            long_job = submit(long_texts).json()["token"]
            short = {submit([f"Short job {i}."]).json()["token"]: i for i in range(10)}
            deadline = time.monotonic() + 60
            while (
                http.get(f"/api/v1/jobs/{long_job}").json().get("progress", {}).get("done", 0) == 0
            ):
                assert time.monotonic() < deadline
                time.sleep(0.05)
            before = worker_replicas()
            subprocess.run(
                ["redis-cli", "-p", str(port), "shutdown"], check=False, capture_output=True
            )
            redis.wait(timeout=30)
            during = [submit(["During the outage."]) for _ in range(3)]
            time.sleep(2.0)
            redis = start_redis(tmp_path, port, durable=True)
            for response in during:
                assert response.status_code == 503, response.text
                assert response.headers["retry-after"] == "1"
                assert response.json()["errors"][0]["code"] == "STORE_UNAVAILABLE"
            done = wait_for(http, f"/api/v1/jobs/{long_job}", timeout=240)
            assert done["status"] == "done", done
            assert done["result"]["translations"] == long_texts
            for token, i in short.items():
                body = wait_for(http, f"/api/v1/jobs/{token}", timeout=120)
                assert body["result"]["translations"] == [f"Short job {i}."], body
            assert worker_replicas() == before
            assert http.get("/health").json()["components"]["jobs"]["status"] == "healthy"
    finally:
        serve.delete("redisapp")
        for actor in named_actors("tafsiri-redisapp"):
            kill(actor, restart=False)
        redis.terminate()
        redis.wait(timeout=10)
