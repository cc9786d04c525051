"""Bad input through the real stack: each refusal carries a reason a person can act on (scanner
NAK and edge screen, ack `rejected`, or a dead-letter row), and nothing else is disturbed."""

from __future__ import annotations

import json
import time

import paho.mqtt.client as mqtt
import pytest

from tallyman import net, wire
from tests.e2e.conftest import get_json, wait_until

pytestmark = pytest.mark.e2e


def scan(edge, text, split=1):
    reply = edge.scanner.scan_and_wait(text, timeout=3.0, retries=2, split=split)
    assert reply is not None, f"no reply to {text!r}"
    return reply


def stock(central, sku, loc):
    rows = get_json(f"{central.api}/stock?sku={sku}&loc={loc}")["rows"]
    return rows[0]["on_hand"] if rows else 0


def test_bad_input_is_refused_with_reasons(stack, broker):
    central, add_edge = stack
    edge = add_edge("hh-1", "DC1")
    assert scan(edge, "LOC:DC1/A-01")[0]
    assert scan(edge, "MODE:RECEIVE")[0]

    # On the wire: noise between frames and a frame split across writes.
    edge.scanner.noise(12)
    ok, message = scan(edge, "]C101059012341234572101\x1d303", split=4)
    if not ok:  # the noise had printable bytes and spoiled this frame: the operator rescans
        assert "garbled" in message
        ok, message = scan(edge, "]C101059012341234572101\x1d303", split=4)
    assert ok, message
    log = (edge.tmp / "hh-1.log").read_text()
    assert "noise" in log or "garbled" in log
    # At the handheld: a wrong check digit, a missing GS separator.
    ok, reason = scan(edge, "]E05901234123458")
    assert not ok and "check digit" in reason
    ok, reason = scan(edge, "]C1010590123412345710LOT123456789012345672112345")
    assert not ok and ("GS" in reason or "separator" in reason)
    # At central: an unknown GTIN, a count at an unknown location.
    assert scan(edge, "]E00614141999996")[0]
    assert scan(edge, "LOC:DC1/NOWHERE")[0]
    assert scan(edge, "MODE:COUNT")[0]
    assert scan(edge, "QTY:4")[0]
    assert scan(edge, "]E05901234123457")[0]
    wait_until(lambda: len(edge.rejections()) == 2, 20, "central's rejections at the edge")
    assert {r[1] for r in edge.rejections()} == {"unknown_gtin", "unknown_location"}
    log = (edge.tmp / "hh-1.log").read_text()
    assert "REJECTED" in log and "unknown_gtin" in log and "check digit" in log

    # Over MQTT with the device's own login: malformed, oversized, mismatched, replayed.
    host, port, user, pw = net.parse_broker_url(edge.url)
    acks = []
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="rogue-hh-1")
    c.username_pw_set(user, pw)
    c.on_message = lambda cl, u, m: acks.append(json.loads(m.payload))
    c.connect(host, port)
    c.loop_start()
    c.subscribe(wire.ack_topic("DC1", "hh-1"), qos=1)
    time.sleep(0.3)
    topic = wire.movements_topic("DC1", "hh-1")
    replay = {
        "seq": 1,
        "ts": wire.now_ts(),
        "type": "receive",
        "sku": "A1",
        "qty": 500,
        "loc": "DC1/A-01",
    }
    for payload in (
        b"{definitely not json",
        b"[" + b" " * (wire.MAX_PAYLOAD_BYTES + 10) + b"]",
        wire.encode_movements("DC1", "hh-9", [replay]),
        wire.encode_movements("DC1", "hh-1", [replay]),
    ):
        c.publish(topic, payload, qos=1).wait_for_publish(5)
    wait_until(
        lambda: (
            {"malformed_payload", "payload_too_large", "topic_mismatch", "seq_replayed"}
            <= {d["code"] for d in get_json(f"{central.api}/dead-letters")["rows"]}
        ),
        20,
        "dead letters for the rogue messages",
    )
    wait_until(
        lambda: any(r["code"] == "seq_replayed" for a in acks for r in a["rejected"]),
        10,
        "the replay's rejection in an ack",
    )
    c.loop_stop()
    c.disconnect()
    dead = get_json(f"{central.api}/dead-letters")["rows"]
    assert all(d["detail"] for d in dead)

    # Nothing else disturbed: the original seq 1 stands, the edge and central carry on.
    assert scan(edge, "LOC:DC1/A-01")[0]
    assert scan(edge, "MODE:RECEIVE")[0]
    assert scan(edge, "QTY:5")[0]
    assert scan(edge, "]E05901234123457")[0]
    wait_until(lambda: edge.queue_length() == 0, 20, "the outbox to drain")
    assert stock(central, "A1", "DC1/A-01") == 10 + 3 + 5
    assert get_json(f"{central.api}/health")["status"] == "ok"
    assert central.proc.poll() is None and edge.proc.poll() is None
