"""Corrections through the running service (enabled in the test app): submitted, served
before the model and marked as such, listed for the audit, withdrawn."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest

from tests.serve.test_api import assert_error_format

pytestmark = pytest.mark.serve


def metric(client: httpx.Client, name: str) -> float:
    found = re.search(rf"^{name} (\S+)$", client.get("/metrics").text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def test_a_correction_answers_its_text_before_the_model(client: httpx.Client) -> None:
    word = uuid.uuid4().hex[:8]
    text = f"Karibu  sana {word}."
    made = client.post(
        "/api/v1/corrections",
        json={
            "text": text,
            "translation": f"Very welcome {word}.",
            "source_language": "sw",
            "target_language": "en",
            "original": text,
        },
    )
    assert made.status_code == 201, made.text
    correction = made.json()
    assert correction["source_language"] == "swh_Latn"
    assert correction["created_by"] is None  # no auth in this app
    served_before = metric(client, "tafsiri_corrections_served_total")
    # Whitespace may differ (NFC, runs of spaces); case may not.
    body = {"source_language": "sw", "target_language": ["en", "fr"]}
    out = client.post(
        "/api/v1/translate", json=body | {"text": [f"Karibu sana {word}.", f"karibu sana {word}."]}
    ).json()["translations"]
    english, french = out["eng_Latn"], out["fra_Latn"]
    assert english[0]["translated_text"] == f"Very welcome {word}."
    assert english[0]["correction_id"] == correction["id"]
    assert english[1]["correction_id"] is None  # lower case: another text
    assert english[1]["translated_text"] == f"karibu sana {word}."  # the copy model
    assert french[0]["correction_id"] is None  # the correction is into English only
    assert metric(client, "tafsiri_corrections_served_total") - served_before == 1
    # A request answered by corrections alone reaches no model.
    alone = client.post(
        "/api/v1/translate",
        json={"text": text, "source_language": "sw", "target_language": "en", "quality": True},
    ).json()
    assert alone["translated_text"] == f"Very welcome {word}."
    assert alone["model"] == "corrections"
    assert alone["quality"] is None  # a human's translation is not scored
    # Newest wins; the older one stays listed (the audit trail) until withdrawn.
    newer = client.post(
        "/api/v1/corrections",
        json={
            "text": text,
            "translation": f"You are most welcome {word}.",
            "source_language": "swh_Latn",
            "target_language": "eng_Latn",
        },
    ).json()
    again = client.post(
        "/api/v1/translate", json={"text": text, "source_language": "sw", "target_language": "en"}
    ).json()
    assert again["translated_text"] == f"You are most welcome {word}."
    listed = [c["id"] for c in client.get("/api/v1/corrections").json()["corrections"]]
    assert listed.index(correction["id"]) < listed.index(newer["id"])
    for made_id in (newer["id"], correction["id"]):
        assert client.delete(f"/api/v1/corrections/{made_id}").status_code == 204
    back = client.post(
        "/api/v1/translate", json={"text": text, "source_language": "sw", "target_language": "en"}
    ).json()
    assert back["translated_text"] == text
    assert back["correction_id"] is None
    assert_error_format(client.delete(f"/api/v1/corrections/{newer['id']}"), 404, "correction_id")


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"text": ""}, 422, "text"),
        ({"translation": "   "}, 422, "translation"),
        ({"translation": "bad\u0000byte"}, 422, "translation"),
        ({"text": "x" * 5001}, 413, "text"),
        ({"source_language": "klingon"}, 400, "source_language"),
        ({"extra": 1}, 422, "extra"),
    ],
)
def test_bad_corrections_are_refused(
    client: httpx.Client, change: dict[str, object], status: int, field: str
) -> None:
    body = {
        "text": "Habari.",
        "translation": "Hello.",
        "source_language": "sw",
        "target_language": "en",
    }
    assert_error_format(client.post("/api/v1/corrections", json=body | change), status, field)


def test_a_text_job_uses_the_corrections_made_before_it_was_submitted(
    client: httpx.Client,
) -> None:
    from tests.serve.test_jobs import submit_text_job, wait_for

    word = uuid.uuid4().hex[:8]
    texts = [f"Habari za jioni {word}.", f"Usiku mwema {word}."]
    made = client.post(
        "/api/v1/corrections",
        json={
            "text": texts[1],
            "translation": f"Good night {word}.",
            "source_language": "sw",
            "target_language": "en",
        },
    ).json()
    # The source is detected when the job runs; the correction for it is the one used.
    token = submit_text_job(client, texts, source_language=None, target_language="en", quality=True)
    done = wait_for(client, f"/api/v1/jobs/{token}")
    assert done["status"] == "done", done
    result = done["result"]
    assert result["translations"] == [texts[0], f"Good night {word}."]
    assert result["corrections"] == [None, made["id"]]
    assert result["quality"][1] is None  # a person's translation: not scored
    assert result["source_languages"] == ["swh_Latn", "swh_Latn"]
    client.delete(f"/api/v1/corrections/{made['id']}")
