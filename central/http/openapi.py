"""The OpenAPI document served at /api/openapi.json, generated from the app's routes and the
models their declarations name (`central.http.contract.endpoint`).

Why generated: the paths, methods and path parameters come from Flask's url_map, the bodies,
queries and answers from the same Structs the routes decode through, so a route cannot be
missing from the document or described differently from what it does. A route without a
declaration still appears (marked `x-undeclared`), and tests/test_openapi.py fails on it.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from flask import Flask
from werkzeug.http import HTTP_STATUS_CODES

from central.http.contract import Endpoint, Error, declared

OPENAPI = "3.1.0"  # JSON Schema 2020-12, which is what msgspec writes
REF = "#/components/schemas/{name}"
_VARIABLE = re.compile(r"<(?:(?P<converter>\w+)(?:\((?P<args>[^)]*)\))?:)?(?P<name>\w+)>")
_METHODS = ("get", "put", "post", "patch", "delete")


def document(app: Flask) -> dict[str, Any]:
    """The app's document, built on first use (the routes do not change once it serves)."""
    doc = app.extensions.get("tallyman.openapi")
    if doc is None:
        doc = app.extensions["tallyman.openapi"] = build(app)
    return doc


def build(app: Flask) -> dict[str, Any]:
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            methods = sorted(m.lower() for m in rule.methods or () if m.lower() in _METHODS)
            routes.append((rule, methods, declared(app.view_functions[rule.endpoint])))
    models = [
        t
        for _, _, spec in routes
        if spec is not None
        for t in (spec.body, spec.response)
        if t is not None
    ]
    schemas, components = msgspec.json.schema_components([Error, *models], ref_template=REF)
    ref = dict(zip([Error, *models], schemas, strict=True))
    paths: dict[str, dict[str, Any]] = {}
    for rule, methods, spec in sorted(routes, key=lambda r: r[0].rule):
        path, params = _path(rule.rule)
        for method in methods:
            op_id = rule.endpoint if len(methods) == 1 else f"{rule.endpoint}.{method}"
            paths.setdefault(path, {})[method] = _operation(op_id, params, spec, ref)
    return {
        "openapi": OPENAPI,
        "info": {
            "title": "Tallyman central",
            "version": "1",
            "description": "Stock, workflows and planning over central's ledger. Reads are "
            "open; writes need `Authorization: Bearer <token>` with one of the roles named "
            "in `x-roles` (admin always passes). Every refusal is "
            '`{"error": code, "detail": text}`.',
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def _path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    """`/api/counts/<int:record_id>` → `/api/counts/{record_id}` and its typed parameter."""
    params = []
    for m in _VARIABLE.finditer(rule):
        converter = m["converter"] or "default"
        if converter == "int":
            schema: dict[str, Any] = {"type": "integer"}
        elif converter == "float":
            schema = {"type": "number"}
        elif converter == "any":
            schema = {"enum": [a.strip().strip("'\"") for a in m["args"].split(",")]}
        else:
            schema = {"type": "string"}
        params.append({"name": m["name"], "in": "path", "required": True, "schema": schema})
    return _VARIABLE.sub(lambda m: "{" + m["name"] + "}", rule), params


def _operation(
    op_id: str, path_params: list[dict[str, Any]], spec: Endpoint | None, ref: dict
) -> dict[str, Any]:
    if spec is None:
        return {"operationId": op_id, "summary": "(not declared)", "x-undeclared": True}
    op: dict[str, Any] = {
        "operationId": op_id,
        "tags": [op_id.split(".")[0]],
        "summary": spec.summary,
    }
    params = path_params + (_query(spec.query) if spec.query is not None else [])
    if params:
        op["parameters"] = params
    if spec.body is not None:
        op["requestBody"] = {
            "required": spec.body_required,
            "content": {"application/json": {"schema": ref[spec.body]}},
        }
    responses: dict[str, Any] = {}
    for status in spec.status:
        responses[str(status)] = {"description": HTTP_STATUS_CODES.get(status, "ok")}
        if spec.response is not None:
            responses[str(status)]["content"] = {"application/json": {"schema": ref[spec.response]}}
    refusals = set(spec.errors)
    if spec.body is not None or spec.query is not None:
        refusals.add(400)
    if spec.roles:
        refusals |= {401, 403}
        op["security"] = [{"bearer": []}]
        op["x-roles"] = list(spec.roles)
    if path_params:
        refusals.add(404)
    for status in sorted(refusals):
        responses[str(status)] = {
            "description": HTTP_STATUS_CODES.get(status, "error"),
            "content": {"application/json": {"schema": ref[Error]}},
        }
    op["responses"] = responses
    return op


def _query(model: type) -> list[dict[str, Any]]:
    """A query model's fields as query parameters (scalars only: no references to resolve)."""
    schema = msgspec.json.schema(model)
    body = schema["$defs"][schema["$ref"].rsplit("/", 1)[1]]
    required = set(body.get("required", ()))
    out = []
    for name, prop in body.get("properties", {}).items():
        # a query string has no null: `str | None = None` is an optional string
        options = [o for o in prop.pop("anyOf", ()) if o != {"type": "null"}]
        if len(options) == 1:
            prop.update(options[0])
        elif options:
            prop["anyOf"] = options
        if "default" in prop and prop["default"] is None:
            del prop["default"]
        param: dict[str, Any] = {"name": name, "in": "query", "required": name in required}
        if "description" in prop:
            param["description"] = prop.pop("description")
        param["schema"] = prop
        out.append(param)
    return out
