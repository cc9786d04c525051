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


def _post(summary: str, path_params: tuple[str, ...] = ()) -> dict:
    return {
        "post": {
            "summary": summary,
            "security": [{"bearer": []}],
            "parameters": [
                {"name": p, "in": "path", "required": True, "schema": {"type": "integer"}}
                for p in path_params
            ],
            "responses": {
                "200": {"description": "ok"},
                "401": _ERROR,
                "403": _ERROR,
                "404": _ERROR,
                "409": _ERROR,
            },
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
        "/api/alerts": _get(
            "stock alerts, worst first (status open|closed|false|all, tier yellow|orange|red)",
            ["site", "sku", "tier", "status", "limit"],
        ),
        "/api/alerts/{id}": _get("one alert with its history of changes", []),
        "/api/alerts/{id}/false": _post(
            "mark an open alert as a false alarm (staff, planner, admin)", ("id",)
        ),
        "/api/replenishment/proposals": _get(
            "the last pass's reorder proposals as draft purchase orders", ["supplier", "site"]
        ),
        "/api/transfers/suggestions": _get(
            "transfers of surplus to sites below safety stock", ["sku", "from_site", "to_site"]
        ),
        "/api/slow-movers": _get(
            "slow movers with clearance suggestions", ["site", "sku", "reason"]
        ),
        "/api/kpis": _get(
            "KPIs per site, category and total over `period` weeks",
            ["group", "site", "category", "period"],
        ),
        "/api/forecasts": _get(
            "model, forecast and policy figures of a SKU", ["sku", "site", "horizon"]
        ),
        "/api/planning/run": _post("run a full planning pass now and wait for it (planner, admin)"),
        "/api/planning/status": _get("planning state, last pass, incremental timings", []),
    },
}
