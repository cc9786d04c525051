"""Purchase orders: approval tiers, distinct approvers, sending, receiving, closing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import wait_for
from tests.workflows.webhook import Supplier


def make_po(c, qty, sku="A1", site="DC1", submit=True, who="planner", **extra):
    body = {"supplier": "S1", "lines": [{"sku": sku, "site": site, "qty": qty}], **extra}
    po = c.call("POST", "/purchase-orders", who, body, status=201).get_json()
    if submit:
        po = c.call("POST", f"/purchase-orders/{po['number']}/submit", who, status=200).get_json()
    return po


@pytest.fixture
def no_send(central):
    central.call("PUT", "/workflow-settings", "admin", {"po_auto_send": False}, status=200)
    return central


def test_tiers_auto_one_and_two_approvers(no_send):
    c = no_send
    small = make_po(c, 100)  # 150.00: auto-approved
    assert small["status"] == "approved" and small["required_approvals"] == 0
    mid = make_po(c, 10_000)  # 15,000: one approver
    assert mid["status"] == "pending_approval" and mid["required_approvals"] == 1
    mid = c.call("POST", f"/purchase-orders/{mid['number']}/approve", "approver", status=200)
    assert mid.get_json()["status"] == "approved"
    big = make_po(c, 40_000)  # 60,000: two distinct approvers
    assert big["required_approvals"] == 2
    url = f"/purchase-orders/{big['number']}"
    assert c.call("POST", url + "/approve", "approver", status=200).get_json()["status"] == (
        "pending_approval"
    )
    r = c.call("POST", url + "/approve", "approver", status=409)
    assert r.get_json()["error"] == "already_decided"
    assert c.call("POST", url + "/approve", "approver2", status=200).get_json()["status"] == (
        "approved"
    )
    got = c.get(url)
    assert [a["actor"] for a in got["approvals"]] == ["ann", "abe"]
    assert c.stock("A1", loc="DC1/DOCK")["on_order"] == 100 + 10_000 + 40_000


def test_wrong_role_and_self_approval_refused(no_send):
    c = no_send
    po = make_po(c, 10_000)
    url = f"/purchase-orders/{po['number']}/approve"
    assert c.call("POST", url, None).status_code == 401
    for who in ("staff", "planner"):
        r = c.call("POST", url, who, status=403)
        assert r.get_json()["error"] == "forbidden"
    mine = make_po(c, 10_000, who="admin")  # an admin may create, but not also approve it
    r = c.call("POST", f"/purchase-orders/{mine['number']}/approve", "admin", status=403)
    assert "cannot also decide" in r.get_json()["detail"]
    assert c.get(f"/purchase-orders/{po['number']}")["status"] == "pending_approval"


def test_category_tiers_are_stricter(no_send):
    c = no_send
    tiers = {"tools": [{"up_to": 100, "approvals": 0}, {"up_to": None, "approvals": 2}]}
    c.call("PUT", "/workflow-settings", "admin", {"po_category_tiers": tiers}, status=200)
    assert make_po(c, 100)["required_approvals"] == 2  # A1 is tools: 150 > 100
    assert make_po(c, 100, sku="B2")["status"] == "approved"  # office: the amount tiers


def test_reject_and_expire(no_send):
    c = no_send
    po = make_po(c, 10_000)
    r = c.call("POST", f"/purchase-orders/{po['number']}/reject", "approver", {"note": "no"})
    assert r.get_json()["status"] == "rejected"
    c.call("POST", f"/purchase-orders/{po['number']}/approve", "approver2", status=409)
    c.call("PUT", "/workflow-settings", "admin", {"po_expiry_hours": 0.0001}, status=200)
    old = make_po(c, 100)
    assert c.stock("A1", loc="DC1/DOCK")["on_order"] == 100
    wait_for(lambda: c.get(f"/purchase-orders/{old['number']}")["status"] == "expired", 5)
    assert c.stock("A1", loc="DC1/DOCK")["on_order"] == 0


def test_proposal_is_idempotent_by_key(no_send):
    c = no_send
    proposal = {
        "key": "draft-S1-abc",
        "supplier": "S1",
        "total_qty": 30.0,
        "total_value": 45.0,
        "lines": [{"sku": "A1", "site": "DC1", "qty": 30.0, "unit_cost": 1.5, "series": 3}],
    }
    r1 = c.call("POST", "/purchase-orders/from-proposal", "planner", proposal, status=201)
    r2 = c.call("POST", "/purchase-orders/from-proposal", "planner", proposal, status=200)
    assert r1.get_json()["number"] == r2.get_json()["number"]
    assert r1.get_json()["source"] == "proposal" and r1.get_json()["lines"][0]["qty"] == 30
    bad = {**proposal, "key": "k2", "lines": [{"sku": "A1", "site": "DC1", "qty": 2.5}]}
    c.call("POST", "/purchase-orders/from-proposal", "planner", bad, status=400)
    bad["lines"] = [{"sku": "A1", "site": "DC1", "qty": 2, "unit_cost": -1}]
    r = c.call("POST", "/purchase-orders/from-proposal", "planner", bad, status=400)
    assert r.get_json()["detail"].startswith("lines[0].unit_cost")


def test_planning_drafts_are_validated_by_the_api_model():
    """Planning creates POs without HTTP: it builds the same model, so one validation."""
    from central.workflows import WorkflowError
    from central.workflows.models import PurchaseOrderCreate, convert

    draft = {"supplier": "S1", "key": "k", "lines": [{"sku": "A1", "site": "DC1", "qty": 3.0}]}
    assert convert(PurchaseOrderCreate, draft).lines[0].qty == 3.0
    for line, field in (({"qty": 2.5}, "qty"), ({"unit_cost": -1.0}, "unit_cost")):
        bad = {**draft, "lines": [{**draft["lines"][0], **line}]}
        with pytest.raises(WorkflowError) as exc:
            convert(PurchaseOrderCreate, bad)
        assert exc.value.status == 400 and exc.value.detail.startswith(f"lines[0].{field}")


def test_file_send_and_document(no_send, tmp_path):
    c = no_send
    out = tmp_path / "outbox"
    c.call("PUT", "/workflow-settings", "admin", {"supplier_outbox_dir": str(out)}, status=200)
    po = make_po(c, 100)
    c.call("POST", f"/purchase-orders/{po['number']}/send", "planner", {"channel": "file"})
    wait_for(lambda: c.get(f"/purchase-orders/{po['number']}")["status"] == "sent", 5)
    doc = json.loads((out / f"{po['number']}.json").read_text())
    assert doc["lines"][0]["qty"] == 100 and doc["idempotency_key"] == f"{po['number']}-r1"
    csv_text = (out / f"{po['number']}.csv").read_text().splitlines()
    assert csv_text[0].startswith("po,line,sku") and csv_text[1].startswith(po["number"])
    r = c.client.get(f"/api/purchase-orders/{po['number']}/document?format=csv")
    assert r.status_code == 200 and r.data.decode().splitlines() == csv_text
    assert not list(Path(out).glob("*.tmp"))


def test_webhook_retries_with_one_idempotency_key(central):
    c = central
    supplier = Supplier(fail_first=2)
    try:
        settings = {"suppliers": {"S1": {"webhook": supplier.url}}, "webhook_backoff_s": 0.05}
        c.call("PUT", "/workflow-settings", "admin", settings, status=200)
        po = make_po(c, 100)  # auto-approved, auto-sent
        wait_for(lambda: c.get(f"/purchase-orders/{po['number']}")["status"] == "sent", 10)
        assert [s for s, _, _ in supplier.posts] == [503, 503, 200]
        assert {k for _, k, _ in supplier.posts} == {f"{po['number']}-r1"}
        assert len(supplier.booked) == 1
        send = c.get(f"/purchase-orders/{po['number']}")["sends"][0]
        assert send["status"] == "done" and send["attempts"] == 3
    finally:
        supplier.close()


def test_webhook_waits_as_long_as_retry_after_asks(central):
    c = central
    supplier = Supplier(fail_first=1, fail_status=429, retry_after="1")
    try:
        settings = {"suppliers": {"S1": {"webhook": supplier.url}}, "webhook_backoff_s": 0.05}
        c.call("PUT", "/workflow-settings", "admin", settings, status=200)
        po = make_po(c, 100)
        wait_for(lambda: c.get(f"/purchase-orders/{po['number']}")["status"] == "sent", 10)
        assert [s for s, _, _ in supplier.posts] == [429, 200]
        assert supplier.times[1] - supplier.times[0] >= 0.9  # not the 0.05 s backoff
        send = c.get(f"/purchase-orders/{po['number']}")["sends"][0]
        assert send["attempts"] == 2 and send["last_status"] == 200
    finally:
        supplier.close()


def test_webhook_gives_up_on_a_client_error(central):
    c = central
    supplier = Supplier(fail_first=99, fail_status=422)
    try:
        settings = {"suppliers": {"S1": {"webhook": supplier.url}}, "webhook_backoff_s": 0.05}
        c.call("PUT", "/workflow-settings", "admin", settings, status=200)
        po = make_po(c, 100)
        wait_for(
            lambda: c.get(f"/purchase-orders/{po['number']}")["sends"][0]["status"] == "failed", 10
        )
        assert len(supplier.posts) == 1
        assert c.get(f"/purchase-orders/{po['number']}")["status"] == "approved"
    finally:
        supplier.close()


@pytest.mark.parametrize(("status", "posts", "outcome"), [(409, 2, "done"), (501, 1, "failed")])
def test_webhook_retries_on_the_supplier_set_of_answers(central, status, posts, outcome):
    """408/409/425 are worth another try for a supplier, 501/505 are not (unlike alerts)."""
    c = central
    supplier = Supplier(fail_first=1, fail_status=status)
    try:
        settings = {"suppliers": {"S1": {"webhook": supplier.url}}, "webhook_backoff_s": 0.05}
        c.call("PUT", "/workflow-settings", "admin", settings, status=200)
        po = make_po(c, 100)
        ref = f"/purchase-orders/{po['number']}"
        wait_for(lambda: c.get(ref)["sends"][0]["status"] == outcome, 10)
        assert len(supplier.posts) == posts
    finally:
        supplier.close()


def test_receipts_partial_over_and_auto_close(no_send):
    c = no_send
    c.call("PUT", "/workflow-settings", "admin", {"po_over_receipt_pct": 10.0}, status=200)
    po = make_po(c, 20)
    c.call("POST", f"/purchase-orders/{po['number']}/send", "planner", {"channel": "file"})
    wait_for(lambda: c.get(f"/purchase-orders/{po['number']}")["status"] == "sent", 5)
    rcv = {"type": "receive", "sku": "A1", "loc": "DC1/DOCK", "ref": po["number"]}
    c.feed("DC1", "hh-1", [{**rcv, "qty": 8}])
    got = c.get(f"/purchase-orders/{po['number']}")
    assert got["status"] == "partially_received" and got["lines"][0]["received"] == 8
    assert c.stock("A1", loc="DC1/DOCK")["on_order"] == 12
    c.feed("DC1", "hh-1", [{**rcv, "qty": 15}])  # 23 of 20: 2 within 10 %, 1 over
    got = c.get(f"/purchase-orders/{po['number']}")
    assert got["status"] == "closed" and got["lines"][0]["received"] == 22
    assert got["lines"][0]["over_received"] == 1 and got["exceptions"][0]["excess"] == 1
    assert c.stock("A1", loc="DC1/DOCK") == {
        **c.stock("A1", loc="DC1/DOCK"),
        "on_hand": 23,
        "on_order": 0,
    }
    lead = c.get("/lead-times/observed")["rows"]
    assert lead[0]["supplier"] == "S1" and lead[0]["n"] == 1 and lead[0]["mean_days"] >= 0
    c.feed("DC1", "hh-1", [{**rcv, "qty": 1}])  # after closing: recorded, not counted
    got = c.get(f"/purchase-orders/{po['number']}")
    assert got["lines"][0]["received"] == 22 and "closed" in got["receipts"][-1]["note"]


def test_close_short_and_cancel(no_send):
    c = no_send
    po = make_po(c, 20)
    c.call("POST", f"/purchase-orders/{po['number']}/cancel", "planner", status=200)
    assert c.stock("A1", loc="DC1/DOCK")["on_order"] == 0
    po = make_po(c, 20)
    rcv = {"type": "receive", "sku": "A1", "loc": "DC1/DOCK", "ref": po["number"], "qty": 5}
    c.feed("DC1", "hh-1", [rcv])
    c.call("POST", f"/purchase-orders/{po['number']}/cancel", "planner", status=409)
    got = c.call("POST", f"/purchase-orders/{po['number']}/close", "planner", status=200)
    assert got.get_json()["status"] == "closed"
    assert c.stock("A1", loc="DC1/DOCK")["on_order"] == 0


def test_bad_po_input(no_send):
    c = no_send
    for body in (
        {},
        {"supplier": "S1", "lines": []},
        {"supplier": "S1", "lines": [{"sku": "A1", "site": "DC1", "qty": -1}]},
        {"supplier": "S1", "lines": [{"sku": "A1", "site": "DC1", "qty": 1, "loc": "X/Y"}]},
    ):
        r = c.call("POST", "/purchase-orders", "planner", body)
        assert r.status_code == 400 and set(r.get_json()) == {"error", "detail"}, body
    r = c.call(
        "POST",
        "/purchase-orders",
        "planner",
        {"supplier": "S1", "lines": [{"sku": "ZZ", "site": "DC1", "qty": 1}]},
    )
    assert r.status_code == 404
    assert c.client.get("/api/purchase-orders/PO-999999").status_code == 404


def test_unknown_supplier_is_refused_naming_the_field(no_send):
    """Issue 12 #14: `=HYPERLINK(…)` became PO-000004. A supplier is known when an item names
    it or the workflow settings configure it; anyone else is refused, by hand or from a
    proposal, and no PO is made."""
    c = no_send
    line = [{"sku": "A1", "site": "DC1", "qty": 1}]
    for path, supplier in (
        ("/purchase-orders", '=HYPERLINK("http://x","S1")'),
        ("/purchase-orders/from-proposal", "S9"),
        ("/purchase-orders", "s1"),
    ):
        r = c.call("POST", path, "planner", {"supplier": supplier, "lines": line, "key": "k"})
        body = r.get_json()
        assert (r.status_code, body["error"]) == (404, "unknown_supplier"), body
        assert body["detail"].startswith("supplier:") and supplier in body["detail"]
    assert "did you mean S1?" in body["detail"]
    assert c.get("/purchase-orders")["rows"] == []
    # known: S2 names an item (C3); S7 names none but the settings configure its webhook
    c.call("POST", "/purchase-orders", "planner", {"supplier": "S2", "lines": line}, status=201)
    hook = {"suppliers": {"S7": {"webhook": "http://127.0.0.1:9/po"}}}
    c.call("PUT", "/workflow-settings", "admin", hook, status=200)
    c.call("POST", "/purchase-orders", "planner", {"supplier": "S7", "lines": line}, status=201)
