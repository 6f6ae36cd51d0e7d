"""The agent registry: the catalog's actions bound to handlers.

Plain Python. The Orchestrator deployment binds handlers that call the other deployments;
tests and plug-ins may bind their own.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from serve_app.agents.base import ActionContext, ActionResult, Handler
from serve_app.agents.catalog import CATALOG, ActionSpec, AgentSpec


class UnknownActionError(LookupError):
    pass


class AgentRegistry:
    def __init__(self, catalog: dict[str, AgentSpec] | None = None) -> None:
        self.catalog = catalog if catalog is not None else CATALOG
        self._handlers: dict[tuple[str, str], Handler] = {}

    def bind(self, agent: str, handlers: dict[str, Handler]) -> None:
        for action, handler in handlers.items():
            self.spec(agent, action)
            self._handlers[(agent, action)] = handler

    def spec(self, agent: str, action: str) -> ActionSpec:
        if agent not in self.catalog:
            known = ", ".join(sorted(self.catalog))
            raise UnknownActionError(f"unknown agent {agent!r}; known agents: {known}")
        actions = self.catalog[agent].actions
        if action not in actions:
            known = ", ".join(sorted(actions))
            raise UnknownActionError(f"agent {agent!r} has no action {action!r}; it has: {known}")
        return actions[action]

    async def run(
        self,
        agent: str,
        action: str,
        params: dict[str, Any],
        context: ActionContext | None = None,
    ) -> ActionResult:
        """Validates ``params`` against the action's model and runs its handler."""
        spec = self.spec(agent, action)
        handler = self._handlers.get((agent, action))
        if handler is None:
            raise UnknownActionError(f"{agent}.{action} has no handler in this deployment")
        try:
            parsed = spec.params.model_validate(params)
        except ValidationError as exc:
            raise ValueError(f"invalid params for {agent}.{action}: {exc}") from exc
        return await handler(parsed, context or ActionContext(task_id=action))

    def describe(self) -> list[dict[str, Any]]:
        return [
            {
                "name": agent.name,
                "description": agent.description,
                "actions": [
                    {
                        "name": action.name,
                        "description": action.description,
                        "params": action.params.model_json_schema(),
                        "outputs": list(action.outputs),
                        "available": (agent.name, action.name) in self._handlers,
                    }
                    for action in agent.actions.values()
                ],
            }
            for agent in self.catalog.values()
        ]
