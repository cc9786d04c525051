"""Transfer orders: approval pushes tasks over MQTT, scans move the order, discrepancies."""

from __future__ import annotations

import json
import threading

import paho.mqtt.client as mqtt
import pytest

from tallyman import net, wire
from tests.helpers import wait_for


class TaskListener:
    """A handheld's view of its site's task topic, logged in with the device's credentials."""

    def __init__(self, broker, device: str, site: str):
        host, port, user, pw = net.parse_broker_url(broker.add_device(device, site))
        self.latest: dict | None = None
        self.ready = threading.Event()
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"tasks-{device}")
        c.username_pw_set(user, pw)
        c.on_message = self._on_message
        c.on_subscribe = lambda *a: self.ready.set()
        c.connect(host, port)
        c.subscribe(wire.tasks_topic(site), qos=1)
        c.loop_start()
        self.client = c
        assert self.ready.wait(5)

    def _on_message(self, client, userdata, msg) -> None:
        self.latest = json.loads(msg.payload)

    def refs(self) -> list[tuple[str, str]]:
        return [(t["kind"], t["ref"]) for t in (self.latest or {}).get("tasks", [])]

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def propose(c, qty=4, sku="A1"):
    body = {"from_site": "DC1", "to_site": "STORE1", "lines": [{"sku": sku, "qty": qty}]}
    return c.call("POST", "/transfers", "planner", body, status=201).get_json()


def test_full_transfer_through_scans_and_tasks(central, broker):
    c = central
    src, dst = TaskListener(broker, "hh-src", "DC1"), TaskListener(broker, "hh-dst", "STORE1")
    try:
        to = propose(c)
        assert to["status"] == "proposed" and to["lines"][0]["from_loc"] == "DC1/A-01"
        c.call("POST", f"/transfers/{to['number']}/approve", "planner", status=403)
        c.call("POST", f"/transfers/{to['number']}/approve", "approver", status=200)
        wait_for(lambda: ("transfer_out", to["number"]) in src.refs(), 5, "the pick task")
        out = {"type": "transfer_out", "sku": "A1", "loc": "DC1/A-01", "to_loc": "STORE1/SHELF"}
        c.feed("DC1", "hh-src", [{**out, "qty": 3, "ref": to["number"]}])
        assert c.get(f"/transfers/{to['number']}")["status"] == "picking"
        c.feed("DC1", "hh-src", [{**out, "qty": 1, "ref": to["number"]}])
        assert c.get(f"/transfers/{to['number']}")["status"] == "in_transit"
        assert c.stock("A1", loc="STORE1/SHELF")["in_transit"] == 4
        wait_for(lambda: ("transfer_in", to["number"]) in dst.refs(), 5, "the receive task")
        assert ("transfer_out", to["number"]) not in src.refs()
        tin = {"type": "transfer_in", "sku": "A1", "loc": "STORE1/SHELF", "ref": to["number"]}
        c.feed("STORE1", "hh-dst", [{**tin, "qty": 4}])
        assert c.get(f"/transfers/{to['number']}")["status"] == "closed"
        row = c.stock("A1", loc="STORE1/SHELF")
        assert (row["on_hand"], row["in_transit"]) == (2 + 4, 0)
        wait_for(lambda: dst.refs() == [], 5, "the receive task to go")
    finally:
        src.close()
        dst.close()


def test_short_receipt_discrepancy_written_off(central):
    c = central
    to = propose(c, qty=5)
    c.call("POST", f"/transfers/{to['number']}/approve", "approver", status=200)
    out = {"type": "transfer_out", "sku": "A1", "loc": "DC1/A-01", "to_loc": "STORE1/SHELF"}
    c.feed("DC1", "hh-1", [{**out, "qty": 5, "ref": to["number"]}])
    tin = {"type": "transfer_in", "sku": "A1", "loc": "STORE1/SHELF", "ref": to["number"]}
    c.feed("STORE1", "hh-2", [{**tin, "qty": 3}])
    assert c.get(f"/transfers/{to['number']}")["status"] == "receiving"
    got = c.call("POST", f"/transfers/{to['number']}/complete", "staff", status=200).get_json()
    assert got["status"] == "discrepancy"
    (d,) = got["discrepancies"]
    assert (d["kind"], d["qty"], d["status"]) == ("short", 2, "open")
    assert c.stock("A1", loc="STORE1/SHELF")["in_transit"] == 2
    url = f"/transfers/{to['number']}/discrepancies/{d['id']}/resolve"
    c.call("POST", url, "staff", {"resolution": "write_off"}, status=403)
    got = c.call("POST", url, "planner", {"resolution": "write_off"}, status=200).get_json()
    assert got["status"] == "closed"
    c.call("POST", url, "planner", {"resolution": "write_off"}, status=409)
    c.settle()
    row = c.stock("A1", loc="STORE1/SHELF")
    assert (row["on_hand"], row["in_transit"]) == (2 + 3, 0)
    scrap = c.get(f"/movements?ref={to['number']}&type=scrap")["rows"]
    assert [(m["qty"], m["device"]) for m in scrap] == [(2, "central.STORE1")]


def test_damaged_and_over(central):
    c = central
    to = propose(c, qty=2)
    c.call("POST", f"/transfers/{to['number']}/approve", "approver", status=200)
    out = {"type": "transfer_out", "sku": "A1", "loc": "DC1/A-01", "to_loc": "STORE1/SHELF"}
    c.feed("DC1", "hh-1", [{**out, "qty": 2, "ref": to["number"]}])
    tin = {"type": "transfer_in", "sku": "A1", "loc": "STORE1/SHELF", "ref": to["number"]}
    scrap = {"type": "scrap", "sku": "A1", "loc": "STORE1/SHELF", "ref": to["number"]}
    c.feed("STORE1", "hh-2", [{**tin, "qty": 3}, {**scrap, "qty": 1}])
    got = c.get(f"/transfers/{to['number']}")
    assert got["status"] == "discrepancy"
    assert sorted((d["kind"], d["qty"]) for d in got["discrepancies"]) == [
        ("damaged", 1),
        ("over", 1),
    ]
    for d in got["discrepancies"]:
        url = f"/transfers/{to['number']}/discrepancies/{d['id']}/resolve"
        c.call("POST", url, "approver", {"resolution": "accept"}, status=200)
    assert c.get(f"/transfers/{to['number']}")["status"] == "closed"


def test_from_suggestions_idempotent_and_cancel(central):
    c = central
    recs = [
        {"sku": "A1", "from_site": "DC1", "to_site": "STORE1", "qty": 3.0, "lane_days": 1.0},
        {"sku": "B2", "from_site": "DC1", "to_site": "STORE1", "qty": 2.0, "lane_days": 1.0},
    ]
    r = c.call("POST", "/transfers/from-suggestions", "planner", {"suggestions": recs}).get_json()
    assert r["created"] == 1 and len(r["rows"][0]["lines"]) == 2
    r2 = c.call("POST", "/transfers/from-suggestions", "planner", {"suggestions": recs}).get_json()
    assert r2["created"] == 0 and r2["rows"][0]["number"] == r["rows"][0]["number"]
    num = r["rows"][0]["number"]
    c.call("POST", f"/transfers/{num}/cancel", "planner", status=200)
    c.call("POST", f"/transfers/{num}/approve", "approver", status=409)
    bad = {"from_site": "DC1", "to_site": "DC1", "lines": [{"sku": "A1", "qty": 1}]}
    c.call("POST", "/transfers", "planner", bad, status=400)


def _short_of_two(c) -> tuple[str, str]:
    """A transfer of 5 that arrived with 3: completed, one open short of 2 (its resolve URL)."""
    to = propose(c, qty=5)
    c.call("POST", f"/transfers/{to['number']}/approve", "approver", status=200)
    out = {"type": "transfer_out", "sku": "A1", "loc": "DC1/A-01", "to_loc": "STORE1/SHELF"}
    c.feed("DC1", "hh-1", [{**out, "qty": 5, "ref": to["number"]}])
    tin = {"type": "transfer_in", "sku": "A1", "loc": "STORE1/SHELF", "ref": to["number"]}
    c.feed("STORE1", "hh-2", [{**tin, "qty": 3}])
    got = c.call("POST", f"/transfers/{to['number']}/complete", "staff", status=200).get_json()
    (d,) = got["discrepancies"]
    assert (d["kind"], d["qty"]) == ("short", 2)
    assert c.stock("A1", loc="STORE1/SHELF")["in_transit"] == 2
    return to["number"], f"/transfers/{to['number']}/discrepancies/{d['id']}/resolve"


@pytest.mark.parametrize(
    ("resolution", "on_hand", "scrapped"),
    [("found", 2 + 5, []), ("claim", 2 + 3, [2]), ("accept", 2 + 3, [2])],
)
def test_every_short_resolution_clears_in_transit(central, resolution, on_hand, scrapped):
    """Issue 12 #11: found units are at the destination, claimed or accepted ones are gone;
    either way nothing stays in transit once the order is closed."""
    c = central
    num, url = _short_of_two(c)
    got = c.call("POST", url, "planner", {"resolution": resolution}, status=200).get_json()
    assert got["status"] == "closed"
    c.settle()
    row = c.stock("A1", loc="STORE1/SHELF")
    assert (row["on_hand"], row["in_transit"]) == (on_hand, 0)
    scrap = c.get(f"/movements?ref={num}&type=scrap")["rows"]
    assert [m["qty"] for m in scrap] == scrapped


def test_two_shorts_for_one_gap_bring_in_only_what_was_picked(central):
    """A short reported by hand and the one `complete` records cover the same 2 units: found
    twice, the destination gains 2, not 4."""
    c = central
    num, url = _short_of_two(c)
    c.call("POST", f"/transfers/{num}/discrepancies", "staff",
           {"sku": "A1", "kind": "short", "qty": 2}, status=201)  # fmt: skip
    second = c.get(f"/transfers/{num}")["discrepancies"][1]["id"]
    c.call("POST", url, "planner", {"resolution": "found"}, status=200)
    got = c.call("POST", f"/transfers/{num}/discrepancies/{second}/resolve", "planner",
                 {"resolution": "found"}, status=200).get_json()  # fmt: skip
    assert got["status"] == "closed"
    c.settle()
    row = c.stock("A1", loc="STORE1/SHELF")
    assert (row["on_hand"], row["in_transit"]) == (2 + 5, 0)
