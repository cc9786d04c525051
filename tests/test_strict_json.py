"""Every GET endpoint answers JSON that a strict parser accepts: no NaN, no Infinity (issue 12,
defect 4: `/api/forecasts` emitted `NaN`, which is not JSON).

The walk covers every GET route of central's app (the Flask url_map), with path parameters filled
from rows that exist (an alert, a purchase order, a transfer, a reservation, a count record) and
the query parameters the OpenAPI document marks required filled from master data, over a ledger
with planning data: a SKU that sells, one that never sold, one with no stock anywhere, a transfer
suggestion, a draft PO, a slow mover, a reservation.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.planning_fixtures import seed_sales, write_config
from tests.test_planning_service import Central


def _refuse(constant: str) -> Any:
    raise ValueError(f"not JSON: {constant}")


def strict(text: str) -> Any:
    """json.loads that refuses NaN, Infinity and -Infinity (the standard parser accepts them)."""
    return json.loads(text, parse_constant=_refuse)


def test_strict_parser_refuses_what_json_is_not():
    for bad in ('{"x": NaN}', "[Infinity]", '{"y": -Infinity}'):
        with pytest.raises(ValueError, match="not JSON"):
            strict(bad)
    assert strict('{"x": null, "y": 1.5}') == {"x": None, "y": 1.5}


@pytest.fixture
def central(catalogue, tmp_path):
    """API-only central after a pass: A1 sells at STORE1 (12 left: red, a draft PO, DC1's 10 A1
    suggested to STORE1), B2 sits unsold at DC1 (a slow mover), C3 has no stock or history."""
    seed_sales(catalogue, "A1", "STORE1/SHELF", per_day=10, days=56, on_hand=12)
    c = Central(catalogue, None, write_config(tmp_path / "p.toml", lanes=True))
    try:
        r = c.post("/planning/run", "planner")
        assert r.status_code == 200, r.get_json()
        r = c.post(
            "/transfers",
            "planner",
            {"from_site": "DC1", "to_site": "STORE1", "lines": [{"sku": "B2", "qty": 1}]},
        )
        assert r.status_code in (200, 201), r.get_json()
        reservation = {"sku": "A1", "site": "STORE1", "qty": 2, "channel": "store"}
        r = c.post("/reservations", "staff", reservation)
        assert r.status_code in (200, 201), r.get_json()
        yield c
    finally:
        c.stop()


def _path_values(c: Central) -> dict[str, list[str]]:
    """Values for each path parameter name, from rows that exist."""
    conn = c.state.storage.reader()

    def ids(sql: str) -> list[str]:
        return [str(r[0]) for r in conn.execute(sql)]

    documents = ids(
        "SELECT number FROM purchase_orders UNION ALL SELECT number FROM transfer_orders"
    )
    return {
        "alert_id": ids("SELECT id FROM planning_alerts"),
        "ref": documents,
        "res_id": ids("SELECT id FROM reservations"),
        "record_id": ids("SELECT id FROM count_records") or ["1"],
    }


QUERY_VALUES = {"sku": "A1", "site": "STORE1", "supplier": "S1"}
#: Extra queries on the planning reads, for series in every state (selling, never sold, empty).
EXTRA = [
    ("/api/forecasts", {"sku": sku, **site})
    for sku in ("A1", "B2", "C3")
    for site in ({}, {"site": "DC1"}, {"site": "STORE1"})
] + [
    ("/api/kpis", {"period": "1"}),
    ("/api/kpis", {"period": "52"}),
    ("/api/kpis", {"group": "category", "category": "office"}),
    ("/api/alerts", {"status": "all"}),
    ("/api/slow-movers", {"site": "DC1"}),
]


def get_requests(c: Central) -> list[tuple[str, dict]]:
    """(url, query) for every GET route: path parameters from rows, required queries filled."""
    app = c.client.application
    doc = c.get("/openapi.json")
    values = _path_values(c)
    out: list[tuple[str, dict]] = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or set()) or rule.endpoint == "static":
            continue
        path = re.sub(r"<(?:[^:>]+:)?(\w+)>", r"{\1}", rule.rule)
        op = doc["paths"].get(path, {}).get("get", {})
        query = {
            p["name"]: QUERY_VALUES.get(p["name"], "1")
            for p in op.get("parameters", ())
            if p["in"] == "query" and p.get("required")
        }
        names = re.findall(r"\{(\w+)\}", path)
        if not names:
            out.append((path, query))
            continue
        assert len(names) == 1, path
        (name,) = names
        found = values[name]
        assert found, f"no row to fill {{{name}}} of {path}"
        out += [(path.replace("{" + name + "}", v), query) for v in found]
    return out + EXTRA


def test_every_get_endpoint_answers_strict_json(central):
    c = central
    requests = get_requests(c)
    assert len({url.split("?")[0] for url, _ in requests}) >= 20  # the walk found the routes
    failures = []
    for url, query in requests:
        r = c.client.get(url, query_string=query)
        if not r.mimetype.endswith("json"):
            assert url == "/" or "/document" in url, (url, r.mimetype)
            continue
        try:
            strict(r.get_data(as_text=True))
        except ValueError as exc:
            failures.append(f"{url} {query} ({r.status_code}): {exc}")
    assert failures == [], "\n".join(failures)
