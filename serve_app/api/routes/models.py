"""The models the Translator serves: the registry, the routing table, and what the replica
that answers holds."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from serve_app.api.errors import error_responses
from serve_app.api.services import ServicesDep
from serve_app.config import DEFAULT_MODEL_NAME

router = APIRouter(prefix="/api/v1/models", tags=["models"], responses=error_responses(401, 503))


class ModelState(BaseModel):
    name: str
    model: str = Field(description="Local path or Hugging Face reference.")
    revision: str | None = None
    languages: list[str] | None = Field(
        None, description="The pair a pair model serves; null: any pair its vocabulary has."
    )
    default: bool = Field(description="Serves the pairs no route names.")
    replica: dict[str, Any] = Field(
        default_factory=dict,
        description="As seen by one Translator replica (the one that answered): whether it "
        "holds the model, its loads, unloads and calls there. The default model is always held.",
    )


class ModelsResponse(BaseModel):
    models: list[ModelState]
    routes: list[dict[str, str]]
    max_models_per_replica: int


@router.get("", response_model=ModelsResponse, summary="Registered models and routes")
async def list_models(services: ServicesDep) -> ModelsResponse:
    config = services.args.translator
    info = await services.translator.info.remote()
    seen: dict[str, Any] = info.details.get("registered_models", {})
    models = [
        ModelState(
            name=DEFAULT_MODEL_NAME,
            model=info.model,
            revision=config.revision,
            default=config.default_model == DEFAULT_MODEL_NAME,
            replica={"loaded": True, "fallback_reason": info.fallback_reason},
        )
    ]
    models += [
        ModelState(
            name=name,
            model=entry.model,
            revision=entry.revision,
            languages=list(entry.languages) if entry.languages else None,
            default=config.default_model == name,
            replica=seen.get(name, {}),
        )
        for name, entry in config.models.items()
    ]
    return ModelsResponse(
        models=models,
        routes=[route.model_dump() for route in config.routes],
        max_models_per_replica=config.max_models_per_replica,
    )
