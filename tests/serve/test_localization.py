"""Software localization files through the running service's documents API (copy model): a
PO and an XLIFF file uploaded, translated and fetched back for the target language, low
quality marked for review in the file rather than withheld; hostile files refused."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import polib
import pytest
from lxml import etree

from tests import l10n_files as files
from tests.serve.test_api import assert_error_format
from tests.serve.test_documents import upload
from tests.serve.test_jobs import wait_for

pytestmark = pytest.mark.serve

X12 = "{urn:oasis:names:tc:xliff:document:1.2}"


def translated_job(
    client: httpx.Client, filename: str, data: bytes, **fields: str
) -> tuple[dict[str, Any], httpx.Response]:
    """The done job's state, and its file."""
    response = upload(client, filename, data, source_language="en", **fields)
    assert response.status_code == 202, response.text
    token = response.json()["token"]
    status = wait_for(client, f"/api/v1/jobs/{token}", timeout=120)
    assert status["status"] == "done", status
    result = client.get(f"/api/v1/documents/{token}/result")
    assert result.status_code == 200, result.text
    return status, result


def translated(client: httpx.Client, filename: str, data: bytes, **fields: str) -> httpx.Response:
    return translated_job(client, filename, data, **fields)[1]


def test_a_po_and_an_xliff_file_come_back_for_the_target(client: httpx.Client) -> None:
    po = translated(client, "messages.pot", files.PO, target_language="ru")
    assert 'filename="messages.rus.po"' in po.headers["content-disposition"]
    assert po.headers["content-type"].startswith("text/x-gettext-translation")
    catalog = polib.pofile(po.content.decode())
    assert catalog.metadata["Language"] == "ru"
    assert catalog.metadata["Plural-Forms"].startswith("nplurals=3;")
    assert catalog[0].msgctxt == "greeting"
    assert catalog[0].msgstr == "Hello %(name)s, you have <b>new</b> mail"
    assert len(catalog[1].msgstr_plural) == 3
    assert not [entry.msgid for entry in catalog if entry.fuzzy]

    # The copy model's "translation" is its English source: below any useful min_quality
    # (untranslated, wrong language). The job is done all the same, the file marked.
    xlf = translated(client, "app.xlf", files.XLIFF_12, target_language="ar", min_quality="0.9")
    root = etree.fromstring(xlf.content)
    assert root.find(f"{X12}file").get("target-language") == "ar"
    states = {
        unit.get("id"): unit.find(f"{X12}target").get("state")
        for unit in root.iter(f"{X12}trans-unit")
        if unit.find(f"{X12}target") is not None
    }
    assert states["welcome"] == "needs-review-translation"
    assert states["code"] == "translated"  # "%s": nothing to translate, nothing to doubt
    welcome = next(root.iter(f"{X12}trans-unit")).find(f"{X12}target")
    assert [child.tag for child in welcome] == [f"{X12}g", f"{X12}x"]


def test_the_jobs_integrity_report_counts_a_lost_placeholder(client: httpx.Client) -> None:
    """Corrections stand in for a model's translations: one that keeps its segment's
    placeholder, one that loses it (withheld: the source stays, fuzzy); the copy model
    hands the third back as it was (unchanged)."""
    word = uuid.uuid4().hex[:8]
    lost, kept = f'Open <wbr data-k="0"> now {word}', f"Save the file {word}"
    for text, translation in ((lost, f"Ouvrez maintenant {word}"), (kept, f"Enregistrez {word}")):
        made = client.post(
            "/api/v1/corrections",
            json={
                "text": text,
                "translation": translation,
                "source_language": "en",
                "target_language": "fr",
            },
        )
        assert made.status_code == 201, made.text
    po = (
        f'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        f'msgid "Open %s now {word}"\nmsgstr ""\n\n'
        f'msgid "Save the file {word}"\nmsgstr ""\n\n'
        f'msgid "Close the window {word}"\nmsgstr ""\n'
    ).encode()
    status, answer = translated_job(client, "report.po", po, target_language="fr", quality="true")
    catalog = polib.pofile(answer.content.decode())
    assert [(entry.msgstr, entry.fuzzy) for entry in catalog] == [
        (f"Open %s now {word}", True),
        (f"Enregistrez {word}", False),
        (f"Close the window {word}", False),
    ]
    report = status["report"]
    assert report == status["result"]["report"]
    assert (report["segments"], report["translated"], report["unchanged"]) == (3, 1, 1)
    assert report["withheld"] == 1
    assert (report["codes_in"], report["codes_out"], report["codes_mismatched"]) == (1, 0, 1)
    # Corrections are people's: only the model's translation was measured and read.
    assert report["quality_measured"] == report["language_checked"] == 1
    assert report["language_checked_share"] == 0.3333
    assert report["from_memory"] == 0
    lost_warning = (
        "1 segment lost or doubled a placeholder or tag: the source text stands in the file"
    )
    assert lost_warning in report["warnings"]


@pytest.mark.parametrize(
    ("filename", "data", "status", "code"),
    [
        ("bomb.xlf", files.hostile_xml(b"xliff", files.ENTITY_BOMB), 400, "INVALID_DOCUMENT"),
        ("strings.xml", files.hostile_xml(b"resources", files.XXE), 400, "INVALID_DOCUMENT"),
        ("broken.po", b'msgid "a"\nmsgstr "b"\nnonsense\n', 400, "INVALID_DOCUMENT"),
        ("page.xlf", b"<html><p>Hello there</p></html>", 415, "DOCUMENT_TYPE_MISMATCH"),
    ],
)
def test_hostile_localization_files_are_refused(
    client: httpx.Client, filename: str, data: bytes, status: int, code: str
) -> None:
    body = assert_error_format(upload(client, filename, data), status, "file")
    assert body["errors"][0]["code"] == code, body
