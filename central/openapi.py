"""The OpenAPI description served at /api/openapi.json (kept beside the routes it describes)."""

from __future__ import annotations

_ERROR = {
    "description": "error",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {"error": {"type": "string"}, "detail": {"type": "string"}},
            }
        }
    },
}


def _get(summary: str, params: list[str]) -> dict:
    return {
        "get": {
            "summary": summary,
            "parameters": [
                {"name": p, "in": "query", "required": False, "schema": {"type": "string"}}
                for p in params
            ],
            "responses": {"200": {"description": "ok"}, "400": _ERROR},
        }
    }


SPEC = {
    "openapi": "3.0.3",
    "info": {"title": "Tallyman central", "version": "1"},
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    },
    "paths": {
        "/api/health": _get("liveness, broker connection, device watermarks", []),
        "/api/stock": _get(
            "stock per SKU × location (by=site aggregates per site)",
            ["sku", "gtin", "site", "loc", "by", "limit"],
        ),
        "/api/movements": _get(
            "ledger rows in ledger order; page with after_id",
            ["device", "sku", "type", "site", "loc", "ref", "since", "after_id", "limit"],
        ),
        "/api/dead-letters": _get(
            "rejected messages and events with reason codes", ["status", "device", "code", "limit"]
        ),
        "/api/dead-letters/{id}/retry": {
            "post": {
                "summary": "re-validate a dead letter once its cause is fixed (planner, admin)",
                "security": [{"bearer": []}],
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
                ],
                "responses": {
                    "200": {"description": "resolved"},
                    "401": _ERROR,
                    "403": _ERROR,
                    "404": _ERROR,
                    "409": _ERROR,
                },
            }
        },
        "/api/lead-times": _get("supplier lead times from master data", []),
    },
}
