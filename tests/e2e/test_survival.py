"""Three edges, thousands of scans, while broker, central and an edge are killed -9 and a
scanner is unplugged: at the end every scan is in the ledger exactly once and /api/stock equals
the operators' own tally to the unit."""

from __future__ import annotations

import contextlib
import random
import sqlite3
import threading
import time
from collections import Counter

import pytest

from tests.conftest import ITEMS_GTINS
from tests.e2e.conftest import get_json, restart_broker, wait_until

pytestmark = pytest.mark.e2e

SCANS_PER_EDGE = 2000
PACE = 0.01  # seconds between an operator's scans: spreads the shift so every fault lands mid-way
OPENING = {("A1", "DC1/A-01"): 10, ("B2", "DC1/A-02"): 5, ("A1", "STORE1/SHELF"): 2}


class Operator(threading.Thread):
    """Works a shift on one handheld: labels, then serialised item scans, waiting for each beep.

    Like a real operator, it re-scans when the handheld stays silent (edge down, scanner
    unplugged); every item carries a unique GS1 serial, so a re-scan of a unit the edge already
    stored is answered "already recorded" instead of being counted twice.
    """

    def __init__(self, edge, bins: list[str], modes: list[str], seed: int):
        super().__init__(daemon=True)
        self.edge, self.bins, self.modes = edge, bins, modes
        self.rng = random.Random(seed)
        self.tally: Counter = Counter(OPENING)  # this operator's bins are its own
        self.done = 0
        self.failures: list[str] = []

    def send(self, text: str) -> str:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            reply = self.edge.scanner.scan_and_wait(text, timeout=2.0, retries=0)
            if reply is None:
                continue
            ok, message = reply
            # a re-scan of a unit the edge stored before it went silent is refused as a repeat
            if not ok and not message.startswith("already recorded"):
                self.failures.append(f"{text!r}: {message}")
            return message
        self.failures.append(f"{text!r}: no answer for 120 s")
        return ""

    def run(self) -> None:
        dev = self.edge.device
        loc = self.bins[0]
        self.send(f"LOC:{loc}")
        mode = "RECEIVE"
        self.send("MODE:RECEIVE")
        for i in range(SCANS_PER_EDGE):
            if self.failures:
                return
            if i % 100 == 99:
                loc = self.rng.choice(self.bins)
                mode = self.rng.choice(self.modes)
                self.send(f"LOC:{loc}")
                self.send(f"MODE:{mode}")
            sku, gtin = self.rng.choice(ITEMS_GTINS)
            qty = self.rng.randint(1, 9)
            self.send(f"]C101{gtin}21{dev}x{i}\x1d30{qty}")
            if mode == "COUNT":
                self.tally[(sku, loc)] = qty
            else:
                self.tally[(sku, loc)] += qty if mode == "RECEIVE" else -qty
            self.done += 1
            time.sleep(PACE)


def test_every_scan_exactly_once_through_kills(stack, broker, tmp_path):
    central, add_edge = stack
    edges = [add_edge("hh-1", "DC1"), add_edge("hh-2", "DC1"), add_edge("hh-3", "STORE1")]
    operators = [
        Operator(edges[0], ["DC1/A-01", "DC1/DOCK"], ["RECEIVE", "PICK"], 1),
        Operator(edges[1], ["DC1/A-02"], ["RECEIVE", "PICK", "COUNT"], 2),
        Operator(edges[2], ["STORE1/SHELF"], ["RECEIVE", "SALE"], 3),
    ]
    for op in operators:
        op.start()

    def progress(frac: float) -> None:
        wait_until(
            lambda: (
                min(op.done for op in operators) >= frac * SCANS_PER_EDGE
                or any(op.failures for op in operators)
            ),
            300,
            f"{frac:.0%} of the scans",
        )

    progress(0.2)
    restart_broker(broker)
    progress(0.4)
    central.kill()
    time.sleep(0.5)
    central.start()
    progress(0.6)
    edges[1].kill()
    time.sleep(0.5)
    edges[1].start()
    progress(0.8)
    edges[0].scanner.unplug()
    time.sleep(1.0)
    edges[0].scanner.replug()
    for op in operators:
        op.join(600)
    assert not [f for op in operators for f in op.failures]
    assert all(op.done == SCANS_PER_EDGE for op in operators)
    wait_until(lambda: all(e.queue_length() == 0 for e in edges), 120, "outboxes to drain")

    conn = sqlite3.connect(central.db)
    with contextlib.closing(conn):
        per_device = dict(
            conn.execute(
                "SELECT device, count(*) FROM movements WHERE device LIKE 'hh-%' GROUP BY device"
            )
        )
        assert per_device == {e.device: SCANS_PER_EDGE for e in edges}
        doubled = conn.execute(
            "SELECT serial, count(*) FROM movements WHERE serial IS NOT NULL "
            "GROUP BY serial HAVING count(*) > 1"
        ).fetchall()
        assert doubled == []
    assert get_json(f"{central.api}/dead-letters")["rows"] == []
    assert all(e.rejections() == [] for e in edges)

    stock = {
        (r["sku"], r["loc"]): r["on_hand"]
        for r in get_json(f"{central.api}/stock?limit=100000")["rows"]
    }
    for op in operators:
        for (sku, loc), qty in op.tally.items():
            if loc in op.bins:
                assert stock.get((sku, loc), 0) == qty, (sku, loc)
