"""Glossaries from the routes: checking what a client sends, finding its glossaries (its own
only) and the terms a request needs from one."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence

from serve_app.api import records
from serve_app.api.errors import ApiError
from serve_app.api.schemas import GlossaryCreate
from serve_app.api.services import Services
from serve_app.api.validation import language_code
from serve_app.engines.glossary import (
    Glossary,
    GlossaryError,
    GlossaryLimits,
    GlossaryTooLargeError,
    check_entries,
    check_size,
    parse_csv,
)
from serve_app.records import GLOSSARY, glossary_of, glossary_record


def limits(services: Services) -> GlossaryLimits:
    config = services.args.glossaries
    return GlossaryLimits(max_entries=config.max_entries, max_term_chars=config.max_term_chars)


def _pair(
    services: Services, source: str | None, target: str | None, where: str
) -> tuple[str, str]:
    if not source or not target:
        raise ApiError(
            422,
            "every entry needs a source_language and a target_language (its own, or the "
            "glossary's)",
            field=where,
            code="INVALID_GLOSSARY",
        )
    return (
        language_code(source, services.languages, f"{where}.source_language"),
        language_code(target, services.languages, f"{where}.target_language"),
    )


def build(services: Services, body: GlossaryCreate, owner: str | None) -> Glossary:
    """A new glossary from ``body``; 400 for an unknown language, 413 beyond the entry
    limit, 422 naming the first entry that cannot be accepted."""
    bounds = limits(services)
    try:
        if body.entries is not None:
            field = "entries"
            raw = [(e.source_language, e.target_language, e.source, e.target) for e in body.entries]
        else:
            field = "entries_csv"
            raw = list(parse_csv(body.entries_csv or "", bounds))
        check_size(len(raw), bounds, field)  # refused before languages are looked up
        rows = [
            (
                *_pair(
                    services,
                    source_language or body.source_language,
                    target_language or body.target_language,
                    f"{field}.{index}",
                ),
                source,
                target,
            )
            for index, (source_language, target_language, source, target) in enumerate(raw)
        ]
        entries = check_entries(rows, bounds, field)
    except GlossaryError as exc:
        too_large = isinstance(exc, GlossaryTooLargeError)
        raise ApiError(
            413 if too_large else 422,
            str(exc),
            field=exc.field,
            code="GLOSSARY_TOO_LARGE" if too_large else "INVALID_GLOSSARY",
        ) from exc
    return Glossary(uuid.uuid4().hex, records.owner_of(owner), body.name, time.time(), entries)


async def create(services: Services, glossary: Glossary) -> None:
    maximum = services.args.glossaries.max_per_owner
    await records.create(services, GLOSSARY, glossary_record(glossary), maximum, "glossary")
    services.glossaries[glossary.id] = glossary


async def load(services: Services, glossary_id: str, owner: str | None, field: str) -> Glossary:
    """The caller's glossary ``glossary_id``: 404 for an unknown one and for another key's
    (indistinguishable), read through the replica's short-lived cache."""
    glossary = services.glossaries.get(glossary_id)
    if glossary is None:
        glossary = glossary_of(
            await records.load(services, GLOSSARY, glossary_id, owner, "glossary", field)
        )
        services.glossaries[glossary_id] = glossary
    if glossary.owner != records.owner_of(owner):
        raise records.not_found("glossary", field)
    return glossary


async def delete(services: Services, glossary_id: str, owner: str | None) -> None:
    """Deletes the caller's glossary; 404 when it has none of that id."""
    services.glossaries.pop(glossary_id, None)
    await records.delete(services, GLOSSARY, glossary_id, owner, "glossary", "glossary_id")


def terms_for(
    glossary: Glossary,
    readable: Sequence[str],
    sources: Sequence[str],
    targets: Sequence[str],
) -> tuple[tuple[str, str, str, str], ...]:
    """The glossary's entries that occur in the texts (their ``readable`` text, each from
    its own source, into every target): all a Translator call needs to carry."""
    used: dict[tuple[str, str, str, str], None] = {}
    for text, source in zip(readable, sources, strict=True):
        for target in targets:
            terms = glossary.terms(source, target)
            for match in terms.find(text):
                term_source, term_target = terms.pairs[match.term]
                used[(source, target, term_source, term_target)] = None
    return tuple(used)
