"""The supported languages."""

from __future__ import annotations

from fastapi import APIRouter, Query

from serve_app.api.errors import ApiError, error_responses
from serve_app.api.schemas import LanguagesResponse
from serve_app.api.services import ServicesDep
from serve_app.engines.languages import Language, UnknownLanguageError

router = APIRouter(
    prefix="/api/v1/languages",
    tags=["languages"],
    responses=error_responses(400, 401, 404, 422, 503),
)


@router.get("", response_model=LanguagesResponse, summary="List, search or filter languages")
async def list_languages(
    services: ServicesDep,
    search: str | None = Query(None, max_length=100, description="Part of a name or code."),
    region: str | None = Query(None, max_length=40, description="Africa, Asia, Europe, ..."),
) -> LanguagesResponse:
    database = services.languages
    found = database.search(search) if search else database.all()
    if region:
        try:
            in_region = {lang.code for lang in database.by_region(region)}
        except ValueError as exc:
            raise ApiError(400, str(exc), field="region", code="UNKNOWN_REGION") from exc
        found = [lang for lang in found if lang.code in in_region]
    return LanguagesResponse(
        languages=found,
        total=len(found),
        regions=database.regions(),
    )


@router.get("/{code}", response_model=Language, summary="One language by any accepted code")
async def get_language(code: str, services: ServicesDep) -> Language:
    try:
        return services.languages.get(code)
    except UnknownLanguageError as exc:
        raise ApiError(
            404, f"Language not found: {code!r}", field="code", code="NOT_FOUND", message=str(exc)
        ) from exc
