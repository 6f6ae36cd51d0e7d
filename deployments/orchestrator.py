"""Orchestrator deployment: the agent registry, workflow execution and planning."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel
from ray import serve
from ray.serve.handle import DeploymentHandle

from deployments.handles import ready
from serve_app.agents import text
from serve_app.agents.base import ActionContext, ActionError, ActionResult, Handler
from serve_app.agents.eda import EdaAgent
from serve_app.config import AppArgs
from serve_app.dsl.catalog import DetectParams, TranslateBatchParams, TranslateParams
from serve_app.dsl.executor import WorkflowExecutor
from serve_app.dsl.llm_planner import LLMPlanner
from serve_app.dsl.planner import PlanningError, plan_yaml, to_yaml
from serve_app.dsl.validator import Workflow
from serve_app.jobs.actors import job_manager
from serve_app.messages import DetectCall, DetectOutcome, TranslateCall, TranslateOutcome
from serve_app.orchestration.registry import AgentRegistry


def service_handlers(
    translator: DeploymentHandle, detector: DeploymentHandle
) -> dict[str, dict[str, Handler]]:
    """Handlers of the `language` and `translation` agents, over the deployments' handles."""

    async def detect_language(texts: list[str], k: int) -> list[Any]:
        outcome: DetectOutcome = await detector.detect.remote(DetectCall(texts, k))
        return outcome.detections

    async def translate_texts(
        texts: list[str], source: str | None, target: str
    ) -> tuple[list[str], str]:
        if source is None:
            found = await detect_language(texts[:1], 1)
            if found[0].language == "und":
                raise ActionError("could not detect the source language; pass source_language")
            source = found[0].language
        call = TranslateCall(texts, [source] * len(texts), target)
        outcome: TranslateOutcome = await translator.translate.remote(call)
        if outcome.error:
            raise ActionError(outcome.error)
        return outcome.texts, source

    async def detect(params: BaseModel, _: ActionContext) -> ActionResult:
        assert isinstance(params, DetectParams)
        (result,) = await detect_language([params.text], params.top_k)
        return ActionResult(
            {
                "language": result.language,
                "confidence": result.confidence,
                "candidates": [
                    {"language": c.language, "confidence": c.confidence} for c in result.candidates
                ],
            }
        )

    async def translate(params: BaseModel, _: ActionContext) -> ActionResult:
        assert isinstance(params, TranslateParams)
        (text_out,), source = await translate_texts(
            [params.text], params.source_language, params.target_language
        )
        return ActionResult(
            {
                "translated_text": text_out,
                "source_language": source,
                "target_language": params.target_language,
            }
        )

    async def translate_batch(params: BaseModel, _: ActionContext) -> ActionResult:
        assert isinstance(params, TranslateBatchParams)
        texts, source = await translate_texts(
            params.texts, params.source_language, params.target_language
        )
        return ActionResult(
            {
                "translations": texts,
                "source_language": source,
                "target_language": params.target_language,
            }
        )

    return {
        "language": {"detect": detect},
        "translation": {"translate": translate, "translate_batch": translate_batch},
    }


@serve.deployment(name="Orchestrator", ray_actor_options={"num_cpus": 0.1}, max_ongoing_requests=64)
class OrchestratorDeployment:
    def __init__(
        self, translator: DeploymentHandle, detector: DeploymentHandle, args: dict[str, Any]
    ) -> None:
        ready(translator, detector)
        self.args = AppArgs.model_validate(args)
        self.registry = AgentRegistry()
        for agent, handlers in service_handlers(translator, detector).items():
            self.registry.bind(agent, handlers)
        self.registry.bind("text", text.HANDLERS)
        self.registry.bind(
            "eda_agent", EdaAgent(self.args.eda.data_dir, self.args.eda.output_dir).handlers()
        )
        self.executor = WorkflowExecutor(self.registry, self.args.workflows.task_timeout_seconds)
        self.jobs = job_manager(self.args.jobs)
        planner = self.args.planner
        self.llm = (
            LLMPlanner.from_model(planner.model, max_new_tokens=planner.max_new_tokens)
            if planner.backend == "llm" and planner.model
            else None
        )

    async def run_action(self, agent: str, action: str, params: dict[str, Any]) -> dict[str, Any]:
        result = await self.registry.run(agent, action, params)
        return result.output

    async def execute(self, workflow: dict[str, Any], token: str, lease_id: str) -> dict[str, Any]:
        """Runs a validated workflow for the job ``token``, publishing per-task state to it."""

        async def publish(snapshot: dict[str, Any]) -> bool:
            progress = snapshot["progress"]
            still_held: bool = await self.jobs.heartbeat.remote(
                token, lease_id, (progress["done"], progress["total"]), snapshot["tasks"]
            )
            return still_held

        result = await self.executor.run(Workflow.model_validate(workflow), token[:12], publish)
        return result.to_dict()

    def plan(self, request: str) -> dict[str, str]:
        """``{"dsl": yaml}``, or ``{"needs_human": reason}`` when no valid plan exists."""
        if self.llm is not None:
            try:
                return {"dsl": to_yaml(self.llm.plan(request))}
            except PlanningError:
                pass  # the deterministic planner may still manage
        try:
            return {"dsl": plan_yaml(request, datasets=self.datasets())}
        except PlanningError as exc:
            return {"needs_human": str(exc)}

    def datasets(self) -> list[str]:
        return sorted(path.name for path in Path(self.args.eda.data_dir).glob("*.csv"))

    def agents(self) -> list[dict[str, Any]]:
        return self.registry.describe()

    def check_health(self) -> None:
        if not self.registry.describe():
            raise RuntimeError("no agents registered")
