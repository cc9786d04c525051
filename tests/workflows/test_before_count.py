"""A late sale before an applied count, through a real central with the count rules attached:
the engine, a rebuild from the ledger and the API agree (issue 12, defect 2)."""

from __future__ import annotations

from tests.helpers import wait_for
from tests.workflows.test_counts import CELL, at, on_hand, same_stock


def test_a_late_sale_is_recorded_flagged_and_not_taken_off_twice(central):
    c = central
    c.feed("DC1", "hh-1", [{"type": "count", **CELL, "qty": 7, "ts": at(10)}])
    c.feed("DC1", "hh-off", [{"type": "sale", **CELL, "qty": 3, "ts": at(5)}])
    assert on_hand(c) == 7
    same_stock(c)
    (row,) = c.get("/movements?flagged=1")["rows"]
    assert (row["device"], row["type"], row["qty"], row["delta"], row["flagged"]) == (
        "hh-off",
        "sale",
        3,
        0,
        1,
    )
    assert all(r["flagged"] == 0 for r in c.get("/movements?flagged=0")["rows"])
    # a late count before the late sale is behind the applied count: it changes nothing
    c.feed("DC1", "hh-old", [{"type": "count", **CELL, "qty": 50, "ts": at(1)}])
    assert on_hand(c) == 7 and c.get("/counts")["rows"][0]["status"] == "superseded"
    c.feed("DC1", "hh-1", [{"type": "sale", **CELL, "qty": 1, "ts": at(20)}])
    assert on_hand(c) == 6
    same_stock(c)


def test_a_count_held_for_approval_fixes_nothing_until_approved(central):
    c = central
    c.call("PUT", "/workflow-settings", "admin", {"count_hold_units": 3}, status=200)
    c.feed("DC1", "hh-1", [{"type": "count", **CELL, "qty": 20, "ts": at(10), "operator": "sam"}])
    c.feed("DC1", "hh-off", [{"type": "sale", **CELL, "qty": 2, "ts": at(5)}])
    assert on_hand(c) == 8  # the count is not applied: the sale is
    assert c.get("/movements?flagged=1")["rows"] == []
    (rec,) = c.get("/counts?status=pending")["rows"]
    c.call("POST", f"/counts/{rec['id']}/approve", "approver", status=200)
    c.settle()
    wait_for(lambda: on_hand(c) == 20, 5, "the approved count")  # it includes the sale
    c.feed("DC1", "hh-off", [{"type": "sale", **CELL, "qty": 1, "ts": at(6)}])
    assert on_hand(c) == 20
    assert [r["qty"] for r in c.get("/movements?flagged=1")["rows"]] == [1]
    same_stock(c)
