"""The whole purchase-order loop through real processes: a reorder proposal becomes a PO, two
approvers approve it, central posts it to the supplier's webhook (which fails once), and a
handheld receives it with `receive` scans carrying REF: the PO number until it closes."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from central.access import tokens as auth
from central.stock import ledger
from tests.e2e.conftest import get_json, wait_until
from tests.workflows.webhook import Supplier

pytestmark = pytest.mark.e2e

GTIN_A1 = "05901234123457"  # unit cost 1.5, category tools


def call(central, method: str, path: str, token: str, body: dict | None = None) -> tuple:
    req = urllib.request.Request(
        f"{central.api}{path}",
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method=method,
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def scan(edge, text: str) -> str:
    reply = edge.scanner.scan_and_wait(text, timeout=3.0, retries=2)
    assert reply is not None and reply[0], f"{text!r}: {reply}"
    return reply[1]


def test_proposal_to_closed_po(stack, catalogue):
    central, add_edge = stack
    conn = ledger.connect(catalogue)
    tok = {
        r: auth.create_token(conn, r.rstrip("2"), n)
        for r, n in (
            ("planner", "pat"),
            ("approver", "ann"),
            ("approver2", "abe"),
            ("admin", "ada"),
        )
    }
    conn.close()
    supplier = Supplier(fail_first=1)
    try:
        settings = {"suppliers": {"S1": {"webhook": supplier.url}}, "webhook_backoff_s": 0.1}
        assert call(central, "PUT", "/workflow-settings", tok["admin"], settings)[0] == 200
        proposal = {  # planning's draft PO shape
            "key": "draft-S1-e2e",
            "supplier": "S1",
            "total_qty": 40000.0,
            "total_value": 60000.0,
            "lines": [{"sku": "A1", "site": "DC1", "qty": 40000.0, "unit_cost": 1.5}],
            "submit": True,
        }
        status, po = call(
            central, "POST", "/purchase-orders/from-proposal", tok["planner"], proposal
        )
        assert status == 201 and po["status"] == "pending_approval", po
        assert po["required_approvals"] == 2
        num = po["number"]
        assert call(central, "POST", f"/purchase-orders/{num}/approve", tok["planner"])[0] == 403
        status, po = call(central, "POST", f"/purchase-orders/{num}/approve", tok["approver"])
        assert status == 200 and po["status"] == "pending_approval"
        assert call(central, "POST", f"/purchase-orders/{num}/approve", tok["approver"])[0] == 409
        status, po = call(central, "POST", f"/purchase-orders/{num}/approve", tok["approver2"])
        assert status == 200 and po["status"] == "approved"
        wait_until(
            lambda: get_json(f"{central.api}/purchase-orders/{num}")["status"] == "sent",
            20,
            "the webhook send",
        )
        assert [s for s, _, _ in supplier.posts] == [503, 200]
        assert {k for _, k, _ in supplier.posts} == {f"{num}-r1"}
        stock = get_json(f"{central.api}/stock?sku=A1&loc=DC1/DOCK")["rows"][0]
        assert stock["on_order"] == 40000

        edge = add_edge("hh-1", "DC1")
        for text in ("LOC:DC1/DOCK", "MODE:RECEIVE", f"REF:{num}", "QTY:15000"):
            scan(edge, text)
        scan(edge, f"]E0{GTIN_A1[1:]}")  # EAN-13 with AIM ]E0
        wait_until(
            lambda: (
                get_json(f"{central.api}/purchase-orders/{num}")["status"] == "partially_received"
            ),
            20,
            "the first receipt",
        )
        scan(edge, "QTY:25000")
        scan(edge, f"]E0{GTIN_A1[1:]}")
        wait_until(
            lambda: get_json(f"{central.api}/purchase-orders/{num}")["status"] == "closed",
            20,
            "the PO to close",
        )
        po = get_json(f"{central.api}/purchase-orders/{num}")
        assert po["lines"][0]["received"] == 40000 and not po["exceptions"]
        stock = get_json(f"{central.api}/stock?sku=A1&loc=DC1/DOCK")["rows"][0]
        assert (stock["on_hand"], stock["on_order"]) == (40000, 0)
        lead = get_json(f"{central.api}/lead-times/observed?supplier=S1")["rows"]
        assert lead[0]["sku"] == "A1" and lead[0]["n"] == 1
        audit = call(central, "GET", f"/audit?target={num}", tok["approver"])[1]["rows"]
        actions = {(a["action"], a["actor"]) for a in audit}
        assert {
            ("po.approve", "ann"),
            ("po.approve", "abe"),
            ("po.sent", "system"),
            ("po.auto_close", "hh-1"),
        } <= actions
    finally:
        supplier.close()
