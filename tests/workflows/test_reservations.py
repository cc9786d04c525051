"""Reservations: never oversell under concurrency, TTL, cancel, fulfil, routing, durability."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request

import pytest
from werkzeug.serving import make_server

from central.http.app import create_app
from central.lifecycle import load_state, stop
from tests.helpers import wait_for

CLIENTS = 50


def reserve(c, qty=1, sku="A1", site="DC1", channel="online", who="staff", **extra):
    return c.call(
        "POST",
        "/reservations",
        who,
        {"sku": sku, "site": site, "qty": qty, "channel": channel, **extra},
    )


def test_reserve_shows_in_stock_and_409_when_short(central):
    c = central
    r = reserve(c, 4)
    assert r.status_code == 201, r.get_json()
    res = r.get_json()
    assert res["status"] == "active" and res["allocations"] == [{"loc": "DC1/A-01", "qty": 4}]
    row = c.stock("A1", site="DC1")
    assert (row["on_hand"], row["reserved"], row["available"]) == (10, 4, 6)
    r = reserve(c, 7)
    assert r.status_code == 409
    assert r.get_json()["error"] == "insufficient_stock" and "available 6" in r.get_json()["detail"]
    assert reserve(c, 6).status_code == 201
    assert c.stock("A1", site="DC1")["available"] == 0


def test_reservation_input_and_roles(central):
    c = central
    body = {"sku": "A1", "site": "DC1", "qty": 1, "channel": "online"}
    assert c.call("POST", "/reservations", None, body).status_code == 401
    assert c.call("POST", "/reservations", "approver", body).status_code == 403
    for bad in (
        {**body, "qty": 0},
        {**body, "qty": "2"},
        {**body, "channel": "fax"},
        {**body, "ttl_s": -1},
        {"sku": "A1"},
    ):
        r = c.call("POST", "/reservations", "staff", bad)
        assert r.status_code == 400 and set(r.get_json()) == {"error", "detail"}, bad
    assert c.call("POST", "/reservations", "staff", {**body, "sku": "NOPE"}).status_code == 404
    assert c.call("POST", "/reservations", "staff", {**body, "site": "MARS"}).status_code == 404
    r = c.call("POST", "/reservations", "staff", {**body, "channel": "group-buy"})
    assert r.status_code == 201 and r.get_json()["channel"] == "group_buy"
    audit = c.call("GET", "/audit?action=reservation.create", "approver", status=200).get_json()
    assert audit["rows"][0]["actor"] == "sam" and audit["rows"][0]["remote_addr"]


def _serve(state):
    server = make_server("127.0.0.1", 0, create_app(state), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _post(url, token, body):
    req = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.mark.parametrize("round_", range(3))
def test_50_clients_race_for_the_last_10_units(central, round_):
    """Exactly 10 of 50 concurrent HTTP clients get one of the last 10 units, every run."""
    c = central
    server = _serve(c.state)
    url = f"http://127.0.0.1:{server.server_port}/api/reservations"
    barrier = threading.Barrier(CLIENTS)
    results: list[int] = []
    seen_available: list[int] = []
    lock = threading.Lock()

    def client(i: int) -> None:
        body = {"sku": "A1", "site": "DC1", "qty": 1, "channel": ("online", "store")[i % 2]}
        barrier.wait()
        status, payload = _post(url, c.tokens["staff"], body)
        avail = c.state.engine.site_available(1, c.state.workflows.desk.site_locations("DC1"))
        with lock:
            results.append(status)
            seen_available.append(avail)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    server.shutdown()
    server.server_close()
    assert sorted(results) == [201] * 10 + [409] * 40
    assert min(seen_available) >= 0
    row = c.stock("A1", site="DC1")
    assert (row["on_hand"], row["reserved"], row["available"]) == (10, 10, 0)
    conn = c.state.storage.reader()
    assert conn.execute("SELECT sum(qty) FROM reservations WHERE status = 'active'").fetchone() == (
        10,
    )
    assert conn.execute("SELECT sum(qty) FROM reservation_allocations").fetchone() == (10,)


def test_mixed_quantities_never_oversell(central):
    """Many threads asking 1–4 units at once: granted total ≤ stock, available never < 0."""
    c = central
    wf = c.state.workflows
    granted = []
    lock = threading.Lock()
    barrier = threading.Barrier(40)

    def client(i: int) -> None:
        barrier.wait()
        r = reserve(c, 1 + i % 4)
        with lock:
            if r.status_code == 201:
                granted.append(r.get_json()["qty"])
            else:
                assert r.status_code == 409

    threads = [threading.Thread(target=client, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sum(granted) <= 10
    assert c.stock("A1", site="DC1")["available"] == 10 - sum(granted) >= 0
    assert wf.engine.reserved.min() >= 0


def test_ttl_expiry_frees_stock(central):
    c = central
    assert reserve(c, 10, ttl_s=0.3).status_code == 201
    assert reserve(c, 1).status_code == 409
    time.sleep(0.4)
    # the desk expires an overdue reservation on the spot when a request would be short
    r = reserve(c, 10)
    assert r.status_code == 201, r.get_json()
    rows = c.get("/reservations?status=expired")["rows"]
    assert len(rows) == 1 and rows[0]["qty"] == 10
    # and the sweeper expires the rest by itself
    assert reserve(c, 2, sku="B2", ttl_s=0.2).status_code == 201
    wait_for(lambda: c.stock("B2", site="DC1")["reserved"] == 0, 5, "the sweeper")


def test_cancel_and_fulfil_as_sale(central):
    c = central
    a = reserve(c, 3).get_json()
    b = reserve(c, 2).get_json()
    c.call("POST", f"/reservations/{a['id']}/cancel", "staff", status=200)
    assert c.stock("A1", site="DC1")["reserved"] == 2
    c.call("POST", f"/reservations/{a['id']}/cancel", "staff", status=409)
    r = c.call("POST", f"/reservations/{b['id']}/fulfil", "staff", {"as": "sale"}, status=200)
    assert r.get_json()["status"] == "fulfilled"
    c.settle()
    row = c.stock("A1", site="DC1")
    assert (row["on_hand"], row["reserved"], row["available"]) == (8, 0, 8)
    moves = c.get("/movements?ref=" + b["number"])["rows"]
    assert [(m["type"], m["qty"], m["loc"], m["device"]) for m in moves] == [
        ("sale", 2, "DC1/A-01", "central.DC1")
    ]
    c.call("POST", f"/reservations/{b['id']}/fulfil", "staff", status=409)


def test_fulfil_by_handheld_pick_task(central):
    c = central
    res = reserve(c, 3).get_json()
    r = c.call("POST", f"/reservations/{res['id']}/fulfil", "staff", {"as": "handheld"})
    assert r.get_json()["status"] == "picking"
    tasks = c.get("/tasks?site=DC1")["tasks"]
    assert tasks[0]["kind"] == "pick" and tasks[0]["ref"] == res["number"]
    pick = {"type": "pick", "sku": "A1", "loc": "DC1/A-01", "ref": res["number"]}
    c.feed("DC1", "hh-1", [{**pick, "qty": 2}])
    got = c.get(f"/reservations/{res['id']}")
    assert got["status"] == "picking" and got["picked"] == 2
    assert c.stock("A1", site="DC1")["reserved"] == 1
    c.feed("DC1", "hh-1", [{**pick, "qty": 1}])
    assert c.get(f"/reservations/{res['id']}")["status"] == "fulfilled"
    row = c.stock("A1", site="DC1")
    assert (row["on_hand"], row["reserved"]) == (7, 0)
    assert c.get("/tasks?site=DC1")["tasks"] == []


def test_routing_to_another_site_and_dropship(central):
    c = central
    routing = {"store": ["DC1"], "online": ["dropship:ACME"]}
    c.call("PUT", "/workflow-settings", "admin", {"reservation_routing": routing}, status=200)
    r = reserve(c, 5, site="STORE1", channel="store")
    assert r.status_code == 201
    got = r.get_json()
    assert got["site"] == "DC1" and got["requested_site"] == "STORE1" and got["routed"]
    r = reserve(c, 50, site="STORE1", channel="online")
    assert r.status_code == 201 and r.get_json()["partner"] == "ACME"
    assert reserve(c, 50, site="STORE1", channel="group_buy").status_code == 409
    assert reserve(c, 50, site="STORE1", channel="store", route=False).status_code == 409


def test_reservations_survive_a_restart(central):
    c = central
    reserve(c, 6)
    state = load_state(c.state.db_path)
    row = state.engine.cells(None, None)
    reserved = {(i, loc): r for i, loc, _, r, _, _ in row}
    assert reserved[(1, 1)] == 6
    stop(state)
