"""The formats, what a file must look like to be one, and the two operations on a file:
its :func:`segments` and its :func:`render` from their translations."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import PurePath

from serve_app.documents import (
    android,
    apple,
    gettext,
    office,
    structured,
    text_formats,
    xliff,
)
from serve_app.documents.errors import DocumentError, invalid, too_large
from serve_app.documents.messages import Messages, Target
from serve_app.documents.safety import (
    ZipLimits,
    check_all,
    encrypted,
    is_encrypted_office,
    open_zip,
    refuse_encrypted_odf,
)
from serve_app.documents.segments import Visit

TEXT_FORMATS = {
    "txt": text_formats.walk_txt,
    "md": text_formats.walk_markdown,
    "html": text_formats.walk_html,
    "srt": text_formats.walk_srt,
    "vtt": text_formats.walk_vtt,
}
# Software localization files: written for their target language (a Target).
MESSAGE_FORMATS: dict[str, Callable[[bytes, Messages, bool], bytes]] = {
    "po": gettext.walk_po,
    "pot": gettext.walk_po,
    "xlf": xliff.walk_xliff,
    "xml": android.walk_android,
    "json": structured.walk_json,
    "yaml": structured.walk_yaml,
    "arb": structured.walk_arb,
    "strings": apple.walk_strings,
    "xcstrings": apple.walk_xcstrings,
}
ZIP_FORMATS = ("docx", "pptx", "xlsx", "odt", "epub")
FORMATS = (*TEXT_FORMATS, *MESSAGE_FORMATS, *ZIP_FORMATS, "pdf")
# Names a file may carry for a format.
_EXTENSIONS = {
    "htm": "html",
    "xhtml": "html",
    "markdown": "md",
    "text": "txt",
    "xliff": "xlf",
    "yml": "yaml",
}
# What each format may be written as: its own format first (the default).
OUTPUT_FORMATS = {name: (name,) for name in FORMATS} | {"pdf": ("txt", "docx")} | {"pot": ("po",)}
MEDIA_TYPES = {
    "txt": "text/plain; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "srt": "application/x-subrip; charset=utf-8",
    "vtt": "text/vtt; charset=utf-8",
    "po": "text/x-gettext-translation; charset=utf-8",
    "xlf": "application/xliff+xml",
    "xml": "application/xml",
    # A file, not an API answer: JSON with its charset (the API's own answers are models).
    "json": "application/json; charset=utf-8",
    "yaml": "application/yaml; charset=utf-8",
    "arb": "application/json; charset=utf-8",
    "strings": "text/plain",
    "xcstrings": "application/json; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "odt": "application/vnd.oasis.opendocument.text",
    "epub": "application/epub+zip",
    "pdf": "application/pdf",
}
# What each format is called in messages, which say "the Word document holds ...".
_NAMES = {
    "docx": "Word document",
    "pptx": "PowerPoint presentation",
    "xlsx": "Excel workbook",
    "odt": "OpenDocument text",
    "epub": "EPUB book",
    "pdf": "PDF",
}
# The entry (or mimetype) that makes a zip one of the office formats.
_ZIP_MARKERS = {
    "docx": "word/document.xml",
    "pptx": "ppt/presentation.xml",
    "xlsx": "xl/workbook.xml",
}
_ODF_MIMETYPES = {
    "odt": b"application/vnd.oasis.opendocument.text",
    "epub": b"application/epub+zip",
}


@dataclass(frozen=True)
class DocumentLimits:
    """What an upload may be; each limit answers 413 (docs/documents.md)."""

    max_bytes: int = 20 * 1024 * 1024
    max_unpacked_bytes: int = 200 * 1024 * 1024
    max_compression_ratio: float = 100.0
    max_entries: int = 10_000
    max_segments: int = 10_000
    max_characters: int = 1_000_000
    max_pdf_pages: int = 500

    @property
    def zip(self) -> ZipLimits:
        return ZipLimits(self.max_entries, self.max_unpacked_bytes, self.max_compression_ratio)


def format_of_name(filename: str) -> str:
    extension = PurePath(filename).suffix.lower().lstrip(".")
    name = _EXTENSIONS.get(extension, extension)
    if name not in FORMATS:
        raise DocumentError(
            415,
            "UNSUPPORTED_DOCUMENT_TYPE",
            f"{filename!r}: documents are one of {', '.join(FORMATS)} (by file extension)",
        )
    return name


def sniff_format(data: bytes, filename: str) -> str:
    """The format ``filename`` names, checked against what ``data`` is: a file that says
    .docx and is a PDF, or text that is binary, is refused (415)."""
    name = format_of_name(filename)
    is_zip = data.startswith(b"PK\x03\x04")
    is_pdf = data.lstrip()[:5] == b"%PDF-"
    if name in ZIP_FORMATS:
        if not is_zip:
            if name in _ZIP_MARKERS and is_encrypted_office(data):
                raise encrypted(_NAMES[name])
            raise _lies(filename, name, "is not a zip container")
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
            names = set(archive.namelist())
            marker = _ZIP_MARKERS.get(name)
            if marker is not None:
                ok = marker in names
            else:
                ok = (
                    "mimetype" in names and archive.read("mimetype").strip() == _ODF_MIMETYPES[name]
                )
        except (zipfile.BadZipFile, ValueError, KeyError, OSError) as exc:
            raise invalid(
                f"{filename!r} is not a readable zip container (damaged or cut off)"
            ) from exc
        if not ok:
            raise _lies(filename, name, "is a zip of something else")
    elif name == "pdf":
        if not is_pdf:
            raise _lies(filename, name, "does not start as a PDF does")
    elif is_zip or is_pdf:
        raise _lies(filename, name, f"is a {'PDF' if is_pdf else 'zip container'}, not text")
    return name


def _lies(filename: str, name: str, how: str) -> DocumentError:
    kind = _NAMES.get(name)
    what = f"{'an' if kind[0] in 'AEIOU' else 'a'} {kind}" if kind else f"{name} text"
    return DocumentError(
        415, "DOCUMENT_TYPE_MISMATCH", f"{filename!r} is named as {what} but {how}"
    )


def _walk(
    data: bytes,
    name: str,
    visit: Visit,
    limits: DocumentLimits,
    output: str,
    write: bool,
    target: Target | None,
) -> bytes:
    """``visit`` over every segment of the file; the file rewritten with what it returned as
    ``output``, or ``b""`` without ``write`` (reading only: nothing is serialised)."""
    if len(data) > limits.max_bytes:
        raise too_large(f"the file is {len(data)} bytes, more than the {limits.max_bytes} allowed")
    if name in MESSAGE_FORMATS:
        if target is None:
            raise ValueError(f"a {name} file is read and written for a target language")
        return MESSAGE_FORMATS[name](data, Messages(visit, target), write)
    if name in TEXT_FORMATS:
        text, encoding = text_formats.decode(data, f"{name} file")
        rewritten = TEXT_FORMATS[name](text, visit)
        return rewritten.encode(encoding) if write else b""
    if name == "pdf":
        return office.walk_pdf(data, visit, limits.max_pdf_pages, output, write)
    archive = open_zip(data, limits.zip, _NAMES[name])
    if name == "odt":
        refuse_encrypted_odf(archive, _NAMES[name])
    check_all(archive, _NAMES[name])
    if name == "odt":
        return office.walk_odt(archive, visit, write)
    if name == "epub":
        return office.walk_epub(archive, visit, write)
    walks = {"docx": office.walk_docx, "pptx": office.walk_pptx, "xlsx": office.walk_xlsx}
    return walks[name](data, visit, write)


def output_format(name: str, asked: str | None) -> str:
    """What a ``name`` document is written as: ``asked`` (400 unless one of
    ``OUTPUT_FORMATS[name]``), else its own format."""
    written = asked or OUTPUT_FORMATS[name][0]
    if written not in OUTPUT_FORMATS[name]:
        raise DocumentError(
            400,
            "UNSUPPORTED_OUTPUT_FORMAT",
            f"a {name} document is written as {' or '.join(OUTPUT_FORMATS[name])}",
        )
    return written


def segments(
    data: bytes, name: str, limits: DocumentLimits | None = None, target: Target | None = None
) -> list[str]:
    """Every translatable piece of the file, in order, as an HTML snippet. A localization
    file (``MESSAGE_FORMATS``) has its ``target``'s plural forms: that target is needed."""
    limits = limits or DocumentLimits()
    found: list[str] = []
    characters = 0

    def collect(segment: str) -> str:
        nonlocal characters
        found.append(segment)
        characters += len(segment)
        if len(found) > limits.max_segments:
            raise too_large(
                f"the document has more than {limits.max_segments} segments (paragraphs, "
                "cells, cues), the most one job takes"
            )
        if characters > limits.max_characters:
            raise too_large(
                f"the document has more than {limits.max_characters} characters of text"
            )
        return segment

    _walk(data, name, collect, limits, OUTPUT_FORMATS[name][0], write=False, target=target)
    return found


def render(
    data: bytes,
    name: str,
    translations: Sequence[str],
    limits: DocumentLimits | None = None,
    output: str | None = None,
    target: Target | None = None,
) -> bytes:
    """The file with its :func:`segments` replaced by ``translations`` (same order), written
    as ``output`` (one of ``OUTPUT_FORMATS[name]``; its own format by default); a
    localization file for ``target`` (the one its segments were read for)."""
    output = output_format(name, output)
    remaining: Iterator[str] = iter(translations)

    def replace(_: str) -> str:
        try:
            return next(remaining)
        except StopIteration:
            raise ValueError("fewer translations than the document has segments") from None

    rendered = _walk(
        data, name, replace, limits or DocumentLimits(), output, write=True, target=target
    )
    if next(remaining, None) is not None:
        raise ValueError("more translations than the document has segments")
    return rendered
