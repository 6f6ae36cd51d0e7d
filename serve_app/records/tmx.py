"""A translation memory as TMX 1.4b, both ways: units read from a client's file, and a
memory written as one.

Reading goes through the documents' XML guard (:func:`serve_app.documents.safety.check_xml`:
entity declarations and external references refused, no tree built) and then lxml with the
same settings as :func:`serve_app.documents.safety.xml_parser` (no entities, DTD or network;
no huge trees), as a pull parser: units are taken one by one and dropped once read, so a
file of millions of tiny units is refused at the first unit past the limit instead of
being built whole.

Languages are BCP 47 tags in TMX (``en``, ``en-US``, ``zh-Hant``) and FLORES-200 codes
inside; a variant in a language this service does not know is left out (and a unit left
with fewer than two languages is skipped, and counted).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from lxml import etree

from serve_app import __version__
from serve_app.documents.errors import DocumentError
from serve_app.documents.safety import check_xml
from serve_app.engines.languages import LanguageDatabase
from serve_app.engines.memory import MemoryFileError, MemoryLimits, MemoryUnit

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# Inline elements whose content is the original format's code, not text (TMX 1.4b, 3.7).
_CODE_ELEMENTS = frozenset({"bpt", "ept", "it", "ph", "ut"})
_CHUNK = 1 << 20
# What XML 1.0 cannot hold (a correction filed under a memory may: U+FFFE, U+FFFF, ...).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class ReadMemory:
    units: list[MemoryUnit]
    # Units left out: fewer than two languages this service knows, or a segment too long.
    skipped: int


def language_of(tag: str, languages: LanguageDatabase) -> str | None:
    """The FLORES-200 code of a BCP 47 tag (``en-US``: English; ``sr-Latn``: Serbian in
    Latin script), or of a FLORES-200 code itself; None when unknown."""
    exact = languages.try_normalize(tag)
    if exact is not None:
        return exact
    subtags = tag.replace("_", "-").split("-")
    primary = languages.try_normalize(subtags[0])
    if primary is None:
        return None
    for subtag in subtags[1:]:
        if len(subtag) == 4 and subtag.isalpha():  # a script
            scripted = f"{primary.split('_')[0]}_{subtag.title()}"
            if scripted in languages:
                return scripted
    return primary


def tag_of(code: str, languages: LanguageDatabase) -> str:
    """The BCP 47 tag a FLORES-200 code is written as (``swh_Latn``: ``sw``; ``zho_Hant``:
    ``zh-Hant``): the shortest that reads back as the same code."""
    language = languages.get(code)
    primary = language.iso639_1 or language.iso639_3
    for tag in (primary, f"{primary}-{language.script}"):
        if language_of(tag, languages) == code:
            return tag
    return code.replace("_", "-")


def _segment_text(segment: etree._Element) -> str:
    """A ``<seg>``'s text: inline code elements (``<bpt>``, ``<ph>``, ...) left out, the
    text of highlighting (``<hi>``) and whatever follows each element kept."""
    parts = [segment.text or ""]
    for child in segment:
        if isinstance(child.tag, str) and etree.QName(child).localname not in _CODE_ELEMENTS:
            parts.append(_segment_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _unit(
    element: etree._Element, languages: LanguageDatabase, limits: MemoryLimits
) -> MemoryUnit | None:
    variants: dict[str, str] = {}
    for variant in element.iterfind("tuv"):
        tag = variant.get(XML_LANG) or variant.get("lang") or ""
        code = language_of(tag, languages) if tag else None
        segment = variant.find("seg")
        if code is None or segment is None:
            continue
        text = _segment_text(segment).strip()
        if len(text) > limits.max_segment_chars:
            return None
        if text:
            variants.setdefault(code, text)
    return MemoryUnit(tuple(variants.items())) if len(variants) >= 2 else None


def read_tmx(data: bytes, languages: LanguageDatabase, limits: MemoryLimits) -> ReadMemory:
    """The units of a TMX file; :class:`MemoryFileError` for a file that is not TMX, is
    hostile, or holds more than ``limits.max_units`` units (refused at the first one
    past)."""
    try:
        check_xml(data, "the TMX file")
    except DocumentError as exc:
        raise MemoryFileError(exc.message) from exc
    except (LookupError, ValueError) as exc:  # e.g. an encoding no codec reads
        raise MemoryFileError(f"the TMX file cannot be read ({exc})") from exc
    parser = etree.XMLPullParser(
        events=("start", "end"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
    )
    units: list[MemoryUnit] = []
    seen = skipped = 0
    root: etree._Element | None = None
    try:
        for start in range(0, max(len(data), 1), _CHUNK):
            parser.feed(data[start : start + _CHUNK])
            for event, found in parser.read_events():
                if not isinstance(found, etree._Element):
                    continue  # (only elements are asked for)
                element = found
                if root is None:
                    root = element
                    if element.tag != "tmx":
                        raise MemoryFileError(
                            f"not a TMX file: the root element is <{element.tag}>, not <tmx>"
                        )
                if event != "end" or element.tag != "tu":
                    continue
                seen += 1
                if seen > limits.max_units:
                    raise MemoryFileError(
                        f"the file holds more than {limits.max_units} units, the most a memory may",
                        too_large=True,
                    )
                unit = _unit(element, languages, limits)
                if unit is None:
                    skipped += 1
                else:
                    units.append(unit)
                # What was read is dropped: the tree never grows past one unit.
                element.clear()
                parent = element.getparent()
                if parent is not None:
                    while element.getprevious() is not None:
                        del parent[0]
        parser.close()
    except MemoryFileError:
        raise
    except etree.XMLSyntaxError as exc:
        raise MemoryFileError(f"the TMX file is not well-formed XML ({exc})") from exc
    except (LookupError, ValueError) as exc:
        raise MemoryFileError(f"the TMX file cannot be read ({exc})") from exc
    if root is None:
        raise MemoryFileError("the file is empty")
    return ReadMemory(units, skipped)


def write_tmx(units: Iterable[MemoryUnit], languages: LanguageDatabase) -> bytes:
    """``units`` as a TMX 1.4b file (UTF-8; every language may be a source: ``*all*``); a
    character XML cannot hold is written as U+FFFD."""
    root = etree.Element("tmx", version="1.4")
    etree.SubElement(
        root,
        "header",
        creationtool="Tafsiri",
        creationtoolversion=__version__,
        datatype="plaintext",
        segtype="sentence",
        adminlang="en",
        srclang="*all*",
        attrib={"o-tmf": "Tafsiri"},
    )
    body = etree.SubElement(root, "body")
    tags: dict[str, str] = {}
    for unit in units:
        element = etree.SubElement(body, "tu")
        for code, text in unit.variants:
            if code not in tags:
                tags[code] = tag_of(code, languages)
            variant = etree.SubElement(element, "tuv", attrib={XML_LANG: tags[code]})
            etree.SubElement(variant, "seg").text = _NOT_XML.sub("\ufffd", text)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))
