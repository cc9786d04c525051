"""Cycle counts: variance visible, late counts applied as of their scan time, approvals."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import numpy as np

from central.stock import ledger
from central.stock.catalog import Catalog
from central.stock.engine import StockEngine
from tallyman import wire
from tests.helpers import wait_for

CELL = {"sku": "A1", "loc": "DC1/A-01"}


BASE = datetime.now(UTC) + timedelta(minutes=5)  # after the fixture's opening-stock counts


def at(seconds: float) -> str:
    """A scan time `seconds` after BASE (the tests choose the order of scan times)."""
    t = BASE + timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def on_hand(c) -> int:
    return c.stock("A1", loc="DC1/A-01")["on_hand"]


def rebuilt(db_path: str) -> np.ndarray:
    """The on-hand array a fresh engine rebuilds from the ledger (blocks and rows)."""
    conn = ledger.connect(db_path)
    cat = Catalog().load(conn)
    engine = StockEngine()
    engine.rebuild(conn, cat.max_item_id, cat.max_loc_id)
    conn.close()
    return engine.on_hand


def same_stock(c) -> None:
    live = c.state.engine.on_hand
    again = rebuilt(c.state.db_path)
    rows, cols = again.shape
    assert np.array_equal(live[:rows, :cols], again)


def test_ordinary_count_shows_its_variance(central):
    c = central
    c.feed("DC1", "hh-1", [{"type": "count", **CELL, "qty": 7, "ts": at(0)}])
    assert on_hand(c) == 7
    (rec,) = c.get("/counts")["rows"]
    assert (rec["counted"], rec["expected"], rec["variance"], rec["late"], rec["status"]) == (
        7,
        10,
        -3,
        0,
        "applied",
    )


def test_late_count_applied_as_of_scan_time(central):
    c = central
    t_count = at(0)
    # online handheld: a pick 30 s after the offline handheld counted, and a putaway into the bin
    c.feed("DC1", "hh-1", [{"type": "pick", **CELL, "qty": 3, "ts": at(30)}])
    c.feed(
        "DC1",
        "hh-1",
        [
            {
                "type": "putaway",
                "sku": "A1",
                "loc": "DC1/DOCK",
                "to_loc": "DC1/A-01",
                "qty": 2,
                "ts": at(40),
            }
        ],
    )
    assert on_hand(c) == 10 - 3 + 2
    # the offline handheld comes back: it had counted 8 at t_count
    c.feed("DC1", "hh-off", [{"type": "count", **CELL, "qty": 8, "ts": t_count}])
    assert on_hand(c) == 8 - 3 + 2
    rec = c.get("/counts")["rows"][0]
    assert (rec["late"], rec["counted"], rec["variance"], rec["expected"]) == (1, 8, -2, 10)
    same_stock(c)
    # a retransmit of the late count is recognised as such (not a replayed seq)
    dup = {"seq": 1, "type": "count", **CELL, "qty": 8, "ts": t_count}
    c.feed("DC1", "hh-off", [dup])
    assert c.get("/dead-letters")["rows"] == [] and on_hand(c) == 7
    # later movements keep adding on top, and a rebuild still agrees
    c.feed("DC1", "hh-1", [{"type": "receive", **CELL, "qty": 5, "ts": at(50)}])
    assert on_hand(c) == 12
    same_stock(c)


def test_late_count_behind_a_later_count_changes_nothing(central):
    c = central
    c.feed("DC1", "hh-1", [{"type": "count", **CELL, "qty": 4, "ts": at(50)}])
    c.feed("DC1", "hh-1", [{"type": "receive", **CELL, "qty": 1, "ts": at(55)}])
    c.feed("DC1", "hh-off", [{"type": "count", **CELL, "qty": 99, "ts": at(0)}])
    assert on_hand(c) == 5
    assert c.get("/counts")["rows"][0]["status"] == "superseded"
    same_stock(c)


def test_late_counts_within_one_group(central):
    """Several devices' events committed in one group: order by scan time still holds."""
    c = central
    ing = c.state.ingest
    t0, t1 = at(0), at(10)
    msgs = [
        (
            wire.movements_topic("DC1", "hh-a"),
            [{"seq": 1, "type": "sale", **CELL, "qty": 2, "ts": t1}],
        ),
        (
            wire.movements_topic("DC1", "hh-b"),
            [{"seq": 1, "type": "count", **CELL, "qty": 6, "ts": t0}],
        ),
    ]
    ing.process([("msg", t, wire.encode_movements("DC1", t.split("/")[3], evs)) for t, evs in msgs])
    c.settle()
    assert on_hand(c) == 6 - 2
    same_stock(c)


def test_count_above_threshold_waits_for_approval(central):
    c = central
    c.call("PUT", "/workflow-settings", "admin", {"count_hold_units": 3}, status=200)
    t_count = at(0)
    c.feed("DC1", "hh-1", [{"type": "count", **CELL, "qty": 20, "ts": t_count, "operator": "sam"}])
    assert on_hand(c) == 10  # held: no effect yet
    (rec,) = c.get("/counts?status=pending")["rows"]
    assert (rec["counted"], rec["variance"]) == (20, 10)
    c.feed("DC1", "hh-1", [{"type": "pick", **CELL, "qty": 1, "ts": at(10)}])  # after the count
    url = f"/counts/{rec['id']}/approve"
    c.call("POST", url, "staff", status=403)  # not an approver
    c.call("POST", url, "planner", status=403)
    got = c.call("POST", url, "approver", {"note": "recounted"}, status=200).get_json()
    assert got["status"] == "approved" and got["decided_by"] == "ann"
    c.call("POST", url, "approver2", status=409)  # already decided
    c.settle()
    wait_for(lambda: on_hand(c) == 20 - 1, 5, "the approved count")
    same_stock(c)
    # small variances are applied at once
    c.feed("DC1", "hh-1", [{"type": "count", **CELL, "qty": 18, "ts": at(20)}])
    assert on_hand(c) == 18


def test_counter_cannot_approve_and_reject_drops(central):
    c = central
    c.call("PUT", "/workflow-settings", "admin", {"count_hold_units": 0}, status=200)
    c.feed("DC1", "ann", [{"type": "count", **CELL, "qty": 12, "operator": "ann", "ts": at(0)}])
    (rec,) = c.get("/counts?status=pending")["rows"]
    r = c.call("POST", f"/counts/{rec['id']}/approve", "approver", status=403)
    assert "counted" in r.get_json()["detail"]
    c.call("POST", f"/counts/{rec['id']}/reject", "approver2", status=200)
    c.call("POST", f"/counts/{rec['id']}/approve", "approver2", status=409)
    assert on_hand(c) == 10
    conn = sqlite3.connect(c.state.db_path)
    kinds = conn.execute("SELECT qty, delta FROM movements WHERE device = 'ann'").fetchall()
    assert kinds == [(0, 0)]
    same_stock(c)


class PlanSpy:
    """The ingest's count rules, keeping every plan they made (what the ack is built from)."""

    def __init__(self, rules):
        self.rules, self.plans = rules, []

    def plan(self, conn, engine, batch):
        made = self.rules.plan(conn, engine, batch)
        self.plans.append(made)
        return made

    def counted_qty(self, conn, device, seq):
        return self.rules.counted_qty(conn, device, seq)


def test_held_count_tells_the_handheld_it_is_held(central):
    """Issue 12 #13: a count held for approval must not look like a plain OK. Each plan lists
    the group's held counts as ack entries (`{"seq","code","detail"}`, the shape of
    `rejected`) for the ingest to send in the ack's optional `held` list; a retransmit of a
    count still held gets the same entry."""
    c = central
    c.call("PUT", "/workflow-settings", "admin", {"count_hold_units": 3}, status=200)
    spy = PlanSpy(c.state.ingest.count_rules)
    c.state.ingest.count_rules = spy
    (big,) = c.feed("DC1", "hh-1", [{"type": "count", **CELL, "qty": 20, "ts": at(0)}])
    (small,) = c.feed("DC1", "hh-1", [{"type": "count", **CELL, "qty": 11, "ts": at(1)}])
    held = [e for p in spy.plans for e in p.held.get("hh-1", [])]
    (rec,) = c.get("/counts?status=pending")["rows"]
    assert held == [
        {
            "seq": big,
            "code": "count_held",
            "detail": f"count of 20 A1 at DC1/A-01 differs from the expected 10 by +10: held "
            f"for an approver as count {rec['id']}; stock unchanged until it is approved",
        }
    ]
    conn = c.state.storage.reader()
    assert spy.rules.held_entry(conn, "hh-1", big) == held[0]
    assert spy.rules.held_entry(conn, "hh-1", small) is None
    c.call("POST", f"/counts/{rec['id']}/approve", "approver", status=200)
    assert spy.rules.held_entry(conn, "hh-1", big) is None
