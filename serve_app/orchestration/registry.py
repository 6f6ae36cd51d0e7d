"""The agent registry: which ``agent/action`` pairs exist, their params and handlers.

Plain Python. Handlers are async callables; the Orchestrator deployment supplies handlers
that call the other deployments, tests and plug-ins may supply their own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

Handler = Callable[[BaseModel], Awaitable[dict[str, Any]]]


class UnknownActionError(LookupError):
    pass


@dataclass(frozen=True)
class Action:
    name: str
    description: str
    params: type[BaseModel]
    handler: Handler
    cues: tuple[str, ...] = ()


@dataclass
class Agent:
    name: str
    description: str
    actions: dict[str, Action] = field(default_factory=dict)

    def add(self, action: Action) -> Agent:
        self.actions[action.name] = action
        return self


class AgentRegistry:
    def __init__(self) -> None:
        self._agents: dict[str, Agent] = {}

    def register(self, agent: Agent) -> None:
        if agent.name in self._agents:
            raise ValueError(f"agent {agent.name!r} is already registered")
        self._agents[agent.name] = agent

    def resolve(self, agent: str, action: str) -> Action:
        if agent not in self._agents:
            known = ", ".join(sorted(self._agents))
            raise UnknownActionError(f"unknown agent {agent!r}; known agents: {known}")
        actions = self._agents[agent].actions
        if action not in actions:
            known = ", ".join(sorted(actions))
            raise UnknownActionError(f"agent {agent!r} has no action {action!r}; it has: {known}")
        return actions[action]

    async def run(self, agent: str, action: str, params: dict[str, Any]) -> dict[str, Any]:
        """Validates ``params`` against the action's model and runs its handler."""
        target = self.resolve(agent, action)
        try:
            parsed = target.params.model_validate(params)
        except ValidationError as exc:
            raise ValueError(f"invalid params for {agent}.{action}: {exc}") from exc
        return await target.handler(parsed)

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
                    }
                    for action in agent.actions.values()
                ],
            }
            for agent in self._agents.values()
        ]
