"""The ingest's two stages: a group is prepared while the previous one commits.

What must hold: an ack carries the watermark of its own group (never one a later, uncommitted
group advanced), and after a failed commit the groups prepared against the lost state are
dropped unacknowledged, so that the edges' retransmits are accepted, exactly once.
"""

from __future__ import annotations

import json
import sqlite3
import time

import pytest

from central.ingest.pipeline import Ingest
from central.stock import ledger
from central.stock.catalog import Catalog
from central.stock.engine import StockEngine
from central.stock.storage import open_storage
from tallyman import wire

TOPIC = wire.movements_topic("DC1", "hh-1")


def _ingest(db_path) -> tuple[Ingest, list[dict]]:
    storage = open_storage(db_path)
    conn = storage.reader()
    catalog = Catalog().load(conn)
    engine = StockEngine()
    engine.rebuild(conn, catalog.max_item_id, catalog.max_loc_id)
    acks: list[dict] = []
    ing = Ingest(storage, engine, catalog, lambda t, p: acks.append(json.loads(p)))
    return ing, acks


def _msg(first_seq: int, n: int) -> tuple[str, str, bytes]:
    evs = [
        {"seq": s, "ts": wire.now_ts(), "type": "receive", "sku": "A1", "qty": 1, "loc": "DC1/A-01"}
        for s in range(first_seq, first_seq + n)
    ]
    return ("msg", TOPIC, wire.encode_movements("DC1", "hh-1", evs))


def _rows(db_path) -> list[int]:
    with sqlite3.connect(db_path) as c:
        return [r[0] for r in c.execute("SELECT seq FROM movements WHERE device = 'hh-1'")]


def test_an_ack_carries_its_own_groups_watermark(catalogue):
    ing, acks = _ingest(catalogue)
    first = ing.prepare([_msg(1, 3)])
    second = ing.prepare([_msg(4, 2)])  # prepared before the first commits
    ing.commit(first)
    assert acks[-1]["upto"] == 3  # not 5: seqs 4 and 5 are not in the ledger yet
    ing.commit(second)
    assert acks[-1]["upto"] == 5
    assert _rows(catalogue) == [1, 2, 3, 4, 5]


def test_a_failed_commit_drops_groups_prepared_against_the_lost_state(catalogue, monkeypatch):
    ing, acks = _ingest(catalogue)
    first = ing.prepare([_msg(1, 3)])
    second = ing.prepare([_msg(4, 2)])
    real = ledger.insert_movements

    def disk_full(conn, rows):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(ledger, "insert_movements", disk_full)
    with pytest.raises(sqlite3.OperationalError):
        ing.commit(first)
    monkeypatch.setattr(ledger, "insert_movements", real)
    ing.commit(second)  # prepared before the failure: dropped, not acknowledged
    assert acks == [] and _rows(catalogue) == []
    # the edge retransmits everything from its last ack: accepted once, acked once
    ing.process([_msg(1, 5)])
    assert acks[-1] == {"upto": 5, "rejected": []}
    assert _rows(catalogue) == [1, 2, 3, 4, 5]
    assert int(ing.engine.on_hand[ing.catalog.sku_id["A1"], ing.catalog.loc_id["DC1/A-01"]]) == 15


def test_the_threads_ingest_a_stream_exactly_once(catalogue):
    ing, acks = _ingest(catalogue)
    ing.start()
    try:
        for first in range(1, 2001, 100):
            ing.submit(TOPIC, _msg(first, 100)[2])
        ing.submit(TOPIC, _msg(1, 100)[2])  # a retransmit of the first message
        deadline = time.monotonic() + 30
        while (not acks or acks[-1]["upto"] < 2000) and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        ing.stop()
    assert acks[-1]["upto"] == 2000
    assert _rows(catalogue) == list(range(1, 2001))


def test_a_late_count_retransmitted_to_an_ingest_without_count_rules_is_acked_again(catalogue):
    """A count stored as the change it made (COUNT_DELTA, by the workflows' count rules) is
    still recognised as a retransmit when no rules are attached, not rejected as a replay."""
    from central.stock.engine import COUNT_DELTA

    ev = {"seq": 1, "ts": wire.now_ts(), "type": "count", "sku": "A1", "qty": 7, "loc": "DC1/A-01"}
    ing, acks = _ingest(catalogue)
    ing.process([("msg", TOPIC, wire.encode_movements("DC1", "hh-1", [ev]))])
    ing.stop()
    assert acks[-1] == {"upto": 1, "rejected": []}
    with sqlite3.connect(catalogue) as c:  # as the rules store a late count: its change, -3
        c.execute("UPDATE movements SET kind = ?, qty = -3 WHERE device = 'hh-1'", (COUNT_DELTA,))
    ing, acks = _ingest(catalogue)
    assert ing.count_rules is None
    ing.process([("msg", TOPIC, wire.encode_movements("DC1", "hh-1", [ev]))])
    assert acks[-1] == {"upto": 1, "rejected": []}
    replay = {**ev, "loc": "DC1/A-02"}  # the same seq for another bin is still a replay
    ing.process([("msg", TOPIC, wire.encode_movements("DC1", "hh-1", [replay]))])
    assert [r["code"] for r in acks[-1]["rejected"]] == ["seq_replayed"]
    with sqlite3.connect(catalogue) as c:
        codes = [r[0] for r in c.execute("SELECT code FROM dead_letters")]
    assert codes == ["seq_replayed"]


def test_one_seq_twice_in_a_message_with_other_contents_is_refused(catalogue):
    """The second event under a seq already used in the same message (or in a group not yet
    committed) is a replay when its contents differ: dead-lettered and rejected in the ack."""
    ing, acks = _ingest(catalogue)
    ts = wire.now_ts()
    ev = {"seq": 1, "ts": ts, "type": "receive", "sku": "A1", "qty": 1, "loc": "DC1/A-01"}
    evs = [ev, {**ev, "qty": 5}, ev, {**ev, "seq": 2}]  # a replay, a plain repeat, the next
    ing.process([("msg", TOPIC, wire.encode_movements("DC1", "hh-1", evs))])
    assert acks[-1] == {
        "upto": 2,
        "rejected": [
            wire.rejection(1, "seq_replayed", "seq 1 was already used for a different event")
        ],
    }
    with sqlite3.connect(catalogue) as c:
        (dead,) = c.execute("SELECT seq, code, event FROM dead_letters").fetchall()
    assert dead[:2] == (1, "seq_replayed") and json.loads(dead[2])["qty"] == 5
    assert _rows(catalogue) == [1, 2]
    assert int(ing.engine.on_hand[ing.catalog.sku_id["A1"], ing.catalog.loc_id["DC1/A-01"]]) == 12
    # the same across two groups, the first prepared and not yet committed
    first = ing.prepare([("msg", TOPIC, wire.encode_movements("DC1", "hh-1", [{**ev, "seq": 3}]))])
    replay = {**ev, "seq": 3, "loc": "DC1/A-02"}
    second = ing.prepare([("msg", TOPIC, wire.encode_movements("DC1", "hh-1", [replay]))])
    ing.commit(first)
    ing.commit(second)
    assert [r["code"] for r in acks[-1]["rejected"]] == ["seq_replayed"]
    assert _rows(catalogue) == [1, 2, 3]
