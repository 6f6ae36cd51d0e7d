"""Every option of ``/translate`` through every other way in: a stream, a text job, a
document, a workflow and a handle all go through the one TranslationService, so each answers
what ``/translate`` answers for the same texts and options."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from tests.serve.test_api import assert_error_format
from tests.serve.test_documents import upload
from tests.serve.test_jobs import submit_text_job, unique_client, wait_for
from tests.serve.test_streaming import stream_events
from tests.serve.test_workflows import wait_workflow

pytestmark = pytest.mark.serve


def options(client: httpx.Client) -> tuple[dict[str, Any], list[str], str]:
    """Options exercising every part of a translation, the texts they apply to, and the
    correction's id (a glossary term in one text, a correction of another)."""
    word = uuid.uuid4().hex[:8]
    texts = [f"Our cloud {word} is up today.", f"Corrected text {word}."]
    glossary = client.post(
        "/api/v1/glossaries",
        json={
            "name": f"g-{word}",
            "source_language": "en",
            "target_language": "fr",
            "entries": [{"source": "cloud", "target": "nuage"}],
        },
    )
    assert glossary.status_code == 201, glossary.text
    correction = client.post(
        "/api/v1/corrections",
        json={
            "text": texts[1],
            "translation": f"Texte corrigé {word}.",
            "source_language": "en",
            "target_language": "sw",
        },
    )
    assert correction.status_code == 201, correction.text
    asked = {
        "source_language": "en",
        "target_language": ["fr", "sw"],
        "model": "default",
        "alternatives": 1,
        "beam_size": 2,
        "quality": True,
        "glossary_id": glossary.json()["id"],
        "glossary_mode": "enforce",
    }
    return asked, texts, correction.json()["id"]


def test_a_text_job_answers_what_translate_answers(client: httpx.Client) -> None:
    asked, texts, correction_id = options(client)
    plain = client.post("/api/v1/translate", json=asked | {"text": texts}).json()
    token = submit_text_job(client, texts, **asked)
    job = wait_for(client, f"/api/v1/jobs/{token}")
    assert job["status"] == "done", job
    result = job["result"]
    assert result["target_languages"] == ["fra_Latn", "swh_Latn"]
    for target, items in plain["translations"].items():
        assert result["translations"][target] == [item["translated_text"] for item in items]
        assert result["alternatives"][target] == [item["alternatives"] for item in items]
        assert [q and q["score"] for q in result["quality"][target]] == [
            item["quality"] and item["quality"]["score"] for item in items
        ]
        assert result["corrections"][target] == [item["correction_id"] for item in items]
    assert result["translations"]["fra_Latn"][0].split()[1] == "nuage"  # the glossary
    assert result["glossary_terms"]["fra_Latn"][0][0]["target"] == "nuage"
    assert result["corrections"]["swh_Latn"] == [None, correction_id]
    assert result["model_name"] == "default"
    # A refused option is refused at submission, as translate refuses it.
    for bad, field in (({"model": "nope"}, "model"), ({"beam_size": 16}, "beam_size")):
        response = client.post(
            "/api/v1/jobs/translate",
            json={"texts": texts, "target_language": "fr", "client_id": unique_client(), **bad},
        )
        assert_error_format(response, 400, field)


def test_a_stream_answers_what_translate_answers(client: httpx.Client) -> None:
    asked, texts, correction_id = options(client)
    text = f"{texts[0]} Second sentence here."
    plain = client.post("/api/v1/translate", json=asked | {"text": text}).json()
    events = stream_events(client, asked | {"text": text})
    *sentences, (last, done) = events
    assert last == "done"
    assert done["target_languages"] == ["fra_Latn", "swh_Latn"]
    for target, item in plain["translations"].items():
        mine = [data for _, data in sentences if data["target_language"] == target]
        assert [data["index"] for data in mine] == [0, 1]
        assert "".join(data["delta"] for data in mine) == item["translated_text"].rstrip()
        assert done["translated_texts"][target] == item["translated_text"]
        assert all("quality" in data and "alternatives" in data for data in mine)
    first_french = next(data for _, data in sentences if data["target_language"] == "fra_Latn")
    assert first_french["glossary_terms"][0]["target"] == "nuage"
    # A corrected text comes as one piece, the correction.
    (_, piece), (_, finished) = stream_events(
        client, asked | {"text": texts[1], "target_language": "sw"}
    )
    assert piece["correction_id"] == correction_id
    assert finished["translated_text"] == piece["translation"]
    # Below min_quality a sentence is withheld, in the stream as in translate.
    withheld = stream_events(client, asked | {"text": text, "min_quality": 1.0})
    assert {data.get("status") for name, data in withheld if name == "sentence"} == {"withheld"}
    assert withheld[-1][1]["withheld"] == {"fra_Latn": [0, 1], "swh_Latn": [0, 1]}


def test_a_document_takes_the_translation_options(client: httpx.Client) -> None:
    asked, texts, _ = options(client)
    data = "\n\n".join(texts).encode()
    fields = {
        "target_language": "fr",
        "source_language": "en",
        "model": "default",
        "beam_size": "2",
        "glossary_id": asked["glossary_id"],
        "client_id": unique_client(),
    }
    response = upload(client, "notes.txt", data, **fields)
    assert response.status_code == 202, response.text
    job = wait_for(client, f"/api/v1/jobs/{response.json()['token']}")
    assert job["status"] == "done", job
    assert job["result"]["model_name"] == "default"
    got = client.get(f"/api/v1/documents/{response.json()['token']}/result")
    assert "nuage" in got.text
    bad = upload(client, "notes.txt", data, **(fields | {"model": "nope"}))
    assert_error_format(bad, 400, "model")
    # Below min_quality the document is not written: its job ends needs_human.
    strict = upload(client, "notes.txt", data, **(fields | {"min_quality": "1"}))
    assert wait_for(client, f"/api/v1/jobs/{strict.json()['token']}")["status"] == "needs_human"


def test_a_workflow_translation_takes_the_options(client: httpx.Client) -> None:
    asked, texts, correction_id = options(client)
    plain = client.post("/api/v1/translate", json=asked | {"text": texts}).json()
    dsl = {
        "name": "options",
        "tasks": [
            {
                "id": "t",
                "agent": "translation",
                "action": "translate_batch",
                "params": asked | {"texts": texts},
            }
        ],
    }
    body = {"dsl_yaml": json.dumps(dsl), "client_id": unique_client()}
    workflow_id = client.post("/api/v1/workflows/dsl", json=body).json()["workflow_id"]
    run = wait_workflow(client, workflow_id)
    assert run["status"] == "done", run
    output = run["tasks"]["t"]["output"]
    assert output["target_languages"] == ["fra_Latn", "swh_Latn"]
    for target, items in plain["translations"].items():
        assert output["translations"][target] == [item["translated_text"] for item in items]
        assert output["alternatives"][target] == [item["alternatives"] for item in items]
        assert [q and q["score"] for q in output["quality"][target]] == [
            item["quality"] and item["quality"]["score"] for item in items
        ]
        assert output["corrections"][target] == [item["correction_id"] for item in items]
    assert output["glossary_terms"]["fra_Latn"][0][0]["target"] == "nuage"
    assert output["corrections"]["swh_Latn"] == [None, correction_id]
