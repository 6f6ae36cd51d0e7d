"""Orchestrator deployment: runs agent actions over the other deployments' handles."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from ray import serve
from ray.serve.handle import DeploymentHandle

from serve_app.dsl.planner import PlanningError, plan_yaml
from serve_app.messages import DetectCall, DetectOutcome, TranslateCall, TranslateOutcome
from serve_app.orchestration.registry import Action, Agent, AgentRegistry


class DetectParams(BaseModel):
    text: str = Field(..., min_length=1)
    top_k: int = Field(3, ge=1, le=10)


class TranslateParams(BaseModel):
    text: str
    target_language: str
    source_language: str


class TranslateBatchParams(BaseModel):
    texts: list[str] = Field(..., min_length=1)
    target_language: str
    source_language: str


def build_registry(translator: DeploymentHandle, detector: DeploymentHandle) -> AgentRegistry:
    """The built-in agents, backed by the translation and detection deployments."""

    async def translate_texts(texts: list[str], source: str, target: str) -> list[str]:
        call = TranslateCall(texts, [source] * len(texts), target)
        outcome: TranslateOutcome = await translator.translate.remote(call)
        if outcome.error:
            raise ValueError(outcome.error)
        return outcome.texts

    async def detect(params: BaseModel) -> dict[str, Any]:
        assert isinstance(params, DetectParams)
        outcome: DetectOutcome = await detector.detect.remote(
            DetectCall([params.text], params.top_k)
        )
        (result,) = outcome.detections
        return {"language": result.language, "confidence": result.confidence}

    async def translate(params: BaseModel) -> dict[str, Any]:
        assert isinstance(params, TranslateParams)
        (text,) = await translate_texts(
            [params.text], params.source_language, params.target_language
        )
        return {"translated_text": text, "target_language": params.target_language}

    async def translate_batch(params: BaseModel) -> dict[str, Any]:
        assert isinstance(params, TranslateBatchParams)
        texts = await translate_texts(params.texts, params.source_language, params.target_language)
        return {"translations": texts, "target_language": params.target_language}

    registry = AgentRegistry()
    registry.register(
        Agent("language", "Language identification").add(
            Action(
                "detect",
                "Detect the language of a text",
                DetectParams,
                detect,
                cues=("detect", "identify language", "what language"),
            )
        )
    )
    registry.register(
        Agent("translation", "Machine translation between 202 languages")
        .add(
            Action(
                "translate",
                "Translate one text",
                TranslateParams,
                translate,
                cues=("translate", "into", "to"),
            )
        )
        .add(
            Action(
                "translate_batch",
                "Translate several texts",
                TranslateBatchParams,
                translate_batch,
                cues=("translate all", "translate each"),
            )
        )
    )
    return registry


@serve.deployment(name="Orchestrator", ray_actor_options={"num_cpus": 0.1})
class OrchestratorDeployment:
    def __init__(self, translator: DeploymentHandle, detector: DeploymentHandle) -> None:
        self.registry = build_registry(translator, detector)

    async def run_action(self, agent: str, action: str, params: dict[str, Any]) -> dict[str, Any]:
        return await self.registry.run(agent, action, params)

    def plan(self, request: str) -> dict[str, str]:
        """``{"dsl": yaml}``, or ``{"needs_human": reason}`` when no valid plan exists."""
        try:
            return {"dsl": plan_yaml(request)}
        except PlanningError as exc:
            return {"needs_human": str(exc)}

    def agents(self) -> list[dict[str, Any]]:
        return self.registry.describe()

    def check_health(self) -> None:
        if not self.registry.describe():
            raise RuntimeError("no agents registered")
