"""Real files of every document format, made by the libraries that write them, and files
crafted to attack a document service."""

from __future__ import annotations

import io
import zipfile

import docx
import openpyxl
import pptx
import pypdf
from ebooklib import epub
from msoffcrypto.format.ooxml import OOXMLFile
from odf.opendocument import OpenDocumentText
from odf.style import Style, TextProperties
from odf.text import H, P, Span
from pptx.util import Inches
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

TXT = (
    b"Welcome to the report.\n"
    b"\n"
    b"  It has two sentences. Here is the second one.  \n"
    b"1234\n"
    b"Last line without a newline"
)

MARKDOWN = b"""# The title

Some **bold** and *leaning* words with a [link](https://example.org "tip") and `code`.
A second line of the same paragraph.

- first item
- second **item**

> quoted text

```python
print("not translated")
```

| Name | Value |
|------|-------|
| cloud | rain |
"""

HTML = (
    b"<!DOCTYPE html>\n<html><head><title>A page</title>"
    b"<style>p { color: red }</style></head>\n"
    b"<body><h1>Hello &amp; welcome</h1>\n<p>A <b>bold</b> move. <a href='/x'>A link</a>.</p>"
    b"<ul><li>One</li><li>Two</li></ul><pre><code>x = 1</code></pre></body></html>\n"
)

SRT = (
    b"1\n00:00:01,000 --> 00:00:03,500\nHello there.\nHow are you?\n\n"
    b"2\n00:00:04,000 --> 00:00:06,000\nFish & chips.\n\n"
)

VTT = (
    b"WEBVTT\n\nNOTE made for the tests\n\nintro\n00:00:01.000 --> 00:00:03.000 align:start\n"
    b"Hello there.\nSecond line.\n\n00:00:04.000 --> 00:00:05.000\n<v Bob>Fish &amp; chips.</v>\n"
)


def make_docx() -> bytes:
    document = docx.Document()
    document.sections[0].header.paragraphs[0].text = "Header words"
    document.sections[0].footer.paragraphs[0].text = "Footer words"
    document.add_heading("The heading", level=1)
    paragraph = document.add_paragraph("A sentence with ")
    paragraph.add_run("bold words").bold = True
    paragraph.add_run(" and an ")
    paragraph.add_run("italic end").italic = True
    paragraph.add_run(".")
    table = document.add_table(rows=2, cols=2)
    for r, row in enumerate(table.rows):
        for c, cell in enumerate(row.cells):
            cell.text = f"Cell {r} {c}"
    document.add_paragraph("2024")  # no letters: not a segment
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def make_pptx() -> bytes:
    presentation = pptx.Presentation()
    slide = presentation.slides.add_slide(presentation.slide_layouts[1])
    slide.shapes.title.text = "Slide title"
    frame = slide.placeholders[1].text_frame
    frame.text = "First point"
    paragraph = frame.add_paragraph()
    run = paragraph.add_run()
    run.text = "Second "
    run = paragraph.add_run()
    run.text = "point in bold"
    run.font.bold = True
    rows = slide.shapes.add_table(1, 2, Inches(1), Inches(5), Inches(4), Inches(1)).table
    rows.cell(0, 0).text = "Left cell"
    rows.cell(0, 1).text = "Right cell"
    slide.notes_slide.notes_text_frame.text = "Speaker notes here"
    out = io.BytesIO()
    presentation.save(out)
    return out.getvalue()


def make_xlsx() -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Data"
    sheet["A1"] = "Name"
    sheet["B1"] = "Amount"
    sheet["A2"] = "Cloud storage"
    sheet["B2"] = 12
    sheet["B3"] = "=SUM(B2:B2)"
    sheet["C1"] = 3.5
    second = workbook.create_sheet("Notes")
    second["A1"] = "A note on the numbers."
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def make_odt() -> bytes:
    document = OpenDocumentText()
    bold = Style(name="Bold", family="text")
    bold.addElement(TextProperties(fontweight="bold"))
    document.automaticstyles.addElement(bold)
    document.text.addElement(H(outlinelevel=1, text="Document heading"))
    paragraph = P(text="Plain start, ")
    paragraph.addElement(Span(stylename=bold, text="bold middle"))
    paragraph.addText(" and plain end.")
    document.text.addElement(paragraph)
    document.text.addElement(P(text="Another paragraph."))
    out = io.BytesIO()
    document.write(out)
    return out.getvalue()


def make_epub() -> bytes:
    book = epub.EpubBook()
    book.set_identifier("tafsiri-test")
    book.set_title("A test book")
    book.set_language("en")
    chapters = []
    for number in (1, 2):
        chapter = epub.EpubHtml(
            title=f"Chapter {number}", file_name=f"chapter{number}.xhtml", lang="en"
        )
        chapter.content = (
            f"<html><body><h1>Chapter {number}</h1><p>The <i>first</i> sentence. "
            f"The second one.</p></body></html>"
        )
        book.add_item(chapter)
        chapters.append(chapter)
    book.toc = chapters
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["nav", *chapters]
    out = io.BytesIO()
    epub.write_epub(out, book)
    return out.getvalue()


def make_pdf(pages: list[list[str]]) -> bytes:
    out = io.BytesIO()
    drawing = canvas.Canvas(out, pagesize=A4)
    for page in pages:
        y = 780
        for paragraph in page:
            drawing.drawString(72, y, paragraph)
            y -= 40  # a gap: a blank line in the extracted text
        drawing.showPage()
    drawing.save()
    return out.getvalue()


def encrypted_pdf() -> bytes:
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(make_pdf([["Secret text."]])))
    writer.encrypt("a password")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def encrypted_office(data: bytes) -> bytes:
    """A docx, pptx or xlsx protected with a password as Office protects it (Agile
    encryption in an OLE compound file), by the library that reads and writes them."""
    out = io.BytesIO()
    OOXMLFile(io.BytesIO(data)).encrypt("a password", out)
    return out.getvalue()


def encrypted_odt() -> bytes:
    """An OpenDocument text as LibreOffice saves one with a password: the same container,
    content.xml ciphertext, and the manifest declaring it (ODF 1.2 part 3, 3.8)."""
    data = make_odt()
    manifest = zipfile.ZipFile(io.BytesIO(data)).read("META-INF/manifest.xml").decode()
    entry = '<manifest:file-entry manifest:full-path="content.xml"'
    start = manifest.index(entry)
    end = manifest.index("/>", start)
    declared = (
        manifest[:end] + ' manifest:size="1024"><manifest:encryption-data'
        ' manifest:checksum-type="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0#sha256-1k"'
        ' manifest:checksum="AAAA"><manifest:algorithm'
        ' manifest:algorithm-name="http://www.w3.org/2001/04/xmlenc#aes256-cbc"'
        ' manifest:initialisation-vector="AAAA"/><manifest:key-derivation'
        ' manifest:key-derivation-name="PBKDF2" manifest:key-size="32"'
        ' manifest:iteration-count="100000" manifest:salt="AAAA"/>'
        "</manifest:encryption-data></manifest:file-entry>" + manifest[end + 2 :]
    )
    data = replace_entry(data, "META-INF/manifest.xml", declared.encode())
    return replace_entry(data, "content.xml", bytes(range(256)) * 4)


def blank_pdf(pages: int) -> bytes:
    writer = pypdf.PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=200, height=200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def replace_entry(container: bytes, name: str, data: bytes) -> bytes:
    """``container`` with entry ``name``'s contents replaced."""
    source = zipfile.ZipFile(io.BytesIO(container))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as written:
        for entry in source.infolist():
            written.writestr(entry, data if entry.filename == name else source.read(entry))
    return out.getvalue()


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:body><w:p><w:r><w:t>&lol4;</w:t></w:r></w:p></w:body></w:document>
"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:body><w:p><w:r><w:t>&xxe;</w:t></w:r></w:p></w:body></w:document>
"""


def zip_bomb(format_marker: str = "word/document.xml", unpacked: int = 60_000_000) -> bytes:
    """A zip with a docx's marker entry and one entry that inflates ``unpacked`` zero bytes
    (about 1000 to 1)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as written:
        written.writestr("[Content_Types].xml", b"<Types/>")
        written.writestr(format_marker, b"<document/>")
        written.writestr("word/media/bomb.bin", b"\0" * unpacked)
    return out.getvalue()
