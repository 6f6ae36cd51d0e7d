"""Several models in one service (Serve's model multiplexing), on a real app of its own.

Four copy models tell apart which one answered: each writes '~' as a different character
(the builder's swaps). ``default`` (translator.model) keeps '~'; ``opus-en-fr`` is a Marian
pair model for eng_Latn → fra_Latn writing '^'; ``nllb-b`` writes '`' and serves Swahili
sources (a route); ``nllb-c`` writes '|' and is used only when a request names it.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from serve_app.api.routes.system import HEALTH_CACHE_S
from serve_app.config import AppArgs
from serve_app.testmodel.build import build_test_model
from tests.serve.conftest import side_app_args, wait_healthy

pytestmark = pytest.mark.serve
APP = "mux"
TEXT = "Model check ~ here."
MARK = {"default": "~", "opus-en-fr": "^", "nllb-b": "`", "nllb-c": "|", "nllb-c2": "["}


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("mux-models")
    return {
        "opus-en-fr": build_test_model(
            root / "opus-en-fr", family="marian", swaps=(("<0x7E>", "<0x5E>"),)
        ),
        "nllb-b": build_test_model(root / "nllb-b", swaps=(("<0x7E>", "<0x60>"),)),
        "nllb-c": build_test_model(root / "nllb-c", swaps=(("<0x7E>", "<0x7C>"),)),
        "nllb-c2": build_test_model(root / "nllb-c2", swaps=(("<0x7E>", "<0x5B>"),)),
    }


def mux_args(test_model_dir: Path, models: dict[str, Path], tmp: Path, **registry: Any) -> AppArgs:
    base = side_app_args(test_model_dir)
    base["translator"] |= {
        "models": {
            # Its pair declared: the ingress routes by it (it does not read model files).
            "opus-en-fr": {"model": str(models["opus-en-fr"]), "languages": ["en", "fr"]},
            "nllb-b": {"model": str(models["nllb-b"])},
            "nllb-c": {"model": str(models["nllb-c"])},
        },
        "routes": [{"source": "swh_Latn", "model": "nllb-b"}],
        "max_models_per_replica": 2,
        "bulk": {"enabled": False},
        "cache": {"backend": "off"},  # every answer decoded by its model
        **registry,
    }
    base["jobs"] |= {"manager_name": "tafsiri-mux-jobs", "sqlite_path": str(tmp / "mux.db")}
    base["rate_limits"] |= {"limiter_name": "tafsiri-mux-limiter", "enabled": False}
    base["deployments"] |= {
        "translator": {"num_cpus": 0.1, "num_replicas": 1, "max_ongoing_requests": 64},
    }
    return AppArgs.model_validate(base)


@pytest.fixture(scope="module")
def mux(
    ray_cluster: int,
    test_model_dir: Path,
    models: dict[str, Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    from ray import serve

    from serve_app.app import build_app

    tmp = tmp_path_factory.mktemp("mux")
    serve.run(build_app(mux_args(test_model_dir, models, tmp)), name=APP, route_prefix=f"/{APP}")
    url = f"http://127.0.0.1:{ray_cluster}/{APP}"
    wait_healthy(url)
    try:
        yield url
    finally:
        serve.delete(APP)


def translate(url: str, source: str, target: str | list[str], **extra: Any) -> httpx.Response:
    body = {"text": TEXT, "source_language": source, "target_language": target, **extra}
    return httpx.post(f"{url}/api/v1/translate", json=body, timeout=120)


def served_by(text: str) -> str:
    (name,) = [name for name, mark in MARK.items() if text == TEXT.replace("~", mark)]
    return name


def test_routing_by_pair_and_by_an_explicit_model(mux: str) -> None:
    for source, target, model, expected in [
        ("eng_Latn", "fra_Latn", None, "opus-en-fr"),  # a pair model's own pair
        ("swh_Latn", "eng_Latn", None, "nllb-b"),  # a route by source
        ("eng_Latn", "deu_Latn", None, "default"),  # no route: the default
        ("eng_Latn", "deu_Latn", "nllb-c", "nllb-c"),  # named by the request
        ("eng_Latn", "fra_Latn", "default", "default"),
    ]:
        response = translate(mux, source, target, **({"model": model} if model else {}))
        assert response.status_code == 200, response.text
        body = response.json()
        assert served_by(body["translated_text"]) == expected, (source, target, model, body)
        assert body["model_name"] == expected
    # A pair model refuses any other pair; an unknown model is a 400 in the error format.
    refused = translate(mux, "eng_Latn", "deu_Latn", model="opus-en-fr")
    assert refused.status_code == 400
    assert "eng_Latn to fra_Latn only" in refused.text
    metrics = httpx.get(f"{mux}/metrics", timeout=30).text
    for name in ("opus-en-fr", "nllb-b", "nllb-c", "default"):
        assert f'tafsiri_model_requests_total{{model="{name}"}}' in metrics, name
        assert f'tafsiri_model_batch_size_count{{model="{name}"}}' in metrics, name
    unknown = translate(mux, "eng_Latn", "fra_Latn", model="nope")
    assert unknown.status_code == 400
    error = unknown.json()["errors"][0]
    assert (error["code"], error["field"]) == ("UNKNOWN_MODEL", "model")


def test_one_request_routed_to_several_models_comes_back_in_order(mux: str) -> None:
    """Two targets of one request served by two models (one call each, at once), and a list
    of texts whose sources route apart, every item in its place."""
    body = translate(mux, "eng_Latn", ["fra_Latn", "deu_Latn"]).json()
    got = {t: served_by(item["translated_text"]) for t, item in body["translations"].items()}
    assert got == {"fra_Latn": "opus-en-fr", "deu_Latn": "default"}
    assert set(body["model_name"].split(",")) == {"opus-en-fr", "default"}
    texts = [TEXT, TEXT.replace("here", "there"), TEXT]
    response = httpx.post(
        f"{mux}/api/v1/translate",
        json={"text": texts, "source_language": "swh_Latn", "target_language": "fra_Latn"},
        timeout=120,
    )
    assert [t["translated_text"] for t in response.json()["translations"]] == [
        text.replace("~", MARK["nllb-b"]) for text in texts
    ]


def test_lru_keeps_two_models_per_replica_and_answers_every_request(mux: str) -> None:
    """Three registered models in use on one replica holding at most two: loads and unloads
    as they take turns, every answer from the model asked for."""
    before = httpx.get(f"{mux}/api/v1/models", timeout=30).json()
    for _ in range(3):
        for model in ("nllb-b", "nllb-c", "opus-en-fr"):
            target = "fra_Latn"
            response = translate(mux, "eng_Latn", target, model=model)
            assert response.status_code == 200, response.text
            assert served_by(response.json()["translated_text"]) == model
    after = httpx.get(f"{mux}/api/v1/models", timeout=30).json()
    state = {m["name"]: m for m in after["models"]}
    assert after["max_models_per_replica"] == 2
    assert sum(state[name]["replica"]["loaded"] for name in ("nllb-b", "nllb-c", "opus-en-fr")) <= 2
    loads = sum(state[n]["replica"]["loads"] for n in ("nllb-b", "nllb-c", "opus-en-fr"))
    unloads = sum(state[n]["replica"]["unloads"] for n in ("nllb-b", "nllb-c", "opus-en-fr"))
    earlier = {m["name"]: m["replica"].get("loads", 0) for m in before["models"]}
    # Round robin over three models with room for two: every call after the first two loads.
    assert loads - sum(earlier.get(n, 0) for n in ("nllb-b", "nllb-c", "opus-en-fr")) >= 7
    assert unloads >= 5
    assert state["default"]["replica"]["loaded"] is True


def test_concurrent_requests_for_three_models_never_share_a_batch(mux: str) -> None:
    """Many requests at once for three models: Serve splits batches by model, so each answer
    carries its own model's mark (a shared batch would decode some with another's)."""
    asked = [("nllb-b", "deu_Latn"), ("default", "deu_Latn"), ("opus-en-fr", "fra_Latn")] * 12

    async def run() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=mux, timeout=120) as http:
            return await asyncio.gather(
                *(
                    http.post(
                        "/api/v1/translate",
                        json={
                            "text": f"{TEXT} {i}",
                            "source_language": "eng_Latn",
                            "target_language": target,
                            "model": model,
                        },
                    )
                    for i, (model, target) in enumerate(asked)
                )
            )

    responses = asyncio.run(run())
    for i, ((model, _), response) in enumerate(zip(asked, responses, strict=True)):
        assert response.status_code == 200, response.text
        assert response.json()["translated_text"] == f"{TEXT} {i}".replace("~", MARK[model])


def test_a_model_replaced_by_a_deploy_under_load_fails_no_request(
    mux: str, test_model_dir: Path, models: dict[str, Path], tmp_path: Path
) -> None:
    from ray import serve

    from serve_app.app import build_app

    statuses: list[int] = []
    marks: list[str] = []
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(base_url=mux, timeout=120) as http:
            while not stop.is_set():
                response = http.post(
                    "/api/v1/translate",
                    json={
                        "text": TEXT,
                        "source_language": "eng_Latn",
                        "target_language": "deu_Latn",
                        "model": "nllb-c",
                    },
                )
                statuses.append(response.status_code)
                if response.status_code == 200:
                    marks.append(served_by(response.json()["translated_text"]))

    worker = threading.Thread(target=load)
    worker.start()
    try:
        time.sleep(1.0)
        replaced = mux_args(test_model_dir, models, tmp_path)
        replaced.translator.models["nllb-c"].model = str(models["nllb-c2"])
        serve.run(build_app(replaced), name=APP, route_prefix=f"/{APP}")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and (not marks or marks[-1] != "nllb-c2"):
            time.sleep(0.2)
        time.sleep(1.0)
    finally:
        stop.set()
        worker.join(timeout=120)
    assert statuses
    assert set(statuses) == {200}, sorted(set(statuses))
    assert marks[0] == "nllb-c"
    assert marks[-1] == "nllb-c2"  # the new model, under the same name
    assert set(marks) <= {"nllb-c", "nllb-c2"}


def test_a_model_that_cannot_load_is_unavailable_and_the_others_serve(
    mux: str, test_model_dir: Path, models: dict[str, Path], tmp_path: Path
) -> None:
    from ray import serve

    from serve_app.app import build_app

    broken = mux_args(test_model_dir, models, tmp_path)
    broken.translator.models["nllb-c"].model = str(tmp_path / "not-a-model")
    serve.run(build_app(broken), name=APP, route_prefix=f"/{APP}")
    wait_healthy(mux)
    response = translate(mux, "eng_Latn", "deu_Latn", model="nllb-c")
    assert response.status_code == 503, response.text
    error = response.json()["errors"][0]
    assert (error["code"], error["field"]) == ("MODEL_UNAVAILABLE", "model")
    assert "nllb-c" in error["message"]
    for model in ("nllb-b", "opus-en-fr", "default"):
        target = "fra_Latn"
        ok = translate(mux, "eng_Latn", target, model=model)
        assert ok.status_code == 200, ok.text
        assert served_by(ok.json()["translated_text"]) == model
    time.sleep(HEALTH_CACHE_S + 0.5)  # past the answer /health gave wait_healthy
    health = httpx.get(f"{mux}/health", timeout=30).json()
    assert health["status"] == "healthy"
    seen = health["components"]["translator"]["details"]["registered_models"]
    assert seen["nllb-c"]["available"] is False
    assert seen["nllb-c"]["failures"] >= 1
    assert seen["nllb-b"]["available"] is True
    listed = {m["name"]: m for m in httpx.get(f"{mux}/api/v1/models", timeout=30).json()["models"]}
    assert listed["nllb-c"]["replica"]["available"] is False
    assert "not-a-model" in listed["nllb-c"]["replica"]["last_error"]
    assert listed["nllb-b"]["replica"]["load_seconds"] is not None


def test_the_sdk_names_a_model_and_lists_them(mux: str) -> None:
    import asyncio as aio

    from tafsiri_client import AsyncClient, Client, TafsiriError

    with Client(mux) as tafsiri:
        answer = tafsiri.translate(TEXT, "deu_Latn", "eng_Latn", model="nllb-b")
        assert (served_by(answer.translated_text), answer.model_name) == ("nllb-b", "nllb-b")
        routed = tafsiri.translate(TEXT, "fra_Latn", "eng_Latn")  # no model: by pair
        assert served_by(routed.translated_text) == "opus-en-fr"
        listed = tafsiri.models()
        assert {m.name for m in listed.models} >= {"default", "nllb-b", "opus-en-fr"}
        with pytest.raises(TafsiriError) as refused:
            tafsiri.translate(TEXT, "fra_Latn", "eng_Latn", model="nope")
        assert refused.value.status == 400

    async def async_call() -> str:
        async with AsyncClient(mux) as client:
            reply = await client.translate(TEXT, "deu_Latn", "eng_Latn", model="nllb-b")
            return str(reply.translated_text)

    assert served_by(aio.run(async_call())) == "nllb-b"
