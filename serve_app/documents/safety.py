"""Checks an upload passes before any library opens it.

- **Zip containers** (docx, pptx, xlsx, odt, epub) are measured from their central directory
  before anything is unpacked: entry count, total unpacked bytes and each entry's compression
  ratio have limits, so a zip bomb is refused without being inflated. Reading an entry is then
  bounded by its declared size (``zipfile`` checks the size and CRC as it inflates).
- **Password-protected files** answer 422, not "damaged": Office writes a protected docx,
  pptx or xlsx as an OLE compound file holding the encrypted package (MS-OFFCRYPTO), and an
  OpenDocument file declares its encrypted entries in its manifest.
- **XML** parts of a container are read by expat first, with the handlers ``defusedxml`` sets:
  a document type with entity declarations (billion laughs, quadratic blowup) or external
  references (XXE) is refused.
  The parser this package then uses (:func:`xml_parser`) resolves no entities and reads no
  network or DTD either, as a second wall.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from typing import Any
from xml.parsers import expat

import olefile
from lxml import etree

from serve_app.documents.errors import DocumentError, invalid, too_large

# The first bytes of an OLE compound file (also the legacy .doc, .xls and .ppt).
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ODF_MANIFEST = "META-INF/manifest.xml"
_ODF_MANIFEST_NS = "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"
# Parts of a container read as XML (and so checked for entity declarations).
XML_SUFFIXES = (".xml", ".rels", ".xhtml", ".html", ".htm", ".opf", ".ncx", ".svg")


@dataclass(frozen=True)
class ZipLimits:
    max_entries: int
    max_unpacked_bytes: int
    max_ratio: float


def open_zip(data: bytes, limits: ZipLimits, what: str) -> zipfile.ZipFile:
    """``data`` as a zip archive whose central directory passes ``limits``."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise invalid(f"the {what} is not a readable zip container (damaged or cut off)") from exc
    entries = archive.infolist()
    if len(entries) > limits.max_entries:
        raise too_large(
            f"the {what} holds {len(entries)} files, more than the {limits.max_entries} allowed"
        )
    unpacked = sum(entry.file_size for entry in entries)
    if unpacked > limits.max_unpacked_bytes:
        raise too_large(
            f"the {what} unpacks to {unpacked} bytes, more than the "
            f"{limits.max_unpacked_bytes} allowed (a zip bomb, or a document too large)"
        )
    for entry in entries:
        # Small entries may compress very well (a run of spaces); only big ones are suspect.
        ratio = entry.file_size / max(entry.compress_size, 1)
        if entry.file_size > 1_000_000 and ratio > limits.max_ratio:
            raise too_large(
                f"{entry.filename!r} in the {what} is compressed {ratio:.0f} to 1, more than "
                f"the {limits.max_ratio:.0f} allowed (a zip bomb)"
            )
        if entry.flag_bits & 0x1:
            raise encrypted(what)
    return archive


def encrypted(what: str) -> DocumentError:
    return DocumentError(
        422, "DOCUMENT_ENCRYPTED", f"the {what} is password-protected: upload it without one"
    )


def is_encrypted_office(data: bytes) -> bool:
    """Whether ``data`` is a password-protected docx, pptx or xlsx: an OLE compound file with
    the ``EncryptionInfo`` and ``EncryptedPackage`` streams (MS-OFFCRYPTO 2.3.4)."""
    if not data.startswith(OLE_SIGNATURE):
        return False
    try:
        with olefile.OleFileIO(data) as ole:
            return bool(ole.exists("EncryptionInfo") and ole.exists("EncryptedPackage"))
    except Exception:  # a damaged compound file is not an encrypted package (then 415)
        return False


def refuse_encrypted_odf(archive: zipfile.ZipFile, what: str) -> None:
    """422 for an OpenDocument file whose manifest declares encrypted entries (ODF 1.2,
    part 3, 3.8): their bytes are ciphertext, which would otherwise read as damaged XML."""
    if _ODF_MANIFEST not in archive.namelist():
        return
    manifest = parse_xml(read_entry(archive, _ODF_MANIFEST, what), f"the {what}'s manifest")
    if manifest.find(f".//{{{_ODF_MANIFEST_NS}}}encryption-data") is not None:
        raise encrypted(what)


def read_entry(archive: zipfile.ZipFile, name: str, what: str) -> bytes:
    """One entry's bytes; XML entries are checked by :func:`check_xml` first."""
    try:
        data = archive.read(name)
    except KeyError as exc:
        raise invalid(f"the {what} has no {name!r}") from exc
    except (zipfile.BadZipFile, EOFError, OSError, zipfile.LargeZipFile) as exc:
        raise invalid(f"{name!r} in the {what} is damaged ({exc})") from exc
    if name.lower().endswith(XML_SUFFIXES):
        check_xml(data, f"{name!r} in the {what}")
    return data


def check_all(archive: zipfile.ZipFile, what: str) -> None:
    """Every entry inflates as declared and every XML entry is free of entity declarations:
    done before a library that reads the container itself (python-docx, openpyxl) opens it."""
    for entry in archive.infolist():
        if not entry.is_dir():
            read_entry(archive, entry.filename, what)


class _DeclaredError(Exception):
    """An entity declaration or external reference met while checking XML."""


def _refuse(*_: object) -> Any:
    raise _DeclaredError


def check_xml(data: bytes, what: str) -> None:
    """Refuses XML that declares entities (billion laughs, quadratic blowup) or refers to
    external ones (XXE): expat with the handlers defusedxml sets, and no tree built."""
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.EntityDeclHandler = _refuse
    parser.UnparsedEntityDeclHandler = _refuse
    parser.ExternalEntityRefHandler = _refuse
    try:
        parser.Parse(data, True)
    except _DeclaredError as exc:
        raise invalid(
            f"{what} declares XML entities or external references, which are refused "
            "(entity expansion and XXE)"
        ) from exc
    except expat.ExpatError as exc:
        raise invalid(f"{what} is not well-formed XML ({exc})") from exc
    except (LookupError, ValueError) as exc:  # an encoding expat cannot read: not a 500
        raise invalid(f"{what} declares an encoding that cannot be read ({exc})") from exc


def xml_parser() -> etree.XMLParser:
    """lxml's parser as every XML part is read here: no entities, DTDs or network."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def parse_xml(data: bytes, what: str) -> etree._Element:
    check_xml(data, what)
    try:
        return etree.fromstring(data, xml_parser())
    except etree.XMLSyntaxError as exc:
        raise invalid(f"{what} is not well-formed XML ({exc})") from exc


def rewrite_zip(archive: zipfile.ZipFile, replaced: dict[str, bytes]) -> bytes:
    """The archive again, entry by entry in the same order and compression, with the entries
    in ``replaced`` given new contents (so an EPUB's stored ``mimetype`` stays first)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as written:
        for entry in archive.infolist():
            data = replaced.get(entry.filename)
            if data is None:
                data = archive.read(entry.filename)
            written.writestr(entry, data, compress_type=entry.compress_type)
    return out.getvalue()
