"""What agents exist, which actions they offer, their params, outputs and planning cues.

Static and Ray-free: the validator, the planner and the suggestion engine read it; the
Orchestrator binds a handler to every action.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DetectParams(Params):
    text: str = Field(..., min_length=1, max_length=100_000)
    top_k: int = Field(3, ge=1, le=10)


# Targets one translate action may name (as the API's translate).
MAX_TARGETS = 8


class TranslationOptionParams(Params):
    """The options of the API's translate, the same in a workflow."""

    target_language: str | Annotated[list[str], Field(min_length=1, max_length=MAX_TARGETS)]
    source_language: str | None = Field(None, description="Detected when absent.")
    model: str | None = Field(None, max_length=64)
    alternatives: int = Field(0, ge=0, le=4)
    beam_size: int | None = Field(None, ge=1, le=16)
    format: Literal["text", "html"] = "text"
    protect_spans: bool = True
    quality: bool = False
    min_quality: float | None = Field(None, ge=0, le=1)
    glossary_id: str | None = Field(None, pattern=r"^[0-9a-f]{32}$")
    glossary_mode: Literal["enforce", "prefer"] = "enforce"


class TranslateParams(TranslationOptionParams):
    text: str = Field(..., min_length=1, max_length=100_000)


class TranslateBatchParams(TranslationOptionParams):
    texts: list[str] = Field(..., min_length=1, max_length=1000)


class SplitParams(Params):
    text: str
    by: Literal["sentence", "line", "paragraph"] = "sentence"


class ChunkParams(Params):
    text: str
    max_chars: int = Field(1000, ge=16, le=100_000)


class JoinParams(Params):
    items: list[str]
    separator: str = "\n"


class TemplateParams(Params):
    template: str = Field(..., max_length=100_000, description="Python str.format-free: {name}")
    values: dict[str, str | int | float | bool] = Field(default_factory=dict)


class LoadDataParams(Params):
    file: str = Field(..., min_length=1, max_length=255, description="CSV in the data directory.")

    @field_validator("file")
    @classmethod
    def _inside_data_dir(cls, value: str) -> str:
        # Checked again against the real directory when loading; refused early here.
        parts = value.replace("\\", "/").split("/")
        if value.startswith(("/", "\\", "~")) or ".." in parts or "\x00" in value:
            raise ValueError("file must be a name inside the data directory")
        if not value.lower().endswith(".csv"):
            raise ValueError("file must be a .csv file")
        return value


class DatasetParams(Params):
    """EDA actions work on the dataset their dependency loaded."""


class VisualizationParams(Params):
    type: Literal["histogram", "scatter", "bar", "box", "line"] = "histogram"
    column: str | None = Field(None, description="Column for histogram, bar, box and line.")
    x: str | None = Field(None, description="X column for scatter.")
    y: str | None = Field(None, description="Y column for scatter.")
    bins: int = Field(20, ge=2, le=200)


@dataclass(frozen=True)
class ActionSpec:
    name: str
    description: str
    params: type[Params]
    outputs: tuple[str, ...]
    cues: tuple[str, ...] = ()
    # Needs a dataset from a dependency (EDA analyses).
    needs_dataset: bool = False
    # Produces something only other tasks use; as a leaf its output is wasted.
    intermediate: bool = False
    minutes: float = 0.2


@dataclass(frozen=True)
class AgentSpec:
    name: str
    description: str
    actions: dict[str, ActionSpec] = field(default_factory=dict)


def _agent(name: str, description: str, *actions: ActionSpec) -> AgentSpec:
    return AgentSpec(name, description, {action.name: action for action in actions})


CATALOG: dict[str, AgentSpec] = {
    agent.name: agent
    for agent in (
        _agent(
            "language",
            "Language identification (fastText)",
            ActionSpec(
                "detect",
                "Detect the language of a text",
                DetectParams,
                ("language", "confidence", "candidates"),
                cues=("detect", "identify the language", "which language", "what language"),
            ),
        ),
        _agent(
            "translation",
            "Machine translation between 202 languages (NLLB-200)",
            ActionSpec(
                "translate",
                "Translate one text",
                TranslateParams,
                (
                    "translated_text",
                    "source_language",
                    "target_language",
                    # With several targets: the translations by target, and the targets.
                    "translations",
                    "target_languages",
                    "alternatives",
                    "quality",
                    "status",
                    "glossary_terms",
                    "correction_id",
                ),
                cues=("translate", "translation"),
            ),
            ActionSpec(
                "translate_batch",
                "Translate several texts, each from its own language unless one is given",
                TranslateBatchParams,
                (
                    "translations",
                    "source_languages",
                    "source_language",
                    "target_language",
                    "target_languages",
                    "alternatives",
                    "quality",
                    "withheld",
                    "glossary_terms",
                    "corrections",
                ),
                cues=("translate each", "translate all"),
            ),
        ),
        _agent(
            "text",
            "Text utilities",
            ActionSpec(
                "split",
                "Split text into sentences, lines or paragraphs",
                SplitParams,
                ("items", "count"),
                cues=("split",),
                intermediate=True,
            ),
            ActionSpec(
                "chunk",
                "Cut text into chunks of at most max_chars",
                ChunkParams,
                ("items", "count"),
                cues=("chunk",),
                intermediate=True,
            ),
            ActionSpec(
                "join",
                "Join items with a separator",
                JoinParams,
                ("text",),
                cues=("join", "combine"),
            ),
            ActionSpec(
                "template",
                "Fill {placeholders} in a template",
                TemplateParams,
                ("text",),
                cues=("template", "fill in"),
            ),
        ),
        _agent(
            "eda_agent",
            "Exploratory data analysis on CSV files of the data directory",
            ActionSpec(
                "load_data",
                "Load a CSV file",
                LoadDataParams,
                ("file", "rows", "columns"),
                cues=("load", "read", "open"),
                intermediate=True,
                minutes=0.5,
            ),
            ActionSpec(
                "basic_info",
                "Shape, columns and types",
                DatasetParams,
                ("rows", "columns", "dtypes"),
                cues=("basic info", "overview", "shape"),
                needs_dataset=True,
            ),
            ActionSpec(
                "statistical_summary",
                "Descriptive statistics of numeric columns",
                DatasetParams,
                ("summary",),
                cues=(
                    "summary statistics",
                    "statistical summary",
                    "describe",
                    "statistics",
                    "purchase patterns",
                    "analyze",
                    "analyse",
                ),
                needs_dataset=True,
                minutes=1,
            ),
            ActionSpec(
                "missing_data_analysis",
                "Missing values per column",
                DatasetParams,
                ("missing", "total_missing", "complete_rows"),
                cues=("missing", "null", "nan", "incomplete"),
                needs_dataset=True,
                minutes=1,
            ),
            ActionSpec(
                "create_visualization",
                "Plot to a PNG chart, served at image_url",
                VisualizationParams,
                ("image", "image_url", "type"),
                cues=("histogram", "scatter", "plot", "chart", "visuali", "graph"),
                needs_dataset=True,
                minutes=2,
            ),
        ),
    )
}


def find_action(agent: str, action: str) -> ActionSpec | None:
    spec = CATALOG.get(agent)
    return spec.actions.get(action) if spec else None
