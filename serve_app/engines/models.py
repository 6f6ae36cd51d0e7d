"""Resolving a model reference (local directory or Hugging Face repo id) to a local path."""

from __future__ import annotations

import os
import re
from pathlib import Path

# owner/name, as the Hub spells repo ids.
_REPO_ID_RE = re.compile(r"^[A-Za-z0-9][\w.\-]*/[\w.\-]+$")


class ModelUnavailableError(RuntimeError):
    """A model that is neither on disk nor obtainable from the Hub right now."""


def is_repo_id(reference: str) -> bool:
    return bool(_REPO_ID_RE.match(reference)) and not Path(reference).exists()


def hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def resolve_model(
    reference: str,
    *,
    revision: str | None = None,
    allow_patterns: list[str] | None = None,
    cache_dir: str | None = None,
    local_files_only: bool | None = None,
) -> Path:
    """Returns a local directory (or file) for ``reference``.

    ``reference`` is a path on disk, or a Hugging Face repo id (``owner/name``) that is fetched
    with :func:`huggingface_hub.snapshot_download` into ``cache_dir`` (default: ``HF_HOME``'s
    hub cache). With ``HF_HUB_OFFLINE=1`` (or ``local_files_only``) only the local cache is
    consulted, and a model missing from it raises :class:`ModelUnavailableError` saying how
    to get it.
    """
    path = Path(reference).expanduser()
    if path.exists():
        return path.resolve()
    if not is_repo_id(reference):
        raise ModelUnavailableError(
            f"model {reference!r} not found: it is not an existing path and not a Hugging Face "
            "repo id of the form 'owner/name'"
        )
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    offline = hub_offline() if local_files_only is None else local_files_only
    try:
        local = snapshot_download(
            repo_id=reference,
            revision=revision,
            allow_patterns=allow_patterns,
            cache_dir=cache_dir,
            local_files_only=offline,
        )
    except (LocalEntryNotFoundError, HfHubHTTPError, OSError, ValueError) as exc:
        where = "the local Hugging Face cache" if offline else "the Hugging Face Hub"
        raise ModelUnavailableError(
            f"model {reference!r}"
            + (f" at revision {revision!r}" if revision else "")
            + f" could not be had from {where} ({type(exc).__name__}: {exc}). "
            "On a machine with network run `tafsiri models pull "
            f"{reference}` (HF_HOME decides the cache), or point the setting at a local "
            "directory holding the model."
        ) from exc
    return Path(local)


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
