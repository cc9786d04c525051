"""A serial's history is a sequence of states; each scan is judged against the current one, at the
edge's outbox and at central (issue 12, defect 1): sold, returned and sold again is three
movements, and the same transition twice with nothing in between is refused with a reason."""

from __future__ import annotations

import json
import sqlite3

from central.ingest.pipeline import Ingest
from central.stock import ledger
from central.stock.catalog import Catalog
from central.stock.engine import StockEngine
from central.stock.storage import open_storage
from edge.delivery.outbox import Outbox
from edge.service import Edge, Screen
from edge.session import Session
from tallyman import wire

GTIN = "05901234123457"  # A1 in the test catalogue
UNIT = f"]C101{GTIN}21SN-1"


class NoPublisher:
    def wake(self) -> None:
        pass


def edge(tmp_path) -> Edge:
    return Edge(Outbox(tmp_path / "hh.outbox"), Session(site="DC1"), NoPublisher(), Screen())


def events(e: Edge) -> list[dict]:
    return [json.loads(ev) for _, ev in e.outbox.pending(0, 100)]


def test_sold_returned_and_sold_again_are_three_sales_at_the_edge(tmp_path):
    e = edge(tmp_path)
    assert e.scan("LOC:DC1/A-01")[0]
    for mode in ("SALE", "RETURN", "SALE"):
        assert e.scan(f"MODE:{mode}")[0]
        ok, message = e.scan(UNIT)
        assert ok, message
    assert [ev["type"] for ev in events(e)] == ["sale", "return", "sale"]
    # the same sale again, nothing in between: refused (a NAK), with the reason
    ok, message = e.scan(UNIT)
    assert not ok and message.startswith("already recorded as #3") and "sale" in message
    assert len(events(e)) == 3


def test_moves_of_a_serial_are_judged_by_where_they_leave_it(tmp_path):
    e = edge(tmp_path)
    for text in ("LOC:DC1/A-01", "MODE:PUTAWAY", "TO:DC1/DOCK", UNIT):
        assert e.scan(text)[0], text
    assert not e.scan(UNIT)[0]  # A-01 → DOCK again
    for text in ("LOC:DC1/DOCK", "MODE:PUTAWAY", "TO:DC1/A-02", UNIT):
        assert e.scan(text)[0], text  # DOCK → A-02: a new move
    assert [ev.get("to_loc") for ev in events(e)] == ["DC1/DOCK", "DC1/A-02"]
    # a sale leaves stock: a second one from another bin is still the same sale
    for text in ("MODE:SALE", UNIT, "LOC:DC1/A-02"):
        assert e.scan(text)[0], text
    assert not e.scan(UNIT)[0]


def test_an_event_central_rejected_leaves_the_serial_where_it_was(tmp_path):
    box = Outbox(tmp_path / "hh.outbox")
    sale = {"ts": wire.now_ts(), "type": "sale", "gtin": GTIN, "serial": "S", "qty": 1}
    assert box.append({**sale, "loc": "DC1/NOWHERE"}) == (1, True)
    assert box.append({**sale, "loc": "DC1/A-01"}) == (1, False)
    box.ack(1, [wire.rejection(1, "unknown_location")], wire.now_ts())
    assert box.append({**sale, "loc": "DC1/A-01"}) == (2, True)  # #1 never happened
    box.ack(2, [], wire.now_ts())
    assert box.append({**sale, "loc": "DC1/A-01"}) == (2, False)


def test_an_outbox_from_before_serial_states_keeps_its_serials(tmp_path):
    path = tmp_path / "old.outbox"
    with sqlite3.connect(path) as c:  # the table as it was: (GTIN, serial, type) once ever
        c.executescript(
            "CREATE TABLE serials (gtin TEXT NOT NULL, serial TEXT NOT NULL, type TEXT NOT NULL,"
            " seq INTEGER NOT NULL, PRIMARY KEY (gtin, serial, type));"
            f"INSERT INTO serials VALUES ('{GTIN}', 'S', 'receive', 1), ('{GTIN}', 'S', 'sale', 2);"
        )
    box = Outbox(path)
    sale = {"ts": wire.now_ts(), "type": "sale", "gtin": GTIN, "serial": "S", "qty": 1}
    assert box.append({**sale, "loc": "DC1/A-01"}) == (2, False)
    assert box.append({**sale, "type": "return", "loc": "DC1/A-01"})[1]


# --- central ----------------------------------------------------------------------------------


def central(db_path) -> tuple[Ingest, list[dict]]:
    storage = open_storage(db_path)
    conn = storage.reader()
    catalog = Catalog().load(conn)
    engine = StockEngine()
    engine.rebuild(conn, catalog.max_item_id, catalog.max_loc_id)
    acks: list[dict] = []
    return Ingest(storage, engine, catalog, lambda t, p: acks.append(json.loads(p))), acks


def message(device: str, evs: list[tuple[int, str]], serial: str = "S") -> tuple:
    events = [
        {"seq": seq, "ts": wire.now_ts(), "type": typ, "gtin": GTIN, "serial": serial}
        | {"qty": 1, "loc": "DC1/A-01"}
        for seq, typ in evs
    ]
    return (
        "msg",
        wire.movements_topic("DC1", device),
        wire.encode_movements("DC1", device, events),
    )


def ledger_of(db_path) -> list[tuple]:
    with sqlite3.connect(db_path) as c:
        return c.execute("SELECT device, seq, type FROM movements WHERE serial = 'S'").fetchall()


def dead(db_path) -> list[tuple]:
    with sqlite3.connect(db_path) as c:
        return c.execute("SELECT device, seq, code FROM dead_letters").fetchall()


def test_central_takes_a_second_sale_after_a_return(catalogue):
    ing, acks = central(catalogue)
    ing.process([message("hh-1", [(1, "sale")])])
    ing.process([message("hh-2", [(1, "return")])])
    ing.process([message("hh-1", [(2, "sale")])])
    assert ledger_of(catalogue) == [("hh-1", 1, "sale"), ("hh-2", 1, "return"), ("hh-1", 2, "sale")]
    assert all(a["rejected"] == [] for a in acks)
    # another handheld sells the same unit again: refused with the reason, dead-lettered
    ing.process([message("hh-2", [(2, "sale")])])
    (r,) = acks[-1]["rejected"]
    assert (acks[-1]["upto"], r["seq"], r["code"]) == (2, 2, "serial_repeated")
    assert "hh-1 #2" in r["detail"]
    assert dead(catalogue) == [("hh-2", 2, "serial_repeated")]
    # a restarted central knows the serial's state from the ledger
    ing.stop()
    ing, acks = central(catalogue)
    ing.process([message("hh-3", [(1, "sale"), (2, "return"), (3, "return")])])
    assert [r["seq"] for r in acks[-1]["rejected"]] == [1, 3]
    assert ledger_of(catalogue)[-1] == ("hh-3", 2, "return")


def test_central_judges_serials_in_groups_not_yet_committed(catalogue):
    ing, acks = central(catalogue)
    first = ing.prepare([message("hh-1", [(1, "sale")])])
    second = ing.prepare([message("hh-2", [(1, "sale"), (2, "return"), (3, "sale")])])
    ing.commit(first)
    ing.commit(second)
    assert [(r["seq"], r["code"]) for r in acks[-1]["rejected"]] == [(1, "serial_repeated")]
    assert [m[1:] for m in ledger_of(catalogue)] == [(1, "sale"), (2, "return"), (3, "sale")]
    with sqlite3.connect(catalogue) as c:
        state = c.execute("SELECT type, place, device, seq FROM serial_states").fetchall()
    assert state == [("sale", None, "hh-2", 3)]
    assert ledger.serial_state_of(ledger.connect(catalogue), 1, "S") == state[0]
