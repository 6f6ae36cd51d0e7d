"""Orchestrator deployment: the agent registry, workflow execution and planning."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from ray import serve
from ray.serve.handle import DeploymentHandle

from deployments.handles import ready, translation_service
from serve_app.agents import text
from serve_app.agents.eda import EdaAgent
from serve_app.agents.registry import AgentRegistry
from serve_app.agents.translation import language_handlers, translation_handlers
from serve_app.config import AppArgs
from serve_app.dsl.executor import WorkflowExecutor
from serve_app.dsl.limits import RunLimits
from serve_app.dsl.llm_planner import LLMPlanner
from serve_app.dsl.planner import PlanningError, plan_yaml, to_yaml
from serve_app.dsl.validator import Workflow
from serve_app.engines.languages import LanguageDatabase
from serve_app.ratelimit import rate_limiter
from serve_app.records.keeper import KeeperRecords, record_keeper

CHART_PRUNE_INTERVAL_S = 300.0


@serve.deployment(name="Orchestrator")
class OrchestratorDeployment:
    def __init__(
        self, translator: DeploymentHandle, detector: DeploymentHandle, args: dict[str, Any]
    ) -> None:
        ready(translator, detector)
        self.args = AppArgs.model_validate(args)
        translation = translation_service(translator, detector, self.args.translator)
        self.registry = AgentRegistry()
        self.registry.bind("language", language_handlers(translation.detect))
        records = KeeperRecords(record_keeper(self.args.jobs), self.args.corrections.enabled)
        self.registry.bind(
            "translation", translation_handlers(translation, LanguageDatabase.default(), records)
        )
        self.registry.bind("text", text.HANDLERS)
        eda = EdaAgent(self.args.eda.data_dir, self.args.eda.output_dir)
        self.registry.bind("eda_agent", eda.handlers())
        self._pruning = asyncio.get_event_loop().create_task(self._prune_charts(eda))
        workflows = self.args.workflows
        self.executor = WorkflowExecutor(
            self.registry,
            workflows.task_timeout_seconds,
            RunLimits.from_config(workflows),
            meter=self._meter(),
        )
        planner = self.args.planner
        self.llm = (
            LLMPlanner.from_model(planner.model, max_new_tokens=planner.max_new_tokens)
            if planner.backend == "llm" and planner.model
            else None
        )

    def _meter(self) -> Callable[[str, int], Awaitable[bool]] | None:
        """What a run's actions translate, charged to its owner's character budget in the
        limiter the API charges (with auth on: a run's owner is its key)."""
        limits = self.args.rate_limits
        if not limits.enabled:
            return None
        count = rate_limiter(limits, self.args.jobs.namespace)

        async def meter(owner: str, characters: int) -> bool:
            verdict = await count(
                owner, "characters", max(characters, limits.smallest_charge("characters"))
            )
            return verdict.allowed

        return meter

    async def _prune_charts(self, eda: EdaAgent) -> None:
        """Charts live as long as the job results that name them (jobs.ttl_seconds)."""
        while True:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(eda.prune, self.args.jobs.ttl_seconds)
            await asyncio.sleep(CHART_PRUNE_INTERVAL_S)

    async def run_action(self, agent: str, action: str, params: dict[str, Any]) -> dict[str, Any]:
        """One agent action outside any workflow (Python handle callers)."""
        result = await self.registry.run(agent, action, params)
        return result.output

    async def execute(
        self, workflow: dict[str, Any], run_id: str, owner: str = ""
    ) -> AsyncIterator[dict[str, Any]]:
        """Runs a validated workflow for ``owner`` (its part of the translation cache),
        streaming snapshots as it goes and the result last. The job's worker is the one
        writer of its state: it stores what this streams, and stops the run (cancelling this
        stream) when the job is cancelled."""
        updates: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

        async def publish(snapshot: dict[str, Any]) -> bool:
            updates.put_nowait(snapshot)
            return True

        run = asyncio.create_task(
            self.executor.run(Workflow.model_validate(workflow), run_id, publish, owner=owner)
        )
        try:
            while not run.done() or not updates.empty():
                waiter = asyncio.create_task(updates.get())
                await asyncio.wait({run, waiter}, return_when=asyncio.FIRST_COMPLETED)
                if waiter.done():
                    yield waiter.result()
                else:
                    waiter.cancel()
            yield run.result().to_dict()
        finally:
            run.cancel()  # the worker stopped listening: the run stops too
            with contextlib.suppress(asyncio.CancelledError):
                await run

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
