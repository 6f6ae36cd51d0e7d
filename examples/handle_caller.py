"""Another Serve application calling Tafsiri through deployment handles, not HTTP.

With Tafsiri running (``make serve``, application ``tafsiri``), in the same Ray::

    serve run --address auto --name caller --route-prefix /caller examples.handle_caller:app
    curl -s localhost:8000/caller -d '{"texts": ["Habari ya asubuhi."], "to": "en"}'

``Caller`` uses both ways in :mod:`serve_app.handle_api`: the :class:`Tafsiri` client
(codes normalised, sources detected, errors raised) and the raw Translator handle with the
typed :class:`TranslateCall` / :class:`TranslateOutcome`.
"""

from __future__ import annotations

from typing import Any, cast

from ray import serve
from ray.serve import Deployment
from starlette.requests import Request

from serve_app.handle_api import (
    APP_NAME,
    TRANSLATOR,
    Tafsiri,
    TafsiriError,
    TranslateCall,
    TranslateOutcome,
)


@serve.deployment(ray_actor_options={"num_cpus": 0.05})
class Caller:
    def __init__(self, app_name: str = APP_NAME) -> None:
        self.tafsiri = Tafsiri(app_name)
        self.translator = serve.get_deployment_handle(TRANSLATOR, app_name=app_name)

    async def translate(
        self, texts: list[str], to: str, source: str | None = None
    ) -> dict[str, Any]:
        """Through the client: any language code, sources detected when not given."""
        try:
            result = await self.tafsiri.translate(texts, to, source)
        except TafsiriError as error:
            return {"error": str(error), "code": error.code}
        return {
            "translations": result.texts,
            "source_languages": result.source_languages,
            "target_language": result.target_language,
            "model": result.model,
        }

    async def raw(self, texts: list[str], sources: list[str], target: str) -> TranslateOutcome:
        """Through the Translator's own handle: FLORES-200 codes, the whole outcome back."""
        outcome: TranslateOutcome = await self.translator.translate.remote(
            TranslateCall(texts, sources, target)
        )
        return outcome

    async def __call__(self, request: Request) -> dict[str, Any]:
        body = await request.json()
        return await self.translate(body["texts"], body["to"], body.get("from"))


# `@serve.deployment` makes Caller a Deployment; type checkers see the class.
app = cast(Deployment, Caller).bind()
