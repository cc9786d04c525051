"""Every state machine, exhaustively: each (state, event) pair is allowed or refused exactly as
written here — first against the tables, then through the API on real documents."""

from __future__ import annotations

import sqlite3

import pytest

from central.workflows import WorkflowError, states
from tests.helpers import wait_for

#: Written independently of central.workflows.states: what the issue and docs promise.
EXPECTED = {
    "purchase_order": {
        "draft": {"submit", "cancel", "expire"},
        "pending_approval": {"approve", "reject", "cancel", "expire"},
        "approved": {"send", "receive", "cancel", "expire"},
        "sent": {"send", "receive", "close", "cancel"},
        "partially_received": {"receive", "close"},
        "rejected": set(),
        "expired": set(),
        "closed": set(),
        "cancelled": set(),
    },
    "transfer_order": {
        "proposed": {"approve", "reject", "cancel"},
        "approved": {"pick", "cancel"},
        "picking": {"pick", "dispatch"},
        "in_transit": {"receive", "complete"},
        "receiving": {"receive", "complete"},
        "discrepancy": {"receive", "resolve"},
        "rejected": set(),
        "cancelled": set(),
        "closed": set(),
    },
    "reservation": {
        "active": {"fulfil", "pick", "cancel", "expire"},
        "picking": {"picked", "cancel"},
        "fulfilled": set(),
        "cancelled": set(),
        "expired": set(),
    },
    "count": {"pending": {"approve", "reject"}, "approved": set(), "rejected": set()},
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_tables_exactly_as_promised(name):
    m = states.MACHINES[name]
    assert set(m.states) == set(EXPECTED[name])
    for state, allowed in EXPECTED[name].items():
        for event in m.events:
            if event in allowed:
                assert m.allowed(state, event), (state, event)
                assert m.next(state, event) in m.states
            else:
                assert not m.allowed(state, event), (state, event)
                with pytest.raises(WorkflowError) as exc:
                    m.next(state, event)
                assert exc.value.status == 409 and exc.value.code == "invalid_transition"
    for state in m.final:
        assert not any(m.allowed(state, e) for e in m.events), state


# --- purchase orders through the API ---------------------------------------------------------

PO_API = {  # event -> the role that may do it
    "submit": "planner",
    "approve": "approver",
    "reject": "approver",
    "cancel": "planner",
    "close": "planner",
    "send": "planner",
}


def _po(c, qty: int) -> dict:
    body = {"supplier": "S1", "lines": [{"sku": "A1", "site": "DC1", "qty": qty}]}
    return c.call("POST", "/purchase-orders", "planner", body, status=201).get_json()


def _po_in(c, state: str) -> str:
    """A fresh PO driven into `state` through the API, scans and the sweeper."""
    num = _po(c, 10_000 if state in ("pending_approval", "rejected") else 100)["number"]
    act = lambda e, who: c.call("POST", f"/purchase-orders/{num}/{e}", who, status=200)  # noqa: E731
    status = lambda: c.get(f"/purchase-orders/{num}")["status"]  # noqa: E731
    if state == "draft":
        return num
    if state in ("cancelled",):
        act("cancel", "planner")
    elif state == "expired":
        conn = sqlite3.connect(c.state.db_path)
        conn.execute(
            "UPDATE purchase_orders SET expires_at = '2000-01-01T00:00:00Z' WHERE number = ?",
            (num,),
        )
        conn.commit()
        conn.close()
        c.state.workflows.sweep()
    else:
        act("submit", "planner")
        if state == "rejected":
            act("reject", "approver")
        if state in ("sent", "partially_received", "closed"):
            act("send", "planner")
            wait_for(lambda: status() == "sent", 5, "the send")
        if state == "partially_received":
            rcv = {"type": "receive", "sku": "A1", "loc": "DC1/DOCK", "ref": num, "qty": 1}
            c.feed("DC1", "hh-1", [rcv])
        if state == "closed":
            act("close", "planner")
    assert status() == state
    return num


@pytest.mark.parametrize("state", sorted(EXPECTED["purchase_order"]))
def test_purchase_order_transitions_through_the_api(central, state):
    c = central
    c.call("PUT", "/workflow-settings", "admin", {"po_auto_send": False}, status=200)
    for event, who in PO_API.items():
        num = _po_in(c, state)
        r = c.call("POST", f"/purchase-orders/{num}/{event}", who)
        allowed = event in EXPECTED["purchase_order"][state]
        assert r.status_code == (200 if allowed else 409), (state, event, r.get_json())
        if not allowed:
            assert c.get(f"/purchase-orders/{num}")["status"] == state
    # receipts: counted against the PO only where the machine allows `receive`
    num = _po_in(c, state)
    before = c.get(f"/purchase-orders/{num}")["lines"][0]["received"]
    c.feed(
        "DC1", "hh-2", [{"type": "receive", "sku": "A1", "loc": "DC1/DOCK", "ref": num, "qty": 1}]
    )
    after = c.get(f"/purchase-orders/{num}")["lines"][0]["received"]
    assert (after == before + 1) == ("receive" in EXPECTED["purchase_order"][state])


# --- transfer orders through the API ---------------------------------------------------------

TO_API = {
    "approve": "approver",
    "reject": "approver",
    "cancel": "planner",
    "dispatch": "staff",
    "complete": "staff",
}
OUT = {"type": "transfer_out", "sku": "A1", "loc": "DC1/A-01", "to_loc": "STORE1/SHELF"}
IN = {"type": "transfer_in", "sku": "A1", "loc": "STORE1/SHELF"}


def _to_in(c, state: str) -> str:
    body = {"from_site": "DC1", "to_site": "STORE1", "lines": [{"sku": "A1", "qty": 2}]}
    num = c.call("POST", "/transfers", "planner", body, status=201).get_json()["number"]
    act = lambda e, who: c.call("POST", f"/transfers/{num}/{e}", who, status=200)  # noqa: E731
    if state in ("rejected", "cancelled"):
        act(*(("reject", "approver") if state == "rejected" else ("cancel", "planner")))
    elif state != "proposed":
        act("approve", "approver")
        if state in ("picking", "in_transit", "receiving", "discrepancy", "closed"):
            qty = 1 if state == "picking" else 2
            c.feed("DC1", "hh-1", [{**OUT, "qty": qty, "ref": num}])
        if state in ("receiving", "discrepancy", "closed"):
            c.feed("STORE1", "hh-2", [{**IN, "qty": 1, "ref": num}])
        if state in ("discrepancy", "closed"):
            act("complete", "staff")
        if state == "closed":
            d = c.get(f"/transfers/{num}")["discrepancies"][0]
            c.call(
                "POST",
                f"/transfers/{num}/discrepancies/{d['id']}/resolve",
                "planner",
                {"resolution": "found"},
                status=200,
            )
    assert c.get(f"/transfers/{num}")["status"] == state
    return num


@pytest.mark.parametrize("state", sorted(EXPECTED["transfer_order"]))
def test_transfer_transitions_through_the_api(central, state):
    c = central
    for event, who in TO_API.items():
        num = _to_in(c, state)
        r = c.call("POST", f"/transfers/{num}/{event}", who)
        allowed = event in EXPECTED["transfer_order"][state]
        assert r.status_code == (200 if allowed else 409), (state, event, r.get_json())


# --- reservations and counts through the API -------------------------------------------------


def _res_in(c, state: str) -> int:
    body = {"sku": "A1", "site": "DC1", "qty": 1, "channel": "online"}
    if state == "expired":
        body["ttl_s"] = 0.05
    res_id = c.call("POST", "/reservations", "staff", body, status=201).get_json()["id"]
    if state == "picking":
        c.call("POST", f"/reservations/{res_id}/fulfil", "staff", {"as": "handheld"}, status=200)
    elif state == "fulfilled":
        c.call("POST", f"/reservations/{res_id}/fulfil", "staff", status=200)
    elif state == "cancelled":
        c.call("POST", f"/reservations/{res_id}/cancel", "staff", status=200)
    elif state == "expired":
        wait_for(lambda: c.get(f"/reservations/{res_id}")["status"] == "expired", 5)
    assert c.get(f"/reservations/{res_id}")["status"] == state
    return res_id


@pytest.mark.parametrize("state", sorted(EXPECTED["reservation"]))
def test_reservation_transitions_through_the_api(central, state):
    c = central
    for action, body, event in (
        ("fulfil", {"as": "sale"}, "fulfil"),
        ("fulfil", {"as": "handheld"}, "pick"),
        ("cancel", {}, "cancel"),
    ):
        res_id = _res_in(c, state)
        r = c.call("POST", f"/reservations/{res_id}/{action}", "staff", body)
        allowed = event in EXPECTED["reservation"][state]
        assert r.status_code == (200 if allowed else 409), (state, event, r.get_json())


@pytest.mark.parametrize("state", ["pending", "approved", "rejected"])
def test_count_transitions_through_the_api(central, state):
    c = central
    c.call("PUT", "/workflow-settings", "admin", {"count_hold_units": 0}, status=200)
    for n, event in enumerate(("approve", "reject")):
        device = f"hh-{state}-{event}"
        count = {"type": "count", "sku": "B2", "loc": "DC1/A-02", "qty": 100 + 10 * n}
        c.feed("DC1", device, [count])
        rec = c.get("/counts?status=pending")["rows"][0]
        if state != "pending":
            c.call(
                "POST",
                f"/counts/{rec['id']}/{state[:-1] if state == 'approved' else 'reject'}",
                "approver",
                status=200,
            )
            c.settle()
        r = c.call("POST", f"/counts/{rec['id']}/{event}", "approver2")
        allowed = event in EXPECTED["count"][state]
        assert r.status_code == (200 if allowed else 409), (state, event, r.get_json())
        c.settle()
