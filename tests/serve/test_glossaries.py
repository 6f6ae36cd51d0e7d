"""Glossaries through the running service: CRUD, applied per request, and bad input."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import httpx
import pytest

from tests.serve.test_api import assert_error_format
from tests.serve.test_jobs import submit_text_job, wait_for

pytestmark = pytest.mark.serve

TERMS = {
    "name": "product terms",
    "source_language": "en",
    "target_language": "sw",
    "entries": [
        {"source": "cloud", "target": "wingu"},
        {"source": "cloud server", "target": "seva ya wingu"},
        {"source": "dashboard", "target": "dashibodi"},
        # Another pair in the same glossary: used only into French.
        {"source": "cloud", "target": "nuage", "target_language": "fr"},
    ],
}


def create(client: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/api/v1/glossaries", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def test_create_list_get_delete(client: httpx.Client) -> None:
    created = create(client, TERMS)
    assert re.fullmatch(r"[0-9a-f]{32}", created["id"])
    assert created["entry_count"] == 4
    assert created["language_pairs"] == [
        {"source_language": "eng_Latn", "target_language": "fra_Latn"},
        {"source_language": "eng_Latn", "target_language": "swh_Latn"},
    ]
    assert created["entries"][0] == {
        "source_language": "eng_Latn",
        "target_language": "swh_Latn",
        "source": "cloud",
        "target": "wingu",
    }
    from_csv = create(
        client,
        {
            "name": "from a spreadsheet",
            "entries_csv": "source_language,target_language,source,target\n"
            'en,sw,"server, big",seva kubwa\nfr,en,nuage,cloud\n',
        },
    )
    assert [e["source"] for e in from_csv["entries"]] == ["server, big", "nuage"]
    listed = client.get("/api/v1/glossaries").json()["glossaries"]
    ids = [g["id"] for g in listed]
    assert created["id"] in ids
    assert from_csv["id"] in ids
    assert "entries" not in listed[0]
    assert client.get(f"/api/v1/glossaries/{created['id']}").json() == created
    assert client.delete(f"/api/v1/glossaries/{from_csv['id']}").status_code == 204
    gone = client.get(f"/api/v1/glossaries/{from_csv['id']}")
    assert_error_format(gone, 404, "glossary_id")
    assert_error_format(client.delete(f"/api/v1/glossaries/{from_csv['id']}"), 404, "glossary_id")
    assert_error_format(client.get("/api/v1/glossaries/not-an-id"), 404, "glossary_id")


def test_translate_applies_the_glossary_and_reports_each_term(client: httpx.Client) -> None:
    glossary = create(client, TERMS)["id"]
    text = "Open the dashboard. The cloud server is up; cloudy skies."
    response = client.post(
        "/api/v1/translate",
        json={
            "text": [text, "Nothing to see."],
            "source_language": "en",
            "target_language": ["sw", "fr", "de"],
            "glossary_id": glossary,
        },
    )
    assert response.status_code == 200, response.text
    out = response.json()["translations"]
    swahili, french, german = out["swh_Latn"], out["fra_Latn"], out["deu_Latn"]
    assert swahili[0]["translated_text"] == (
        "Open the dashibodi. The seva ya wingu is up; cloudy skies."
    )
    assert sorted(
        (t["source"], t["applied"], t["method"]) for t in swahili[0]["glossary_terms"]
    ) == [
        ("cloud server", True, "substituted"),
        ("dashboard", True, "substituted"),
    ]
    assert swahili[1]["glossary_terms"] == []
    assert french[0]["translated_text"] == (
        "Open the dashboard. The nuage server is up; cloudy skies."
    )
    assert german[0]["translated_text"] == text  # no entries for English -> German
    assert german[0]["glossary_terms"] == []
    # prefer: the model (a copy model) keeps its own words, and the report says so.
    prefer = client.post(
        "/api/v1/translate",
        json={
            "text": "The dashboard is ready.",
            "source_language": "en",
            "target_language": "sw",
            "glossary_id": glossary,
            "glossary_mode": "prefer",
        },
    ).json()
    assert prefer["translated_text"] == "The dashboard is ready."
    assert prefer["glossary_terms"] == [
        {
            "source": "dashboard",
            "target": "dashibodi",
            "found": 1,
            "honoured": 0,
            "applied": False,
            "method": "model",
        }
    ]
    # Without a glossary there is no report at all.
    plain = client.post(
        "/api/v1/translate", json={"text": text, "source_language": "en", "target_language": "sw"}
    ).json()
    assert plain["glossary_terms"] is None


def test_a_text_job_carries_its_terms(client: httpx.Client) -> None:
    glossary = create(client, TERMS)["id"]
    texts = ["The cloud is up.", "Check the dashboard."]
    token = submit_text_job(client, texts, target_language="sw", glossary_id=glossary)
    # The job runs as submitted even when the glossary is deleted meanwhile.
    client.delete(f"/api/v1/glossaries/{glossary}")
    done = wait_for(client, f"/api/v1/jobs/{token}")
    assert done["status"] == "done", done
    assert done["result"]["translations"] == ["The wingu is up.", "Check the dashibodi."]
    assert [t[0]["target"] for t in done["result"]["glossary_terms"]] == ["wingu", "dashibodi"]
    unknown = client.post(
        "/api/v1/jobs/translate",
        json={"texts": ["x"], "target_language": "sw", "glossary_id": uuid.uuid4().hex},
    )
    assert_error_format(unknown, 404, "glossary_id")


@pytest.mark.parametrize(
    ("body", "status", "field", "code"),
    [
        (
            {"name": "x", "entries": [{"source": "a", "target": "b"}]},
            422,
            "entries.0",
            "INVALID_GLOSSARY",
        ),
        (TERMS | {"source_language": "klingon"}, 400, "entries.0.source_language", None),
        (TERMS | {"entries": []}, 422, "entries", "INVALID_GLOSSARY"),
        (
            TERMS | {"entries": [{"source": "a\u0000", "target": "b"}]},
            422,
            "entries.0.source",
            "INVALID_GLOSSARY",
        ),
        (
            TERMS
            | {"entries": [{"source": "Cloud", "target": "b"}, {"source": "cloud", "target": "c"}]},
            422,
            "entries.1",
            "INVALID_GLOSSARY",
        ),
        (
            TERMS | {"entries": [{"source": "x" * 300, "target": "b"}]},
            422,
            "entries.0.source",
            "INVALID_GLOSSARY",
        ),
        (
            TERMS | {"entries": [{"source": f"t{i}", "target": "u"} for i in range(5001)]},
            413,
            "entries",
            "GLOSSARY_TOO_LARGE",
        ),
        (TERMS | {"entries_csv": "a,b\n"}, 422, None, None),
        ({"name": "x", "entries_csv": "a,b,c\n"}, 422, "entries_csv", "INVALID_GLOSSARY"),
        ({"name": "", "entries": [{"source": "a", "target": "b"}]}, 422, "name", None),
    ],
)
def test_bad_glossaries_are_refused_clearly(
    client: httpx.Client, body: dict[str, Any], status: int, field: str | None, code: str | None
) -> None:
    response = client.post("/api/v1/glossaries", json=body)
    error = assert_error_format(response, status, field)
    if code:
        assert error["errors"][0]["code"] == code


def test_an_unknown_glossary_on_translate_is_404_and_nothing_else_breaks(
    client: httpx.Client,
) -> None:
    for glossary_id in (uuid.uuid4().hex, "../../etc/passwd"):
        response = client.post(
            "/api/v1/translate",
            json={"text": "Hello.", "target_language": "sw", "glossary_id": glossary_id},
        )
        error = assert_error_format(response, 404, "glossary_id")
        assert error["errors"][0]["code"] == "GLOSSARY_NOT_FOUND"
    mode = client.post(
        "/api/v1/translate",
        json={"text": "Hello.", "target_language": "sw", "glossary_mode": "always"},
    )
    assert_error_format(mode, 422, "glossary_mode")
    started = time.monotonic()
    fine = client.post(
        "/api/v1/translate",
        json={"text": "Hello.", "source_language": "en", "target_language": "sw"},
    )
    assert fine.json()["translated_text"] == "Hello."
    assert time.monotonic() - started < 30
