"""The layers, read from the source: imports point one way and nothing imports in a circle.

engines (and the other foundations) <- agents, dsl, jobs, records, ratelimit <- api <- deployments
<- app.
Every import counts, also one inside a function. The SDK (client/tafsiri_client, its own
distribution) is outside the layers: it imports none of them.
"""

from __future__ import annotations

import ast
import graphlib
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Lower layers first; a unit may import its own layer's units (acyclically) and lower ones.
LAYERS: list[set[str]] = [
    {
        "serve_app",  # the package itself: __version__
        "serve_app.config",
        "serve_app.engines",
        "serve_app.testmodel",
        "serve_app.messages",
        "serve_app.priority",
        "serve_app.actors",
        "serve_app.health",
        "serve_app.metrics",
        "serve_app.serving",
        "serve_app.loading",
        "serve_app.routing",
        "serve_app.lean_worker",
    },
    {
        "serve_app.translation",
        "serve_app.agents",
        "serve_app.dsl",
        "serve_app.jobs",
        "serve_app.records",
        "serve_app.ratelimit",
        "serve_app.batch",
        "serve_app.documents",
    },
    {"serve_app.api", "serve_app.handle_api"},
    {"deployments"},
    {"serve_app.app", "serve_app.cli"},
]
LAYER_OF = {unit: rank for rank, units in enumerate(LAYERS) for unit in units}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def unit_of(module: str) -> str:
    parts = module.split(".")
    if parts[0] == "deployments":
        return "deployments"
    return ".".join(parts[:2])


def project_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for package in ("serve_app", "deployments")
        for path in sorted((ROOT / package).rglob("*.py"))
    }


def imports_of(path: Path, module: str, known: set[str]) -> set[str]:
    """Project modules ``module`` imports (a name imported from a package counts as its
    submodule when one exists)."""
    found: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name != module:
                found.add(name)
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    modules = project_modules()
    known = set(modules)
    return {module: imports_of(path, module, known) for module, path in modules.items()}


def test_every_unit_has_a_layer(graph: dict[str, set[str]]) -> None:
    unplaced = sorted({unit_of(module) for module in graph} - set(LAYER_OF))
    assert not unplaced, f"give these a layer in LAYERS: {unplaced}"


def test_imports_never_point_up(graph: dict[str, set[str]]) -> None:
    upward = [
        f"{module} -> {target}"
        for module, targets in graph.items()
        for target in targets
        if LAYER_OF[unit_of(target)] > LAYER_OF[unit_of(module)]
    ]
    assert not upward, "imports from a lower layer into a higher one:\n" + "\n".join(upward)


def test_no_two_units_import_each_other_even_indirectly(graph: dict[str, set[str]]) -> None:
    units: dict[str, set[str]] = {}
    for module, targets in graph.items():
        unit = unit_of(module)
        units.setdefault(unit, set()).update(
            unit_of(target) for target in targets if unit_of(target) != unit
        )
    try:
        graphlib.TopologicalSorter(units).prepare()
    except graphlib.CycleError as cycle:
        pytest.fail(f"packages import each other in a circle: {' -> '.join(cycle.args[1])}")


def test_no_module_import_cycle(graph: dict[str, set[str]]) -> None:
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as cycle:
        pytest.fail(f"modules import each other in a circle: {' -> '.join(cycle.args[1])}")


def test_the_checks_see_a_cycle_and_an_upward_import() -> None:
    """The checks above can fail: a planted cycle and upward import are caught."""
    planted = {"serve_app.jobs.store": {"serve_app.api.app"}, "serve_app.api.app": set()}
    upward = [m for m, ts in planted.items() for t in ts if LAYER_OF[unit_of(t)] > 1]
    assert upward == ["serve_app.jobs.store"]
    with pytest.raises(graphlib.CycleError):
        graphlib.TopologicalSorter({"a": {"b"}, "b": {"a"}}).prepare()


# What the SDK's modules may import: the standard library, its two requirements, itself.
SDK_IMPORTS = {"httpx", "pydantic", "tafsiri_client", "__future__"}


def top_level_imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_the_sdk_imports_nothing_of_the_server() -> None:
    sources = sorted((ROOT / "client" / "tafsiri_client").rglob("*.py"))
    assert sources
    outside = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in sources
        for name in top_level_imports(path)
        if name not in SDK_IMPORTS and name not in sys.stdlib_module_names
    }
    assert not outside, "the SDK imports beyond httpx and pydantic:\n" + "\n".join(sorted(outside))
