"""The declared answers are the real ones: each response is converted into the model its route
declares (central.http.contract), whose fields are exact (an undeclared or missing field, or
a wrong type, fails)."""

from __future__ import annotations

import msgspec

from central.http.contract import declared


def check(c, method: str, path: str, who: str | None = None, body=None) -> dict:
    """Call the API and check the answer against the route's declaration."""
    r = c.call(method, path, who, body)
    app = c.client.application
    endpoint, _ = app.url_map.bind("localhost").match(f"/api{path.split('?')[0]}", method=method)
    spec = declared(app.view_functions[endpoint])
    assert spec is not None, endpoint
    assert r.status_code in spec.status, (method, path, r.status_code, r.get_json())
    if spec.response is not None:
        msgspec.convert(r.get_json(), spec.response)
    return r.get_json()


def test_answers_match_their_models(central):
    c = central
    check(c, "PUT", "/workflow-settings", "admin", {"po_auto_send": False})
    check(c, "GET", "/workflow-settings")
    # a purchase order, received
    body = {"supplier": "S1", "lines": [{"sku": "A1", "site": "DC1", "qty": 5}], "note": "n"}
    po = check(c, "POST", "/purchase-orders", "planner", body)
    check(c, "POST", f"/purchase-orders/{po['number']}/submit", "planner")
    rcv = {"type": "receive", "sku": "A1", "loc": "DC1/DOCK", "ref": po["number"], "qty": 6}
    c.feed("DC1", "hh-1", [rcv])
    got = check(c, "GET", f"/purchase-orders/{po['number']}")
    assert got["receipts"] and got["exceptions"] and got["lines"][0]["received"] == 5
    check(c, "GET", "/purchase-orders?status=approved")
    proposal = {"key": "k1", "supplier": "S1", "lines": [{"sku": "B2", "site": "DC1", "qty": 2.0}]}
    check(c, "POST", "/purchase-orders/from-proposal", "planner", proposal)
    # a transfer, short-received, the discrepancy resolved
    body = {"from_site": "DC1", "to_site": "STORE1", "lines": [{"sku": "A1", "qty": 3}]}
    to = check(c, "POST", "/transfers", "planner", body)
    check(c, "POST", f"/transfers/{to['number']}/approve", "approver", {"note": "ok"})
    out = {"type": "transfer_out", "sku": "A1", "loc": "DC1/A-01", "to_loc": "STORE1/SHELF"}
    c.feed("DC1", "hh-1", [{**out, "qty": 3, "ref": to["number"]}])
    tin = {"type": "transfer_in", "sku": "A1", "loc": "STORE1/SHELF", "ref": to["number"]}
    c.feed("STORE1", "hh-2", [{**tin, "qty": 2}])
    got = check(c, "POST", f"/transfers/{to['number']}/complete", "staff")
    assert got["scans"] and got["discrepancies"]
    disc = got["discrepancies"][0]["id"]
    url = f"/transfers/{to['number']}/discrepancies/{disc}/resolve"
    check(c, "POST", url, "planner", {"resolution": "write_off"})
    check(c, "GET", "/transfers")
    sug = [{"sku": "B2", "from_site": "DC1", "to_site": "STORE1", "qty": 1.0, "lane_days": 1}]
    check(c, "POST", "/transfers/from-suggestions", "planner", {"suggestions": sug})
    # reservations
    body = {"sku": "B2", "site": "DC1", "qty": 1, "channel": "store", "ref": "r-1"}
    res = check(c, "POST", "/reservations", "staff", body)
    check(c, "GET", f"/reservations/{res['id']}")
    check(c, "POST", f"/reservations/{res['id']}/fulfil", "staff", {"as": "pick"})
    check(c, "GET", "/tasks?site=DC1")
    res = check(c, "POST", "/reservations", "staff", {**body, "ttl_s": 60})
    check(c, "POST", f"/reservations/{res['id']}/cancel", "staff")
    check(c, "GET", "/reservations")
    # counts, audit, the stock API
    c.feed("DC1", "hh-1", [{"type": "count", "sku": "B2", "loc": "DC1/A-02", "qty": 4}])
    (rec,) = check(c, "GET", "/counts")["rows"]
    check(c, "GET", f"/counts/{rec['id']}")
    check(c, "GET", "/audit", "approver")
    check(c, "GET", "/health")
    check(c, "GET", "/stock")
    check(c, "GET", "/stock?by=site&sku=A1")
    assert check(c, "GET", "/movements?limit=2")["next_after_id"] is not None
    check(c, "GET", "/dead-letters?status=all")
    check(c, "GET", "/lead-times")


def test_a_bad_event_shows_as_a_declared_dead_letter(central):
    c = central
    c.feed("DC1", "hh-1", [{"type": "receive", "sku": "NOPE", "loc": "DC1/DOCK", "qty": 1}])
    (dead,) = check(c, "GET", "/dead-letters")["rows"]
    assert dead["code"] and isinstance(dead["event"], dict)
