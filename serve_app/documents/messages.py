"""Messages of software localization files (gettext, XLIFF, Android, JSON, YAML, Apple,
ARB): what each format's walk hands to the translation and how it comes back.

A message is text and *codes*: placeholders (``%s``, ``%1$d``, ``{name}``, ``{{name}}``, an
ICU argument), HTML tags and inline XML elements (XLIFF's ``<pc>``, ``<ph/>``, ``<g>``,
``<x/>``; Android's ``<b>``, ``<xliff:g>``). It travels as an HTML snippet in which each
code is an element of the markup path's (``<wbr data-k>`` for a placeholder, ``<span
data-k>`` around paired codes), so the translator keeps every one as a protected span
whatever ``protect_spans`` says, as markdown's syntax is kept. What comes back is checked:
the very codes that went out, each once, a pair's end after its start. A message that fails
the check keeps its source text and is marked for review.

Plurals are written for the target language (:mod:`serve_app.engines.plurals`), and a
translation that scored below the request's ``min_quality`` is marked for review the
format's own way (:attr:`Target.review`) instead of being withheld.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from lxml import etree

from serve_app.documents.errors import invalid
from serve_app.documents.segments import Visit, escape
from serve_app.engines.languages import LanguageDatabase
from serve_app.engines.plurals import PluralForms, plural_forms, source_form
from serve_app.engines.spans import PLACEHOLDER_PATTERNS, has_letters

# An HTML tag in a message's text (opening, closing or empty): a code; so is a strftime
# directive (%Y, %-d: Rails and gettext date formats), after the printf placeholders, and a
# line break (which the markup path would read as a space).
_HTML_TAG = r"</?[A-Za-z][\w:.-]*(?:\s[^<>]*)?/?>"
_STRFTIME = r"(?<!%)%[-_0^#]?[A-Za-z]"
CODES = re.compile("|".join((_HTML_TAG, *PLACEHOLDER_PATTERNS, _STRFTIME, r"\r?\n")))
_TAG_NAME = re.compile(r"</?([A-Za-z][\w:.-]*)")
# Nesting of JSON and YAML files, and of ICU messages, past which a file is refused.
MAX_DEPTH = 64


def _same(text: str) -> str:
    return text


@dataclass(frozen=True)
class Code:
    """A piece of a message the model never sees as itself: ``raw`` is its text (a string)
    or the XML element it is (copied back as it was). ``kind`` is ``void``, or ``open`` /
    ``close`` of a pair whose other end is ``partner``."""

    raw: Any
    kind: str = "void"
    partner: int = -1


@dataclass
class Message:
    """Text (``str`` pieces) and codes (``int`` pieces, indexes into ``codes``) in order."""

    pieces: list[str | int]
    codes: list[Code]

    @property
    def translatable(self) -> bool:
        return any(isinstance(piece, str) and has_letters(piece) for piece in self.pieces)

    def text(self, escape_text: Callable[[str], str] = _same) -> str:
        """The message as one string (every code a string, written as it was found; the
        text through ``escape_text``)."""
        return "".join(
            escape_text(piece) if isinstance(piece, str) else str(self.codes[piece].raw)
            for piece in self.pieces
        )

    def snippet(self) -> str:
        parts = []
        for piece in self.pieces:
            if isinstance(piece, str):
                parts.append(escape(piece))
            elif self.codes[piece].kind == "close":
                parts.append("</span>")
            else:
                tag = "span" if self.codes[piece].kind == "open" else "wbr"
                parts.append(f'<{tag} data-k="{piece}">')
        return "".join(parts)

    def read(self, snippet: str) -> Message | None:
        """The message a translated :meth:`snippet` holds; None unless it kept every code
        exactly once (a pair's end after its start)."""
        reader = _Reader(self.codes)
        reader.feed(snippet)
        reader.close()
        if sorted(k for k in reader.pieces if isinstance(k, int)) != list(range(len(self.codes))):
            return None
        return Message(reader.pieces, self.codes)


class _Reader(HTMLParser):
    def __init__(self, codes: list[Code]) -> None:
        super().__init__(convert_charrefs=True)
        self.codes = codes
        self.pieces: list[str | int] = []
        self.open: list[int] = []

    def _code(self, attrs: list[tuple[str, str | None]], kind: str) -> int | None:
        k = dict(attrs).get("data-k")
        if k is None or not k.isdigit() or int(k) >= len(self.codes):
            return None
        return int(k) if self.codes[int(k)].kind == kind else None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        k = self._code(attrs, "open" if tag == "span" else "void")
        if k is not None:
            self.pieces.append(k)
            if tag == "span":
                self.open.append(k)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "span" and self.open:
            self.pieces.append(self.codes[self.open.pop()].partner)

    def handle_data(self, data: str) -> None:
        if self.pieces and isinstance(self.pieces[-1], str):
            self.pieces[-1] += data
        else:
            self.pieces.append(data)


class MessageBuilder:
    """Collects a message's text and codes in order; text is scanned for placeholders and
    HTML tags (``codes``, None for none), a tag's end paired with its start. What is left
    of the text goes through ``unescape`` (a format's own escapes, ``\\'`` in Android)."""

    def __init__(
        self, codes: re.Pattern[str] | None = CODES, unescape: Callable[[str], str] = _same
    ) -> None:
        self._scan = codes
        self._unescape = unescape
        self.pieces: list[str | int] = []
        self.codes: list[Code] = []
        self._tags: list[tuple[str, int]] = []  # open HTML tags: (name, code index)

    def text(self, text: str) -> None:
        if self._scan is None:
            self._text(text)
            return
        start = 0
        for match in self._scan.finditer(text):
            self._text(text[start : match.start()])
            self._found(match.group())
            start = match.end()
        self._text(text[start:])

    def _text(self, text: str) -> None:
        if not text:
            return
        text = self._unescape(text)
        if self.pieces and isinstance(self.pieces[-1], str):
            self.pieces[-1] += text
        else:
            self.pieces.append(text)

    def _found(self, raw: str) -> None:
        name = _TAG_NAME.match(raw)
        if name is None or raw.endswith("/>"):
            self.void(raw)
        elif raw.startswith("</"):
            opened = next(
                (i for i in range(len(self._tags) - 1, -1, -1) if self._tags[i][0] == name[1]),
                None,
            )
            if opened is None:
                self.void(raw)
            else:
                self.close(raw, self._tags[opened][1])
                del self._tags[opened:]
        else:
            self._tags.append((name[1], self.open(raw)))

    def void(self, raw: Any) -> int:
        self.codes.append(Code(raw))
        self.pieces.append(len(self.codes) - 1)
        return len(self.codes) - 1

    def open(self, raw: Any) -> int:
        return self.void(raw)  # a void until its end is met

    def close(self, raw: Any, opened: int) -> None:
        index = len(self.codes)
        self.codes[opened] = Code(self.codes[opened].raw, "open", index)
        self.codes.append(Code(raw, "close", opened))
        self.pieces.append(index)

    def build(self) -> Message:
        return Message(self.pieces, self.codes)


def message_of(
    text: str, codes: re.Pattern[str] | None = CODES, unescape: Callable[[str], str] = _same
) -> Message:
    builder = MessageBuilder(codes, unescape)
    builder.text(text)
    return builder.build()


class _SnippetReader(HTMLParser):
    """A message back from its own :meth:`Message.snippet` (each code's raw text lost)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.builder = MessageBuilder(None)
        self.open: list[int] = []
        self.faithful = True  # every code where its data-k says

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        k = dict(attrs).get("data-k")
        if tag not in ("span", "wbr") or k is None:
            self.faithful = False
            return
        index = self.builder.open(k) if tag == "span" else self.builder.void(k)
        self.faithful &= str(index) == k
        if tag == "span":
            self.open.append(index)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "span" and self.open:
            self.builder.close("", self.open.pop())
        else:
            self.faithful = False

    def handle_data(self, data: str) -> None:
        self.builder.text(data)


def codes_kept(snippet: str, translation: str) -> bool:
    """Whether ``translation`` of a message's ``snippet`` kept its codes as
    :meth:`Message.read` requires (each once, a pair's end after its start): what a
    localization file's walk checks, for whoever has only the snippets (the job's report).
    A snippet that is no message's keeps nothing to check: True."""
    reader = _SnippetReader()
    reader.feed(snippet)
    reader.close()
    if not reader.faithful or reader.open:
        return True
    return reader.builder.build().read(translation) is not None


# --- Messages of XML elements (XLIFF, Android): child elements are codes.


def element_message(
    element: etree._Element,
    paired: Callable[[etree._Element], bool],
    codes: re.Pattern[str] = CODES,
    unescape: Callable[[str], str] = _same,
) -> Message:
    """``element``'s content as a message: its text (scanned for ``codes``, the rest through
    ``unescape``), each child element a code (a pair around its content where ``paired``
    says so, else void: copied whole, as are comments)."""
    builder = MessageBuilder(codes, unescape)

    def walk(node: etree._Element) -> None:
        if node.text:
            builder.text(node.text)
        for child in node:
            if isinstance(child.tag, str) and paired(child):
                opened = builder.open(child)
                walk(child)
                builder.close(child, opened)
            else:
                builder.void(child)
            if child.tail:
                builder.text(child.tail)

    walk(element)
    return builder.build()


def fill_element(
    element: etree._Element, message: Message, escape_text: Callable[[str], str] = _same
) -> None:
    """``element``'s content replaced by ``message`` (from :func:`element_message`): text
    through ``escape_text``, codes found in the text as they were, code elements copied,
    pairs rebuilt around their new content."""
    for child in list(element):
        element.remove(child)
    element.text = None
    stack = [element]

    def add_text(text: str) -> None:
        parent = stack[-1]
        if len(parent):
            parent[-1].tail = (parent[-1].tail or "") + text
        else:
            parent.text = (parent.text or "") + text

    for piece in message.pieces:
        if isinstance(piece, str):
            add_text(escape_text(piece))
            continue
        code = message.codes[piece]
        if isinstance(code.raw, str):  # a placeholder found in the text
            add_text(code.raw)
        elif code.kind == "void":
            kept = copy.deepcopy(code.raw)
            kept.tail = None
            stack[-1].append(kept)
        elif code.kind == "open":
            opened = etree.SubElement(stack[-1], code.raw.tag, dict(code.raw.attrib))
            stack.append(opened)
        elif len(stack) > 1:
            stack.pop()


# --- The translation of a file's messages.


@dataclass(frozen=True)
class Target:
    """The language a localization file is written in, and (when rendering) which of its
    segments scored below ``min_quality``: those are marked for review."""

    language: str
    review: Sequence[bool] = field(default_factory=tuple)


@dataclass(frozen=True)
class Translated:
    message: Message
    review: bool


class Messages:
    """A file's messages through the visit, in order (the segments of the file)."""

    def __init__(self, visit: Visit, target: Target) -> None:
        self._visit = visit
        self.target = target
        self.count = 0

    def locale(self, separator: str = "-") -> str:
        """The target as the file names it (``ru``, ``zh-Hant``; ``zh_Hant`` for gettext)."""
        return LanguageDatabase.default().locale(self.target.language, separator)

    @property
    def plural_forms(self) -> PluralForms:
        return plural_forms(self.target.language)

    def translate(self, message: Message) -> Translated:
        """``message`` translated (one segment), or kept when it has nothing to translate."""
        if not message.translatable:
            return Translated(message, False)
        index = self.count
        self.count += 1
        review = index < len(self.target.review) and self.target.review[index]
        read = message.read(self._visit(message.snippet()))
        if read is None:  # a code lost or doubled: the source, for a human to translate
            return Translated(message, True)
        return Translated(read, review)

    def plural_sources(self, forms: Mapping[str, Message]) -> dict[str, str]:
        """For each of the target's plural categories, the source form (a key of
        ``forms``) it is translated from: the one covering the same number
        (:func:`~serve_app.engines.plurals.source_form`). A form that covers more numbers
        than 1 (Russian "one": 21, 31, ...) is not translated from a source form without
        the number ("One file"), but from ``other``."""
        target = self.plural_forms
        chosen = {}
        for category, number in target.samples.items():
            picked = source_form(category, number, forms)
            if (
                picked != "other"
                and "other" in forms
                and category not in target.only_one
                and not numbered(forms[picked], forms["other"])
            ):
                picked = "other"
            chosen[category] = picked
        return chosen

    def plurals(self, forms: Mapping[str, Message]) -> dict[str, Translated]:
        """The target's plural categories, each translated from :meth:`plural_sources`."""
        return {
            category: self.translate(forms[source])
            for category, source in self.plural_sources(forms).items()
        }


def numbered(form: Message, other: Message) -> bool:
    """Whether a plural ``form`` carries the placeholders ``other`` does (the number)."""
    return sorted(map(str, (c.raw for c in form.codes))) == sorted(
        map(str, (c.raw for c in other.codes))
    )


def too_deep(what: str) -> Exception:
    return invalid(f"the {what} is nested deeper than {MAX_DEPTH} levels")
