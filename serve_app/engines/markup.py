"""HTML in, HTML out: the text of a page cut into translatable units, everything else kept.

The input is tokenised by the standard library's ``html.parser`` (no tree is built, so
nothing is re-serialised: every tag, attribute, comment and entity not translated comes back
byte for byte). Block elements end a unit; inline elements (``<b>``, ``<a>``, ...) stay
inside it as spans, so a sentence with a link is translated as one sentence. ``<script>``,
``<style>``, ``<code>`` and the like, and elements marked ``translate="no"`` or
``class="notranslate"``, are kept whole. Attribute values (``title``, ``alt``) are not
translated. HTML declares no custom entities, so there is no entity expansion to bomb.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from dataclasses import dataclass, replace
from html.parser import HTMLParser

from serve_app.engines.spans import SENTINEL, Unit, UnitBuilder, mask

FORMATS = ("text", "html")
# Open elements at once; deeper input is refused (the web's real pages stay far below).
MAX_DEPTH = 256

INLINE = frozenset(
    "a abbr b bdi bdo big cite data del dfn em font i ins label mark nobr q s small span "
    "strike strong sub sup time tt u".split()
)
VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())
# Void elements that sit inside a sentence (kept there as a span); the others end a unit.
INLINE_VOID = frozenset({"img", "wbr"})
# Elements whose content is never translated; those in INLINE_SKIP sit inside a sentence.
SKIP = frozenset("script style code kbd samp var svg math template".split())
INLINE_SKIP = frozenset({"code", "kbd", "samp", "var"})
_IN_SENTENCE = INLINE | INLINE_SKIP
# Elements whose end tag is optional: a new one closes the open one before it.
IMPLIED_END = frozenset("p li dt dd tr td th option".split())
PREFORMATTED = frozenset({"pre", "textarea", "listing", "plaintext"})
# Ends every construct an input may leave open: a quoted attribute value of either quote, a
# tag, a comment, a CDATA or marked section, a processing instruction (see _events).
_CLOSE_ALL = "\"'-->]]>?>"


class MarkupError(ValueError):
    """Markup this service refuses to translate (e.g. nested too deeply)."""


Document = list["str | Unit"]


@dataclass(frozen=True)
class _Event:
    kind: str  # start, end, void, text, entity, other
    name: str
    attrs: list[tuple[str, str | None]]
    start: int


class _Tokenizer(HTMLParser):
    """Records each construct with its offset; the raw text of each is then the input from
    its offset to the next one's."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=False)
        self.events: list[_Event] = []
        self._lines = [0] + [m.end() for m in re.finditer("\n", source)]

    def _add(self, kind: str, name: str = "", attrs: list | None = None) -> None:  # type: ignore[type-arg]
        line, column = self.getpos()
        self.events.append(_Event(kind, name, attrs or [], self._lines[line - 1] + column))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._add("void" if tag in VOID else "start", tag, attrs)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._add("void", tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        self._add("end", tag)

    def handle_data(self, data: str) -> None:
        self._add("text")

    def handle_entityref(self, name: str) -> None:
        self._add("entity")

    def handle_charref(self, name: str) -> None:
        self._add("entity")

    def handle_comment(self, data: str) -> None:
        self._add("other")

    def handle_decl(self, decl: str) -> None:
        self._add("other")

    def handle_pi(self, data: str) -> None:
        self._add("other")

    def unknown_decl(self, data: str) -> None:
        self._add("other")


class _Escaper:
    """Escapes translated text for HTML; a non-ASCII character the input wrote as an entity
    is written with that same entity (``&nbsp;``, ``&copy;``, ``&#169;``)."""

    def __init__(self) -> None:
        self.table: dict[int, str] = {ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;"}

    def __call__(self, text: str) -> str:
        return text.translate(self.table)


def _skipped(name: str, attrs: list[tuple[str, str | None]]) -> bool:
    if name in SKIP:
        return True
    for key, value in attrs:
        if key == "translate" and (value or "").strip().lower() == "no":
            return True
        if key == "class" and "notranslate" in (value or "").split():
            return True
    return False


def _events(source: str) -> list[_Event]:
    """The constructs of ``source`` with their offsets.

    The parser is fed ``source`` followed by :data:`_CLOSE_ALL`, which finishes any
    construct the input leaves open, so it never meets one unfinished at the end. Python's
    ``html.parser`` before 3.11.13, 3.12.11 and 3.13.4 handles those one character at a time,
    each time scanning to the end of the input: quadratic in the input (``"<a" * n``). What
    the suffix adds is dropped: no construct starts in it, and none reaches past the input.
    """
    tokenizer = _Tokenizer(source)
    try:
        tokenizer.feed(source + _CLOSE_ALL)
        tokenizer.close()
    except AssertionError as exc:  # html.parser gives up on some "<![" forms
        raise MarkupError(f"HTML could not be parsed: {exc}") from exc
    return [event for event in tokenizer.events if event.start < len(source)]


def parse_html(source: str, *, protect: bool = True) -> Document:
    """``source`` as literal markup and translatable units, in order."""
    events = _events(source)
    if not events:  # e.g. "</>" alone, which the parser drops: kept as it stands
        return [source] if source else []
    ends = [event.start for event in events[1:]] + [len(source)]
    if events:  # the parser may report a leading "&" (an unfinished entity) one late
        events[0] = replace(events[0], start=0)
    escape = _Escaper()
    document: Document = []
    stack: list[str] = []
    # How many of each element are open: constant-time questions at any depth.
    open_count: Counter[str] = Counter()

    def new_builder() -> UnitBuilder:
        # Line breaks are spaces in HTML, except in preformatted text.
        preformatted = any(open_count[name] for name in PREFORMATTED)
        return UnitBuilder(protect=protect, escape=escape, line_breaks=preformatted)

    builder = new_builder()
    # Span indices of the inline elements open in the current unit, by name (a stack each,
    # so a closing tag finds its opening in constant time however many are left open).
    open_inline: dict[str, list[int]] = {}
    skipping: tuple[str, int, bool] | None = None  # (element, depth inside it, inline)
    skipped: list[str] = []

    def flush() -> None:
        nonlocal builder
        if not builder.empty:
            document.append(builder.build())
        builder = new_builder()
        open_inline.clear()

    def literal(raw: str) -> None:
        flush()
        document.append(raw)

    def kept_whole(raw: str, inline: bool) -> None:
        if inline:
            builder.add_span(raw)
        else:
            literal(raw)

    for event, end in zip(events, ends, strict=True):
        raw = source[event.start : end]
        if skipping is not None:
            skipped.append(raw)
            element, depth, inline = skipping
            if event.kind == "start" and event.name == element:
                depth += 1
            elif event.kind == "end" and event.name == element:
                depth -= 1
            skipping = (element, depth, inline) if depth else None
            if skipping is None:
                kept_whole("".join(skipped), inline)
            continue
        if event.kind == "start":
            if _skipped(event.name, event.attrs):
                skipping = (event.name, 1, event.name in _IN_SENTENCE)
                skipped = [raw]
                continue
            if event.name in IMPLIED_END and stack and stack[-1] == event.name:
                open_count[stack.pop()] -= 1
            stack.append(event.name)
            open_count[event.name] += 1
            if len(stack) > MAX_DEPTH:
                raise MarkupError(f"HTML nested deeper than {MAX_DEPTH} elements")
            if event.name in INLINE:
                open_inline.setdefault(event.name, []).append(builder.add_span(raw))
            else:
                literal(raw)
        elif event.kind == "end":
            if open_count[event.name]:  # closes it and every element opened inside it
                while (name := stack.pop()) != event.name:
                    open_count[name] -= 1
                open_count[name] -= 1
            if event.name in INLINE:
                opened = open_inline.get(event.name)
                builder.add_span(raw, opened.pop() if opened else None)
            else:
                literal(raw)
        elif event.kind == "void":
            if event.name in INLINE_VOID or event.name in INLINE:
                builder.add_span(raw)
            else:
                literal(raw)
        elif event.kind == "text":
            builder.add_text(raw)
        elif event.kind == "entity":
            decoded = html.unescape(raw)
            if decoded == raw:  # not an entity HTML knows: kept as it is
                builder.add_span(raw)
            else:
                if len(decoded) == 1 and ord(decoded) > 127:  # not "&#32;" for every space
                    escape.table[ord(decoded)] = raw
                builder.add_text(decoded, raw)
        elif builder.empty:  # a comment, declaration or processing instruction
            literal(raw)
        else:
            builder.add_span(raw)
    if skipping is not None:  # an element never closed: kept as it stood
        kept_whole("".join(skipped), skipping[2])
    flush()
    return document


def readable_text(text: str, text_format: str) -> str:
    """What a reader sees of ``text``: for HTML, its translatable text without markup, spans
    or skipped elements (what language detection should look at)."""
    if text_format == "text":
        return text
    units = [part for part in prepare(text, text_format, protect=False) if isinstance(part, Unit)]
    return "\n".join(" ".join(SENTINEL.split(unit.text)[::2]).strip() for unit in units)


def prepare(text: str, text_format: str = "text", *, protect: bool = True) -> Document:
    """``text`` in ``text_format`` as literal parts and translatable units."""
    if text_format == "text":
        return [mask(text, protect=protect)]
    if text_format == "html":
        return parse_html(text, protect=protect)
    raise MarkupError(f"unknown format {text_format!r}: expected one of {', '.join(FORMATS)}")
