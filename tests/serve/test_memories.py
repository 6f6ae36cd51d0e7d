"""Translation memories through the running service: a TMX upload used by translations
(exact sentences answered from it, fuzzy ones suggested or preferred), by jobs and documents,
fed by corrections, exported and deleted; hostile files refused with a 4xx, nothing stored.

The test model copies its input, so a sentence that comes back translated came from the
memory, not from the model."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from serve_app.documents.formats import segments
from serve_app.engines.languages import LanguageDatabase
from serve_app.engines.memory import MemoryLimits
from serve_app.records.tmx import read_tmx
from tests.serve.test_api import assert_error_format
from tests.serve.test_documents import upload
from tests.serve.test_jobs import submit_text_job, wait_for

pytestmark = pytest.mark.serve

GREETING = ("Good morning, my friend.", "Habari ya asubuhi, rafiki yangu.")
INVOICE = ("The invoice was sent to the customer yesterday.", "Ankara ilitumwa kwa mteja jana.")
OTHER = "Nothing in the memory looks like this sentence at all."


def tmx(*units: tuple[str, str], extra: str = "") -> bytes:
    body = "".join(
        f'<tu><tuv xml:lang="en-US"><seg>{en}</seg></tuv><tuv xml:lang="sw"><seg>{sw}</seg></tuv>'
        "</tu>"
        for en, sw in units
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE tmx SYSTEM "tmx14.dtd">'
        '<tmx version="1.4"><header creationtool="t" creationtoolversion="1" datatype="plaintext"'
        ' segtype="sentence" adminlang="en" srclang="en" o-tmf="t"/>'
        f"<body>{body}{extra}</body></tmx>"
    ).encode()


def create(client: httpx.Client, data: bytes, name: str = "memory.tmx") -> dict[str, Any]:
    response = client.post("/api/v1/memories", files={"file": (name, data)})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def translate(client: httpx.Client, text: str | list[str], **fields: Any) -> dict[str, Any]:
    response = client.post(
        "/api/v1/translate",
        json={"text": text, "source_language": "en", "target_language": "sw", **fields},
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def test_upload_translate_list_export_delete(client: httpx.Client) -> None:
    one_language = '<tu><tuv xml:lang="en"><seg>Alone.</seg></tuv></tu>'
    created = create(client, tmx(GREETING, INVOICE, extra=one_language), "support desk.tmx")
    memory = created["id"]
    assert (created["name"], created["entry_count"], created["skipped"]) == ("support desk", 2, 1)
    assert created["languages"] == ["eng_Latn", "swh_Latn"]

    # Exact (after normalisation): answered from the memory; the rest by the model.
    exact = translate(client, f"Good  morning,  my friend. {OTHER}", memory_id=memory)
    assert exact["translated_text"] == f"{GREETING[1]} {OTHER}"
    assert exact["memory_matches"] == [
        {
            "sentence": 0,
            "text": GREETING[0],
            "source": GREETING[0],
            "translation": GREETING[1],
            "score": 1.0,
            "served": True,
        }
    ]
    # Fuzzy: suggested beside the model's translation, with its score ...
    near = "The invoice was sent to the customers yesterday."
    suggested = translate(client, near, memory_id=memory)
    assert suggested["translated_text"] == near  # the model's (it copies)
    (match,) = suggested["memory_matches"]
    assert (match["translation"], match["served"]) == (INVOICE[1], False)
    assert 0.85 <= match["score"] < 1
    # ... served instead when the client prefers it, and not offered under the threshold.
    preferred = translate(client, near, memory_id=memory, memory_mode="prefer")
    assert preferred["translated_text"] == INVOICE[1]
    assert preferred["memory_matches"][0]["served"] is True
    strict = translate(client, near, memory_id=memory, memory_threshold=0.99)
    assert (strict["translated_text"], strict["memory_matches"]) == (near, [])
    # Without a memory there is no report at all; a batch reports per text.
    assert translate(client, near)["memory_matches"] is None
    batch = translate(client, [GREETING[0], OTHER], memory_id=memory)["translations"]
    assert [item["translated_text"] for item in batch] == [GREETING[1], OTHER]
    assert [len(item["memory_matches"]) for item in batch] == [1, 0]

    listed = client.get("/api/v1/memories").json()["memories"]
    (summary,) = [m for m in listed if m["id"] == memory]
    assert (summary["name"], summary["entry_count"]) == ("support desk", 2)
    assert client.get(f"/api/v1/memories/{memory}").json()["entry_count"] == 2
    exported = client.get(f"/api/v1/memories/{memory}/export")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("application/x-tmx+xml")
    assert 'filename="support desk.tmx"' in exported.headers["content-disposition"]
    units = read_tmx(exported.content, LanguageDatabase.default(), MemoryLimits()).units
    assert [(u.text("eng_Latn"), u.text("swh_Latn")) for u in units] == [GREETING, INVOICE]

    assert client.delete(f"/api/v1/memories/{memory}").status_code == 204
    for gone in (
        client.get(f"/api/v1/memories/{memory}"),
        client.get(f"/api/v1/memories/{memory}/export"),
        client.delete(f"/api/v1/memories/{memory}"),
        client.post(
            "/api/v1/translate",
            json={"text": "Hello.", "target_language": "sw", "memory_id": memory},
        ),
    ):
        error = assert_error_format(gone, 404, "memory_id")
        assert error["errors"][0]["code"] == "MEMORY_NOT_FOUND"
    assert memory not in [m["id"] for m in client.get("/api/v1/memories").json()["memories"]]


def test_jobs_documents_and_corrections_use_the_memory(client: httpx.Client) -> None:
    memory = create(client, tmx(GREETING))["id"]
    token = submit_text_job(client, [GREETING[0], OTHER], target_language="sw", memory_id=memory)
    done = wait_for(client, f"/api/v1/jobs/{token}")
    assert done["status"] == "done", done
    assert done["result"]["translations"] == [GREETING[1], OTHER]
    assert [len(m) for m in done["result"]["memory_matches"]] == [1, 0]

    letter = f"{GREETING[0]}\n\n{OTHER}\n".encode()
    document = upload(client, "letter.txt", letter, source_language="en", memory_id=memory)
    assert document.status_code == 202, document.text
    document_token = document.json()["token"]
    assert wait_for(client, f"/api/v1/jobs/{document_token}")["status"] == "done"
    result = client.get(f"/api/v1/documents/{document_token}/result")
    assert result.status_code == 200, result.text
    assert segments(result.content, "txt") == [GREETING[1], OTHER]

    # A correction filed under the memory becomes one of its units: found sentence by
    # sentence, and exported with the memory.
    word = uuid.uuid4().hex[:8]
    corrected = client.post(
        "/api/v1/corrections",
        json={
            "text": f"Ship it {word}.",
            "translation": f"Isafirishe {word}.",
            "source_language": "en",
            "target_language": "sw",
            "memory_id": memory,
        },
    )
    assert corrected.status_code == 201, corrected.text
    assert corrected.json()["memory_id"] == memory
    answer = translate(client, f"{OTHER} Ship it {word}.", memory_id=memory)
    assert answer["translated_text"] == f"{OTHER} Isafirishe {word}."
    assert client.get(f"/api/v1/memories/{memory}").json()["entry_count"] == 2
    assert f"Isafirishe {word}.".encode() in client.get(f"/api/v1/memories/{memory}/export").content
    # Withdrawn, it is no longer the memory's.
    client.delete(f"/api/v1/corrections/{corrected.json()['id']}")
    assert translate(client, f"Ship it {word}.", memory_id=memory)["memory_matches"] == []
    unknown = client.post(
        "/api/v1/corrections",
        json={
            "text": "x",
            "translation": "y",
            "source_language": "en",
            "target_language": "sw",
            "memory_id": uuid.uuid4().hex,
        },
    )
    assert_error_format(unknown, 404, "memory_id")
    client.delete(f"/api/v1/memories/{memory}")


UNIT = '<tu><tuv xml:lang="en"><seg>a</seg></tuv><tuv xml:lang="sw"><seg>b</seg></tuv></tu>'
HOSTILE = {
    "entity bomb": (
        b'<?xml version="1.0"?><!DOCTYPE tmx [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>'
        b'<tmx version="1.4"><body><tu><tuv xml:lang="en"><seg>&c;</seg></tuv>'
        b'<tuv xml:lang="sw"><seg>&c;</seg></tuv></tu></body></tmx>',
        400,
        "INVALID_TMX",
    ),
    "external entity": (
        b'<?xml version="1.0"?><!DOCTYPE tmx [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<tmx version="1.4"><body><tu><tuv xml:lang="en"><seg>&x;</seg></tuv>'
        b'<tuv xml:lang="sw"><seg>x</seg></tuv></tu></body></tmx>',
        400,
        "INVALID_TMX",
    ),
    # The test app keeps 1,000 units and 1,000,000 bytes at most (tests/serve/conftest.py).
    "too many units": (
        f'<tmx version="1.4"><body>{UNIT * 1001}</body></tmx>'.encode(),
        413,
        "MEMORY_TOO_LARGE",
    ),
    "too large": (
        f'<tmx version="1.4"><body>{" " * 1_000_000}</body></tmx>'.encode(),
        413,
        "MEMORY_TOO_LARGE",
    ),
    "not xml": (b"source,target\nhello,jambo\n", 400, "INVALID_TMX"),
    "not tmx": (b'<?xml version="1.0"?><xliff version="1.2"/>', 400, "INVALID_TMX"),
    "unknown encoding": (
        b'<?xml version="1.0" encoding="no-such"?><tmx version="1.4"/>',
        400,
        "INVALID_TMX",
    ),
    "empty": (b"", 400, "INVALID_TMX"),
    "no usable unit": (
        b'<tmx version="1.4"><body><tu><tuv xml:lang="en"><seg>a</seg></tuv></tu></body></tmx>',
        422,
        "EMPTY_MEMORY",
    ),
}


def test_hostile_files_are_refused_with_a_4xx_and_nothing_is_stored(
    client: httpx.Client,
) -> None:
    before = client.get("/api/v1/memories").json()["memories"]
    for name, (data, status, code) in HOSTILE.items():
        response = client.post("/api/v1/memories", files={"file": ("x.tmx", data)})
        error = assert_error_format(response, status, "file")
        assert error["errors"][0]["code"] == code, (name, error)
    assert client.get("/api/v1/memories").json()["memories"] == before
    # Bad options on a translation are refused as such.
    for fields, field in (
        ({"memory_id": uuid.uuid4().hex}, "memory_id"),
        ({"memory_mode": "always"}, "memory_mode"),
        ({"memory_threshold": 0.2}, "memory_threshold"),
    ):
        response = client.post(
            "/api/v1/translate", json={"text": "Hello.", "target_language": "sw", **fields}
        )
        assert_error_format(response, 404 if field == "memory_id" else 422, field)
    # And the service goes on answering.
    assert translate(client, "Hello.")["translated_text"] == "Hello."
