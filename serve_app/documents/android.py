"""Android string resources (``res/values/strings.xml``): ``<string>``, ``<plurals>`` and
``<string-array>`` translated in place.

Read by the guarded parser (:func:`~serve_app.documents.safety.parse_xml`). Names, comments,
attributes and order stay; ``translatable="false"`` resources are kept as they are (Android
reads them from the default file, but a copy does no harm). A string's markup (``<b>``,
``<i>``, ``<u>``, ``<a>``, ``<font>``, ``<annotation>``) travels as pairs around their
translated text, ``<xliff:g>`` (text that is not to be translated) whole; format
arguments (``%1$s``, ``%d``) and escapes (``\\n``, ``\\t``, ``\\u00A0``) are codes, and
``\\'``, ``\\"``, ``\\@`` are the characters they stand for, escaped again when written.

``<plurals>`` get the target's CLDR quantities (Russian ``one``, ``few``, ``many``,
``other``; Arabic all six), each translated from the source quantity covering the same
number. The target language is named by the folder (``values-ru``), not in the file.
Android has no review mark: a translation that lost a code keeps the source text.
"""

from __future__ import annotations

import re

from lxml import etree

from serve_app.documents.errors import DocumentError
from serve_app.documents.messages import (
    CODES,
    Message,
    Messages,
    element_message,
    fill_element,
)
from serve_app.documents.safety import parse_xml

# Escapes that stay codes (a line break, a tab, a code point) and a bare double quote (it
# starts or ends a quoted run, which keeps its whitespace).
_CODES = re.compile(rf"{CODES.pattern}|\\[nt]|\\u[0-9A-Fa-f]{{4}}|(?<!\\)\"")
_ESCAPED = re.compile(r"\\(.)")
_XLIFF_G = "{urn:oasis:names:tc:xliff:document:1.2}g"


def _unescape(text: str) -> str:
    return _ESCAPED.sub(r"\1", text)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'").replace('"', '\\"')


def _paired(element: etree._Element) -> bool:
    return element.tag != _XLIFF_G


def _message(element: etree._Element) -> Message:
    return element_message(element, _paired, _CODES, _unescape)


def _fill(element: etree._Element, message: Message) -> None:
    fill_element(element, message, _escape)
    if (element.text or "")[:1] in ("@", "?"):
        element.text = "\\" + (element.text or "")  # text, not a resource reference


def _translatable(element: etree._Element) -> bool:
    return element.get("translatable", "true").strip().lower() != "false"


def walk_android(data: bytes, messages: Messages, write: bool) -> bytes:
    root = parse_xml(data, "Android resource file")
    if root.tag != "resources":
        raise DocumentError(
            415,
            "DOCUMENT_TYPE_MISMATCH",
            "an .xml file is translated as Android string resources (<resources>), "
            f"not <{etree.QName(root).localname}>",
        )
    for resource in root:
        if not isinstance(resource.tag, str) or not _translatable(resource):
            continue
        if resource.tag == "string":
            _translate_into(resource, _message(resource), messages)
        elif resource.tag == "string-array":
            for item in resource.iterchildren("item"):
                _translate_into(item, _message(item), messages)
        elif resource.tag == "plurals":
            _plurals(resource, messages)
    if not write:
        return b""
    return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8"))


def _translate_into(element: etree._Element, message: Message, messages: Messages) -> None:
    done = messages.translate(message)
    if message.translatable:
        _fill(element, done.message)


def _plurals(resource: etree._Element, messages: Messages) -> None:
    items = list(resource.iterchildren("item"))
    forms = {item.get("quantity", "other"): _message(item) for item in items}
    if not items:
        return
    translated = messages.plurals(forms)
    indent, last_tail = items[0].getprevious(), items[-1].tail
    lead = indent.tail if indent is not None else resource.text
    for item in items:
        resource.remove(item)
    for category, done in translated.items():
        item = etree.SubElement(resource, "item", {"quantity": category})
        _fill(item, done.message)
        item.tail = lead
    resource[-1].tail = last_tail
