"""Documents: every format's segments go through a visit and come back in place, in files the
formats' own libraries open again; hostile files are refused with the right status."""

from __future__ import annotations

import html
import io
import re
import zipfile
from collections.abc import Callable
from urllib.parse import unquote

import docx
import openpyxl
import pptx
import pytest
from ebooklib import ITEM_DOCUMENT, epub
from lxml import etree

from serve_app.api.routes.documents import content_disposition
from serve_app.documents.errors import DocumentError
from serve_app.documents.formats import DocumentLimits, render, segments, sniff_format
from serve_app.documents.safety import OLE_SIGNATURE
from serve_app.engines.translator import TranslationRequest, Translator
from tests import document_files as files

_TEXT_NODE = re.compile(r"(^|>)([^<]*)")


def shout(snippet: str) -> str:
    """A known transformation of a snippet: its text upper-cased, its markup untouched."""
    return _TEXT_NODE.sub(
        lambda m: m.group(1) + html.escape(html.unescape(m.group(2)).upper(), quote=False),
        snippet,
    )


def shouted(data: bytes, name: str, output: str | None = None) -> bytes:
    return render(data, name, [shout(s) for s in segments(data, name)], output=output)


def read_docx(data: bytes) -> list[tuple[str, list[bool | None]]]:
    document = docx.Document(io.BytesIO(data))
    section = document.sections[0]
    paragraphs = [
        *section.header.paragraphs,
        *document.paragraphs,
        *(p for t in document.tables for row in t.rows for c in row.cells for p in c.paragraphs),
        *section.footer.paragraphs,
    ]
    return [(p.text, [r.bold for r in p.runs]) for p in paragraphs]


def read_pptx(data: bytes) -> list[str]:
    presentation = pptx.Presentation(io.BytesIO(data))
    slide = presentation.slides[0]
    texts = [t.text for t in slide.element.iter("{*}t")]
    return [*texts, slide.notes_slide.notes_text_frame.text]


def read_xlsx(data: bytes) -> list[list[object]]:
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    return [[c.value for row in ws.iter_rows() for c in row] for ws in workbook.worksheets]


def read_odt(data: bytes) -> list[tuple[str, str]]:
    root = etree.fromstring(zipfile.ZipFile(io.BytesIO(data)).read("content.xml"))
    return [(etree.QName(e).localname, "".join(e.itertext())) for e in root.iter("{*}p", "{*}h")]


def read_epub(data: bytes, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    path = tmp_path_factory.mktemp("epub") / "book.epub"
    path.write_bytes(data)
    book = epub.read_epub(str(path))
    return [
        re.sub(r"<[^>]+>", "|", item.get_content().decode())
        for item in book.get_items_of_type(ITEM_DOCUMENT)
    ]


TEXT_CASES = [
    ("report.txt", files.TXT),
    ("notes.md", files.MARKDOWN),
    ("page.html", files.HTML),
    ("film.srt", files.SRT),
    ("film.vtt", files.VTT),
]


@pytest.mark.parametrize(("filename", "data"), TEXT_CASES)
def test_text_formats_round_trip_and_every_segment_is_written_back(
    filename: str, data: bytes
) -> None:
    name = sniff_format(data, filename)
    found = segments(data, name)
    assert found
    assert render(data, name, found) == data or name == "md"  # md joins paragraph lines
    loud = shouted(data, name).decode()
    # Every letter that was in a segment is upper-case now; the markup around them is not.
    for segment in found:
        plain = html.unescape(re.sub(r"<[^>]*>", " ", segment)).split()
        for word in plain:
            if any(ch.isalpha() for ch in word):
                assert word.upper() in loud or name == "md", (word, loud)


def test_txt_keeps_layout() -> None:
    out = shouted(files.TXT, "txt").decode()
    assert out == (
        "WELCOME TO THE REPORT.\n\n  IT HAS TWO SENTENCES. HERE IS THE SECOND ONE.  \n1234\n"
        "LAST LINE WITHOUT A NEWLINE"
    )


def test_markdown_keeps_its_syntax_and_skips_code() -> None:
    out = shouted(files.MARKDOWN, "md").decode()
    assert "# THE TITLE\n" in out
    assert (
        'SOME **BOLD** AND *LEANING* WORDS WITH A [LINK](https://example.org "tip") AND `code`. '
        "A SECOND LINE OF THE SAME PARAGRAPH.\n" in out
    )
    assert "- FIRST ITEM\n- SECOND **ITEM**\n" in out
    assert "> QUOTED TEXT\n" in out
    assert 'print("not translated")' in out
    assert "| NAME | VALUE |" in out
    assert "| CLOUD | RAIN |" in out
    assert out.count("\n") == files.MARKDOWN.decode().count("\n") - 1  # the joined line


def test_html_keeps_every_tag_and_skips_code_and_style() -> None:
    out = shouted(files.HTML, "html").decode()
    assert "<h1>HELLO &amp; WELCOME</h1>" in out
    assert "<p>A <b>BOLD</b> MOVE. <a href='/x'>A LINK</a>.</p>" in out
    assert "p { color: red }" in out
    assert "<code>x = 1</code>" in out


def test_subtitles_keep_timing_lines_and_cue_markup() -> None:
    srt_out = shouted(files.SRT, "srt").decode()
    assert "00:00:01,000 --> 00:00:03,500\nHELLO THERE.\nHOW ARE YOU?\n" in srt_out
    assert "FISH & CHIPS." in srt_out
    vtt_out = shouted(files.VTT, "vtt").decode()
    assert "NOTE made for the tests" in vtt_out
    assert "intro\n00:00:01.000 --> 00:00:03.000 align:start\nHELLO THERE.\nSECOND LINE." in vtt_out
    assert "<v Bob>FISH &amp; CHIPS.</v>" in vtt_out


def test_docx_runs_keep_their_formatting() -> None:
    data = files.make_docx()
    before = read_docx(data)
    after = read_docx(shouted(data, "docx"))
    assert [bold for _, bold in after] == [bold for _, bold in before]
    assert [text for text, _ in after] == [text.upper() for text, _ in before]
    assert (
        "A SENTENCE WITH BOLD WORDS AND AN ITALIC END.",
        [None, True, None, None, None],
    ) in after
    assert ("HEADER WORDS", [None]) in after
    assert ("2024", [None]) in after


def test_pptx_title_body_table_and_notes() -> None:
    data = files.make_pptx()
    before, after = read_pptx(data), read_pptx(shouted(data, "pptx"))
    assert after == [text.upper() for text in before]
    assert "POINT IN BOLD" in after
    assert "SPEAKER NOTES HERE" in after


def test_xlsx_text_cells_only() -> None:
    data = files.make_xlsx()
    after = read_xlsx(shouted(data, "xlsx"))
    assert after == [
        ["NAME", "AMOUNT", 3.5, "CLOUD STORAGE", 12, None, None, "=SUM(B2:B2)", None],
        ["A NOTE ON THE NUMBERS."],
    ]


def test_odt_spans_keep_their_style() -> None:
    data = files.make_odt()
    after = read_odt(shouted(data, "odt"))
    assert after == [(kind, text.upper()) for kind, text in read_odt(data)]
    root = etree.fromstring(zipfile.ZipFile(io.BytesIO(shouted(data, "odt"))).read("content.xml"))
    spans = ["".join(s.itertext()) for s in root.iter("{*}span")]
    assert spans == ["BOLD MIDDLE"]
    # Every other entry is the original, byte for byte; the mimetype still first and stored.
    original, written = (zipfile.ZipFile(io.BytesIO(d)) for d in (data, shouted(data, "odt")))
    assert written.infolist()[0].filename == "mimetype"
    assert written.infolist()[0].compress_type == zipfile.ZIP_STORED
    for entry in original.infolist():
        if entry.filename not in ("content.xml", "styles.xml"):
            assert written.read(entry.filename) == original.read(entry.filename)


def test_epub_chapters(tmp_path_factory: pytest.TempPathFactory) -> None:
    data = files.make_epub()
    after = read_epub(shouted(data, "epub"), tmp_path_factory)
    chapters = [c for c in after if "SENTENCE" in c]
    assert len(chapters) == 2
    assert any("|CHAPTER 1|" in c and "|CHAPTER 2|" in c for c in after)  # the nav too
    assert "|THE |FIRST| SENTENCE. THE SECOND ONE.|" in chapters[0]


def test_pdf_text_comes_out_as_text_or_docx() -> None:
    data = files.make_pdf([["First page text.", "Another paragraph."], ["Second page."]])
    assert segments(data, "pdf") == ["First page text.", "Another paragraph.", "Second page."]
    text = shouted(data, "pdf", "txt").decode()
    assert text == "FIRST PAGE TEXT.\n\nANOTHER PARAGRAPH.\n\n\fSECOND PAGE."
    document = docx.Document(io.BytesIO(shouted(data, "pdf", "docx")))
    texts = [p.text for p in document.paragraphs if p.text]
    assert texts == ["FIRST PAGE TEXT.", "ANOTHER PARAGRAPH.", "SECOND PAGE."]
    with pytest.raises(DocumentError) as refused:
        render(data, "pdf", segments(data, "pdf"), output="pdf")
    assert refused.value.code == "UNSUPPORTED_OUTPUT_FORMAT"


MAKERS: dict[str, Callable[[], bytes]] = {
    "docx": files.make_docx,
    "pptx": files.make_pptx,
    "xlsx": files.make_xlsx,
    "odt": files.make_odt,
    "epub": files.make_epub,
}


@pytest.mark.parametrize("name", [*MAKERS, "txt", "md", "html", "srt", "vtt"])
def test_the_copy_model_gives_every_file_back(name: str, translator: Translator) -> None:
    """Through the real engine's markup path (tiny copy model): each segment comes back as it
    went, so the file reads as it did."""
    data = MAKERS[name]() if name in MAKERS else _text_file(name)
    found = segments(data, name)
    requests = [TranslationRequest(s, "eng_Latn", "swh_Latn", "html") for s in found]
    translated = [r.text for r in translator.translate(requests).results]
    assert translated == found
    out = render(data, name, translated)
    if name == "md":  # a paragraph's lines come back as one line
        found = [segment.replace("\n", " ") for segment in found]
    assert segments(out, name) == found


@pytest.mark.parametrize("name", [*MAKERS, "pdf"])
def test_reading_a_documents_segments_writes_no_file(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The upload reads the segments only: no file is serialised to be thrown away."""
    data = MAKERS[name]() if name in MAKERS else files.make_pdf([["One page.", "Two lines."]])

    def written(*_: object, **__: object) -> None:
        raise AssertionError("a file was written")

    from serve_app.documents import office

    for owner, method in [
        (docx.document.Document, "save"),
        (pptx.presentation.Presentation, "save"),
        (openpyxl.Workbook, "save"),
        (office, "rewrite_zip"),
    ]:
        monkeypatch.setattr(owner, method, written)
    assert segments(data, name)
    with pytest.raises(AssertionError, match="a file was written"):
        render(data, name, segments(data, name), output="docx" if name == "pdf" else None)


def _text_file(name: str) -> bytes:
    return next(data for filename, data in TEXT_CASES if filename.endswith(f".{name}"))


# --- Hostile files


def refused(data: bytes, filename: str, limits: DocumentLimits | None = None) -> DocumentError:
    with pytest.raises(DocumentError) as caught:
        segments(data, sniff_format(data, filename), limits)
    return caught.value


def test_a_zip_bomb_is_refused_before_it_is_inflated() -> None:
    error = refused(files.zip_bomb(), "bomb.docx")
    assert (error.status, error.code) == (413, "DOCUMENT_TOO_LARGE")
    assert "zip bomb" in error.message
    small = DocumentLimits(max_unpacked_bytes=10_000)
    assert refused(files.make_docx(), "fine.docx", small).status == 413


def test_a_container_of_more_files_than_allowed_is_refused_by_its_directory() -> None:
    """A docx of 10,001 tiny entries (the limit is 10,000): refused from the zip's central
    directory, naming the count; one entry fewer than the file holds opens."""
    docx = files.make_docx()
    entries = len(zipfile.ZipFile(io.BytesIO(docx)).infolist())
    padded = io.BytesIO(docx)
    with zipfile.ZipFile(padded, "a") as archive:
        for i in range(10_001 - entries):
            archive.writestr(f"customXml/pad{i}.xml", "<a/>")
    error = refused(padded.getvalue(), "many.docx")
    assert (error.status, error.code) == (413, "DOCUMENT_TOO_LARGE")
    assert "holds 10001 files, more than the 10000 allowed" in error.message
    assert segments(padded.getvalue(), "docx", DocumentLimits(max_entries=10_001))
    assert refused(docx, "fine.docx", DocumentLimits(max_entries=entries - 1)).status == 413


@pytest.mark.parametrize("payload", [files.BILLION_LAUGHS, files.XXE])
def test_entity_declarations_in_office_xml_are_refused(payload: bytes) -> None:
    data = files.replace_entry(files.make_docx(), "word/document.xml", payload)
    error = refused(data, "evil.docx")
    assert (error.status, error.code) == (400, "INVALID_DOCUMENT")
    assert "entities" in error.message
    epub_data = files.replace_entry(files.make_epub(), "EPUB/chapter1.xhtml", payload)
    assert refused(epub_data, "evil.epub").code == "INVALID_DOCUMENT"


@pytest.mark.parametrize("encoding", ["x-bogus", "utf-32"])
def test_an_xml_part_in_an_encoding_no_codec_reads_is_a_400(encoding: str) -> None:
    """expat raises LookupError / ValueError for these, which reached the client as a 500."""
    payload = f'<?xml version="1.0" encoding="{encoding}"?><w:document/>'.encode()
    data = files.replace_entry(files.make_docx(), "word/document.xml", payload)
    error = refused(data, "odd.docx")
    assert (error.status, error.code) == (400, "INVALID_DOCUMENT")
    assert "declares an encoding that cannot be read" in error.message


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (files.make_pdf([["x"]]), "report.docx"),
        (files.make_xlsx(), "report.docx"),
        (files.make_docx(), "report.pdf"),
        (files.make_docx(), "notes.txt"),
        (files.make_odt(), "book.epub"),
    ],
)
def test_a_file_that_lies_about_its_type_is_refused(data: bytes, filename: str) -> None:
    with pytest.raises(DocumentError) as caught:
        sniff_format(data, filename)
    assert (caught.value.status, caught.value.code) == (415, "DOCUMENT_TYPE_MISMATCH")


def test_unknown_types_binary_text_and_cut_files() -> None:
    with pytest.raises(DocumentError) as caught:
        sniff_format(b"MZ\x90\x00", "tool.exe")
    assert caught.value.status == 415
    assert refused(b"text\x00\x01\x02", "a.txt").code == "INVALID_DOCUMENT"
    assert refused("é".encode("latin-1"), "a.txt").code == "INVALID_DOCUMENT"
    data = files.make_docx()
    assert refused(data[: len(data) // 2], "cut.docx").status == 400


def test_pdf_password_and_page_limits() -> None:
    error = refused(files.encrypted_pdf(), "secret.pdf")
    assert (error.status, error.code) == (422, "DOCUMENT_ENCRYPTED")
    error = refused(files.blank_pdf(6), "long.pdf", DocumentLimits(max_pdf_pages=5))
    assert error.status == 413
    assert "6 pages" in error.message
    assert refused(b"%PDF-1.7\n garbage", "broken.pdf").status == 400


@pytest.mark.parametrize(
    ("make", "filename"),
    [
        (files.make_docx, "secret.docx"),
        (files.make_pptx, "secret.pptx"),
        (files.make_xlsx, "s.xlsx"),
    ],
)
def test_password_protected_office_files_are_422_not_damaged(
    make: Callable[[], bytes], filename: str
) -> None:
    data = files.encrypted_office(make())
    assert not data.startswith(b"PK")  # not a zip at all: an OLE compound file
    error = refused(data, filename)
    assert (error.status, error.code) == (422, "DOCUMENT_ENCRYPTED")
    assert error.message.startswith("the ")
    assert "password-protected" in error.message
    assert " a " not in error.message.split("password")[0]  # "the Word document", not "the a"


def test_a_password_protected_odt_is_422_and_an_ole_file_that_is_not_one_415() -> None:
    error = refused(files.encrypted_odt(), "secret.odt")
    assert (error.status, error.code) == (422, "DOCUMENT_ENCRYPTED")
    # A compound file without an encrypted package (a legacy .doc renamed) lies about its type.
    legacy = files.encrypted_office(files.make_docx())
    legacy = legacy.replace(
        "EncryptedPackage".encode("utf-16-le"), "SomethingElseXX".encode("utf-16-le") + b"\0\0"
    )
    with pytest.raises(DocumentError) as caught:
        sniff_format(legacy, "old.docx")
    assert (caught.value.status, caught.value.code) == (415, "DOCUMENT_TYPE_MISMATCH")
    with pytest.raises(DocumentError) as caught:
        sniff_format(OLE_SIGNATURE + b"\0" * 600, "cut.xlsx")
    assert caught.value.status == 415


def test_size_and_segment_limits() -> None:
    assert refused(files.TXT, "a.txt", DocumentLimits(max_bytes=10)).status == 413
    error = refused(files.TXT, "a.txt", DocumentLimits(max_segments=2))
    assert error.status == 413
    assert "segments" in error.message


@pytest.mark.parametrize(
    "name",
    ["ré\r\nSet-Cookie: x=1.docx", 'a"b\\c;.docx', "tab\there\x00\x7f.docx", "日本語.docx"],
)
def test_a_download_name_cannot_break_its_header(name: str) -> None:
    header = content_disposition(name)
    assert header.isascii()
    assert header.isprintable()
    fallback = header.split('filename="', 1)[1].split('"; filename*=', 1)[0]
    assert '"' not in fallback
    assert "\\" not in fallback
    assert unquote(header.split("filename*=UTF-8''", 1)[1]) == name  # the exact name kept
