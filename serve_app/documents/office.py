"""Container formats: docx (python-docx), pptx (python-pptx), xlsx (openpyxl), odt and epub
(their XML read with lxml inside the zip, every other entry copied as it was), and pdf in
(pypdf) with text or docx (python-docx) out.

Every container has passed :func:`~serve_app.documents.safety.open_zip` and
:func:`~serve_app.documents.safety.check_all` before a library opens it.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from collections.abc import Iterable, Iterator

import docx
import openpyxl
import pptx
import pypdf
from docx.opc.part import XmlPart
from lxml import etree

from serve_app.documents.errors import DocumentError, invalid, too_large
from serve_app.documents.safety import parse_xml, read_entry, rewrite_zip
from serve_app.documents.segments import Visit, visit_runs, visit_text
from serve_app.documents.text_formats import walk_html

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
A = "http://schemas.openxmlformats.org/drawingml/2006/main"
XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"


def _paragraph_runs(
    root: etree._Element, paragraph: str, text: str
) -> Iterator[tuple[etree._Element, list[etree._Element]]]:
    """Each ``paragraph`` element under ``root`` with its own ``text`` elements (not those of
    a paragraph nested in it, such as a text box's). One pass over the text elements, each
    to its nearest paragraph: walking every paragraph's texts, nested ones included, cost
    depth times texts (a part nested 120 deep: ~150 s a megabyte)."""
    own: dict[etree._Element, list[etree._Element]] = {}
    for t in root.iter(text):
        p = next(t.iterancestors(paragraph), None)
        if p is not None:
            own.setdefault(p, []).append(t)
    for p in root.iter(paragraph):
        if p in own:
            yield p, own[p]


def _visit_paragraphs(root: etree._Element, namespace: str, visit: Visit) -> None:
    for _, texts in _paragraph_runs(root, f"{{{namespace}}}p", f"{{{namespace}}}t"):
        translated = visit_runs([t.text or "" for t in texts], visit)
        for t, value in zip(texts, translated, strict=True):
            if value != (t.text or ""):
                t.text = value
                if namespace == W:
                    t.set(XML_SPACE, "preserve")


# Parts of a Word file with text a reader sees: body, headers, footers, notes, comments.
_WORD_PARTS = (
    "/word/document",
    "/word/header",
    "/word/footer",
    "/word/footnotes",
    "/word/endnotes",
    "/word/comments",
)


def walk_docx(data: bytes, visit: Visit, write: bool = True) -> bytes:
    try:
        document = docx.Document(io.BytesIO(data))
    except (ValueError, KeyError, zipfile.BadZipFile, etree.XMLSyntaxError) as exc:
        raise invalid(f"the Word document cannot be read ({exc})") from exc
    for part in document.part.package.iter_parts():
        if isinstance(part, XmlPart) and str(part.partname).startswith(_WORD_PARTS):
            _visit_paragraphs(part.element, W, visit)
    if not write:
        return b""
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def walk_pptx(data: bytes, visit: Visit, write: bool = True) -> bytes:
    try:
        presentation = pptx.Presentation(io.BytesIO(data))
    except (ValueError, KeyError, zipfile.BadZipFile, etree.XMLSyntaxError) as exc:
        raise invalid(f"the presentation cannot be read ({exc})") from exc
    for slide in presentation.slides:
        _visit_paragraphs(slide.element, A, visit)  # shapes, groups, tables
        if slide.has_notes_slide:
            _visit_paragraphs(slide.notes_slide.element, A, visit)
    if not write:
        return b""
    out = io.BytesIO()
    presentation.save(out)
    return out.getvalue()


def walk_xlsx(data: bytes, visit: Visit, write: bool = True) -> bytes:
    """Every cell holding text (not formulas, numbers or dates); sheet names stay, since
    formulas refer to them."""
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data))
    except (ValueError, KeyError, zipfile.BadZipFile, etree.XMLSyntaxError, OSError) as exc:
        raise invalid(f"the workbook cannot be read ({exc})") from exc
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "s" and isinstance(cell.value, str):
                    cell.value = visit_text(cell.value, visit)
    if not write:
        return b""
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# --- OpenDocument text: text:p and text:h in content.xml (and styles.xml: headers, footers).

TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_ODF_PARAGRAPHS = {f"{{{TEXT}}}p", f"{{{TEXT}}}h"}


def _odf_slots(paragraph: etree._Element) -> list[tuple[etree._Element, str]]:
    """Where a paragraph's own text sits: (element, "text" or "tail"), in reading order; a
    paragraph nested in it (a note's body) is its own paragraph."""
    slots: list[tuple[etree._Element, str]] = [(paragraph, "text")]

    def walk(element: etree._Element) -> None:
        for child in element:
            if not isinstance(child.tag, str):  # comments, processing instructions
                slots.append((child, "tail"))
                continue
            if child.tag not in _ODF_PARAGRAPHS:
                slots.append((child, "text"))
                walk(child)
            slots.append((child, "tail"))

    walk(paragraph)
    return [(element, where) for element, where in slots if getattr(element, where)]


def _visit_odf(root: etree._Element, visit: Visit) -> None:
    for paragraph in [e for e in root.iter() if e.tag in _ODF_PARAGRAPHS]:
        slots = _odf_slots(paragraph)
        if not slots:
            continue
        translated = visit_runs([getattr(e, where) for e, where in slots], visit)
        for (element, where), value in zip(slots, translated, strict=True):
            setattr(element, where, value)


def walk_odt(archive: zipfile.ZipFile, visit: Visit, write: bool = True) -> bytes:
    replaced: dict[str, bytes] = {}
    for name in ("content.xml", "styles.xml"):
        if name in archive.namelist():
            root = parse_xml(read_entry(archive, name, "OpenDocument text"), name)
            _visit_odf(root, visit)
            if write:
                replaced[name] = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return rewrite_zip(archive, replaced) if write else b""


# --- EPUB: the XHTML documents the package's manifest lists, through the HTML walk.

_CONTAINER = "urn:oasis:names:tc:opendocument:xmlns:container"
_OPF = "http://www.idpf.org/2007/opf"


def _epub_documents(archive: zipfile.ZipFile) -> Iterable[str]:
    container = parse_xml(read_entry(archive, "META-INF/container.xml", "EPUB"), "container")
    rootfile = container.find(f".//{{{_CONTAINER}}}rootfile")
    if rootfile is None or not rootfile.get("full-path"):
        raise invalid("the EPUB's container.xml names no package document")
    opf_path = str(rootfile.get("full-path"))
    package = parse_xml(read_entry(archive, opf_path, "EPUB"), opf_path)
    base = posixpath.dirname(opf_path)
    for item in package.iter(f"{{{_OPF}}}item"):
        if item.get("media-type") == "application/xhtml+xml" and item.get("href"):
            yield posixpath.normpath(posixpath.join(base, str(item.get("href"))))


def walk_epub(archive: zipfile.ZipFile, visit: Visit, write: bool = True) -> bytes:
    replaced = {}
    for name in _epub_documents(archive):
        data = read_entry(archive, name, "EPUB")
        try:
            source = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise invalid(f"{name!r} in the EPUB is not UTF-8") from exc
        replaced[name] = walk_html(source, visit).encode("utf-8")
    return rewrite_zip(archive, replaced) if write else b""


# --- PDF in: its text by page and paragraph (layout is not kept: the output is text or docx).


def pdf_paragraphs(data: bytes, max_pages: int) -> list[list[str]]:
    """Each page's paragraphs (lines joined; a blank line ends a paragraph)."""
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError(
                422, "DOCUMENT_ENCRYPTED", "the PDF is password-protected; upload it unlocked"
            )
        count = len(reader.pages)
        if count > max_pages:
            raise too_large(f"the PDF has {count} pages, more than the {max_pages} allowed")
        pages = []
        for page in reader.pages:
            # Layout mode keeps the vertical gaps between paragraphs as blank lines.
            text = page.extract_text(extraction_mode="layout") or ""
            paragraphs, current = [], []
            for line in text.splitlines():
                if line.strip():
                    current.append(line.strip())
                elif current:
                    paragraphs.append(" ".join(current))
                    current = []
            if current:
                paragraphs.append(" ".join(current))
            pages.append(paragraphs)
    except DocumentError:
        raise
    except pypdf.errors.FileNotDecryptedError as exc:
        raise DocumentError(
            422, "DOCUMENT_ENCRYPTED", "the PDF is password-protected; upload it unlocked"
        ) from exc
    except (pypdf.errors.PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise invalid(f"the PDF cannot be read ({type(exc).__name__}: {exc})") from exc
    return pages


def walk_pdf(data: bytes, visit: Visit, max_pages: int, output: str, write: bool = True) -> bytes:
    pages = [
        [visit_text(paragraph, visit) for paragraph in page]
        for page in pdf_paragraphs(data, max_pages)
    ]
    if not write:
        return b""
    if output == "txt":
        return "\n\n\f".join("\n\n".join(page) for page in pages).encode("utf-8")
    document = docx.Document()
    for number, page in enumerate(pages):
        if number:
            document.add_page_break()  # type: ignore[no-untyped-call]
        for paragraph in page:
            document.add_paragraph(paragraph)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
