"""gettext PO and POT (polib, MIT): each entry's msgid translated into its msgstr.

Comments, references, flags, context, obsolete entries and order are polib's to keep; the
source (``msgid``) stays. An entry with ``msgid_plural`` gets one ``msgstr[i]`` per plural
form of the target (its ``Plural-Forms`` header: Russian 3, Arabic 6), each translated from
``msgid`` where the form covers 1 alone (or ``msgid`` carries the number too: ``%d file``),
else from ``msgid_plural``. A file already in the target
language keeps its finished translations and fills in the rest. The header names the target
(``Language``) and is written in UTF-8. A translation below ``min_quality``, or one that
lost a placeholder (then the msgid stands in), is marked ``#, fuzzy``, which gettext does
not ship until a human clears it.
"""

from __future__ import annotations

import codecs
import re
import tempfile

import polib

from serve_app.documents.errors import invalid
from serve_app.documents.messages import Messages, Translated, message_of, numbered

_CHARSET = re.compile(rb"charset=([\w.:-]+)")


def _decode(data: bytes) -> str:
    """The file's text, in the charset its header names (UTF-8 when it names none)."""
    named = _CHARSET.search(data[:8192])
    charset = named.group(1).decode("ascii") if named else "utf-8"
    try:
        codecs.lookup(charset)
    except LookupError:
        charset = "utf-8"
    try:
        return data.decode("utf-8-sig" if charset.lower() in ("utf-8", "utf8") else charset)
    except UnicodeDecodeError as exc:
        raise invalid(
            f"the PO file is not {charset} text (byte {exc.start}: {exc.reason})"
        ) from exc


def _parse(text: str) -> polib.POFile:
    if "\x00" in text:
        raise invalid("the PO file holds NUL characters: a binary file, not text")
    # polib reads a string that names an existing file as that file: the upload goes through
    # a file of its own, never a path an uploader could name.
    with tempfile.NamedTemporaryFile("w", suffix=".po", encoding="utf-8") as file:
        file.write(text)
        file.flush()
        try:
            return polib.pofile(file.name, encoding="utf-8", wrapwidth=78)
        except (OSError, ValueError, KeyError, IndexError) as exc:
            raise invalid(f"the PO file is not valid gettext ({exc})") from exc


def _is_translated(entry: polib.POEntry) -> bool:
    if entry.fuzzy:
        return False
    if entry.msgid_plural:
        return bool(entry.msgstr_plural) and all(entry.msgstr_plural.values())
    return bool(entry.msgstr)


def walk_po(data: bytes, messages: Messages, write: bool) -> bytes:
    catalog = _parse(_decode(data))
    forms = messages.plural_forms
    language = messages.locale("_")
    already = catalog.metadata.get("Language", "").strip().replace("-", "_") == language
    for entry in catalog:
        if entry.obsolete or (already and _is_translated(entry)):
            continue
        done: list[Translated]
        if entry.msgid_plural:
            one, other = message_of(entry.msgid), message_of(entry.msgid_plural)
            # msgid where a form covers 1 alone, or carries the number as msgid_plural does
            # ("%d file"); "One file" is no form for 21 (Russian) or 0 (French).
            singular = forms.gettext_only_one or numbered(one, other)
            done = [
                messages.translate(one if i == forms.gettext_one and singular else other)
                for i in range(forms.gettext_count)
            ]
            entry.msgstr_plural = {i: t.message.text() for i, t in enumerate(done)}
        else:
            done = [messages.translate(message_of(entry.msgid))]
            entry.msgstr = done[0].message.text()
        if any(t.review for t in done):
            if not entry.fuzzy:
                entry.flags.append("fuzzy")
        elif entry.fuzzy:
            entry.flags.remove("fuzzy")
            entry.previous_msgid = entry.previous_msgid_plural = entry.previous_msgctxt = None
    if not write:
        return b""
    catalog.metadata["Language"] = language
    catalog.metadata["Content-Type"] = "text/plain; charset=UTF-8"
    catalog.metadata.setdefault("MIME-Version", "1.0")
    catalog.metadata.setdefault("Content-Transfer-Encoding", "8bit")
    catalog.metadata["Plural-Forms"] = forms.gettext_header
    catalog.metadata_is_fuzzy = 0
    return str(catalog).encode("utf-8")
