"""XLIFF 1.2 and 2.x: each source translated into its target beside it.

The file is read by the guarded parser (:func:`~serve_app.documents.safety.parse_xml`: no
entity declarations, no external references). Everything but the targets stays: notes,
groups, ids, units marked ``translate="no"`` (on the unit or a group or file around it),
XLIFF 1.2 ``<bin-unit>`` and 2.x ``<ignorable>``. Inline codes are codes of the message:
1.2 ``<g>`` and ``<mrk>``, 2.x ``<pc>`` and ``<mrk>`` travel as pairs around their
translated content; ``<x/>``, ``<bx/>``, ``<ex/>``, ``<ph>``, ``<bpt>``, ``<ept>``, ``<it>``,
2.x ``<ph/>``, ``<sc/>``, ``<ec/>``, ``<cp/>`` and protected ``<mrk>`` are copied whole.

The file names its target (1.2 ``target-language`` on each ``<file>``, 2.x ``trgLang``).
A translation is ``state="translated"``; one below ``min_quality`` or that lost a code (then
the source stands in) is 1.2 ``state="needs-review-translation"``, 2.x ``state="initial"``
with ``subState="tafsiri:needs-review"`` (2.x has no review state below ``reviewed``). A
file already in the target language keeps its translated targets.
"""

from __future__ import annotations

from lxml import etree

from serve_app.documents.errors import DocumentError
from serve_app.documents.messages import Messages, element_message, fill_element
from serve_app.documents.safety import parse_xml

NS_12 = "urn:oasis:names:tc:xliff:document:1.2"
NS_20 = "urn:oasis:names:tc:xliff:document:2.0"
NS_21 = "urn:oasis:names:tc:xliff:document:2.1"
_PAIRED = frozenset({"g", "mrk", "pc"})
# Targets a file in the target language already holds, kept as they are.
_DONE_12 = frozenset({"translated", "signed-off", "final"})
_DONE_2 = frozenset({"translated", "reviewed", "final"})
REVIEW_SUBSTATE = "tafsiri:needs-review"


def _paired(element: etree._Element) -> bool:
    name = etree.QName(element).localname
    if name == "mrk":  # a protected span is kept whole, as is one of 2.x's translate="no"
        return element.get("mtype") != "protected" and element.get("translate") != "no"
    return name in _PAIRED


def _translatable(element: etree._Element) -> bool:
    """Whether ``element`` and every element around it allow translation."""
    return all(node.get("translate") != "no" for node in (element, *element.iterancestors()))


def _add_after(element: etree._Element, tag: str) -> etree._Element:
    """A new ``tag`` element right after ``element``, indented as ``element`` is."""
    added = etree.Element(tag)
    before = element.getprevious()
    indent = before.tail if before is not None else element.getparent().text  # type: ignore[union-attr]
    element.addnext(added)
    added.tail, element.tail = element.tail, indent
    return added


def walk_xliff(data: bytes, messages: Messages, write: bool) -> bytes:
    root = parse_xml(data, "XLIFF file")
    namespace = etree.QName(root).namespace
    if etree.QName(root).localname != "xliff" or namespace not in (NS_12, NS_20, NS_21):
        raise DocumentError(
            415,
            "DOCUMENT_TYPE_MISMATCH",
            "the file is named as XLIFF but its root is not an XLIFF 1.2 or 2.x <xliff>",
        )
    if namespace == NS_12:
        _walk_12(root, messages)
    else:
        _walk_2(root, messages, namespace)
    if not write:
        return b""
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def _walk_12(root: etree._Element, messages: Messages) -> None:
    language = messages.locale()
    for file in root.iter(f"{{{NS_12}}}file"):
        already = file.get("target-language") == language
        file.set("target-language", language)
        for unit in file.iter(f"{{{NS_12}}}trans-unit"):
            source = unit.find(f"{{{NS_12}}}source")
            if source is None or not _translatable(unit):
                continue
            target = unit.find(f"{{{NS_12}}}target")
            if already and target is not None and target.get("state") in _DONE_12:
                continue
            done = messages.translate(element_message(source, _paired))
            if target is None:
                anchor = unit.find(f"{{{NS_12}}}seg-source")
                target = _add_after(anchor if anchor is not None else source, f"{{{NS_12}}}target")
            fill_element(target, done.message)
            target.set("state", "needs-review-translation" if done.review else "translated")


def _walk_2(root: etree._Element, messages: Messages, namespace: str) -> None:
    language = messages.locale()
    already = root.get("trgLang") == language
    root.set("trgLang", language)
    for segment in root.iter(f"{{{namespace}}}segment"):
        source = segment.find(f"{{{namespace}}}source")
        if source is None or not _translatable(segment):
            continue
        target = segment.find(f"{{{namespace}}}target")
        if already and target is not None and segment.get("state") in _DONE_2:
            continue
        done = messages.translate(element_message(source, _paired))
        if target is None:
            target = _add_after(source, f"{{{namespace}}}target")
        fill_element(target, done.message)
        if done.review:
            segment.set("state", "initial")
            segment.set("subState", REVIEW_SUBSTATE)
        else:
            segment.set("state", "translated")
            if segment.get("subState") == REVIEW_SUBSTATE:
                del segment.attrib["subState"]
