"""Scan → outbox → real mosquitto → ingest → ledger → engine → API, in one process.

The multi-process, kill -9 version lives in tests/e2e; this one pins the behaviour of each
hop (acks, rejections, dead letters, retry) quickly.
"""

from __future__ import annotations

import sqlite3
import time

import paho.mqtt.client as mqtt
import pytest

from central.access import tokens as auth
from central.http.app import create_app
from central.lifecycle import load_state, start, stop
from central.stock import ledger
from edge.delivery.outbox import Outbox
from edge.delivery.publisher import Publisher
from edge.service import Edge, Screen
from edge.session import Session
from tallyman import net, wire
from tests.helpers import wait_for


@pytest.fixture
def central(broker, catalogue):
    state = load_state(str(catalogue))
    start(state, broker.central_url)
    assert state.bus.wait_connected(10)
    app = create_app(state)
    yield state, app.test_client()
    stop(state)


def make_edge(broker, tmp_path, device="hh-1", site="DC1"):
    url = broker.add_device(device, site)
    outbox = Outbox(tmp_path / f"{device}.outbox")
    screen = Screen()
    holder = []
    pub = Publisher(
        outbox, site, device, url, ack_timeout=1.0, on_rejected=lambda r: holder[0].on_rejected(r)
    )
    edge = Edge(outbox, Session(site=site), pub, screen)
    holder.append(edge)
    pub.start()
    return edge


def stock_of(client, **params):
    rows = client.get("/api/stock", query_string=params).get_json()["rows"]
    return {(r["sku"], r.get("loc", r["site"])): r["on_hand"] for r in rows}


def test_scans_reach_stock_exactly_once(central, broker, tmp_path):
    state, client = central
    edge = make_edge(broker, tmp_path)
    assert stock_of(client)[("A1", "DC1/A-01")] == 10
    for text in ["LOC:DC1/A-01", "MODE:RECEIVE", "QTY:5", "]E05901234123457", "]E05901234123457"]:
        ok, msg = edge.scan(text)
        assert ok, msg
    ok, msg = edge.scan("MODE:PICK")
    ok, msg = edge.scan("]C1010400638133393130000003")  # B2 via GTIN, AI 30 count 3
    assert ok, msg
    wait_for(lambda: edge.outbox.queue_length() == 0, what="acks")
    s = stock_of(client)
    assert s[("A1", "DC1/A-01")] == 16
    assert s[("B2", "DC1/A-01")] == -3
    rows = client.get("/api/movements", query_string={"device": "hh-1"}).get_json()["rows"]
    assert [r["seq"] for r in rows] == [1, 2, 3]
    by_site = stock_of(client, by="site", sku="A1")
    assert by_site[("A1", "DC1")] == 16
    edge.publisher.stop()


def test_count_putaway_and_retransmit_dedupe(central, broker, tmp_path):
    state, client = central
    edge = make_edge(broker, tmp_path)
    for text in ["LOC:DC1/A-01", "MODE:COUNT", "QTY:7", "]E05901234123457"]:
        assert edge.scan(text)[0]
    for text in ["MODE:PUTAWAY", "TO:DC1/DOCK", "QTY:2", "]E05901234123457"]:
        assert edge.scan(text)[0], text
    wait_for(lambda: edge.outbox.queue_length() == 0, what="acks")
    s = stock_of(client)
    assert s[("A1", "DC1/A-01")] == 5 and s[("A1", "DC1/DOCK")] == 2
    # A retransmit of everything (as after a lost ack) changes nothing.
    conn = sqlite3.connect(state.db_path)
    raw = conn.execute(
        "SELECT seq, ts, type, qty, loc, sku, gtin, to_loc FROM movements "
        "WHERE device = 'hh-1' ORDER BY seq"
    ).fetchall()
    evs = [
        {
            k: v
            for k, v in zip(
                ("seq", "ts", "type", "qty", "loc", "sku", "gtin", "to_loc"), r, strict=True
            )
            if v is not None
        }
        for r in raw
    ]
    state.ingest.process(
        [("msg", wire.movements_topic("DC1", "hh-1"), wire.encode_movements("DC1", "hh-1", evs))]
    )
    assert ledger.count_movements(conn) == 5  # 3 opening + 2
    assert stock_of(client)[("A1", "DC1/A-01")] == 5
    edge.publisher.stop()


def test_bad_input_is_rejected_with_reasons(central, broker, tmp_path):
    state, client = central
    edge = make_edge(broker, tmp_path)
    assert edge.scan("LOC:DC1/A-01")[0]
    ok, msg = edge.scan("]E05901234123458")  # wrong check digit
    assert not ok and "check digit" in msg
    ok, msg = edge.scan("LOC:STORE1/SHELF")
    assert not ok and "not at this device's site" in msg
    ok, msg = edge.scan("]E00614141999996")  # valid GTIN, unknown to central
    assert ok, msg
    assert edge.scan("LOC:DC1/NOWHERE")[0]
    assert edge.scan("MODE:COUNT")[0]
    assert edge.scan("]E05901234123457")[0]  # count at an unknown location
    wait_for(lambda: edge.outbox.queue_length() == 0, what="acks")
    rejected = {r["code"] for r in edge.outbox.rejections()}
    assert rejected == {"unknown_gtin", "unknown_location"}
    assert any(line["level"] == "REJECTED" for line in edge.screen.lines)
    dead = client.get("/api/dead-letters").get_json()["rows"]
    assert {d["code"] for d in dead} == {"unknown_gtin", "unknown_location"}
    # A replayed seq with different content is rejected, the original stays.
    ev = {
        "seq": 1,
        "ts": wire.now_ts(),
        "type": "receive",
        "sku": "A1",
        "qty": 99,
        "loc": "DC1/A-01",
    }
    state.ingest.process(
        [("msg", wire.movements_topic("DC1", "hh-1"), wire.encode_movements("DC1", "hh-1", [ev]))]
    )
    dead = client.get("/api/dead-letters", query_string={"code": "seq_replayed"}).get_json()
    assert len(dead["rows"]) == 1
    # Malformed, oversized and mismatched messages are dead-lettered whole.
    topic = wire.movements_topic("DC1", "hh-1")
    state.ingest.process(
        [
            ("msg", topic, b"{not json"),
            ("msg", topic, b"x" * (wire.MAX_PAYLOAD_BYTES + 1)),
            ("msg", topic, wire.encode_movements("DC1", "hh-2", [ev])),
        ]
    )
    codes = {d["code"] for d in client.get("/api/dead-letters").get_json()["rows"]}
    assert {"malformed_payload", "payload_too_large", "topic_mismatch"} <= codes
    edge.publisher.stop()


def test_dead_letter_retry_after_fix(central, broker, tmp_path):
    state, client = central
    edge = make_edge(broker, tmp_path)
    for text in ["LOC:DC1/A-01", "QTY:4", "]E00614141999996"]:
        assert edge.scan(text)[0]
    wait_for(lambda: edge.outbox.queue_length() == 0, what="acks")
    dl = client.get("/api/dead-letters").get_json()["rows"][0]
    assert dl["code"] == "unknown_gtin"
    url = f"/api/dead-letters/{dl['id']}/retry"
    assert client.post(url).status_code == 401
    conn = ledger.connect(state.db_path)
    staff = auth.create_token(conn, "staff", "s")
    planner = auth.create_token(conn, "planner", "p")
    r = client.post(url, headers={"Authorization": f"Bearer {staff}"})
    assert r.status_code == 403 and r.get_json()["error"] == "forbidden"
    r = client.post(url, headers={"Authorization": f"Bearer {planner}"})
    assert r.status_code == 409 and r.get_json()["error"] == "unknown_gtin"
    conn.execute("INSERT INTO items (sku, gtin, name) VALUES ('N1', '00614141999996', 'New')")
    r = client.post(url, headers={"Authorization": f"Bearer {planner}"})
    assert r.status_code == 200, r.get_json()
    assert stock_of(client, sku="N1")[("N1", "DC1/A-01")] == 4
    assert client.get("/api/dead-letters").get_json()["rows"] == []
    edge.publisher.stop()


def test_device_cannot_publish_for_another(broker, tmp_path):
    """ACL: hh-1's credentials cannot write hh-2's topic (the broker drops it)."""
    url = broker.add_device("hh-1", "DC1")
    host, port, user, pw = net.parse_broker_url(url)
    spy = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="spy")
    h, p, cu, cp = net.parse_broker_url(broker.central_url)
    spy.username_pw_set(cu, cp)
    got = []
    spy.on_message = lambda c, u, m: got.append(m.topic)
    spy.connect(h, p)
    spy.subscribe("tallyman/#", qos=1)
    spy.loop_start()
    dev = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="dev")
    dev.username_pw_set(user, pw)
    dev.connect(host, port)
    dev.loop_start()
    time.sleep(0.3)
    dev.publish(wire.movements_topic("DC1", "hh-2"), b"{}", qos=1).wait_for_publish(2)
    dev.publish(wire.movements_topic("DC1", "hh-1"), b"{}", qos=1).wait_for_publish(2)
    wait_for(lambda: got, what="the allowed message")
    time.sleep(0.3)
    assert got == [wire.movements_topic("DC1", "hh-1")]
    bad = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bad")
    bad.username_pw_set(user, "wrong")
    with pytest.raises(Exception):  # noqa: B017
        bad.connect(host, port)
        bad.loop_start()
        wait_for(lambda: bad.is_connected(), timeout=1.5)
    for c in (spy, dev, bad):
        c.loop_stop()
        c.disconnect()
