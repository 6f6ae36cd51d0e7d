"""Text formats: txt, md (markdown-it-py), html (the markup module), srt (srt), vtt (webvtt-py).

Each ``walk_*`` takes the file's text and a :data:`~serve_app.documents.segments.Visit` and
returns the text with every translatable piece replaced by what the visit returned.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from typing import Any

import srt
import webvtt
from markdown_it import MarkdownIt

from serve_app.documents.errors import invalid
from serve_app.documents.segments import Visit, escape, visit_text
from serve_app.engines.markup import MarkupError, parse_html
from serve_app.engines.spans import Unit, has_letters


def decode(data: bytes, what: str) -> tuple[str, str]:
    """The text of ``data`` and the encoding to write it back in (UTF-8, with its BOM when it
    had one; UTF-16 with a BOM)."""
    for bom, encoding in ((b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError as exc:
                raise invalid(f"the {what} is not valid UTF-16 ({exc.reason})") from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise invalid(f"the {what} is not UTF-8 text (byte {exc.start}: {exc.reason})") from exc
    if "\x00" in text:
        raise invalid(f"the {what} holds NUL characters: a binary file, not text")
    return text, "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"


def walk_txt(text: str, visit: Visit) -> str:
    """Each non-blank line is a segment; indentation, trailing spaces and line ends stay."""
    out = []
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        end = line[len(body) :]
        core = body.strip()
        if core:
            lead = body[: len(body) - len(body.lstrip())]
            body = lead + visit_text(core, visit) + body[len(body.rstrip()) :]
        out.append(body + end)
    return "".join(out)


def walk_html(source: str, visit: Visit) -> str:
    """Each unit of the page (a block's text with its inline markup) is a segment; every tag,
    comment and entity outside them comes back byte for byte."""
    try:
        document = parse_html(source)
    except MarkupError as exc:
        raise invalid(str(exc)) from exc
    out = []
    for part in document:
        if isinstance(part, Unit):
            out.append(visit(part.raw) if has_letters(part.text) else part.raw)
        else:
            out.append(part)
    return "".join(out)


# --- SRT and WebVTT: each cue a segment, its lines kept as lines (<br> ends a sentence).

_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
# A tag to strip when asking whether a cue or paragraph has words. No "<" inside, so a run of
# "<" without ">" costs one scan, not one per "<" (quadratic).
_TAG = re.compile(r"<[^<>]*>")


def _visit_cue(lines: list[str], visit: Visit, escaped: bool) -> list[str]:
    """A cue's lines through one visit. WebVTT cue text is escaped already (and may carry its
    own ``<v>``, ``<b>``, ``<c>`` markup); SRT's is plain."""
    joined = "<br>".join(line if escaped else escape(line) for line in lines)
    if not has_letters(html.unescape(_TAG.sub("", joined))):
        return lines
    translated = _BR.split(visit(joined))
    return translated if escaped else [html.unescape(line) for line in translated]


def walk_srt(text: str, visit: Visit) -> str:
    try:
        subtitles = list(srt.parse(text))
    except srt.SRTParseError as exc:
        raise invalid(f"the subtitles are not valid SRT ({exc})") from exc
    for subtitle in subtitles:
        subtitle.content = "\n".join(_visit_cue(subtitle.content.split("\n"), visit, False))
    composed: str = srt.compose(subtitles, reindex=False)
    return composed


def walk_vtt(text: str, visit: Visit) -> str:
    try:
        captions = webvtt.from_string(text)
    except (webvtt.errors.MalformedFileError, webvtt.errors.MalformedCaptionError) as exc:
        raise invalid(f"the subtitles are not valid WebVTT ({exc})") from exc
    for caption in captions.captions:
        caption.text = "\n".join(_visit_cue(caption.raw_text.split("\n"), visit, True))
    content: str = captions.content
    return content


# --- Markdown: each inline run (paragraph, heading, list item, table cell) is a segment. Its
# inline syntax travels as HTML spans and comes back as the same syntax; the rest of the file
# (block markers, fences, indentation, blank lines) is the file's own text, untouched.

_TAGS = {"strong": "b", "em": "i", "s": "s"}
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<])")


def _link_text(children: list[Any], start: int) -> str:
    """The text of the link whose content starts at ``children[start]`` (that link's own:
    the whole paragraph's, joined per link, was quadratic)."""
    parts = []
    for child in children[start : start + _MAX_LINK_CHILDREN]:
        if child.type == "link_close":
            break
        if child.type == "text":
            parts.append(child.content)
    return "".join(parts)


# An autolink holds one text child; a bound, however markdown-it tokenises it.
_MAX_LINK_CHILDREN = 64


class _Inline:
    """One inline token's children as an HTML snippet, remembering each piece of syntax."""

    def __init__(self, children: list[Any]) -> None:
        self.syntax: list[tuple[str, str]] = []  # per data-k: (opening, closing) markdown
        parts: list[str] = []
        kept_until: str | None = None  # inside an autolink: its text is kept whole
        for index, child in enumerate(children):
            kind = child.type
            if kept_until is not None:
                if kind == kept_until:
                    kept_until = None
                continue
            if kind == "text":
                parts.append(escape(child.content))
            elif kind == "softbreak":
                parts.append("\n")
            elif kind == "hardbreak":
                parts.append(self._void("\\\n"))
            elif kind.endswith("_open") and kind[:-5] in _TAGS:
                tag = _TAGS[kind[:-5]]
                parts.append(f'<{tag} data-k="{self._add(child.markup, child.markup)}">')
            elif kind.endswith("_close") and kind[:-6] in _TAGS:
                parts.append(f"</{_TAGS[kind[:-6]]}>")
            elif kind == "link_open" and child.markup in ("autolink", "linkify"):
                href = str(child.attrs.get("href") or _link_text(children, index + 1))
                parts.append(self._void(f"<{href.removeprefix('mailto:')}>"))
                kept_until = "link_close"
            elif kind == "link_open":
                title = child.attrs.get("title")
                tail = f' "{title}"' if title else ""
                k = self._add("[", f"]({child.attrs.get('href', '')}{tail})")
                parts.append(f'<a data-k="{k}">')
            elif kind == "link_close":
                parts.append("</a>")
            elif kind == "code_inline":
                fence = child.markup
                pad = " " if child.content[:1] in "` " or child.content[-1:] in "` " else ""
                parts.append(self._void(f"{fence}{pad}{child.content}{pad}{fence}"))
            elif kind == "image":
                title = child.attrs.get("title")
                tail = f' "{title}"' if title else ""
                parts.append(self._void(f"![{child.content}]({child.attrs.get('src', '')}{tail})"))
            else:  # html_inline and anything newer: kept as written
                parts.append(self._void(child.content or child.markup))
        self.html = "".join(parts)

    def _add(self, opening: str, closing: str) -> int:
        self.syntax.append((opening, closing))
        return len(self.syntax) - 1

    def _void(self, source: str) -> str:
        return f'<wbr data-k="{self._add(source, "")}">'

    def markdown(self, translated: str) -> str:
        writer = _MarkdownWriter(self.syntax)
        writer.feed(translated)
        writer.close()
        return "".join(writer.out).replace("\n", " ")


class _MarkdownWriter(HTMLParser):
    def __init__(self, syntax: list[tuple[str, str]]) -> None:
        super().__init__(convert_charrefs=True)
        self.syntax = syntax
        self.out: list[str] = []
        self.open: list[tuple[str, str]] = []

    def _syntax(self, attrs: list[tuple[str, str | None]]) -> tuple[str, str] | None:
        k = dict(attrs).get("data-k")
        if k is None or not k.isdigit() or int(k) >= len(self.syntax):
            return None
        return self.syntax[int(k)]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = self._syntax(attrs)
        if found is None:
            return
        self.out.append(found[0])
        if tag != "wbr":
            self.open.append((tag, found[1]))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.open) - 1, -1, -1):
            if self.open[i][0] == tag:
                self.out.append(self.open.pop(i)[1])
                return

    def handle_data(self, data: str) -> None:
        self.out.append(_MD_SPECIAL.sub(r"\\\1", data))

    def close(self) -> None:
        super().close()
        while self.open:  # a span the translation lost its end of: closed at the end
            self.out.append(self.open.pop()[1])


def walk_markdown(source: str, visit: Visit) -> str:
    lines = source.splitlines(keepends=True)
    parser = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    cursor = [0] * len(lines)  # per line: where the next piece of content is searched from
    # (line, start, end, replacement), applied right to left.
    edits: list[tuple[int, int, int, str]] = []
    for token in parser.parse(source):
        if token.type != "inline" or not token.map or not token.children:
            continue
        found = []
        for k, piece in enumerate(token.content.split("\n")):
            line = token.map[0] + k
            start = lines[line].find(piece, cursor[line]) if line < len(lines) else -1
            if start < 0:
                break
            found.append((line, start, start + len(piece)))
            cursor[line] = start + len(piece)
        if len(found) != token.content.count("\n") + 1:
            # Content markdown-it rewrote (tabs in containers): the lines are segments of
            # their own, as plain text, rather than left untranslated.
            for line, start, end in found:
                edits.append((line, start, end, visit_text(lines[line][start:end], visit)))
            continue
        inline = _Inline(token.children)
        if not has_letters(html.unescape(_TAG.sub("", inline.html))):
            continue
        translated = inline.markdown(visit(inline.html))
        # The whole paragraph's translation on its first line; its other lines give up
        # their content (and go when nothing else is left on them).
        edits += [
            (line, start, end, translated if i == 0 else "")
            for i, (line, start, end) in enumerate(found)
        ]
    dropped: set[int] = set()
    for line, start, end, text in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        before, after = lines[line][:start], lines[line][end:]
        # A line left holding only its container's markers (indentation, "> ") goes.
        if not text and not before.strip(" \t>") and not after.strip():
            dropped.add(line)
        lines[line] = before + text + after
    return "".join(line for i, line in enumerate(lines) if i not in dropped)
