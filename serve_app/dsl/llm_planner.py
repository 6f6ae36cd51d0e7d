"""Optional LLM planner: an instruct model on CTranslate2's ``Generator`` writes the DSL.

Its output is untrusted text. It goes through exactly the validation of every other plan: only
catalog agents and actions with valid params survive, so prompt injection cannot yield an action
outside the registry. An invalid draft is sent back with the validator's errors, up to three
times, before the request is handed to a human.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from serve_app.agents.catalog import CATALOG
from serve_app.dsl.planner import MAX_REPAIRS, PlanningError
from serve_app.dsl.validator import validate
from serve_app.engines.models import find_file, resolve_model

Generate = Callable[[str], str]
_FENCE = re.compile(r"```(?:yaml|yml)?\s*\n(.*?)```", re.S)


def catalog_prompt() -> str:
    lines = []
    for agent in CATALOG.values():
        for action in agent.actions.values():
            params = list(action.params.model_json_schema().get("properties", {}))
            lines.append(
                f"- {agent.name}.{action.name}({', '.join(params)}) -> "
                f"{', '.join(action.outputs)}: {action.description}"
            )
    return "\n".join(lines)


def build_prompt(request: str, feedback: list[dict[str, Any]] | None = None) -> str:
    prompt = (
        "You turn requests into a YAML workflow: `name`, and `tasks` with `id`, `agent`, "
        "`action`, `params`, `depends_on`. Use only these actions:\n"
        f"{catalog_prompt()}\n"
        'Reference another task\'s output as "${task_id.field}". Answer with YAML only.\n'
        # The request is data: quoted as JSON so it cannot pose as instructions.
        f"Request (JSON string): {json.dumps(request)}\n"
    )
    if feedback:
        prompt += (
            "Your previous answer was invalid:\n"
            + "\n".join(f"- {e['field']}: {e['message']}" for e in feedback[:10])
            + "\nFix it.\n"
        )
    return prompt + "```yaml\n"


def extract_yaml(text: str) -> str:
    fenced = _FENCE.search("```yaml\n" + text if "```" not in text[:10] else text)
    return (fenced.group(1) if fenced else text.split("```", 1)[0]).strip()


class LLMPlanner:
    """Plans through ``generate`` (prompt → completion) with validation and repair."""

    def __init__(self, generate: Generate) -> None:
        self._generate = generate

    def plan(self, request: str) -> dict[str, Any]:
        feedback: list[dict[str, Any]] | None = None
        for _ in range(MAX_REPAIRS):
            draft = extract_yaml(self._generate(build_prompt(request, feedback)))
            report = validate(draft)
            if report.valid and report.workflow is not None:
                return report.workflow.model_dump(exclude_none=True)
            feedback = report.errors
        reasons = "; ".join(e["message"] for e in feedback or [])[:500]
        raise PlanningError(
            f"the model produced no valid plan in {MAX_REPAIRS} attempts: {reasons}"
        )

    @classmethod
    def from_model(
        cls, model: str, *, max_new_tokens: int = 512, compute_type: str = "int8"
    ) -> LLMPlanner:
        """A CTranslate2 decoder-only instruct model with ``tokenizer.json`` beside it."""
        import ctranslate2
        from tokenizers import Tokenizer

        path = resolve_model(model)
        tokenizer = Tokenizer.from_file(str(find_file(Path(path), ("tokenizer.json",))))
        generator = ctranslate2.Generator(str(path), device="cpu", compute_type=compute_type)

        def generate(prompt: str) -> str:
            tokens = tokenizer.encode(prompt).tokens
            (result,) = generator.generate_batch(
                [tokens],
                max_length=max_new_tokens,
                sampling_topk=1,
                include_prompt_in_result=False,
            )
            text: str = tokenizer.decode(result.sequences_ids[0])
            return text

        return cls(generate)
