"""The SDK is light: what a caller installs to call us does not pull in the server.

``tafsiri-client`` declares httpx and pydantic and nothing else, and importing it loads no
module from outside what those bring (no Ray, CTranslate2, NumPy, pandas or serve_app).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "client"
HEAVY = ("ray", "ctranslate2", "numpy", "pandas", "serve_app", "deployments", "fastapi")

IMPORTED = """
import json, sys
before = set(sys.modules)
import tafsiri_client
print(json.dumps({"file": tafsiri_client.__file__, "new": sorted(set(sys.modules) - before)}))
"""


def requirement_name(requirement: str) -> str:
    found = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert found, requirement
    return re.sub(r"[-_.]+", "-", found.group()).lower()


def declared() -> list[str]:
    project = tomllib.loads((CLIENT / "pyproject.toml").read_text("utf-8"))["project"]
    return [requirement_name(r) for r in project["dependencies"]]


def closure(names: list[str]) -> set[str]:
    """The distributions ``names`` may load: their requirements, transitively, and those of
    their own optional extras (httpx imports its command line's click and rich when they are
    installed); extras of what they require are left out."""
    seen: set[str] = set()
    pending = [(name, True) for name in names]
    while pending:
        name, with_extras = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requirements = metadata.requires(name) or []
        except metadata.PackageNotFoundError:  # not for this Python (a marker): not loaded
            continue
        pending += [
            (requirement_name(requirement), False)
            for requirement in requirements
            if with_extras or not re.search(r"\bextra\s*==", requirement)
        ]
    return seen


def imported_by_the_sdk() -> tuple[str, list[str]]:
    """What ``import tafsiri_client`` loads, in a fresh interpreter, from this checkout."""
    path = os.pathsep.join([str(CLIENT), os.environ.get("PYTHONPATH", "")])
    found = subprocess.run(
        [sys.executable, "-c", IMPORTED],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": path},
        timeout=60,
    )
    answer = json.loads(found.stdout)
    return answer["file"], answer["new"]


def test_the_sdk_requires_httpx_and_pydantic_only() -> None:
    assert sorted(declared()) == ["httpx", "pydantic"]


def test_importing_the_sdk_loads_nothing_of_the_server() -> None:
    file, modules = imported_by_the_sdk()
    assert Path(file).is_relative_to(CLIENT)
    heavy = sorted({m.split(".")[0] for m in modules} & set(HEAVY))
    assert not heavy, f"import tafsiri_client loads {heavy}"


def test_importing_the_sdk_loads_only_its_declared_dependencies() -> None:
    _, modules = imported_by_the_sdk()
    allowed = {"tafsiri-client", *closure(declared())}
    owners = metadata.packages_distributions()
    outside = {
        top: sorted(owners[top])
        for top in {m.split(".")[0] for m in modules}
        if top in owners and top not in sys.stdlib_module_names
        if not {requirement_name(d) for d in owners[top]} & allowed
    }
    assert not outside, f"import tafsiri_client loads modules of undeclared packages: {outside}"


def test_the_server_depends_on_the_sdk() -> None:
    """The CLI calls the service through the SDK: the main distribution requires it."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    assert "tafsiri-client" in [requirement_name(r) for r in project["dependencies"]]
