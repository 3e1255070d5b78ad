"""A small registry that turns pydantic-typed API views into Flask routes and an OpenAPI 3.1 document.

Each operation names its query model, body model and response model; the
wrapper validates the query string and the JSON body (400 for a body that is
not JSON, 422 naming each bad field) before the view runs, and the document at
``/api/openapi.json`` is built from the same models, so it cannot drift.
"""

from __future__ import annotations

import re
import typing
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from flask import Blueprint, jsonify, request
from flask.json.provider import DefaultJSONProvider
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema

from agent import jsontext
from rules.errors import IkbError, problems_of
from rules.texts import N_
from webui.i18n import current_translations

REF = "#/components/schemas/{model}"


class StrictJSONProvider(DefaultJSONProvider):
    """Flask's JSON, reading request bodies strictly: no NaN/Infinity/1e309, no giant integers, bounded nesting."""

    def loads(self, s, **kwargs):
        """Parse a request body (agent.jsontext: a ValueError for what is no data, never a RecursionError)."""
        return jsontext.loads(s)


def _json_problem() -> str:
    """Return why the request body is not JSON this API takes (for the 400 message)."""
    if not request.is_json:
        return "Content-Type ≠ application/json"
    try:
        jsontext.loads(request.get_data())
    except ValueError as exc:
        return str(exc)[:200]
    return "not JSON"


class ApiError(IkbError):
    """A request the API refuses beyond its models' own checks; rendered in the session's language."""

    messages = {
        "body_json": N_("verwacht een JSON-object als body (Content-Type: application/json)"),
        "body_json_why": N_("verwacht een JSON-object als body (Content-Type: application/json): {detail}"),
        "body_object": N_("verwacht een JSON-object"),
        "before": N_("ligt niet vóór {other}"),
        "window": N_("het venster is hoogstens {days} dagen"),
        "no_rule": N_("{rule} is geen IKB Ei-regel"),
        "no_sensor": N_("sensor {sensor} bestaat niet"),
        "no_entry": N_("{kind} heeft geen regel #{id}"),
        "changes_or_withdraw": N_("geef de velden die veranderen, of withdraw (niet beide)"),
    }


class ErrorOut(BaseModel):
    """An error: a code word, a message, and for invalid input the message per field."""

    error: str
    message: str
    fields: dict[str, str] | None = None


@dataclass
class Operation:
    """One API operation as the document describes it."""

    path: str  # OpenAPI style: /api/v1/rules/{rule_id}
    method: str
    summary: str
    endpoint: str
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    response: Any = None
    status: int = 200
    path_params: dict[str, str] = field(default_factory=dict)
    tag: str = "ikb"
    errors: dict[int, str] = field(default_factory=dict)


class ApiRegistry:
    """The API's operations, registered on one blueprint."""

    def __init__(self, bp: Blueprint, title: str, version: str):
        self.bp = bp
        self.title = title
        self.version = version
        self.operations: list[Operation] = []

    def route(self, rule: str, method: str = "GET", *, summary: str, query=None, body=None, response=None,
              status: int = 200, tag: str = "ikb", roles=None, errors: dict[int, str] | None = None,
              raw_body: bool = False):
        """Register a view; it receives ``query=`` and ``body=`` model instances as keyword arguments.

        With ``raw_body`` the body model only documents the request: the view gets
        the JSON object itself and validates it (the logbooks validate with their
        context — the farm's houses, today — and name fields as the CLI does).
        """
        from webui.access import roles as declare_roles

        def register(view):
            path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)
            params = {name: ("integer" if conv == "int" else "string")
                      for conv, name in re.findall(r"<(?:([a-z]+):)?([a-z_]+)>", rule)}

            @wraps(view)
            def wrapper(**kwargs):
                if query is not None:
                    try:
                        kwargs["query"] = query.model_validate(request.args.to_dict())
                    except ValidationError as exc:
                        return invalid(exc, query)
                if body is not None:
                    data = request.get_json(silent=True)
                    if data is None:
                        return refused(400, "bad_request", ApiError("", "body_json_why", {"detail": _json_problem()}))
                    if not isinstance(data, dict):
                        return refused(422, "invalid", ApiError("", "body_object"))
                    if raw_body:
                        kwargs["body"] = data
                    else:
                        try:
                            kwargs["body"] = body.model_validate(data)
                        except ValidationError as exc:
                            return invalid(exc, body)
                result = view(**kwargs)
                if isinstance(result, tuple) or not isinstance(result, (dict, list, BaseModel)):
                    return result
                payload = result.model_dump(mode="json") if isinstance(result, BaseModel) else result
                return jsonify(payload), status

            if roles:
                declare_roles(**roles)(wrapper)
            self.bp.add_url_rule(rule, view.__name__, wrapper, methods=[method])
            self.operations.append(Operation(path, method.lower(), summary, view.__name__, query, body, response,
                                             status, params, tag, dict(errors or {})))
            return wrapper

        return register

    def document(self) -> dict:
        """Return the OpenAPI 3.1 document."""
        models: set[type[BaseModel]] = {ErrorOut}
        for op in self.operations:
            for m in (op.body, _model_of(op.response)):
                if m is not None:
                    models.add(m)
        _, defs = models_json_schema([(m, "validation" if _is_input(m, self.operations) else "serialization")
                                      for m in sorted(models, key=lambda m: m.__name__)], ref_template=REF)
        schemas = defs.get("$defs", {})
        paths: dict[str, dict] = {}
        for op in self.operations:
            item: dict[str, Any] = {"summary": op.summary, "operationId": op.endpoint, "tags": [op.tag],
                                    "parameters": [], "responses": {}}
            for name, kind in op.path_params.items():
                item["parameters"].append({"name": name, "in": "path", "required": True,
                                           "schema": {"type": kind}})
            if op.query is not None:
                props = op.query.model_json_schema(ref_template=REF)["properties"]
                for name, info in op.query.model_fields.items():
                    schema = {k: v for k, v in props[name].items() if k not in ("title", "description")}
                    param = {"name": name, "in": "query", "required": info.is_required(), "schema": schema}
                    if info.description:
                        param["description"] = info.description
                    item["parameters"].append(param)
            if op.body is not None:
                item["requestBody"] = {"required": True, "content": {"application/json": {
                    "schema": {"$ref": REF.format(model=op.body.__name__)}}}}
                item["responses"]["400"] = _error_response("The body is not JSON.")
                item["responses"]["422"] = _error_response("A field is invalid; `fields` names it.")
            elif op.query is not None:
                item["responses"]["422"] = _error_response("A query parameter is invalid; `fields` names it.")
            item["responses"][str(op.status)] = {"description": "OK", "content": {"application/json": {
                "schema": _response_schema(op.response)}}}
            item["responses"]["401"] = _error_response("Not logged in and no valid API token.")
            item["responses"]["403"] = _error_response("This account's role may not do this.")
            if op.path_params:
                item["responses"]["404"] = _error_response("Not found.")
            for code, text in op.errors.items():
                item["responses"][str(code)] = _error_response(text)
            if op.method != "get":
                item["security"] = [{"bearer": []}, {"session": []}]
            paths.setdefault(op.path, {})[op.method] = item
        return {
            "openapi": "3.1.0",
            "info": {"title": self.title, "version": self.version,
                     "description": "The ikb-agent JSON API. Authenticate with a session cookie (log in on the page;"
                                    " unsafe methods then need the X-CSRFToken header) or with"
                                    " `Authorization: Bearer <token>` (`ikb-agent user token NAME`)."},
            "paths": paths,
            "components": {
                "schemas": schemas,
                "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"},
                                    "session": {"type": "apiKey", "in": "cookie", "name": "ikb_session"}},
            },
            "security": [{"bearer": []}, {"session": []}],
        }


def _is_input(model, operations) -> bool:
    """Return whether a model is a request body (documented in its validation form)."""
    return any(op.body is model for op in operations)


def _model_of(response) -> type[BaseModel] | None:
    """Return the model a response is, or lists."""
    if isinstance(response, type) and issubclass(response, BaseModel):
        return response
    args = typing.get_args(response)
    if args and isinstance(args[0], type) and issubclass(args[0], BaseModel):
        return args[0]
    return None


def _response_schema(response) -> dict:
    """Return the JSON schema of a response model or list of models."""
    model = _model_of(response)
    if model is None:
        return {"type": "object"}
    ref = {"$ref": REF.format(model=model.__name__)}
    return {"type": "array", "items": ref} if typing.get_origin(response) is list else ref


def _error_response(description: str) -> dict:
    """Return the OpenAPI response object of an error."""
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": REF.format(model="ErrorOut")}}}}


def error(status: int, code: str, message: str, fields: dict | None = None):
    """Return a JSON error response."""
    body = {"error": code, "message": message}
    if fields:
        body["fields"] = fields
    return jsonify(body), status


def refused(status: int, code: str, exc: IkbError):
    """Return a refusal naming every bad field, in the session's language (Dutch unless English was chosen)."""
    translations = current_translations()
    return error(status, code, exc.line(translations), exc.by_field(translations, whole="body"))


def invalid(exc: ValidationError, model: type[BaseModel]):
    """Return 422 naming every field the model refused."""
    return refused(422, "invalid", IkbError(problems=problems_of(exc, model)))
