"""The `text` agent: split, chunk, join, template."""

from __future__ import annotations

import re

from pydantic import BaseModel

from serve_app.agents.base import ActionContext, ActionError, ActionResult, Handler
from serve_app.agents.catalog import ChunkParams, JoinParams, SplitParams, TemplateParams
from serve_app.engines.segmenter import segment

_PLACEHOLDER = re.compile(r"\{([A-Za-z_]\w*)\}")


async def split(params: BaseModel, _: ActionContext) -> ActionResult:
    assert isinstance(params, SplitParams)
    if params.by == "sentence":
        items = segment(params.text, max_chars=5000).sentences
    elif params.by == "line":
        items = [line for line in params.text.splitlines() if line.strip()]
    else:
        items = [block.strip() for block in re.split(r"\n\s*\n", params.text) if block.strip()]
    return ActionResult({"items": items, "count": len(items)})


async def chunk(params: BaseModel, _: ActionContext) -> ActionResult:
    """Packs whole sentences into chunks of at most ``max_chars``."""
    assert isinstance(params, ChunkParams)
    chunks: list[str] = []
    for sentence in segment(params.text, max_chars=params.max_chars).sentences:
        if chunks and len(chunks[-1]) + 1 + len(sentence) <= params.max_chars:
            chunks[-1] += " " + sentence
        else:
            chunks.append(sentence)
    return ActionResult({"items": chunks, "count": len(chunks)})


async def join(params: BaseModel, context: ActionContext) -> ActionResult:
    assert isinstance(params, JoinParams)
    items = params.items
    context.check_output_size(sum(map(len, items)) + len(params.separator) * max(0, len(items) - 1))
    return ActionResult({"text": params.separator.join(items)})


async def template(params: BaseModel, context: ActionContext) -> ActionResult:
    """Plain ``{name}`` substitution: no attribute access or format specs, unlike str.format.
    Its size is known before it is built (each value once per time it is named)."""
    assert isinstance(params, TemplateParams)
    named = _PLACEHOLDER.findall(params.template)
    missing = sorted(set(named) - set(params.values))
    if missing:
        raise ActionError(f"template placeholders without values: {', '.join(missing)}")
    values = {name: str(value) for name, value in params.values.items()}
    context.check_output_size(len(params.template) + sum(len(values[name]) for name in named))
    return ActionResult({"text": _PLACEHOLDER.sub(lambda m: values[m.group(1)], params.template)})


HANDLERS: dict[str, Handler] = {"split": split, "chunk": chunk, "join": join, "template": template}
