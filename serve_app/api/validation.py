"""Request checks that pydantic alone cannot express with the contract's status codes."""

from __future__ import annotations

from serve_app.api.errors import ApiError
from serve_app.config import ApiConfig
from serve_app.engines.languages import LanguageDatabase, UnknownLanguageError


def as_text_list(text: str | list[str], config: ApiConfig) -> tuple[list[str], bool]:
    """``(texts, was_single)``; 422 for empty input, 413 beyond the configured limits."""
    single = isinstance(text, str)
    texts = [text] if isinstance(text, str) else text
    if not texts:
        raise ApiError(
            422,
            "Validation failed",
            field="text",
            code="VALUE_ERROR",
            message="text must be a non-empty string or a non-empty list of strings",
        )
    if len(texts) > config.max_batch_items:
        raise ApiError(
            413,
            f"Too many texts: at most {config.max_batch_items} per request",
            field="text",
            code="PAYLOAD_TOO_LARGE",
        )
    for index, item in enumerate(texts):
        where = "text" if single else f"text.{index}"
        if not item.strip():
            raise ApiError(
                422,
                "Validation failed",
                field=where,
                code="VALUE_ERROR",
                message="text must not be empty or whitespace only",
            )
        if len(item) > config.max_text_chars:
            raise ApiError(
                413,
                f"Text too long: {len(item)} characters, the limit is {config.max_text_chars}; "
                "use the async translation job API for long documents",
                field=where,
                code="TEXT_TOO_LONG",
            )
    return texts, single


def language_code(code: str, languages: LanguageDatabase, field: str) -> str:
    """FLORES-200 code for ``code``, or 400 naming the accepted forms."""
    try:
        return languages.normalize(code)
    except UnknownLanguageError as exc:
        raise ApiError(
            400,
            f"Unsupported language code: {code!r}",
            field=field,
            code="UNSUPPORTED_LANGUAGE",
            message=str(exc),
        ) from exc


def candidate_codes(
    asked: list[str] | None, languages: LanguageDatabase, field: str
) -> frozenset[str] | None:
    """The FLORES-200 codes of a client's candidate languages; 400 naming every unknown one."""
    if asked is None:
        return None
    codes, unknown = languages.normalize_all(asked)
    if unknown:
        shown = ", ".join(repr(code) for code in unknown[:20])
        raise ApiError(
            400,
            f"Unsupported language code{'s' if len(unknown) > 1 else ''} in {field}: {shown}",
            field=field,
            code="UNSUPPORTED_LANGUAGE",
            message="use FLORES-200 codes (swh_Latn) or ISO 639 codes (sw, swa); "
            "GET /api/v1/languages lists them",
        )
    return codes


def target_codes(asked: str | list[str], languages: LanguageDatabase) -> tuple[list[str], bool]:
    """``(targets, several)``: the FLORES-200 codes of the target or targets asked for (one
    entry per language: "fr" and "fra_Latn" are one target); 400 naming an unknown one."""
    several = isinstance(asked, list)
    targets: list[str] = []
    for index, code in enumerate(asked if isinstance(asked, list) else [asked]):
        field = f"target_language.{index}" if several else "target_language"
        normalised = language_code(code, languages, field)
        if normalised not in targets:
            targets.append(normalised)
    return targets, several
