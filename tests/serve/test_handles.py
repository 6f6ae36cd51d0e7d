"""Another Serve application in the same cluster calls Tafsiri's deployments by handle
(``serve_app.handle_api``, through the example app of docs/deployment.md,
``examples/handle_caller.py``)."""

from __future__ import annotations

import asyncio
import random
import string
from collections.abc import Iterator
from typing import Any, cast

import httpx
import pytest

from serve_app.handle_api import TranslateOutcome
from tests.serve.conftest import APP_NAME

pytestmark = pytest.mark.serve

CALLER = "caller"


@pytest.fixture(scope="module")
def caller(base_url: str) -> Iterator[Any]:
    """The example application, deployed beside Tafsiri; its handle."""
    from ray import serve
    from ray.serve import Deployment

    from examples.handle_caller import Caller

    handle = serve.run(cast(Deployment, Caller).bind(APP_NAME), name=CALLER, route_prefix="/caller")
    try:
        yield handle
    finally:
        serve.delete(CALLER)


def words(k: int = 6) -> str:
    """A fresh word: numbers are masked and repeated sentences cached, so each test's
    sentences are its own."""
    return "".join(random.choices(string.ascii_lowercase, k=k))


def test_the_client_translates_with_any_code_and_detects_sources(
    caller: Any, base_url: str
) -> None:
    run = words()
    texts = [
        f"Ich habe heute leider keine Zeit für {run}.",
        f"Habari ya asubuhi, rafiki yangu mpendwa {run}.",
    ]
    result = caller.translate.remote(texts, "fr").result(timeout_s=60)
    # The copy model gives each text back: every translation is its own text's.
    assert result["translations"] == texts
    assert result["target_language"] == "fra_Latn"
    # Each text from its own language, as the HTTP API detects it.
    detected = httpx.post(
        f"{base_url}/api/v1/detect-language", json={"text": texts}, timeout=60
    ).json()
    assert result["source_languages"] == [d["language"] for d in detected["results"]]
    assert result["source_languages"][0] == "deu_Latn"
    assert (
        result["model"]
        == httpx.get(f"{base_url}/health").json()["components"]["translator"]["model"]
    )

    given = caller.translate.remote([texts[1]], "eng_Latn", "sw").result(timeout_s=60)
    assert (given["translations"], given["source_languages"]) == ([texts[1]], ["swh_Latn"])
    # The example's own HTTP route, as docs/deployment.md's curl calls it.
    over_http = httpx.post(
        f"{base_url}/caller", json={"texts": [texts[0]], "to": "en", "from": "de"}, timeout=60
    ).json()
    assert (over_http["translations"], over_http["source_languages"]) == ([texts[0]], ["deu_Latn"])


def test_the_client_raises_the_apis_error_codes(caller: Any) -> None:
    unknown = caller.translate.remote(["Hello there."], "xx-nope").result(timeout_s=60)
    assert unknown["code"] == "UNSUPPORTED_LANGUAGE"
    # Digits alone say nothing of a language: no source is guessed.
    undetected = caller.translate.remote(["12345 678"], "fr").result(timeout_s=60)
    assert undetected["code"] == "DETECTION_FAILED"


def test_the_raw_handle_speaks_the_typed_messages(caller: Any) -> None:
    text = f"A raw handle call about {words()}."
    outcome = caller.raw.remote([text], ["eng_Latn"], "swh_Latn").result(timeout_s=60)
    assert isinstance(outcome, TranslateOutcome)
    assert (outcome.texts, outcome.error, outcome.sentences) == ([text], None, 1)
    wrong = caller.raw.remote([text], ["eng_Latn"], "xyz_Latn").result(timeout_s=60)
    assert (wrong.texts, wrong.error_field) == ([], "language")


async def _handle_calls_under_http_load(
    base_url: str, caller: Any, calls: int
) -> tuple[list[TranslateOutcome], list[int]]:
    """``calls`` handle calls, one after another, while 16 HTTP clients keep the Translator
    busy; the handle calls' outcomes and the HTTP statuses."""
    stop = asyncio.Event()
    statuses: list[int] = []
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:

        async def client() -> None:
            while not stop.is_set():
                text = f"Shared batch {words()} of an HTTP client."
                response = await http.post(
                    "/api/v1/translate",
                    json={
                        "text": text,
                        "source_language": "eng_Latn",
                        "target_language": "fra_Latn",
                    },
                )
                statuses.append(response.status_code)
                assert response.status_code != 200 or response.json()["translated_text"] == text

        clients = [asyncio.create_task(client()) for _ in range(16)]
        await asyncio.sleep(0.2)
        outcomes = []
        for _ in range(calls):
            text = f"From the other application, {words()}."
            outcome = await asyncio.to_thread(
                lambda text=text: caller.raw.remote([text], ["eng_Latn"], "fra_Latn").result(
                    timeout_s=60
                )
            )
            assert outcome.texts == [text]
            outcomes.append(outcome)
        stop.set()
        await asyncio.gather(*clients)
    return outcomes, statuses


def test_handle_calls_share_batches_with_http_calls(base_url: str, caller: Any) -> None:
    """A handle call's batch of more than one request, while its own calls go one at a time,
    can only have been made with HTTP requests."""
    outcomes, statuses = asyncio.run(_handle_calls_under_http_load(base_url, caller, 10))
    assert statuses
    assert set(statuses) == {200}
    sizes = [outcome.batch_requests for outcome in outcomes]
    print("handle calls' batch sizes:", sizes)
    assert max(sizes) > 1, f"every handle call was flushed alone: {sizes}"
