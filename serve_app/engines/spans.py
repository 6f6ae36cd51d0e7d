"""Protected spans: text the model must not touch, masked before decoding and put back after.

Placeholders (``{name}``, ``{{var}}``, ``%s``, ``%1$s``, ``${x}``), URLs, e-mail addresses,
numbers and, in HTML, inline tags are replaced by numbered sentinels (``{0}``, ``{1}``, ...)
that models copy. After decoding, each sentence's sentinels must come back exactly once (an
inline tag's opening before its closing); then the spans are put back verbatim. When the
model dropped, repeated or mangled one, the sentence is *repaired*: the text between its
spans is translated piece by piece and joined around the spans in their original order, so
the spans survive whatever the model does (at the cost of that sentence's fluency).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

# Sentinels as the model sees them; models may add spaces inside the braces on output.
SENTINEL = re.compile(r"\{(\d+)\}")
_SENTINEL_OUT = re.compile(r"\{\s*(\d+)\s*\}")

# Web and mail addresses: protected here, and words of no language to the detector. URLs
# end before the punctuation that ends the sentence around them. Every part of a mail
# address has its RFC 5321 bound (64 characters before the "@", labels of 63, at most 127 of
# them), so a text with no "@" costs a bounded scan per word, never one to its end.
ADDRESSES = (
    r"\b(?:https?|ftp)://[^\s<>\"'`]+[^\s<>\"'`.,;:!?)\]}]",
    r"\bwww\.[^\s<>\"'`]+[^\s<>\"'`.,;:!?)\]}]",
    r"\b[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,127}\b",
)

# Placeholders of the template and message formats; earlier alternatives win.
PLACEHOLDER_PATTERNS = (
    r"\{\{[^{}\n]{1,200}\}\}",  # {{var}}, {{ user.name }} (Jinja, Handlebars, Vue, i18next)
    r"\$\{[^{}\n]{1,200}\}",  # ${x} (JS templates, shell)
    r"%\{[A-Za-z_]\w{0,100}\}|%<[A-Za-z_]\w{0,100}>[sdif]",  # %{count}, %<n>d (Ruby, Rails)
    r"%#@[A-Za-z_]\w{0,100}@",  # %#@files@ (Apple's stringsdict substitutions)
    r"\{[^{}\s][^{}\n]{0,200}\}",  # {name}, {0}, {count:d} (Python, .NET, ICU args)
    # printf: %s, %d, %1$s, %(name)s, %-5.2f, %lld, %@ (C, Java, Python, Objective-C); no
    # space flag, so "50% d..." stays text
    r"(?<!%)%(?:\([A-Za-z_]\w*\)|\d+\$)?[-+0#]*(?:\d+|\*)?(?:\.\d+)?(?:hh|ll|[hlLqjzt])?"
    r"[sdifuxXoeEgGc@]",
)
PLACEHOLDERS = re.compile("|".join(PLACEHOLDER_PATTERNS))

# One alternation, scanned once; earlier alternatives win where two could match.
PROTECTED = re.compile(
    "|".join(
        [
            *PLACEHOLDER_PATTERNS,
            *ADDRESSES,
            r"(?<![^\W\d_])\d+(?:[.,:/]\d+)*",  # numbers, not digits glued after a letter
        ]
    )
)


@dataclass(frozen=True)
class Span:
    """One opaque piece of a unit: put back verbatim, never shown to the model as itself."""

    raw: str
    # For a closing inline tag: the index of its opening tag's span in the same unit.
    closes: int | None = None


def has_letters(text: str) -> bool:
    """Whether ``text`` holds anything a model could translate (a letter of any script)."""
    return any(char.isalpha() for char in text)


def _identity(text: str) -> str:
    return text


@dataclass
class Unit:
    """A run of translatable text with its spans masked as ``{k}`` (``k`` indexes ``spans``).

    ``escape`` turns translated text into the output format (HTML escaping for markup); the
    spans are already in it. ``raw`` is the unit as it stood in the input: a unit with nothing
    to translate comes back as exactly that.
    """

    text: str
    spans: list[Span]
    raw: str
    escape: Callable[[str], str] = _identity
    # Whether a line break ends a sentence (plain text, <pre>) or is just a space (HTML).
    line_breaks: bool = True


class UnitBuilder:
    """Collects text and spans in input order into one :class:`Unit`."""

    def __init__(
        self,
        *,
        protect: bool,
        escape: Callable[[str], str] = _identity,
        line_breaks: bool = True,
    ) -> None:
        self._line_breaks = line_breaks
        self._parts: list[str] = []
        # Each span's raw pieces (spans with no text between them are one) and pairing.
        self._span_raws: list[list[str]] = []
        self._span_closes: list[int | None] = []
        self._raw: list[str] = []
        self._pending: list[str] = []
        self._protect = protect
        self._escape = escape
        self._after_span = False

    def add_text(self, text: str, raw: str | None = None) -> None:
        """Adds translatable ``text`` (its ``raw`` form in the input, when that differs).

        Consecutive pieces are scanned for protected spans together, so a URL cut by an
        entity (``?a=1&amp;b=2``) is still one span.
        """
        self._raw.append(text if raw is None else raw)
        self._pending.append(text)

    def _scan(self) -> None:
        text = "".join(self._pending)
        self._pending.clear()
        # Protected spans, and anything that reads like a sentinel, become spans themselves.
        pattern = PROTECTED if self._protect else SENTINEL
        start = 0
        for match in pattern.finditer(text):
            self._text(text[start : match.start()])
            self._span(self._escape(match.group()))
            start = match.end()
        self._text(text[start:])

    def _text(self, text: str) -> None:
        if text:
            self._parts.append(text)
            self._after_span = False

    def add_span(self, raw: str, closes: int | None = None) -> int:
        """Adds an opaque span (an inline tag, a comment); its index in the unit's spans."""
        self._scan()
        self._raw.append(raw)
        return self._span(raw, closes)

    def _span(self, raw: str, closes: int | None = None) -> int:
        """Appends a span; spans with no text between them are one (``</a></b>``, or
        ``<a>`` and the number it starts with): fewer sentinels for the model to keep. A
        merged span keeps the first's pairing, or takes the new one's. Its pieces are
        joined once, in :meth:`build` (joined on each merge, a run of tags was quadratic)."""
        if self._after_span:
            self._span_raws[-1].append(raw)
            if self._span_closes[-1] is None:
                self._span_closes[-1] = closes
        else:
            self._span_raws.append([raw])
            self._span_closes.append(closes)
            self._parts.append(f"{{{len(self._span_raws) - 1}}}")
            self._after_span = True
        return len(self._span_raws) - 1

    @property
    def empty(self) -> bool:
        return not self._raw

    def build(self) -> Unit:
        self._scan()
        spans = [
            Span("".join(raws), closes)
            for raws, closes in zip(self._span_raws, self._span_closes, strict=True)
        ]
        return Unit(
            "".join(self._parts),
            spans,
            "".join(self._raw),
            self._escape,
            self._line_breaks,
        )


def mask(text: str, *, protect: bool = True) -> Unit:
    """Plain ``text`` as one unit, its protected spans masked when ``protect``."""
    if not protect:
        return Unit(text, [], text)
    builder = UnitBuilder(protect=protect)
    builder.add_text(text)
    return builder.build()


@dataclass(frozen=True)
class MaskedSentence:
    """A sentence of a unit as the model sees it: sentinels renumbered from 0 in order.

    ``spans[k]`` is the unit's span for the model's ``{k}``; ``closes`` pairs local indices.
    """

    model_text: str
    spans: list[Span]
    closes: dict[int, int] = field(default_factory=dict)  # closing local index -> opening

    @property
    def translatable(self) -> bool:
        """Whether anything but spans, digits, punctuation and space is left to translate."""
        return has_letters(SENTINEL.sub("", self.model_text))

    def restore(self, output: str, escape: Callable[[str], str]) -> str | None:
        """``output`` with the spans put back, or None when the model did not keep every
        sentinel exactly once with each closing tag after its opening."""
        if not self.spans:
            return escape(output)
        found = [(int(m.group(1)), m) for m in _SENTINEL_OUT.finditer(output)]
        if sorted(k for k, _ in found) != list(range(len(self.spans))):
            return None
        position = {k: i for i, (k, _) in enumerate(found)}
        if any(position[close] < position[open_] for close, open_ in self.closes.items()):
            return None
        parts, start = [], 0
        for k, match in found:
            parts += [escape(output[start : match.start()]), self.spans[k].raw]
            start = match.end()
        parts.append(escape(output[start:]))
        return "".join(parts)

    def fragments(self) -> list[str]:
        """The text between the spans (for a repair), in order; ``len(spans) + 1`` of them."""
        return SENTINEL.split(self.model_text)[::2]

    def join(self, fragments: list[str], escape: Callable[[str], str]) -> str:
        """Translated ``fragments`` joined around the spans in their original order."""
        order = [int(k) for k in SENTINEL.findall(self.model_text)]
        parts = [escape(fragments[0])]
        for k, fragment in zip(order, fragments[1:], strict=True):
            parts += [self.spans[k].raw, escape(fragment)]
        return "".join(parts)


def masked_sentence(sentence: str, unit: Unit) -> MaskedSentence:
    """``sentence`` (a piece of ``unit.text``) with its sentinels numbered locally."""
    if not unit.spans:  # nothing was masked: braces in it are the text's own
        return MaskedSentence(sentence, [])
    local: dict[int, int] = {}
    spans: list[Span] = []

    def renumber(match: re.Match[str]) -> str:
        index = int(match.group(1))
        local[index] = len(spans)
        spans.append(unit.spans[index])
        return f"{{{local[index]}}}"

    model_text = SENTINEL.sub(renumber, sentence)
    closes = {
        local[index]: local[closes]
        # Only this sentence's spans: a loop over all of the unit's, per sentence, made a
        # long text with many spans quadratic.
        for index in local
        # (a tag merged with its own closing tag, "<a>42</a>", is one span: no pair)
        if (closes := unit.spans[index].closes) not in (None, index) and closes in local
    }
    return MaskedSentence(model_text, spans, closes)


def substitute(masked: MaskedSentence, replacements: list[tuple[int, int, str]]) -> MaskedSentence:
    """``masked`` with more spans: each ``(start, end, raw)`` range of its model text (none
    overlapping a sentinel) becomes a span put back as ``raw`` (a glossary's target term);
    sentinels are numbered again in order of appearance."""
    if not replacements:
        return masked
    pieces: list[tuple[str, Span | int | None]] = []  # (text, None) / ("", span or old index)
    position = 0
    marks = sorted(
        [(m.start(), m.end(), int(m.group(1))) for m in SENTINEL.finditer(masked.model_text)]
        + [(start, end, -1 - i) for i, (start, end, _) in enumerate(replacements)]
    )
    for start, end, key in marks:
        pieces.append((masked.model_text[position:start], None))
        pieces.append(("", key if key >= 0 else Span(replacements[-1 - key][2])))
        position = end
    pieces.append((masked.model_text[position:], None))
    text: list[str] = []
    spans: list[Span] = []
    new_index: dict[int, int] = {}
    for chunk, mark in pieces:
        if mark is None:
            text.append(chunk)
            continue
        if isinstance(mark, int):
            new_index[mark] = len(spans)
            spans.append(masked.spans[mark])
        else:
            spans.append(mark)
        text.append(f"{{{len(spans) - 1}}}")
    closes = {new_index[close]: new_index[open_] for close, open_ in masked.closes.items()}
    return MaskedSentence("".join(text), spans, closes)


def sentinel_ranges(text: str) -> list[tuple[int, int]]:
    """Where the sentinels of a model text are (no glossary term may overlap one)."""
    return [(m.start(), m.end()) for m in SENTINEL.finditer(text)]
