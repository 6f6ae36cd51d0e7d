"""Dynamic batching across concurrent requests, orchestration, and hot model reload."""

from __future__ import annotations

import asyncio
import random
import re
import string
from pathlib import Path

import httpx
import pytest

from serve_app.testmodel.build import build_test_model
from tests.serve.conftest import APP_NAME, app_args, deploy, wait_healthy

pytestmark = pytest.mark.serve


def histogram(text: str, name: str) -> dict[str, float]:
    """``{le: cumulative count}`` of one unlabelled histogram in Prometheus text."""
    return {
        match.group(1): float(match.group(2))
        for match in re.finditer(rf'^{name}_bucket{{le="([^"]+)"}} (\S+)$', text, re.M)
    }


async def _fire(base_url: str, texts: list[str]) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        return await asyncio.gather(
            *[
                client.post(
                    "/api/v1/translate",
                    json={"text": t, "source_language": "eng_Latn", "target_language": "fra_Latn"},
                )
                for t in texts
            ]
        )


def test_concurrent_requests_share_batches_and_get_their_own_answers(base_url: str) -> None:
    before = histogram(httpx.get(f"{base_url}/metrics").text, "tafsiri_translation_batch_size")
    # Distinct words, not numbers: numbers are masked, so "request 7" and "request 8" would be
    # one sentence to the model (and all but the first a cache hit, served alone).
    run = "".join(random.choices(string.ascii_lowercase, k=6))
    texts = [
        f"Concurrent request {run}{a}{b} with its own words."
        for a in "abcd"
        for b in "abcdefghijkl"
    ]
    responses = asyncio.run(_fire(base_url, texts))
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses][:3]
    # The copy model proves each response carries its own request's text out of a shared batch.
    assert [r.json()["translated_text"] for r in responses] == texts

    after = histogram(httpx.get(f"{base_url}/metrics").text, "tafsiri_translation_batch_size")
    observed = after["+Inf"] - before.get("+Inf", 0)
    alone = after["1.0"] - before.get("1.0", 0)
    assert observed == 48
    assert alone < observed / 2, f"{alone} of {observed} requests were served alone"


def test_orchestrator_runs_registered_actions(base_url: str) -> None:
    from ray import serve

    handle = serve.get_deployment_handle("Orchestrator", app_name=APP_NAME)
    result = handle.run_action.remote(
        "translation",
        "translate",
        {"text": "Karibu sana.", "source_language": "swh_Latn", "target_language": "eng_Latn"},
    ).result(timeout_s=60)
    assert result == {
        "translated_text": "Karibu sana.",
        "source_language": "swh_Latn",
        "target_language": "eng_Latn",
    }
    detected = handle.run_action.remote(
        "language", "detect", {"text": "Ich habe heute leider keine Zeit."}
    ).result(timeout_s=60)
    assert detected["language"] == "deu_Latn"
    with pytest.raises(Exception, match="unknown agent 'nope'"):
        handle.run_action.remote("nope", "x", {}).result(timeout_s=60)
    with pytest.raises(Exception, match=r"invalid params for translation\.translate"):
        handle.run_action.remote("translation", "translate", {"text": "x"}).result(timeout_s=60)


async def _load_during(base_url: str, stop: asyncio.Event) -> list[int]:
    statuses: list[int] = []
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        while not stop.is_set():
            batch = await asyncio.gather(
                *[
                    client.post(
                        "/api/v1/translate",
                        json={
                            "text": f"Reload {i}.",
                            "source_language": "en",
                            "target_language": "sw",
                        },
                    )
                    for i in range(4)
                ]
            )
            statuses += [r.status_code for r in batch]
    return statuses


def test_hot_model_reload_fails_no_request(
    base_url: str, tmp_path: Path, test_model_dir: Path
) -> None:
    other = build_test_model(tmp_path / "reloaded-model")
    probe = {"text": "Cached before the reload.", "source_language": "en", "target_language": "fr"}
    httpx.post(f"{base_url}/api/v1/translate", json=probe)
    cached = httpx.post(f"{base_url}/api/v1/translate", json=probe).json()
    assert cached["cached_sentences"] == 1

    async def scenario() -> list[int]:
        stop = asyncio.Event()
        load = asyncio.create_task(_load_during(base_url, stop))
        await asyncio.sleep(0.5)
        await asyncio.to_thread(deploy, app_args(other, beam_size=1))
        await asyncio.sleep(1.0)
        stop.set()
        return await load

    try:
        statuses = asyncio.run(scenario())
        assert statuses
        assert set(statuses) == {200}, statuses
        translator = httpx.get(f"{base_url}/health").json()["components"]["translator"]
        assert translator["model"] == str(other)
        assert translator["details"]["beam_size"] == 1
        # The new model decodes afresh: nothing of the old one is served from the cache.
        fresh = httpx.post(f"{base_url}/api/v1/translate", json=probe).json()
        assert (fresh["translated_text"], fresh["cached_sentences"]) == (probe["text"], 0)
    finally:
        deploy(app_args(test_model_dir))
        wait_healthy(base_url)
