"""The workflows' hooks planning's callbacks are wired to (issue 12, defects 7 and 13): after a
commit that changed on order / in transit / reserved they name the (SKU, site) pairs, including
the reservation fast path and the sweeper's expiries that no HTTP hook sees; a refusal for want
of stock is reported; a hook that fails never fails the workflow."""

from __future__ import annotations

import threading

from central.workflows.service import WorkflowService
from tests.helpers import wait_for


class Recorder:
    """Stands in for planning's callbacks: records the calls, from any thread."""

    def __init__(self, wf: WorkflowService):
        self.changed: list[list[tuple[str, str]]] = []
        self.refused: list[tuple[str, str, int]] = []
        self._lock = threading.Lock()
        wf.on_positions_changed = self._changed
        wf.on_reservation_refused = self._refused

    def _changed(self, pairs: list[tuple[str, str]]) -> None:
        with self._lock:
            self.changed.append(list(pairs))

    def _refused(self, sku: str, site: str, qty: int) -> None:
        with self._lock:
            self.refused.append((sku, site, qty))

    def seen(self, pair: tuple[str, str]) -> bool:
        with self._lock:
            return any(pair in pairs for pairs in self.changed)


def reserve(c, qty, sku="A1", site="DC1", **extra):
    body = {"sku": sku, "site": site, "qty": qty, "channel": "online", **extra}
    return c.call("POST", "/reservations", "staff", body)


def test_lifecycle_wires_the_hooks_to_planning(central):
    wf, planning = central.state.workflows, central.state.planning
    assert wf.on_positions_changed == planning.positions_changed
    assert wf.on_reservation_refused == planning.reservation_refused


def test_fast_path_reservation_names_its_pair_and_a_refusal_is_reported(central):
    rec = Recorder(central.state.workflows)
    r = reserve(central, 4)  # the test client goes through ReservationFastPath (no Flask hooks)
    assert r.status_code == 201, r.get_json()
    wait_for(lambda: rec.seen(("A1", "DC1")), what="positions_changed for the reservation")
    assert reserve(central, 50).status_code == 409
    wait_for(lambda: rec.refused == [("A1", "DC1", 50)], what="the refusal reported")
    rec.changed.clear()
    res = r.get_json()
    central.call("POST", f"/reservations/{res['id']}/cancel", "staff", status=200)
    assert rec.seen(("A1", "DC1"))


def test_sweeper_expiry_names_its_pair(central):
    rec = Recorder(central.state.workflows)
    assert reserve(central, 2, sku="B2", ttl_s=0.2).status_code == 201
    wait_for(lambda: rec.seen(("B2", "DC1")), what="positions_changed for the reservation")
    rec.changed.clear()
    wait_for(lambda: rec.seen(("B2", "DC1")), timeout=10, what="the sweeper's expiry reported")
    assert central.get("/reservations?status=expired")["rows"][0]["sku"] == "B2"


def test_a_failing_hook_never_fails_the_workflow(central):
    wf = central.state.workflows

    def boom(*_args):
        raise RuntimeError("planning is down")

    wf.on_positions_changed = boom
    wf.on_reservation_refused = boom
    r = reserve(central, 1)
    assert r.status_code == 201, r.get_json()
    assert reserve(central, 500).status_code == 409
    central.call("POST", f"/reservations/{r.get_json()['id']}/cancel", "staff", status=200)
    assert reserve(central, 1).status_code == 201  # the desk thread is still alive
