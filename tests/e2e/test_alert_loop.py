"""The alert loop through the real stack: sales scans on a stub scanner drain a SKU at a store
(edge process → mosquitto → central process), its alert escalates yellow → orange → red (seen in
GET /api/alerts and on the store's MQTT alerts topic), a planning pass proposes exactly one
order (a draft PO), a receive scan with REF: that PO's number clears the alert, and another pass
proposes nothing new.

Demand is deterministic: the ledger is seeded with 56 days of 10 sales a day of A1 at STORE1,
and the test config keeps 2 days of cover as safety stock (SS = 20: tiers at 24 / 20 / 16).
STORE1 starts with 70 on hand, above the reorder point (60), so only the drained stock asks for
an order. Passes run when the test asks (POST /api/planning/run), not on a timer.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from central.access.broker import BrokerDir
from firmware_stubs.barcode import BarcodeScannerStub
from tallyman import net, wire
from tests.e2e.conftest import Central, EdgeProc, get_json, spawn, wait_port, wait_until
from tests.planning_fixtures import seed_sales, token, write_config

pytestmark = pytest.mark.e2e

A1_GTIN = "05901234123457"


class PlanningCentral(Central):
    """central with `--planning-config`."""

    config: Path | None = None

    def start(self) -> None:
        args = ["central", "--db", str(self.db), "--broker", self.broker_url]
        args += ["--planning-config", str(self.config), "--http", f"127.0.0.1:{self.port}"]
        self.proc = spawn(args, self.tmp / "central.log")
        wait_port("127.0.0.1", self.port, 60, self.proc)


def post_json(url: str, bearer: str) -> dict:
    req = urllib.request.Request(
        url, data=b"{}", method="POST", headers={"Authorization": f"Bearer {bearer}",
                                                 "Content-Type": "application/json"}
    )  # fmt: skip
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


class Listener:
    """central's own login, subscribed to the store's alerts topic."""

    def __init__(self, broker: BrokerDir, site: str):
        host, port, user, pw = net.parse_broker_url(broker.central_url)
        self.changes: list[dict] = []
        subscribed = threading.Event()
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="e2e-alert-listener")
        c.username_pw_set(user, pw)
        c.on_message = lambda cl, u, m: self.changes.extend(json.loads(m.payload)["changes"])
        c.on_subscribe = lambda *a: subscribed.set()
        c.connect(host, port)
        c.subscribe(wire.alerts_topic(site), qos=1)
        c.loop_start()
        assert subscribed.wait(10)
        self.client = c

    def kinds(self) -> list[tuple[str, str]]:
        return [(ch["kind"], ch["tier"]) for ch in list(self.changes)]

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def loop_stack(broker: BrokerDir, catalogue, tmp_path):
    seed_sales(catalogue, "A1", "STORE1/SHELF", per_day=10, days=56, on_hand=70)
    planner = token(catalogue, "planner")
    central = PlanningCentral(catalogue, broker.central_url, tmp_path)
    central.config = write_config(tmp_path / "planning.toml", sweep_s=1.0)
    central.start()
    url = broker.add_device("hh-store", "STORE1")
    scanner = BarcodeScannerStub(link=str(tmp_path / "scanner-hh-store"))
    edge = EdgeProc("hh-store", "STORE1", url, tmp_path, scanner)
    edge.start()
    yield central, edge, planner
    edge.stop()
    scanner.close()
    central.stop()


def test_sales_drain_escalate_propose_receive_clear(loop_stack, broker):
    central, edge, planner = loop_stack
    api = central.api
    wait_until(lambda: get_json(f"{api}/planning/status").get("last_pass"), 60, "the first pass")
    listener = Listener(broker, "STORE1")
    serials = iter(range(1, 1000))

    def scan(text: str) -> None:
        reply = edge.scanner.scan_and_wait(text, timeout=5.0, retries=2)
        assert reply is not None and reply[0], (text, reply)

    def item(qty: int) -> None:  # serialised, so a re-sent frame is not counted twice
        scan(f"]C101{A1_GTIN}21E2E{next(serials)}\x1d30{qty}")

    def alert() -> dict | None:
        rows = get_json(f"{api}/alerts?site=STORE1&sku=A1")["rows"]
        return rows[0] if rows else None

    def wait_tier(tier: str) -> dict:
        wait_until(lambda: (alert() or {}).get("tier") == tier, 20, f"a {tier} alert")
        return alert()

    def proposal_pos() -> list[dict]:
        return get_json(f"{api}/purchase-orders?source=proposal")["rows"]

    assert alert() is None
    assert get_json(f"{api}/replenishment/proposals")["proposals"] == []
    scan("LOC:STORE1/SHELF")
    scan("MODE:SALE")
    item(46)  # 70 → 24: yellow (≤ 120 % of SS)
    yellow = wait_tier("yellow")
    item(4)  # 20: orange (≤ 100 %)
    assert wait_tier("orange")["alert_id"] == yellow["alert_id"]
    item(4)  # 16: red (≤ 80 %)
    red = wait_tier("red")
    assert red["alert_id"] == yellow["alert_id"] and red["action"] == "urgent_order_notify"
    wait_until(lambda: len(listener.changes) >= 3, 10, "alert changes on MQTT")
    assert listener.kinds() == [("opened", "yellow"), ("escalated", "orange"),
                                ("escalated", "red")]  # fmt: skip

    # one planning pass: exactly one proposal, a draft PO for supplier S1
    summary = post_json(f"{api}/planning/run", planner)
    assert summary["draft_pos_created"] == 1
    (prop,) = get_json(f"{api}/replenishment/proposals")["proposals"]
    ((line),) = prop["lines"]
    assert (prop["supplier"], line["sku"], line["site"]) == ("S1", "A1", "STORE1")
    number, qty = prop["po_number"], int(line["qty"])
    assert [po["number"] for po in proposal_pos()] == [number]
    assert alert()["tier"] == "red"  # a draft is not an order yet

    # the goods arrive: a receive scan with REF: the proposal's number
    scan("MODE:RECEIVE")
    scan(f"REF:{number}")
    item(qty)
    wait_until(lambda: alert() is None, 20, "the alert to clear")
    wait_until(lambda: ("closed", "none") in listener.kinds(), 10, "the close on MQTT")
    closed = get_json(f"{api}/alerts/{red['alert_id']}")
    assert closed["status"] == "closed"
    assert [e["kind"] for e in closed["events"]] == ["opened", "escalated", "escalated", "closed"]
    stock = get_json(f"{api}/stock?sku=A1&loc=STORE1/SHELF")["rows"][0]
    assert stock["on_hand"] == 16 + qty
    receipts = get_json(f"{api}/purchase-orders/{number}")["receipts"]
    assert [r["qty"] for r in receipts] == [qty]  # the receipt is booked against that PO

    # another pass: nothing new to order, still the one PO from proposals
    summary = post_json(f"{api}/planning/run", planner)
    assert summary["proposal_lines"] == 0 and summary["draft_pos_created"] == 0
    assert get_json(f"{api}/replenishment/proposals")["proposals"] == []
    assert [po["number"] for po in proposal_pos()] == [number]
    time.sleep(0.5)
    assert alert() is None
    assert listener.kinds()[-1] == ("closed", "none") and len(listener.kinds()) == 4
    listener.close()
