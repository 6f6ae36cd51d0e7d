"""The SDK's own models against the server's OpenAPI description, so they cannot drift.

The SDK (``client/tafsiri_client``) does not import the server: it declares its own models.
For every route it calls (the ``Route`` constants of ``tafsiri_client._endpoints``) the route
must exist on the server with that method, and:

* every field a response model declares exists in the server's answer with a type the model
  reads (each value the server may send is one the client accepts), and a field the client
  requires is one the server always sends;
* every field a request body declares exists in the server's request schema with a type the
  server accepts, and every field the server requires is one the client always sends;
* its query parameters are the route's, a 204 route answers nothing, a file route a file.

The client's models are wider than the server's on purpose (a status is any string, not a
closed list, so a newer server's new value does not break an old client); that direction is
allowed. ``None`` is never sent (request bodies leave unset fields out), so a client field
that may be None fits a server field that may not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pydantic import BaseModel

from serve_app.api.app import create_api
from serve_app.api.schemas import ErrorResponse
from serve_app.api.services import Services
from serve_app.config import AppArgs
from tafsiri_client import _endpoints, models
from tafsiri_client._core import FILE, NOTHING, Route

Schema = Any  # a JSON schema: a dict, or True for "anything"
Resolve = Callable[[Schema], Schema]
ANY = frozenset({"string", "number", "integer", "boolean", "null", "array", "object"})
JSON_TYPES = {str: "string", bool: "boolean", int: "integer", float: "number", type(None): "null"}
SUCCESS = ("200", "201", "202", "204")

# Fields a client model reads that the server sends outside its declared schema.
UNDECLARED = {
    # 429 bodies carry it (security.enforce_rate_limit, the spent-key middleware, job_access),
    # added to the error format as an extra field.
    ("ErrorBody", "retry_after"),
}


def resolver(root: dict[str, Any]) -> Resolve:
    def resolve(schema: Schema) -> Schema:
        while isinstance(schema, dict) and "$ref" in schema:
            found: Any = root
            for part in schema["$ref"].removeprefix("#/").split("/"):
                found = found[part]
            schema = found
        return schema

    return resolve


def alternatives(schema: Schema, resolve: Resolve) -> list[Schema]:
    """A schema's alternatives (anyOf/oneOf flattened), each dereferenced."""
    schema = resolve(schema)
    if isinstance(schema, dict) and ("anyOf" in schema or "oneOf" in schema):
        return [
            alt
            for option in schema.get("anyOf", schema.get("oneOf"))
            for alt in alternatives(option, resolve)
        ]
    return [schema]


def kinds(schema: Schema) -> frozenset[str]:
    """The JSON types one (non-union) schema admits."""
    if schema is True or schema == {}:
        return ANY
    if "const" in schema:
        return frozenset({JSON_TYPES[type(schema["const"])]})
    if "enum" in schema:
        return frozenset(JSON_TYPES[type(value)] for value in schema["enum"])
    declared = schema.get("type")
    if isinstance(declared, list):
        return frozenset(declared)
    if declared:
        return frozenset({declared})
    return frozenset({"object"}) if "properties" in schema else ANY


def within(narrow: frozenset[str], wide: frozenset[str]) -> bool:
    """Every JSON type of ``narrow`` is one of ``wide`` (an integer is a number)."""
    return narrow <= (wide | {"integer"} if "number" in wide else wide)


def name_of(schema: Schema) -> str:
    return schema.get("title", "?") if isinstance(schema, dict) else "any"


class Check:
    """Compares one client schema with one server schema, collecting what does not match."""

    def __init__(self, client_root: dict[str, Any], server_root: dict[str, Any]) -> None:
        self.client, self.server = resolver(client_root), resolver(server_root)

    def _best(self, attempts: list[list[str]]) -> list[str]:
        return [] if any(not a for a in attempts) else min(attempts, key=len)

    def reads(self, client: Schema, server: Schema, where: str) -> list[str]:
        """Problems reading every value ``server`` may send with ``client`` (an answer)."""
        problems: list[str] = []
        client_alts = alternatives(client, self.client)
        for sent in alternatives(server, self.server):
            attempts = [self._reads_one(alt, sent, where) for alt in client_alts]
            problems += self._best(attempts)
        return problems

    def _reads_one(self, client: Schema, server: Schema, where: str) -> list[str]:
        mine, theirs = kinds(client), kinds(server)
        if mine == ANY:
            return []
        if not within(theirs, mine):
            return [f"{where}: the server sends {sorted(theirs)}, the client reads {sorted(mine)}"]
        problems: list[str] = []
        if "object" in theirs and isinstance(client, dict) and isinstance(server, dict):
            problems += self._object(client, server, where, answer=True)
        if "array" in theirs and "items" in client and "items" in server:
            problems += self.reads(client["items"], server["items"], f"{where}[]")
        return problems

    def sends(
        self, client: Schema, server: Schema, where: str, provided: frozenset[str] = frozenset()
    ) -> list[str]:
        """Problems sending every value ``client`` allows to ``server`` (a request body)."""
        problems: list[str] = []
        server_alts = alternatives(server, self.server)
        for mine in alternatives(client, self.client):
            if kinds(mine) == {"null"}:
                continue  # None is left out, never sent
            attempts = [self._sends_one(mine, alt, where, provided) for alt in server_alts]
            problems += self._best(attempts)
        return problems

    def _sends_one(
        self, client: Schema, server: Schema, where: str, provided: frozenset[str]
    ) -> list[str]:
        mine, theirs = kinds(client) - {"null"}, kinds(server)
        if theirs == ANY:
            return []
        if not within(mine, theirs):
            return [f"{where}: the client sends {sorted(mine)}, the server takes {sorted(theirs)}"]
        problems: list[str] = []
        if "object" in mine and isinstance(client, dict) and isinstance(server, dict):
            problems += self._object(client, server, where, answer=False, provided=provided)
        if "array" in mine and "items" in client and "items" in server:
            problems += self.sends(client["items"], server["items"], f"{where}[]")
        return problems

    def _object(
        self,
        client: dict[str, Any],
        server: dict[str, Any],
        where: str,
        *,
        answer: bool,
        provided: frozenset[str] = frozenset(),
    ) -> list[str]:
        compare = self.reads if answer else self.sends
        problems: list[str] = []
        if "properties" in client:
            fields = server.get("properties")
            if fields is None:
                values = server.get("additionalProperties", True)
                if answer:  # a model read from a free object: its fields are not promised
                    return [f"{where}: the server declares no fields, the client a model"]
                fields = dict.fromkeys(client["properties"], values)
            owner = client.get("title", "?")
            for name, field in client["properties"].items():
                if name not in fields:
                    if (owner, name) not in UNDECLARED:
                        problems.append(f"{where}.{name}: not a field of the server's {where}")
                    continue
                problems += compare(field, fields[name], f"{where}.{name}")
            mine, theirs = set(client.get("required", ())), set(server.get("required", ()))
            if answer:
                problems += [
                    f"{where}.{name}: required by the client, optional on the server"
                    for name in sorted((mine - theirs) & set(fields))
                ]
            else:
                problems += [
                    f"{where}.{name}: required by the server, not always sent by the client"
                    for name in sorted(theirs - mine - provided)
                ]
        elif isinstance(client.get("additionalProperties"), dict):
            values = client["additionalProperties"]
            if "additionalProperties" in server:
                problems += compare(values, server["additionalProperties"], f"{where}{{}}")
            for name, field in server.get("properties", {}).items():
                problems += compare(values, field, f"{where}.{name}")
        return problems


def model_schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema(ref_template="#/$defs/{model}")


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    return create_api(Services(None, None, None, AppArgs())).openapi()


ROUTES = {name: r for name, r in vars(_endpoints).items() if isinstance(r, Route)}


def test_the_sdk_declares_its_routes() -> None:
    assert len(ROUTES) >= 20
    assert {r.path for r in ROUTES.values()} >= {"/api/v1/translate", "/api/v1/jobs/{token}"}


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_each_route_of_the_sdk_matches_the_server(name: str, openapi: dict[str, Any]) -> None:
    route = ROUTES[name]
    operation = openapi["paths"].get(route.path, {}).get(route.method.lower())
    assert operation is not None, f"the server has no {route.method} {route.path}"
    problems: list[str] = []

    status = next(code for code in SUCCESS if code in operation["responses"])
    content = operation["responses"][status].get("content", {})
    if route.answer is NOTHING:
        assert status == "204", f"{route.path} answers {status}, the SDK reads nothing"
    elif route.answer is FILE:
        assert content, f"{route.path} answers nothing"
        assert "application/json" not in content, f"{route.path}: not a file"
    elif route.answer.media != "application/json":
        assert route.answer.media in content, f"{route.path} answers {sorted(content)}"
    else:
        assert "application/json" in content, f"{route.path} answers {sorted(content)}"
        answered = content["application/json"]["schema"]
        if route.answer.models:
            shapes = alternatives(answered, resolver(openapi))
            found = {
                (model.__name__, index): Check(mine, openapi).reads(mine, shape, model.__name__)
                for model in route.answer.models
                for mine in [model_schema(model)]
                for index, shape in enumerate(shapes)
            }
            names = [model.__name__ for model in route.answer.models]
            for index, shape in enumerate(shapes):  # each shape it sends is read by a model
                attempts = [found[name, index] for name in names]
                if all(attempts):
                    problems.append(f"no model reads the server's {name_of(shape)}:")
                    problems += min(attempts, key=len)
            problems += [  # ...and each model reads one of them
                f"{name} reads none of the server's answers"
                for name in names
                if all(found[name, index] for index in range(len(shapes)))
            ]
        else:  # a free JSON object, read as a dict
            problems += Check({}, openapi).reads(
                {"type": "object", "additionalProperties": True}, answered, name
            )

    if route.body is not None:
        media = "multipart/form-data" if route.form else "application/json"
        body = operation.get("requestBody", {}).get("content", {}).get(media)
        assert body is not None, f"{route.path} takes no {media} body"
        mine = model_schema(route.body)
        provided = frozenset({"file"}) if route.form else frozenset()
        problems += Check(mine, openapi).sends(mine, body["schema"], route.body.__name__, provided)

    query = {p["name"] for p in operation.get("parameters", ()) if p["in"] == "query"}
    problems += [f"{name}: the server takes no query {q!r}" for q in set(route.query) - query]
    assert not problems, "the SDK drifted from the server:\n" + "\n".join(problems)


def test_the_error_model_reads_the_error_format() -> None:
    server = ErrorResponse.model_json_schema(ref_template="#/$defs/{model}")
    mine = model_schema(models.ErrorBody)
    assert Check(mine, server).reads(mine, server, "ErrorBody") == []


def test_the_check_sees_drift(openapi: dict[str, Any]) -> None:
    """The checks above can fail: a field the server lacks, a type it does not send, a field
    required that it may leave out, and a request field it does not take are all caught."""

    class JobAccepted(models.Model):
        token: int
        status: str
        queue_position: int
        message: str | None
        estimated_completion_seconds: int = 0

    class TextJobRequest(models.Body):
        texts: list[str]
        target_language: str
        urgent: bool = False

    server = openapi["components"]["schemas"]
    mine = model_schema(JobAccepted)
    read = Check(mine, openapi).reads(mine, server["JobAccepted"], "JobAccepted")
    assert any("token" in p and "'string'" in p for p in read)
    assert any("queue_position: not a field" in p for p in read)
    assert not any("message" in p for p in read)  # a wider type: allowed
    sent_schema = model_schema(TextJobRequest)
    sent = Check(sent_schema, openapi).sends(sent_schema, server["TextJobRequest"], "T")
    assert sent == ["T.urgent: not a field of the server's T"]

    class Strict(models.Model):
        glossary_terms: list[str]  # required here, optional (and objects) on the server

    strict = model_schema(Strict)
    found = Check(strict, openapi).reads(strict, server["TranslationItem"], "I")
    assert "I.glossary_terms: required by the client, optional on the server" in found
    assert any("glossary_terms[]" in p for p in found)


def test_the_sdk_submits_at_the_services_default_priority() -> None:
    from serve_app.priority import DEFAULT_PRIORITY
    from tafsiri_client.models import DEFAULT_PRIORITY as SDK_DEFAULT

    assert SDK_DEFAULT == DEFAULT_PRIORITY
