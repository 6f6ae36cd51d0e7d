"""Which registered model serves a request: the one it names, else the routing table.

Plain Python (the ingress holds one, the tests use it without Ray). The order, most specific
first: a route for the exact pair; a route for the source (any target); one for the target
(any source); a Marian pair model's own pair (``translator.models.<name>.languages``); a route
``* -> *``; ``translator.default_model``. ``default`` is ``translator.model`` itself.
"""

from __future__ import annotations

import hashlib
from typing import Any

from serve_app.config import DEFAULT_MODEL_NAME, TranslatorConfig
from serve_app.engines.languages import LanguageDatabase
from serve_app.messages import TranslateCall, TranslateOutcome

ANY = "*"


class UnknownModelError(ValueError):
    """A request named a model that is not registered."""


class ModelRouter:
    def __init__(self, config: TranslatorConfig, languages: LanguageDatabase) -> None:
        self.names = (DEFAULT_MODEL_NAME, *config.models)
        self._pairs: dict[tuple[str, str], str] = {}
        self._sources: dict[str, str] = {}
        self._targets: dict[str, str] = {}
        self._default = config.default_model
        self._catch_all: str | None = None

        def code(value: str) -> str:
            return value if value == ANY else languages.normalize(value)

        for route in config.routes:  # the first route for a key wins
            source, target = code(route.source), code(route.target)
            if source != ANY and target != ANY:
                self._pairs.setdefault((source, target), route.model)
            elif source != ANY:
                self._sources.setdefault(source, route.model)
            elif target != ANY:
                self._targets.setdefault(target, route.model)
            elif self._catch_all is None:
                self._catch_all = route.model
        self._own_pairs: dict[tuple[str, str], str] = {}
        for name, entry in config.models.items():
            if entry.languages is not None:
                pair = (code(entry.languages[0]), code(entry.languages[1]))
                self._own_pairs.setdefault(pair, name)

    @property
    def multiple(self) -> bool:
        """More than the one model: requests must be routed."""
        return len(self.names) > 1

    def choose(self, source: str, target: str, requested: str | None = None) -> str:
        """The name of the model for ``source`` → ``target`` (FLORES-200 codes)."""
        if requested is not None:
            if requested not in self.names:
                raise UnknownModelError(
                    f"no model {requested!r}; this service has {', '.join(self.names)}"
                )
            return requested
        return (
            self._pairs.get((source, target))
            or self._sources.get(source)
            or self._targets.get(target)
            or self._own_pairs.get((source, target))
            or self._catch_all
            or self._default
        )


def multiplexed_id(name: str, config: TranslatorConfig) -> str:
    """The id a Serve call carries: none for ``default`` (every replica holds it); else the
    name and a digest of its definition, so a model replaced under the same name (a deploy
    of the config) is a new entry in the replicas' caches, never the old one reused."""
    if name == DEFAULT_MODEL_NAME:
        return ""
    digest = hashlib.sha256(config.models[name].model_dump_json().encode()).hexdigest()[:12]
    return f"{name}@{digest}"


def model_name(model_id: str) -> str:
    """The registered name in a multiplexed id."""
    return model_id.split("@", 1)[0] if model_id else DEFAULT_MODEL_NAME


class ModelHandles:
    """The Translator handle to call for each registered model: its calls carry the model's
    multiplexed id, so Serve sends them to a replica that holds it. Duck-typed over Ray's
    handle (``.options(multiplexed_model_id=...)``), so that this module needs no Ray."""

    def __init__(self, handle: Any, config: TranslatorConfig) -> None:
        self._handle = handle
        self._ids = {
            name: multiplexed_id(name, config) for name in (DEFAULT_MODEL_NAME, *config.models)
        }
        self._handles: dict[str, Any] = {}

    def __call__(self, name: str) -> Any:
        model_id = self._ids[name]
        if not model_id:
            return self._handle
        handle = self._handles.get(model_id)
        if handle is None:
            handle = self._handles[model_id] = self._handle.options(multiplexed_model_id=model_id)
        return handle

    async def translate(self, name: str, call: TranslateCall) -> TranslateOutcome:
        """``call`` on a replica that holds the model ``name``."""
        outcome: TranslateOutcome = await self(name).translate.remote(call)
        return outcome
