"""ICU MessageFormat values (JSON, ARB): arguments are codes, ``plural`` and ``select`` keep
their structure and only their branches' texts are translated.

``{count, plural, one {# file} other {# files}}`` becomes, for Russian, ``{count, plural,
one {# file} few {# files} many {# files} other {# files}}``: the target's CLDR categories,
each branch from the source branch covering the same number; exact matches (``=0``) and an
``offset`` stay. ``select`` and ``selectordinal`` keep their keys. Text around an argument is
one segment with the argument as a code, each branch a segment of its own; ``#`` and quoted
literals (``'{'``, ``''``) are codes. A value that is not valid MessageFormat is plain text
with placeholders.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from serve_app.documents.messages import (
    CODES,
    MAX_DEPTH,
    Message,
    MessageBuilder,
    Messages,
    message_of,
    too_deep,
)

_PLURALS = ("plural", "selectordinal")
_COMPLEX = (*_PLURALS, "select")
# In text: HTML tags and printf-style placeholders, quoted literals, and (in a plural) "#".
_TEXT_CODES = re.compile(rf"'[{{}}#|][^']*'|''|{CODES.pattern}")
_PLURAL_TEXT_CODES = re.compile(rf"#|{_TEXT_CODES.pattern}")
_HEAD = re.compile(r"\{\s*([\w.-]+)\s*(?:,\s*([\w-]+)\s*(,)?)?")
_KEY = re.compile(r"\s*(=?[\w-]+)\s*")
_OFFSET = re.compile(r"\s*offset:\s*(\d+)\s*")


class _NotIcu(Exception):  # noqa: N818 (not an error: the value is plain text)
    pass


@dataclass
class _Arg:
    """``{name}`` or ``{name, type, style}``: a code, kept as written."""

    raw: str


@dataclass
class _Complex:
    name: str
    kind: str
    offset: str | None
    branches: list[tuple[str, list[_Part]]]


_Part = str | _Arg | _Complex


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0

    def message(self, depth: int, closing: bool) -> list[_Part]:
        if depth > MAX_DEPTH:
            raise too_deep("ICU message")
        parts: list[_Part] = []
        start = self.at
        while self.at < len(self.text):
            char = self.text[self.at]
            if char == "'" and self.text[self.at + 1 : self.at + 2] in ("{", "}", "#", "|"):
                end = self.text.find("'", self.at + 1)
                self.at = len(self.text) if end < 0 else end + 1
            elif char == "{":
                if self.at > start:
                    parts.append(self.text[start : self.at])
                parts.append(self.argument(depth))
                start = self.at
            elif char == "}":
                if not closing:
                    raise _NotIcu
                break
            else:
                self.at += 1
        else:
            if closing:
                raise _NotIcu
        if self.at > start:
            parts.append(self.text[start : self.at])
        return parts

    def argument(self, depth: int) -> _Arg | _Complex:
        opening = self.at
        head = _HEAD.match(self.text, opening)
        if head is None:
            raise _NotIcu
        name, kind, comma = head.groups()
        if kind in _COMPLEX:
            if not comma:
                raise _NotIcu
            self.at = head.end()
            return self.complex(name, kind, depth)
        close = self.text.find("}", head.end())
        rest = self.text[head.end() : close]
        if close < 0 or "{" in rest or (kind is None and rest.strip()):
            raise _NotIcu
        self.at = close + 1
        return _Arg(self.text[opening : self.at])

    def complex(self, name: str, kind: str, depth: int) -> _Complex:
        offset = None
        found = _OFFSET.match(self.text, self.at)
        if found and kind in _PLURALS:
            offset, self.at = found[1], found.end()
        branches: list[tuple[str, list[_Part]]] = []
        while True:
            key = _KEY.match(self.text, self.at)
            if key is None or self.text[key.end() : key.end() + 1] != "{":
                break
            self.at = key.end() + 1
            branches.append((key[1], self.message(depth + 1, closing=True)))
            self.at += 1  # the branch's "}"
        while self.at < len(self.text) and self.text[self.at].isspace():
            self.at += 1
        if not branches or self.text[self.at : self.at + 1] != "}":
            raise _NotIcu
        self.at += 1
        return _Complex(name, kind, offset, branches)


def parse(text: str) -> list[_Part] | None:
    """``text`` as MessageFormat, or None when it is not (then it is plain text)."""
    if "{" not in text:
        return None
    try:
        return _Parser(text).message(0, closing=False)
    except _NotIcu:
        return None


def _message(parts: list[_Part], in_plural: bool, complex_raw: dict[int, str]) -> Message:
    builder = MessageBuilder(_PLURAL_TEXT_CODES if in_plural else _TEXT_CODES)
    for index, part in enumerate(parts):
        if isinstance(part, str):
            builder.text(part)
        elif isinstance(part, _Arg):
            builder.void(part.raw)
        else:
            builder.void(complex_raw[index])
    return builder.build()


def _written(part: _Complex, branches: list[tuple[str, str]]) -> str:
    offset = f"offset:{part.offset} " if part.offset is not None else ""
    body = " ".join(f"{key} {{{text}}}" for key, text in branches)
    return f"{{{part.name}, {part.kind}, {offset}{body}}}"


def _translate(parts: list[_Part], messages: Messages, in_plural: bool) -> tuple[str, bool]:
    """``parts`` translated: the branches of each plural or select first, then the text
    around them (each a segment); the text and whether any of it is marked for review."""
    review = False
    complex_raw: dict[int, str] = {}
    for index, part in enumerate(parts):
        if isinstance(part, _Complex):
            complex_raw[index], marked = _translate_complex(part, messages, in_plural)
            review = review or marked
    done = messages.translate(_message(parts, in_plural, complex_raw))
    return done.message.text(), review or done.review


def _translate_complex(part: _Complex, messages: Messages, in_plural: bool) -> tuple[str, bool]:
    plural = part.kind == "plural"
    sources = dict(part.branches)
    keys = [key for key, _ in part.branches]
    if plural:
        forms = {
            key: _message(branch, True, {i: "" for i in range(len(branch))})
            for key, branch in part.branches
            if not key.startswith("=")
        }
        exact = [key for key in keys if key.startswith("=")]
        chosen = messages.plural_sources(forms) if forms else {}
        keys = exact + list(chosen)
        sources |= {category: sources[source] for category, source in chosen.items()}
    review = False
    branches = []
    for key in keys:
        text, marked = _translate(sources[key], messages, in_plural or part.kind in _PLURALS)
        branches.append((key, text))
        review = review or marked
    return _written(part, branches), review


def translate_value(text: str, messages: Messages, icu: bool = True) -> tuple[str, bool]:
    """A MessageFormat value (or a plain one, and any value unless ``icu``) translated; and
    whether it is marked for review."""
    parts = parse(text) if icu else None
    if parts is None:
        done = messages.translate(message_of(text))
        return done.message.text(), done.review
    return _translate(parts, messages, in_plural=False)
