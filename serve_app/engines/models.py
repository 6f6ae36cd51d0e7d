"""Where a model is: a local path, or a Hugging Face repo (``owner/name``), optionally a folder
or file inside it (``owner/name/sub/folder``), at a revision.

Only the files a model needs are fetched (``allow_patterns``), into the Hugging Face cache
(``HF_HOME``); with ``HF_HUB_OFFLINE=1`` only that cache is read. Tokenizers are looked for
from the model's folder up to the repository's root, because published layouts put them
either beside ``model.bin`` or at the root (the Sema layout: ``spm.model`` at the root, the
model in ``translation_models/sematrans-3.3B/``). Every error names the setting to change.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar
from urllib.parse import urlparse

# owner/name, as the Hub spells repo ids, optionally followed by a path inside the repo.
_REPO_RE = re.compile(r"^(?P<repo>[A-Za-z0-9][\w.\-]*/[\w.\-]+)(?:/(?P<sub>[\w.\-/]+?))?/?$")
log = logging.getLogger(__name__)
T = TypeVar("T")
# A local model directory may keep its tokenizer this many folders up.
LOCAL_SEARCH_DEPTH = 2


class ModelUnavailableError(RuntimeError):
    """A model that is neither on disk nor obtainable from the Hub right now."""


@dataclass(frozen=True)
class ModelLocation:
    """A model's folder (or file) on disk, and how far up its tokenizer may be looked for."""

    path: Path
    root: Path

    def folders_up(self) -> list[Path]:
        """The model's folder and each parent up to ``root``, nearest first."""
        start = self.path if self.path.is_dir() else self.path.parent
        folders = [start]
        while folders[-1] != self.root and self.root in folders[-1].parents:
            folders.append(folders[-1].parent)
        return folders


def split_repo_reference(reference: str) -> tuple[str, str] | None:
    """``(repo id, path inside the repo)`` for a Hub reference, ``None`` for anything else."""
    match = _REPO_RE.match(reference)
    if match is None or ".." in reference.split("/"):
        return None
    return match["repo"], (match["sub"] or "").strip("/")


def is_repo_id(reference: str) -> bool:
    return split_repo_reference(reference) is not None and not Path(reference).exists()


def hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


@functools.cache
def hub_reachable(timeout_s: float = 3.0) -> bool:
    """Whether the Hub's host answers a TCP connection (once per process). Offline,
    huggingface_hub would retry for ~25 s before failing; behind a proxy this cannot be told
    from here, so the Hub is assumed reachable."""
    if any(os.environ.get(name) for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY")):
        return True
    endpoint = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    port = endpoint.port or (443 if endpoint.scheme == "https" else 80)
    try:
        with socket.create_connection((endpoint.hostname or "huggingface.co", port), timeout_s):
            return True
    except OSError:
        log.warning("the Hugging Face Hub is unreachable: only the local cache is read")
        return False


def _setting_hint(setting: str) -> str:
    variable = "TAFSIRI_" + setting.upper().replace(".", "__")
    return f"`{setting}` (environment: {variable})"


def locate_model(
    reference: str,
    *,
    revision: str | None = None,
    allow_patterns: list[str] | None = None,
    cache_dir: str | None = None,
    local_files_only: bool | None = None,
    search_up: tuple[str, ...] = (),
    setting: str = "translator.model",
) -> ModelLocation:
    """The model ``reference`` names, on disk (see :func:`download_patterns` for what is
    fetched of a Hub repo; ``setting`` is named in errors)."""
    path = Path(reference).expanduser()
    if path.exists():
        path = path.resolve()
        root = path if path.is_dir() else path.parent
        for _ in range(LOCAL_SEARCH_DEPTH):
            root = root.parent if root.parent != root else root
        return ModelLocation(path, root)
    parts = split_repo_reference(reference)
    if parts is None:
        raise ModelUnavailableError(
            f"model {reference!r} not found: it is not an existing path and not a Hugging Face "
            f"reference ('owner/name' or 'owner/name/folder'); set {_setting_hint(setting)}"
        )
    repo_id, sub = parts
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    offline = hub_offline() if local_files_only is None else local_files_only
    offline = offline or not hub_reachable()
    try:
        snapshot = Path(
            snapshot_download(
                repo_id=repo_id,
                revision=revision,
                allow_patterns=download_patterns(sub, allow_patterns, search_up),
                cache_dir=cache_dir,
                local_files_only=offline,
            )
        )
    except (LocalEntryNotFoundError, HfHubHTTPError, OSError, ValueError) as exc:
        where = (
            "the Hugging Face Hub"
            if not offline
            else "the local Hugging Face cache (HF_HUB_OFFLINE is set)"
            if hub_offline()
            else "the local Hugging Face cache (the Hub is unreachable)"
        )
        pull = f"tafsiri models pull {repo_id}" + (f" --revision {revision}" if revision else "")
        raise ModelUnavailableError(
            f"model {reference!r}"
            + (f" at revision {revision!r}" if revision else "")
            + f" could not be had from {where} ({type(exc).__name__}: {exc}). On a machine with "
            f"network run `{pull}` (HF_HOME decides the cache; HF_HUB_OFFLINE=1 reads only it), "
            f"or set {_setting_hint(setting)} to a local directory holding the model."
        ) from exc
    target = snapshot / sub if sub else snapshot
    if not target.exists():
        raise ModelUnavailableError(
            f"{sub!r} is not in {repo_id}"
            + (f" at revision {revision!r}" if revision else "")
            + f" (or none of its files matched {allow_patterns}); check {_setting_hint(setting)}"
        )
    return ModelLocation(target, snapshot)


def resolve_model(reference: str, **options: object) -> Path:
    """The path of :func:`locate_model`."""
    return locate_model(reference, **options).path  # type: ignore[arg-type]


# A reference whose last part has one of these suffixes names a file inside the repo.
FILE_SUFFIXES = frozenset({".bin", ".ftz", ".model", ".json", ".txt"})


def download_patterns(
    sub: str, allow_patterns: list[str] | None, search_up: tuple[str, ...]
) -> list[str] | None:
    """What to fetch of a repo: ``allow_patterns`` inside the folder ``sub`` names (just the
    file, when it names a file), plus ``search_up`` names at every level above it."""
    if not sub:
        return None if allow_patterns is None else [*allow_patterns]
    if Path(sub).suffix in FILE_SUFFIXES:
        return [sub]
    parts = sub.split("/")
    levels = [""] + ["/".join(parts[:i]) + "/" for i in range(1, len(parts))]
    inside = [f"{sub}/{pattern}" for pattern in (allow_patterns or ["*"])]
    return inside + [f"{level}{name}" for level in levels for name in search_up]


def find_file(directory: Path, candidates: tuple[str, ...], pattern: str | None = None) -> Path:
    """The first of ``candidates`` present in ``directory``, else the one match of ``pattern``."""
    for name in candidates:
        if (directory / name).is_file():
            return directory / name
    if pattern:
        matches = sorted(directory.glob(pattern))
        if len(matches) == 1:
            return matches[0]
    raise ModelUnavailableError(
        f"none of {', '.join(candidates)} found in {directory}"
        + (f" (and no single file matching {pattern})" if pattern else "")
    )


def find_up(
    location: ModelLocation, candidates: tuple[str, ...], pattern: str | None = None
) -> Path | None:
    """The nearest of ``candidates`` (or single ``pattern`` match) from the model's folder up
    to its root; ``None`` when there is none."""
    for folder in location.folders_up():
        try:
            return find_file(folder, candidates, pattern)
        except ModelUnavailableError:
            continue
    return None


@dataclass(frozen=True)
class Loaded(Generic[T]):
    """An engine and the model that serves in it; ``fallback_reason`` says why that is not
    the configured model (``None``: it is)."""

    engine: T
    model: str
    fallback_reason: str | None = None


def load_with_fallback(
    component: str,
    load: Callable[[str, str | None], T],
    configured: str,
    revision: str | None,
    fallback: str | None,
) -> Loaded[T]:
    """``load(configured, revision)``; when that model cannot be had and a ``fallback`` is
    allowed, ``load(fallback, None)``, announced loudly (logged as an error, named in /health
    and in responses)."""
    try:
        return Loaded(load(configured, revision), configured)
    except ModelUnavailableError as exc:
        if fallback is None:
            raise
        banner = "!" * 78
        log.error(
            "\n%s\n%s: THE CONFIGURED MODEL %r CANNOT BE HAD; SERVING THE BUNDLED FALLBACK %r.\n"
            "Its output is not a real %s. Reason: %s\n%s",
            banner,
            component.upper(),
            configured,
            fallback,
            component,
            exc,
            banner,
        )
        return Loaded(load(fallback, None), fallback, str(exc))
