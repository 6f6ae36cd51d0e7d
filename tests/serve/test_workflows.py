"""Workflows on the running service: the seed's examples, validation, runs, cancel, suggest."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from benchmarks.hostile_soak import doubling_workflow
from tests.serve.conftest import SEED_PORT
from tests.serve.test_jobs import TERMINAL, unique_client, wait_for

pytestmark = pytest.mark.serve
EXAMPLE_1 = Path(__file__).parent / "data" / "seed_example1.sh"


def wait_workflow(client: httpx.Client, workflow_id: str, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/workflows/{workflow_id}").json()
        if body["status"] in TERMINAL:
            return body
        time.sleep(0.1)
    raise TimeoutError(workflow_id)


def test_seed_example_1_shell_flow_verbatim(client: httpx.Client, base_url: str) -> None:
    script = EXAMPLE_1.read_text()
    port = int(base_url.rsplit(":", 1)[1])
    if port != SEED_PORT:  # only when 8001 was taken on this machine
        script = script.replace(f"localhost:{SEED_PORT}", f"localhost:{port}")
    run = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Translation complete!" in run.stdout
    # The script's last command prints the /workflows/dsl answer.
    started = json.loads(run.stdout.strip().splitlines()[-1])
    assert started["status"] == "running"
    assert started["validation_results"]["valid"] is True
    done = wait_workflow(client, started["workflow_id"])
    assert done["status"] == "done", done
    scatter = done["tasks"]["scatter"]["output"]
    assert (scatter["x"], scatter["y"]) == ("sepal_length", "sepal_width")
    assert "/" not in scatter["image"]  # no server path in a result
    served = client.get(scatter["image_url"])
    assert scatter["image_url"] == f"/api/v1/artifacts/{scatter['image']}"
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/png"
    assert served.content[:4] == b"\x89PNG"
    for name in ("..%2Fjobs.db", "nothing.png", "x.txt"):
        assert client.get(f"/api/v1/artifacts/{name}").status_code == 404


@pytest.mark.parametrize(
    "request_text",
    [
        "Load sales_data.csv, analyze missing values, create histogram",
        "Load customer data and analyze purchase patterns",
        "Load sales data and create summary statistics",
        "Load iris.csv and create a scatter plot of sepal length vs width",
        'Detect the language of "Habari za asubuhi, rafiki yangu" and translate it to French',
    ],
)
def test_seed_requests_plan_validate_and_run_to_done(
    client: httpx.Client, request_text: str
) -> None:
    token = client.post(
        "/api/v1/workflows/translate",
        json={"natural_language": request_text, "client_id": unique_client()},
    ).json()["token"]
    planned = wait_for(client, f"/api/v1/translation/{token}")
    assert planned["status"] == "done", planned
    check = client.post(
        "/api/v1/workflows/dsl",
        json={"dsl_yaml": planned["dsl"], "validate_only": True, "client_id": unique_client()},
    ).json()
    assert check["valid"], check
    started = client.post(
        "/api/v1/workflows/dsl", json={"dsl_yaml": planned["dsl"], "client_id": unique_client()}
    )
    assert started.status_code == 200, started.text
    done = wait_workflow(client, started.json()["workflow_id"])
    assert done["status"] == "done", done
    assert all(task["status"] == "done" for task in done["tasks"].values())
    assert done["progress"]["done"] == done["progress"]["total"] == len(done["tasks"])


def test_translation_workflow_outputs_flow_through_references(client: httpx.Client) -> None:
    dsl = (
        "name: Greeting\ntasks:\n"
        "  - id: detect\n    agent: language\n    action: detect\n"
        "    params: {text: 'Mimi ni mwalimu wa shule ya msingi katika kijiji chetu'}\n"
        "  - id: to_english\n    agent: translation\n    action: translate\n"
        "    depends_on: [detect]\n"
        "    params: {text: 'Mimi ni mwalimu wa shule', target_language: eng_Latn,"
        " source_language: '${detect.language}'}\n"
    )
    body = {"dsl_yaml": dsl, "client_id": unique_client()}
    workflow_id = client.post("/api/v1/workflows/dsl", json=body).json()["workflow_id"]
    done = wait_workflow(client, workflow_id)
    assert done["tasks"]["detect"]["output"]["language"] == "swh_Latn"
    assert done["tasks"]["to_english"]["output"] == {
        "translated_text": "Mimi ni mwalimu wa shule",
        "source_language": "swh_Latn",
        "target_language": "eng_Latn",
    }


MIXED_TEXTS = {
    "deu_Latn": "Ich habe heute leider keine Zeit, weil ich arbeiten muss.",
    "fra_Latn": "Je voudrais réserver une table pour deux personnes ce soir.",
    "swh_Latn": "Mimi ni mwalimu wa shule ya msingi katika kijiji chetu.",
}


def test_mixed_language_batch_translates_each_text_from_its_own_language(
    client: httpx.Client,
) -> None:
    """No source given: every text is detected on its own (not the first text's language for
    all), the workflow's output says which, and ISO codes in params are normalised once."""
    texts = list(MIXED_TEXTS.values())
    dsl = {
        "name": "Mixed",
        "tasks": [
            {
                "id": "batch",
                "agent": "translation",
                "action": "translate_batch",
                "params": {"texts": texts, "target_language": "en"},
            }
        ],
    }
    response = client.post(
        "/api/v1/workflows/dsl", json={"dsl_yaml": json.dumps(dsl), "client_id": unique_client()}
    )
    done = wait_workflow(client, response.json()["workflow_id"])
    assert done["status"] == "done", done
    assert done["tasks"]["batch"]["output"] == {
        "translations": texts,
        "source_languages": list(MIXED_TEXTS),
        "source_language": None,
        "target_language": "eng_Latn",
    }
    # The same rule in the text-job handler and the HTTP route.
    token = client.post(
        "/api/v1/jobs/translate",
        json={"texts": texts, "target_language": "eng_Latn", "client_id": unique_client()},
    ).json()["token"]
    job = wait_for(client, f"/api/v1/jobs/{token}")
    assert job["result"]["source_languages"] == list(MIXED_TEXTS)
    direct = client.post("/api/v1/translate", json={"text": texts, "target_language": "en"})
    assert [t["source_language"] for t in direct.json()["translations"]] == list(MIXED_TEXTS)


def test_validate_only_reports_errors_with_paths(client: httpx.Client) -> None:
    body = client.post(
        "/api/v1/workflows/dsl",
        json={
            "dsl_yaml": "name: x\ntasks:\n  - id: a\n    agent: eda_agent\n    action: teleport\n",
            "validate_only": True,
            "client_id": unique_client(),
        },
    ).json()
    assert body["valid"] is False
    assert body["errors"][0]["field"] == "tasks[0].action"
    assert body["errors"][0]["code"] == "UNKNOWN_ACTION"


def test_invalid_dsl_run_is_422_with_validation_results(client: httpx.Client) -> None:
    response = client.post(
        "/api/v1/workflows/dsl", json={"dsl_yaml": "a: &x 1\nb: *x", "client_id": unique_client()}
    )
    assert response.status_code == 422
    body = response.json()
    assert body["detail"] == "DSL validation failed"
    assert body["validation_results"]["errors"][0]["code"] == "ALIAS_NOT_ALLOWED"


def test_failed_task_makes_the_run_error_with_task_details(client: httpx.Client) -> None:
    dsl = (
        "name: x\ntasks:\n  - {id: load, agent: eda_agent, action: load_data,"
        " params: {file: nothing_here.csv}}\n"
        "  - {id: info, agent: eda_agent, action: basic_info, depends_on: [load]}\n"
    )
    body = {"dsl_yaml": dsl, "client_id": unique_client()}
    workflow_id = client.post("/api/v1/workflows/dsl", json=body).json()["workflow_id"]
    done = wait_workflow(client, workflow_id)
    assert done["status"] == "error"
    assert "not found" in done["tasks"]["load"]["error"]
    assert done["tasks"]["info"]["status"] == "skipped"
    assert done["retries"] == 0


def test_cancel_a_queued_run(client: httpx.Client) -> None:
    dsl = "name: busy\ntasks:\n" + "".join(
        f"  - {{id: t{i}, agent: eda_agent, action: load_data, params: {{file: sales_data.csv}}}}\n"
        f"  - {{id: p{i}, agent: eda_agent, action: create_visualization, depends_on: [t{i}]}}\n"
        for i in range(3)
    )
    # A client each: one client's submissions would pass the default burst (5 a second).
    ids = [
        client.post(
            "/api/v1/workflows/dsl",
            json={"dsl_yaml": dsl, "client_id": unique_client(), "priority": 1},
        ).json()["workflow_id"]
        for _ in range(8)
    ]
    cancelled = client.delete(f"/api/v1/workflows/{ids[-1]}")
    assert cancelled.status_code == 200, cancelled.text
    body = cancelled.json()
    assert body["status"] == "error"
    assert body["error_details"]["cancelled"] is True
    time.sleep(1.0)
    assert client.get(f"/api/v1/workflows/{ids[-1]}").json()["status"] == "error"
    assert client.delete(f"/api/v1/workflows/{ids[-1]}").status_code == 409
    for workflow_id in ids[:-1]:
        assert wait_workflow(client, workflow_id)["status"] == "done"


def test_suggestions_are_valid_dsl(client: httpx.Client) -> None:
    for domain in ("data-science", "translation"):
        body = client.post(
            "/api/v1/workflows/suggest",
            json={
                "context": "I want to analyze customer purchase patterns",
                "domain": domain,
                "complexity": "medium",
            },
        ).json()
        assert len(body["suggestions"]) >= 2
        for suggestion in body["suggestions"]:
            assert suggestion["title"]
            assert suggestion["description"]
            assert suggestion["estimated_minutes"] >= 1
            check = client.post(
                "/api/v1/workflows/dsl",
                json={
                    "dsl_yaml": suggestion["dsl"],
                    "validate_only": True,
                    "client_id": unique_client(),
                },
            )
            assert check.json()["valid"], check.json()
    assert "customers.csv" in body["suggestions"][0]["dsl"] or domain == "translation"


def test_legacy_synchronous_workflow(client: httpx.Client) -> None:
    body = client.post(
        "/workflows", json={"natural_language": "Load iris.csv and show missing values"}
    ).json()
    assert body["status"] == "done", body
    assert body["tasks"]["missing_analysis"]["output"]["total_missing"] == 0
    assert "load_data" in body["dsl"]
    unplannable = client.post("/workflows", json={"natural_language": "Sing me a song"})
    assert unplannable.status_code == 422


def test_agents_listing(client: httpx.Client) -> None:
    agents = {a["name"]: a for a in client.get("/api/v1/agents").json()["agents"]}
    assert set(agents) == {"language", "translation", "text", "eda_agent"}
    actions = {a["name"] for a in agents["eda_agent"]["actions"]}
    assert {
        "load_data",
        "basic_info",
        "statistical_summary",
        "missing_data_analysis",
        "create_visualization",
    } == actions
    assert all(action["available"] for agent in agents.values() for action in agent["actions"])


def test_a_run_near_its_size_limit_crosses_between_deployments_whole(
    client: httpx.Client,
) -> None:
    # Two chains: 1.53 MB of outputs in the result, which crosses from the Orchestrator to
    # the worker (gRPC in fast mode, 4 MiB at most); snapshots carry task states only.
    dsl = doubling_workflow({"a": 10, "b": 9})
    body = {"dsl_yaml": dsl, "client_id": unique_client()}
    workflow_id = client.post("/api/v1/workflows/dsl", json=body).json()["workflow_id"]
    done = wait_workflow(client, workflow_id)
    assert done["status"] == "done", done.get("error")
    assert len(done["tasks"]["a9"]["output"]["text"]) == 512_000
    assert len(done["tasks"]["b8"]["output"]["text"]) == 256_000


def test_a_doubling_workflow_ends_naming_its_limit_without_a_retry(
    client: httpx.Client,
) -> None:
    # 30 tasks in 3 kB of YAML, each doubling the last: 2**30 kB unbounded. Before the
    # limits, 16 of them failed by accident (an 8 MB gRPC message), retried 3 times.
    body = {"dsl_yaml": doubling_workflow({"t": 30}), "client_id": unique_client()}
    workflow_id = client.post("/api/v1/workflows/dsl", json=body).json()["workflow_id"]
    done = wait_workflow(client, workflow_id)
    assert done["status"] == "error"
    assert "workflows.max_param_bytes" in done["tasks"]["t10"]["error"]
    assert done["tasks"]["t29"]["status"] == "skipped"
    assert done["retries"] == 0
