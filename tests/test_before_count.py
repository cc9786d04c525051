"""A count fixes the quantity as of its scan time: movements scanned before it that arrive after
it is applied are recorded and flagged, and do not move stock past it (issue 12, defect 2).

Each test checks the live engine against a rebuild from the ledger, from its packed blocks and
from its rows alone, since both must give the numbers the live engine had.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import numpy as np

from central.ingest.pipeline import Ingest
from central.stock import ledger
from central.stock.catalog import Catalog
from central.stock.engine import StockEngine
from central.stock.storage import open_storage
from tallyman import wire

BASE = datetime.now(UTC) + timedelta(minutes=5)  # after the fixture's opening-stock counts


def at(seconds: float) -> str:
    return (BASE + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class Central:
    """A bare ingest over the catalogue's ledger (no count rules: every count sets its cell)."""

    def __init__(self, db_path):
        self.db_path = db_path
        self.storage = open_storage(db_path)
        conn = self.storage.reader()
        self.catalog = Catalog().load(conn)
        self.engine = StockEngine()
        self.engine.rebuild(conn, self.catalog.max_item_id, self.catalog.max_loc_id)
        self.acks: list[dict] = []
        self.ingest = Ingest(self.storage, self.engine, self.catalog, self._ack)
        self.seqs: dict[str, int] = {}

    def _ack(self, topic, payload):
        import json

        self.acks.append(json.loads(payload))

    def message(self, device: str, events: list[dict]) -> tuple:
        evs = []
        for ev in events:
            seq = self.seqs[device] = self.seqs.get(device, 0) + 1
            evs.append({"seq": seq, "sku": "A1", "loc": "DC1/A-01", **ev})
        topic = wire.movements_topic("DC1", device)
        return ("msg", topic, wire.encode_movements("DC1", device, evs))

    def feed(self, device: str, events: list[dict]) -> None:
        self.ingest.process([self.message(device, events)])

    def on_hand(self, sku="A1", loc="DC1/A-01") -> int:
        return int(self.engine.on_hand[self.catalog.sku_id[sku], self.catalog.loc_id[loc]])

    def in_transit(self, sku="A1", loc="DC1/DOCK") -> int:
        return int(self.engine.in_transit[self.catalog.sku_id[sku], self.catalog.loc_id[loc]])

    def flagged(self) -> list[tuple]:
        with sqlite3.connect(self.db_path) as c:
            return c.execute(
                "SELECT device, type, qty, delta, flagged FROM movements WHERE flagged != 0 "
                "ORDER BY id"
            ).fetchall()

    def assert_rebuild_agrees(self) -> None:
        conn = ledger.connect(self.db_path)
        try:
            for without_blocks in (False, True):
                if without_blocks:
                    conn.execute("DELETE FROM movement_blocks")
                again = StockEngine()
                again.rebuild(conn, self.catalog.max_item_id, self.catalog.max_loc_id)
                rows, cols = again.on_hand.shape
                assert np.array_equal(self.engine.on_hand[:rows, :cols], again.on_hand)
                assert np.array_equal(self.engine.in_transit[:rows, :cols], again.in_transit)
        finally:
            conn.close()


def test_a_late_sale_before_an_applied_count_is_not_taken_off_twice(catalogue):
    c = Central(catalogue)
    c.feed("hh-count", [{"type": "count", "qty": 7, "ts": at(10)}])  # the 3 sold are gone
    assert c.on_hand() == 7
    c.feed("hh-offline", [{"type": "sale", "qty": 3, "ts": at(5)}])  # scanned before the count
    assert c.on_hand() == 7
    assert c.flagged() == [("hh-offline", "sale", 3, 0, 1)]
    c.feed("hh-1", [{"type": "sale", "qty": 1, "ts": at(20)}])  # after the count: as usual
    assert c.on_hand() == 6
    assert c.acks[-1]["rejected"] == []
    c.assert_rebuild_agrees()
    # a restarted central knows where counts fixed the quantity
    c.ingest.stop()
    again = Central(catalogue)
    again.seqs = c.seqs
    again.feed("hh-offline", [{"type": "sale", "qty": 2, "ts": at(6)}])
    assert again.on_hand() == 6 and len(again.flagged()) == 2
    again.assert_rebuild_agrees()


def test_counts_and_late_events_within_one_group(catalogue):
    c = Central(catalogue)
    c.ingest.process(
        [
            c.message("hh-1", [{"type": "sale", "qty": 2, "ts": at(1)}]),  # before the count,
            c.message("hh-2", [{"type": "count", "qty": 7, "ts": at(10)}]),  # which sets 7,
            c.message("hh-3", [{"type": "sale", "qty": 3, "ts": at(5)}]),  # then a late one
            c.message("hh-1", [{"type": "receive", "qty": 4, "ts": at(11)}]),
        ]
    )
    assert c.on_hand() == 7 + 4
    assert c.flagged() == [("hh-3", "sale", 3, 0, 1)]
    c.assert_rebuild_agrees()


def test_moves_keep_the_side_no_count_fixed(catalogue):
    c = Central(catalogue)
    c.feed("hh-count", [{"type": "count", "qty": 10, "ts": at(10)}])  # A-01 counted at 10
    before = {"ts": at(5), "loc": "DC1/A-01"}
    c.feed("hh-off", [{"type": "putaway", "qty": 2, "to_loc": "DC1/DOCK", **before}])
    assert (c.on_hand(), c.on_hand(loc="DC1/DOCK")) == (10, 2)  # arrived at the dock
    c.feed("hh-off", [{"type": "transfer_out", "qty": 1, "to_loc": "DC1/DOCK", **before}])
    assert (c.on_hand(), c.in_transit()) == (10, 1)  # in transit is not counted: it moves
    c.feed("hh-count", [{"type": "count", "qty": 0, "loc": "DC1/DOCK", "ts": at(20)}])
    c.feed("hh-off", [{"type": "putaway", "qty": 4, "to_loc": "DC1/DOCK", "ts": at(15)}])
    assert (c.on_hand(), c.on_hand(loc="DC1/DOCK")) == (6, 0)  # left A-01, dock was counted
    c.feed("hh-off", [{"type": "transfer_in", "qty": 1, "loc": "DC1/DOCK", "ts": at(15)}])
    assert (c.on_hand(loc="DC1/DOCK"), c.in_transit()) == (0, 0)  # in transit cleared
    c.feed("hh-off", [{"type": "putaway", "qty": 1, "to_loc": "DC1/DOCK", "ts": at(5)}])
    assert (c.on_hand(), c.on_hand(loc="DC1/DOCK")) == (6, 0)  # both sides counted
    assert [f[1:] for f in c.flagged()] == [
        ("putaway", 2, 0, 1),
        ("transfer_out", 1, 0, 1),
        ("putaway", 4, -4, 2),
        ("transfer_in", 1, 0, 1),
        ("putaway", 1, 0, 3),
    ]
    c.assert_rebuild_agrees()


def test_opening_stock_imported_by_another_process_is_a_count_too(catalogue, tmp_path):
    c = Central(catalogue)
    # the fixture imported opening stock before this central started: its counts count too
    c.feed("hh-1", [{"type": "sale", "qty": 1, "ts": "2020-01-01T00:00:00Z"}])
    assert c.on_hand() == 10 and len(c.flagged()) == 1
    scanned = wire.now_ts()  # a sale scanned now, delivered after the import below
    stock = tmp_path / "recount.csv"
    stock.write_text("sku,loc,qty\nA1,DC1/A-01,30\n")
    subprocess.run(
        [sys.executable, "-m", "tallyman.launch.cli", "import", "stock", str(stock)]
        + ["--db", str(catalogue)],
        check=True,
        capture_output=True,
    )
    c.ingest.tail_if_needed()
    assert c.on_hand() == 30
    c.feed("hh-1", [{"type": "sale", "qty": 5, "ts": scanned}])  # inside the import's count
    c.feed("hh-1", [{"type": "sale", "qty": 2, "ts": at(30)}])
    assert c.on_hand() == 28
    c.assert_rebuild_agrees()


def test_a_ledger_from_before_the_marks_is_brought_up_to_date(catalogue):
    c = Central(catalogue)
    c.feed("hh-1", [{"type": "count", "qty": 4, "ts": at(10)}])
    c.feed("hh-1", [{"type": "sale", "qty": 1, "ts": at(20), "serial": "S1"}])
    c.ingest.stop()
    with sqlite3.connect(catalogue) as conn:  # as the ledger was before issue 12
        conn.executescript(
            "DROP INDEX movements_flagged; ALTER TABLE movements DROP COLUMN flagged; "
            "DELETE FROM count_marks; DELETE FROM serial_states;"
        )
    again = Central(catalogue)  # opening it migrates it
    again.seqs = c.seqs
    with sqlite3.connect(catalogue) as conn:
        marks = conn.execute("SELECT ts FROM count_marks WHERE loc_id = 1").fetchall()
        assert marks == [(ledger.ts_key(at(10)),)]  # (and the opening stock's elsewhere)
        assert conn.execute("SELECT type, place FROM serial_states").fetchall() == [("sale", None)]
    again.feed("hh-2", [{"type": "sale", "qty": 1, "ts": at(5)}])
    assert again.on_hand() == 3
    again.assert_rebuild_agrees()
