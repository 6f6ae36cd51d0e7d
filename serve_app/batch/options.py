"""A :class:`~.rows.BatchSpec` from what a user types (the CLI, the Python function): any
language code normalised to FLORES-200, a glossary read from CSV."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from serve_app.batch.rows import BatchSpec, BatchSpecError
from serve_app.engines.glossary import GlossaryError, GlossaryLimits, check_entries, parse_csv
from serve_app.engines.languages import LanguageDatabase, UnknownLanguageError


def _code(code: str, languages: LanguageDatabase, what: str) -> str:
    try:
        return languages.normalize(code)
    except UnknownLanguageError as exc:
        raise BatchSpecError(f"{what}: {exc}") from exc


def read_glossary(
    path: str | Path,
    source: str | None,
    targets: Sequence[str],
    languages: LanguageDatabase,
    limits: GlossaryLimits | None = None,
) -> tuple[tuple[str, str, str, str], ...]:
    """A CSV glossary as the service reads one: ``source,target`` rows (for the one source
    and target language given) or ``source_language,target_language,source,target``."""
    limits = limits or GlossaryLimits()
    try:
        rows = parse_csv(Path(path).read_text("utf-8"), limits)
        pairs: list[tuple[str, str, str, str]] = []
        for row_source, row_target, term, translation in rows:
            if row_source is None or row_target is None:
                if source is None or len(targets) != 1:
                    raise BatchSpecError(
                        f"{path}: source,target rows need one source (--from) and one target "
                        "language; or give each row its languages"
                    )
                pairs.append((source, targets[0], term, translation))
            else:
                pairs.append(
                    (
                        _code(row_source, languages, f"{path}"),
                        _code(row_target, languages, f"{path}"),
                        term,
                        translation,
                    )
                )
        entries = check_entries(pairs, limits, field=str(path))
    except GlossaryError as exc:
        raise BatchSpecError(f"glossary {exc.field}: {exc}") from exc
    return tuple((e.source_language, e.target_language, e.source, e.target) for e in entries)


def batch_spec(
    column: str,
    to: str | Sequence[str],
    *,
    source: str | None = None,
    source_column: str | None = None,
    output_column: str = "translation",
    text_format: str = "text",
    protect_spans: bool = True,
    quality: bool = False,
    glossary: str | Path | None = None,
    glossary_mode: str = "enforce",
    languages: LanguageDatabase | None = None,
) -> BatchSpec:
    """The spec of a batch; codes in any form the API takes (``fr``, ``fra``, ``fra_Latn``),
    ``to`` one code, several comma-separated, or a list."""
    languages = languages or LanguageDatabase.default()
    wanted = to.split(",") if isinstance(to, str) else list(to)
    targets = tuple(_code(code, languages, "target") for code in wanted if code.strip())
    given = _code(source, languages, "source") if source else None
    terms = read_glossary(glossary, given, targets, languages) if glossary else ()
    try:
        return BatchSpec(
            column,
            targets,
            source=given,
            source_column=source_column,
            output_column=output_column,
            text_format=text_format,
            protect_spans=protect_spans,
            quality=quality,
            glossary=terms,
            glossary_mode=glossary_mode,
        )
    except ValueError as exc:  # the glossary mode's check
        raise BatchSpecError(str(exc)) from exc
