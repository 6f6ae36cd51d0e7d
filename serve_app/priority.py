"""A job's priority, the one rule: 1 to 10, 10 runs first, 5 when not asked for.

Every way a job is submitted (HTTP bodies and forms, the CLI, a key's ``max_priority``) and
the job itself take it from here; the queue's aging (``jobs.priority_aging_seconds``) is what
keeps a high priority from starving the others.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

MIN_PRIORITY = 1
MAX_PRIORITY = 10
DEFAULT_PRIORITY = 5

Priority = Annotated[
    int,
    Field(
        ge=MIN_PRIORITY,
        le=MAX_PRIORITY,
        description=f"{MIN_PRIORITY} to {MAX_PRIORITY}: {MAX_PRIORITY} runs first.",
    ),
]
