"""The `eda_agent`: CSV files of one data directory, analysed with pandas, plotted to PNG."""

from __future__ import annotations

import contextlib
import math
import re
import time
import uuid
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from serve_app.agents.base import ActionContext, ActionError, ActionResult, Handler
from serve_app.agents.catalog import LoadDataParams, VisualizationParams

MAX_FILE_BYTES = 50 * 1024 * 1024


def _json_number(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else round(value, 6)
    return value


def _normalize(name: str) -> str:
    return re.sub(r"[\s_\-]+", " ", name).strip().lower()


class EdaAgent:
    def __init__(self, data_dir: str | Path, output_dir: str | Path) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.output_dir = Path(output_dir).resolve()

    def resolve_file(self, name: str) -> Path:
        """``name`` inside the data directory; anything that escapes it is refused."""
        if "\x00" in name or Path(name).is_absolute():
            raise ActionError(f"file {name!r} must be a relative name inside the data directory")
        path = (self.data_dir / name).resolve()
        if not path.is_relative_to(self.data_dir):
            raise ActionError(f"file {name!r} is outside the data directory")
        if path.suffix.lower() != ".csv":
            raise ActionError(f"file {name!r} is not a .csv file")
        if not path.is_file():
            available = sorted(p.name for p in self.data_dir.glob("*.csv"))[:20]
            raise ActionError(f"file {name!r} not found; available: {', '.join(available)}")
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ActionError(f"file {name!r} is larger than {MAX_FILE_BYTES} bytes")
        return path

    async def load_data(self, params: BaseModel, context: ActionContext) -> ActionResult:
        import pandas as pd

        assert isinstance(params, LoadDataParams)
        path = self.resolve_file(params.file)
        frame = await context.in_thread(pd.read_csv, path)
        return ActionResult(
            {"file": params.file, "rows": len(frame), "columns": [str(c) for c in frame.columns]},
            artifact=frame,
        )

    @staticmethod
    def _frame(context: ActionContext) -> Any:
        import pandas as pd

        frame = context.artifact_of(pd.DataFrame)
        if frame is None:
            raise ActionError("no dataset: this task must depend on a load_data task")
        return frame

    async def basic_info(self, _: BaseModel, context: ActionContext) -> ActionResult:
        frame = self._frame(context)
        return ActionResult(
            {
                "rows": len(frame),
                "columns": [str(c) for c in frame.columns],
                "dtypes": {str(c): str(t) for c, t in frame.dtypes.items()},
            }
        )

    async def statistical_summary(self, _: BaseModel, context: ActionContext) -> ActionResult:
        frame = self._frame(context)
        numeric = frame.select_dtypes("number")
        if numeric.empty:
            return ActionResult({"summary": {}})
        described = numeric.describe().to_dict()
        return ActionResult(
            {
                "summary": {
                    str(column): {stat: _json_number(value) for stat, value in stats.items()}
                    for column, stats in described.items()
                }
            }
        )

    async def missing_data_analysis(self, _: BaseModel, context: ActionContext) -> ActionResult:
        frame = self._frame(context)
        missing = frame.isna().sum()
        return ActionResult(
            {
                "missing": {str(c): int(n) for c, n in missing.items()},
                "total_missing": int(missing.sum()),
                "complete_rows": len(frame.dropna()),
            }
        )

    def _column(
        self, frame: Any, wanted: str | None, numeric: bool, skip: tuple[str, ...] = ()
    ) -> str:
        candidates = list(frame.select_dtypes("number").columns if numeric else frame.columns)
        if wanted is None:
            remaining = [c for c in candidates if c not in skip]
            if not remaining:
                raise ActionError("the dataset has no suitable column to plot")
            return str(remaining[0])
        target = _normalize(wanted)
        for column in frame.columns:
            if _normalize(str(column)) == target:
                return str(column)
        close = [str(c) for c in frame.columns if target in _normalize(str(c))]
        if len(close) == 1:
            return close[0]
        raise ActionError(f"no column {wanted!r}; columns: {', '.join(map(str, frame.columns))}")

    async def create_visualization(self, params: BaseModel, context: ActionContext) -> ActionResult:
        assert isinstance(params, VisualizationParams)
        frame = self._frame(context)
        self.output_dir.mkdir(parents=True, exist_ok=True)
        path = self.output_dir / f"{context.run_id}-{context.task_id}-{uuid.uuid4().hex[:8]}.png"
        if params.type == "scatter":
            x = self._column(frame, params.x, numeric=True)
            y = self._column(frame, params.y, numeric=True, skip=(x,))
            columns = {"x": x, "y": y}
        else:
            column = self._column(frame, params.column, numeric=params.type != "bar")
            columns = {"column": column}
        await context.in_thread(self._plot, frame, params, columns, path)
        # The chart's name and where the API serves it; never the server's own path.
        return ActionResult(
            {
                "image": path.name,
                "image_url": f"/api/v1/artifacts/{path.name}",
                "type": params.type,
                **columns,
            }
        )

    def prune(self, older_than_s: float) -> int:
        """Deletes charts older than ``older_than_s`` (the job TTL: no result names them any
        more); returns how many."""
        if not self.output_dir.is_dir():
            return 0
        cutoff, removed = time.time() - older_than_s, 0
        for chart in self.output_dir.glob("*.png"):
            with contextlib.suppress(FileNotFoundError):
                if chart.stat().st_mtime < cutoff:
                    chart.unlink()
                    removed += 1
        return removed

    @staticmethod
    def _plot(frame: Any, params: VisualizationParams, columns: dict[str, str], path: Path) -> None:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot as plt

        figure, axes = plt.subplots(figsize=(6, 4), dpi=100)
        try:
            if params.type == "scatter":
                axes.scatter(frame[columns["x"]], frame[columns["y"]], s=12)
                axes.set_xlabel(columns["x"])
                axes.set_ylabel(columns["y"])
            elif params.type == "histogram":
                frame[columns["column"]].dropna().plot.hist(ax=axes, bins=params.bins)
            elif params.type == "bar":
                frame[columns["column"]].value_counts().head(30).plot.bar(ax=axes)
            elif params.type == "box":
                frame[[columns["column"]]].plot.box(ax=axes)
            else:
                frame[columns["column"]].plot.line(ax=axes)
            axes.set_title(f"{params.type}: {', '.join(columns.values())}")
            figure.tight_layout()
            figure.savefig(path)
        finally:
            plt.close(figure)

    def handlers(self) -> dict[str, Handler]:
        return {
            "load_data": self.load_data,
            "basic_info": self.basic_info,
            "statistical_summary": self.statistical_summary,
            "missing_data_analysis": self.missing_data_analysis,
            "create_visualization": self.create_visualization,
        }
