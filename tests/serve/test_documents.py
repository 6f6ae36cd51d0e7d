"""Document jobs through the running service: every format uploaded, translated (copy model)
and fetched back as the same file; hostile uploads refused with the error format."""

from __future__ import annotations

import io
import time
from collections.abc import Callable

import docx
import httpx
import pytest

from serve_app.documents.formats import segments
from tests import document_files as files
from tests.serve.test_api import assert_error_format
from tests.serve.test_jobs import unique_client, wait_for

pytestmark = pytest.mark.serve

UPLOADS: dict[str, Callable[[], bytes]] = {
    "report.docx": files.make_docx,
    "slides.pptx": files.make_pptx,
    "sheet.xlsx": files.make_xlsx,
    "letter.odt": files.make_odt,
    "book.epub": files.make_epub,
    "notes.txt": lambda: files.TXT,
    "readme.md": lambda: files.MARKDOWN,
    "page.html": lambda: files.HTML,
    "film.srt": lambda: files.SRT,
    "film.vtt": lambda: files.VTT,
    "scan.pdf": lambda: files.make_pdf([["A page of text.", "More text here."], ["Page two."]]),
}


def upload(client: httpx.Client, filename: str, data: bytes, **fields: str) -> httpx.Response:
    form = {"target_language": "sw", "client_id": unique_client(), **fields}
    return client.post("/api/v1/documents", files={"file": (filename, data)}, data=form)


def test_every_format_round_trips_through_the_service(client: httpx.Client) -> None:
    tokens = {}
    for filename, make in UPLOADS.items():
        response = upload(client, filename, make(), source_language="en")
        assert response.status_code == 202, (filename, response.text)
        assert response.json()["status_url"] == f"/api/v1/jobs/{response.json()['token']}"
        tokens[filename] = response.json()["token"]
    for filename, token in tokens.items():
        status = wait_for(client, f"/api/v1/jobs/{token}", timeout=120)
        assert status["status"] == "done", (filename, status)
        original = UPLOADS[filename]()
        name = filename.rsplit(".", 1)[1]
        found = segments(original, name)
        # Progress counts sentences, at least one per segment.
        assert status["progress"]["done"] == status["progress"]["total"] >= len(found)
        result = client.get(f"/api/v1/documents/{token}/result")
        assert result.status_code == 200, (filename, result.text)
        disposition = result.headers["content-disposition"]
        stem = filename.rsplit(".", 1)[0]
        written = "txt" if name == "pdf" else name
        assert f'filename="{stem}.swh.{written}"' in disposition
        if name == "md":  # a paragraph's lines come back as one line
            found = [segment.replace("\n", " ") for segment in found]
        # The copy model gave every segment back: the file reads as the original did.
        assert segments(result.content, written) == found, filename
    # The Word file opens in python-docx with its runs and their formatting.
    result = client.get(f"/api/v1/documents/{tokens['report.docx']}/result").content
    paragraphs = docx.Document(io.BytesIO(result)).paragraphs
    bold = [(r.text, r.bold) for p in paragraphs for r in p.runs if r.bold]
    assert bold == [("bold words", True)]


def test_source_detected_once_for_the_whole_document_and_pdf_as_docx(
    client: httpx.Client,
) -> None:
    data = files.make_pdf([["The weather is very nice today and we are going out.", "Yes."]])
    response = upload(client, "weather.pdf", data, output_format="docx")
    assert response.status_code == 202, response.text
    token = response.json()["token"]
    status = wait_for(client, f"/api/v1/jobs/{token}", timeout=120)
    assert status["status"] == "done", status
    # "Yes." alone says little: the document's language answers for it.
    assert status["result"]["source_languages"] == ["eng_Latn", "eng_Latn"]
    result = client.get(f"/api/v1/documents/{token}/result")
    texts = [p.text for p in docx.Document(io.BytesIO(result.content)).paragraphs]
    assert texts == ["The weather is very nice today and we are going out.", "Yes."]


@pytest.mark.parametrize(
    ("filename", "make", "status", "code"),
    [
        ("bomb.docx", files.zip_bomb, 413, "DOCUMENT_TOO_LARGE"),
        (
            "laughs.docx",
            lambda: files.replace_entry(
                files.make_docx(), "word/document.xml", files.BILLION_LAUGHS
            ),
            400,
            "INVALID_DOCUMENT",
        ),
        (
            "xxe.docx",
            lambda: files.replace_entry(files.make_docx(), "word/document.xml", files.XXE),
            400,
            "INVALID_DOCUMENT",
        ),
        ("fake.docx", lambda: files.make_pdf([["x"]]), 415, "DOCUMENT_TYPE_MISMATCH"),
        ("virus.exe", lambda: b"MZ\x90\x00", 415, "UNSUPPORTED_DOCUMENT_TYPE"),
        ("secret.pdf", files.encrypted_pdf, 422, "DOCUMENT_ENCRYPTED"),
        (
            "secret.xlsx",
            lambda: files.encrypted_office(files.make_xlsx()),
            422,
            "DOCUMENT_ENCRYPTED",
        ),
        ("cut.docx", lambda: files.make_docx()[:3000], 400, "INVALID_DOCUMENT"),
        ("empty.txt", lambda: b"", 400, "EMPTY_DOCUMENT"),
        ("numbers.txt", lambda: b"1 2 3\n", 422, "NOTHING_TO_TRANSLATE"),
    ],
)
def test_hostile_and_bad_files_are_refused(
    client: httpx.Client, filename: str, make: Callable[[], bytes], status: int, code: str
) -> None:
    body = assert_error_format(upload(client, filename, make()), status, "file")
    assert body["errors"][0]["code"] == code, body


def test_limits_unknown_tokens_and_cut_uploads(client: httpx.Client) -> None:
    # Over the upload limit: refused from its length, before the body is read.
    big = b"a" * (20 * 1024 * 1024 + 1)
    assert_error_format(upload(client, "big.txt", big), 413)
    # A multipart body cut mid-way (no closing boundary).
    boundary = "tafsiriboundary"
    cut = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="target_language"\r\n\r\nsw\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
        "Content-Type: text/plain\r\n\r\nHello wor"
    ).encode()
    response = client.post(
        "/api/v1/documents",
        content=cut,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code in (400, 422), response.text
    assert_error_format(response, response.status_code)
    assert_error_format(client.get(f"/api/v1/documents/{'0' * 32}/result"), 404, "token")
    # A job that is not a document has no file.
    job = client.post(
        "/api/v1/jobs/translate",
        json={"texts": ["Hello."], "source_language": "en", "target_language": "sw"},
    ).json()["token"]
    assert_error_format(client.get(f"/api/v1/documents/{job}/result"), 404, "token")


def test_the_file_is_not_there_before_the_job_is_done(client: httpx.Client) -> None:
    lines = "\n".join(f"Sentence number {i} of a long text." for i in range(3000))
    response = upload(client, "long.txt", lines.encode(), source_language="en", priority="1")
    token = response.json()["token"]
    early = client.get(f"/api/v1/documents/{token}/result")
    status = client.get(f"/api/v1/jobs/{token}").json()["status"]
    if status != "done":  # asked while queued or running: refused, never a partial file
        body = assert_error_format(early, 409, "token")
        assert body["errors"][0]["code"] == "DOCUMENT_NOT_READY"
    deadline = time.monotonic() + 180
    while client.get(f"/api/v1/jobs/{token}").json()["status"] != "done":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert client.get(f"/api/v1/documents/{token}/result").content.decode() == lines
