"""Apple string files: ``Localizable.strings`` and Xcode string catalogs (``.xcstrings``).

- **.strings** (UTF-8 or UTF-16): each ``"key" = "value";`` value is translated and written
  back in place, so comments, keys, order and layout stay. The target language is named by
  the folder (``ru.lproj``), not in the file; a translation that lost a placeholder keeps
  the source text (the format has no review mark).
- **.xcstrings** (JSON): each string's source (its ``sourceLanguage`` localization, else its
  key) is translated into a localization named by the target (``ru``, ``zh-Hans``), with
  ``state`` ``translated``, or ``needs_review`` below ``min_quality`` or for a lost
  placeholder (then the source stands in). Plural variations get the target's CLDR
  categories. Strings with ``shouldTranslate: false`` and finished translations the
  catalog already holds for the target are kept; so are comments and every other key.
"""

from __future__ import annotations

import re
from typing import Any

from serve_app.documents.errors import invalid
from serve_app.documents.messages import Messages, Translated, message_of
from serve_app.documents.structured import dump_json, load_json
from serve_app.documents.text_formats import decode

# .strings tokens: comments, quoted strings, bare words, "=" and ";".
_TOKEN = re.compile(r'\s+|/\*.*?\*/|//[^\n]*|"(?:[^"\\]|\\.)*"|[^\s"=;/]+|=|;|/', re.DOTALL)
_ESCAPE = re.compile(r"\\(U[0-9A-Fa-f]{4}|u[0-9A-Fa-f]{4}|.)", re.DOTALL)
_SIMPLE = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "'": "'", "0": "\0"}


def _unquote(token: str) -> str:
    def one(match: re.Match[str]) -> str:
        escape = match.group(1)
        if escape[0] in "Uu" and len(escape) == 5:
            return chr(int(escape[1:], 16))
        return _SIMPLE.get(escape, escape)

    return _ESCAPE.sub(one, token[1:-1])


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + escaped.replace("\t", "\\t").replace("\r", "\\r") + '"'


def walk_strings(data: bytes, messages: Messages, write: bool) -> bytes:
    text, encoding = decode(data, ".strings file")
    tokens: list[tuple[int, int, str]] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise invalid(f"the .strings file cannot be read at character {position}")
        token = match.group()
        if not token.isspace() and not token.startswith(("/*", "//")):
            tokens.append((match.start(), match.end(), token))
        position = match.end()
    edits: list[tuple[int, int, str]] = []
    index = 0
    while index < len(tokens):
        entry = [token for _, _, token in tokens[index : index + 4]]
        if len(entry) < 4 or entry[1] != "=" or entry[3] != ";":
            raise invalid('the .strings file has an entry that is not "key" = "value";')
        start, end, value = tokens[index + 2]
        if not value.startswith('"'):
            raise invalid("a .strings value is a quoted string")
        source = _unquote(value)
        done = messages.translate(message_of(source))
        if done.message.text() != source:
            edits.append((start, end, _quote(done.message.text())))
        index += 4
    if not write:
        return b""
    out = text
    for start, end, new in reversed(edits):
        out = out[:start] + new + out[end:]
    return out.encode(encoding)


def _state(done: Translated) -> str:
    return "needs_review" if done.review else "translated"


def _unit(done: Translated) -> dict[str, Any]:
    return {"stringUnit": {"state": _state(done), "value": done.message.text()}}


def walk_xcstrings(data: bytes, messages: Messages, write: bool) -> bytes:
    catalog, text, encoding = load_json(data, "string catalog")
    if not isinstance(catalog, dict) or not isinstance(catalog.get("strings"), dict):
        raise invalid("a string catalog is a JSON object with its strings under 'strings'")
    source_language = str(catalog.get("sourceLanguage", "en"))
    language = messages.locale()
    for key, entry in catalog["strings"].items():
        if not isinstance(entry, dict) or entry.get("shouldTranslate") is False:
            continue
        localizations = entry.setdefault("localizations", {})
        if not isinstance(localizations, dict):
            raise invalid(f"the string {key!r} has localizations that are not an object")
        existing = localizations.get(language)
        if _finished(existing):
            continue
        source = localizations.get(source_language) or {"stringUnit": {"value": key}}
        translated = _localization(source, messages)
        if translated is not None:
            localizations[language] = translated
    return dump_json(catalog, text, encoding) if write else b""


def _finished(localization: Any) -> bool:
    unit = localization.get("stringUnit") if isinstance(localization, dict) else None
    return isinstance(unit, dict) and unit.get("state") == "translated"


def _localization(source: Any, messages: Messages) -> dict[str, Any] | None:
    """The target's localization from the source's: its string unit, or its plural
    variations (the target's categories)."""
    if not isinstance(source, dict):
        return None
    unit = source.get("stringUnit")
    if isinstance(unit, dict) and isinstance(unit.get("value"), str):
        return _unit(messages.translate(message_of(unit["value"])))
    plural = (source.get("variations") or {}).get("plural")
    if isinstance(plural, dict):
        forms = {
            category: message_of(variant["stringUnit"]["value"])
            for category, variant in plural.items()
            if isinstance(variant, dict)
            and isinstance(variant.get("stringUnit"), dict)
            and isinstance(variant["stringUnit"].get("value"), str)
        }
        if forms:
            done = messages.plurals(forms)
            return {"variations": {"plural": {c: _unit(t) for c, t in done.items()}}}
    return None
