"""What an action handler receives and returns."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel


@dataclass
class ActionContext:
    """The outputs (JSON) and artifacts (in-memory objects) of the task's dependencies."""

    task_id: str
    dependencies: list[str] = field(default_factory=list)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    artifacts: dict[str, Any] = field(default_factory=dict)
    run_id: str = "run"

    def artifact_of(self, kind: type) -> Any:
        """The nearest dependency's artifact of ``kind`` (e.g. a DataFrame)."""
        for task_id in self.dependencies:
            if isinstance(self.artifacts.get(task_id), kind):
                return self.artifacts[task_id]
        for artifact in self.artifacts.values():
            if isinstance(artifact, kind):
                return artifact
        return None


@dataclass
class ActionResult:
    output: dict[str, Any]
    artifact: Any = None


Handler = Callable[[BaseModel, ActionContext], Awaitable[ActionResult]]


class ActionError(ValueError):
    """A task failed for a reason retrying will not change (bad file, bad column)."""
