"""Issue 12 #13: a count held for approval reaches the handheld as "held", not a plain OK.

Central acknowledges a held count by `upto` (it is in the ledger, stock unchanged) and lists it
in the ack's optional `held` list with its reason; the edge shows it as HELD on its screen.
"""

from __future__ import annotations

import json
import sqlite3

from central.ingest.pipeline import Ingest
from central.stock.catalog import Catalog
from central.stock.engine import StockEngine
from central.stock.storage import open_storage
from central.workflows import counts
from central.workflows import schema as wf_schema
from edge.delivery.outbox import Outbox
from edge.delivery.publisher import Publisher
from edge.handheld import create_app
from edge.service import Edge, Screen
from edge.session import Session
from tallyman import wire

TOPIC = wire.movements_topic("DC1", "hh-1")


def test_ack_round_trip_with_held_entries():
    held = [{"seq": 3, "code": "count_held", "detail": "held for an approver as count 1"}]
    rejected = [wire.rejection(2, "unknown_sku")]
    assert wire.decode_ack(wire.encode_ack(5, rejected, held)) == (5, rejected, held)
    # an ack without held counts is byte for byte what it was before the list existed
    before = json.dumps({"upto": 5, "rejected": rejected}, separators=(",", ":")).encode()
    assert wire.encode_ack(5, rejected) == wire.encode_ack(5, rejected, []) == before
    assert wire.encode_ack(5, [], []) == b'{"upto":5,"rejected":[]}'
    assert wire.decode_ack(b'{"upto":5,"rejected":[]}') == (5, [], [])
    assert "count_held" in wire.REASONS


def _ingest(db_path) -> tuple[Ingest, list[dict]]:
    storage = open_storage(db_path)
    conn = storage.reader()
    catalog = Catalog().load(conn)
    engine = StockEngine()
    engine.rebuild(conn, catalog.max_item_id, catalog.max_loc_id)
    acks: list[dict] = []
    ing = Ingest(storage, engine, catalog, lambda t, p: acks.append(json.loads(p)))
    ing.count_rules = counts.Rules(hold=counts.hold_rule(3, None))
    return ing, acks


def _count(seq: int, qty: int, ts: str) -> tuple[str, str, bytes]:
    ev = {"seq": seq, "ts": ts, "type": "count", "sku": "A1", "qty": qty, "loc": "DC1/A-01"}
    return ("msg", TOPIC, wire.encode_movements("DC1", "hh-1", [ev]))


def test_a_count_above_the_hold_limit_is_acked_as_held(catalogue):
    with sqlite3.connect(catalogue) as c:
        wf_schema.init(c)
    ing, acks = _ingest(catalogue)
    big = _count(1, 20, wire.now_ts())  # 10 on hand: +10 is above the limit of 3
    ing.process([big])
    with sqlite3.connect(catalogue) as c:
        (record_id,) = c.execute("SELECT id FROM count_records WHERE status = 'pending'").fetchone()
    entry = {
        "seq": 1,
        "code": "count_held",
        "detail": f"count of 20 A1 at DC1/A-01 differs from the expected 10 by +10: held for an "
        f"approver as count {record_id}; stock unchanged until it is approved",
    }
    # in the ledger (acknowledged by upto), not rejected, and said to be held
    assert acks[-1] == {"upto": 1, "rejected": [], "held": [entry]}
    ing.process([big])  # a retransmit (the edge missed that ack): still held, said again
    assert acks[-1] == {"upto": 1, "rejected": [], "held": [entry]}
    ing.process([_count(2, 11, wire.now_ts())])  # within the limit: a plain ack
    assert acks[-1] == {"upto": 2, "rejected": []}
    assert int(ing.engine.on_hand[ing.catalog.sku_id["A1"], ing.catalog.loc_id["DC1/A-01"]]) == 11


class _Msg:
    def __init__(self, payload: bytes):
        self.payload = payload


def test_a_held_count_shows_on_the_screen_as_held(tmp_path):
    outbox = Outbox(tmp_path / "hh-1.outbox")
    pub = Publisher(outbox, "DC1", "hh-1", "mqtt://127.0.0.1:1")  # never started
    screen = Screen()
    edge = Edge(outbox, Session(site="DC1"), pub, screen)
    pub.on_held = edge.on_held
    for text in ["LOC:DC1/A-01", "MODE:COUNT", "QTY:20", "]E05901234123457"]:
        ok, msg = edge.scan(text)
        assert ok, msg
    detail = "count of 20 A1 at DC1/A-01 differs from the expected 10 by +10: held"
    held = [{"seq": 1, "code": "count_held", "detail": detail}]
    pub._on_ack(pub.client, None, _Msg(wire.encode_ack(1, [], held)))  # as paho delivers it
    pub._drain_acks()
    assert outbox.queue_length() == 0 and outbox.rejections() == []  # acked, not rejected
    last = screen.lines[-1]
    assert (last["level"], last["text"]) == ("HELD", f"#1 {detail}")
    page = create_app(edge).test_client()
    lines = page.get("/api/screen").get_json()["lines"]
    assert lines[-1]["level"] == "HELD"
    assert ".HELD{" in page.get("/").get_data(as_text=True)  # styled apart from OK and ERR
    outbox.close()
