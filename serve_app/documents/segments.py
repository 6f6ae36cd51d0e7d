"""Pieces of a file as HTML snippets for the markup-preserving translation path, and back.

A paragraph made of several runs (docx, pptx, odt: a bold word, a differently styled phrase)
travels as one snippet, each run a ``<span data-r="i">``, so the sentence is translated whole
and each run's translation comes back to its run. Text a model moved out of every span joins
the run before it (the first, at the start).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from html.parser import HTMLParser

from serve_app.engines.spans import has_letters

# A segment's translation: an HTML snippet in, its translation (HTML) out.
Visit = Callable[[str], str]


def escape(text: str) -> str:
    return html.escape(text, quote=False)


def visit_text(text: str, visit: Visit) -> str:
    """``text`` (plain) translated through ``visit``; text without letters is kept as it is."""
    if not has_letters(text):
        return text
    return html.unescape(visit(escape(text)))


def join_runs(texts: Sequence[str]) -> str:
    if len(texts) == 1:
        return escape(texts[0])
    return "".join(f'<span data-r="{i}">{escape(text)}</span>' for i, text in enumerate(texts))


class _Runs(HTMLParser):
    def __init__(self, count: int) -> None:
        super().__init__(convert_charrefs=True)
        self.runs = [""] * count
        self._current: int | None = None
        self._last = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        index = dict(attrs).get("data-r")
        if tag == "span" and index is not None and index.isdigit() and int(index) < len(self.runs):
            self._current = self._last = int(index)

    def handle_endtag(self, tag: str) -> None:
        if tag == "span":
            self._current = None

    def handle_data(self, data: str) -> None:
        self.runs[self._last if self._current is None else self._current] += data


def split_runs(snippet: str, count: int) -> list[str]:
    """The ``count`` runs' texts out of a translated :func:`join_runs` snippet."""
    if count == 1:
        return [html.unescape(snippet)]
    parser = _Runs(count)
    parser.feed(snippet)
    parser.close()
    return parser.runs


def visit_runs(texts: Sequence[str], visit: Visit) -> list[str]:
    """Runs of one paragraph translated together; a paragraph without letters is kept."""
    if not any(has_letters(text) for text in texts):
        return list(texts)
    return split_runs(visit(join_runs(texts)), len(texts))
