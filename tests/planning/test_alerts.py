"""Alert tiers, the one-alert-per-series state machine (hysteresis, no double nag, false
alarms), persistence."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest
from planning_reference import tier

from central.planning.core.alert_tables import alert_counts, load_book, save_changes, schema
from central.planning.core.alerts import (
    ORANGE,
    RED,
    YELLOW,
    AlertBook,
    alert_position,
    due_within_lead,
    tiers,
)

SS = 100.0


def _tiers(pos, prev, h=0.1):
    n = len(pos)
    f = np.full(n, 1.0)
    return tiers(np.asarray(pos, float), np.full(n, SS), np.asarray(prev, np.int8), 1.2 * f, f,
                 0.8 * f, h * f)  # fmt: skip


def test_tier_thresholds_are_at_or_below():
    got = _tiers([121, 120, 101, 100, 81, 80, -5], [0] * 7)
    np.testing.assert_array_equal(got, [0, YELLOW, YELLOW, ORANGE, ORANGE, RED, RED])


def test_no_safety_stock_no_alert():
    got = tiers(np.array([-3.0, 0.0]), np.array([0.0, np.nan]), np.array([2, 3], np.int8),
                *(np.ones((4, 2)) * [[1.2], [1.0], [0.8], [0.1]]))  # fmt: skip
    np.testing.assert_array_equal(got, [0, 0])


def test_hysteresis_on_the_way_down():
    # red (≤ 80) stays red until the position clears 80 + 10
    np.testing.assert_array_equal(_tiers([85, 90, 91], [RED] * 3), [RED, RED, ORANGE])
    # orange → none needs > 130 (yellow 120 + 10); 125 falls to yellow only
    np.testing.assert_array_equal(_tiers([125, 131], [ORANGE] * 2), [YELLOW, 0])
    # escalation is immediate
    np.testing.assert_array_equal(_tiers([79], [YELLOW]), [RED])


def test_tiers_equal_reference():
    rng = np.random.default_rng(0)
    n = 2000
    pos = rng.uniform(-20, 160, n)
    ss = rng.choice([0.0, 50.0, 100.0], n)
    prev = rng.integers(0, 4, n).astype(np.int8)
    y, o, r, h = (rng.uniform(1.1, 1.3, n), rng.uniform(0.9, 1.05, n), rng.uniform(0.6, 0.85, n),
                  rng.uniform(0, 0.2, n))  # fmt: skip
    got = tiers(pos, ss, prev, y, o, r, h)
    want = [tier(pos[i], ss[i], prev[i], y[i], o[i], r[i], h[i]) for i in range(n)]
    np.testing.assert_array_equal(got, want)


def test_alert_position():
    np.testing.assert_allclose(alert_position([10, 5], [3, 0], [4, 0]), [11, 5])
    # order lines: series 0 gets 4 in 2 days and 9 in 9 days; lead times 5 and 1 days
    due = due_within_lead(2, [0, 0, 1], [4, 9, 7], [102, 109, 101], 100, [5.0, 1.0])
    np.testing.assert_allclose(due, [4, 7])


def _book():
    return AlertBook(["A", "B"], ["S1", "S2"])  # series: A/S1=0, A/S2=1, B/S1=2, B/S2=3


def _step(book, pos, ss=SS, series=0):
    ch = book.update([series], [pos], [ss], now="2025-01-01T00:00:00.000Z")
    return [(c.kind, c.tier, c.action) for c in ch]


def test_state_machine_open_escalate_deescalate_close():
    b = _book()
    assert _step(b, 150) == []
    assert _step(b, 115) == [("opened", "yellow", "review")]
    aid = b.alert_id[0]
    assert _step(b, 110) == []  # same tier: nothing to say
    assert _step(b, 95) == [("escalated", "orange", "propose_order")]
    assert _step(b, 70) == [("escalated", "red", "urgent_order_notify")]
    assert b.alert_id[0] == aid  # one alert throughout
    assert _step(b, 85) == []  # within the hysteresis band of red
    assert _step(b, 95) == [("de-escalated", "orange", "propose_order")]
    assert _step(b, 125) == [("de-escalated", "yellow", "review")]
    assert _step(b, 128) == []  # not yet clear of yellow + 10 %
    assert _step(b, 140) == [("closed", "none", "none")]
    assert b.alert_id[0] == 0 and b.closed[0] == 1 and b.raised[0] == 1
    assert _step(b, 115) == [("opened", "yellow", "review")]
    assert b.alert_id[0] != aid


def test_no_double_nag_over_many_updates():
    b = _book()
    kinds = []
    for pos in [90, 89, 92, 95, 99, 100, 97, 93]:
        kinds += _step(b, pos)
    assert kinds == [("opened", "orange", "propose_order")]


def test_mark_false_mutes_until_worse_or_recovered():
    b = _book()
    _step(b, 95)
    ch = b.mark_false(int(b.alert_id[0]))
    assert ch.kind == "false_alarm" and ch.prev_tier == "orange"
    assert b.tier[0] == 0 and b.false[0] == 1
    assert b.mark_false(12345) is None
    assert _step(b, 92) == []  # same problem: silent
    assert _step(b, 110) == []  # better: silent
    assert _step(b, 75) == [("opened", "red", "urgent_order_notify")]  # worse: a new alert
    b.mark_false(int(b.alert_id[0]))
    assert _step(b, 150) == []  # recovered: the mute is lifted ...
    assert b.muted[0] == 0
    assert _step(b, 95) == [("opened", "orange", "propose_order")]  # ... so this is new


def test_update_touches_only_given_series():
    b = _book()
    b.update(np.arange(4), np.full(4, 50.0), np.full(4, SS))
    assert list(b.tier) == [RED] * 4
    ch = b.update([2], [500.0], [SS])
    assert [(c.series, c.sku, c.site, c.kind) for c in ch] == [(2, "B", "S1", "closed")]
    assert list(b.tier) == [RED, RED, 0, RED]


def test_open_alerts_worst_first():
    b = _book()
    b.update(np.arange(4), np.array([110.0, 60.0, 95.0, 200.0]), np.full(4, SS))
    rows = b.open_alerts()
    assert [(r["sku"], r["site"], r["tier"]) for r in rows] == [
        ("A", "S2", "red"), ("B", "S1", "orange"), ("A", "S1", "yellow"),
    ]  # fmt: skip
    assert [r["site"] for r in b.open_alerts(site="S1")] == ["S1", "S1"]


def _db():
    conn = sqlite3.connect(":memory:")
    for stmt in schema():
        conn.execute(stmt)
    return conn


def test_persistence_round_trip():
    conn = _db()
    b = _book()
    with conn:
        save_changes(conn, b, b.update(np.arange(4), np.array([110.0, 60.0, 95.0, 200.0]),
                              np.full(4, SS), "2025-01-01T00:00:00.000Z"))  # fmt: skip
        save_changes(conn, b, b.update([0], [70.0], [SS], "2025-01-02T00:00:00.000Z"))
        save_changes(conn, b, b.update([2], [300.0], [SS], "2025-01-02T00:00:00.000Z"))
        save_changes(conn, b, [b.mark_false(int(b.alert_id[1]), "2025-01-03T00:00:00.000Z")])
    c = load_book(conn, ["A", "B"], ["S1", "S2"])
    np.testing.assert_array_equal(c.tier, b.tier)
    np.testing.assert_array_equal(c.alert_id, b.alert_id)
    np.testing.assert_array_equal(c.muted, b.muted)
    np.testing.assert_array_equal(c.max_tier, b.max_tier)
    assert c.next_id == b.next_id
    assert c.false.sum() == 1 and c.closed.sum() == 2
    statuses = dict(conn.execute("SELECT site || sku, status FROM planning_alerts").fetchall())
    assert statuses == {"S1A": "open", "S2A": "false", "S1B": "closed"}
    kinds = [k for (k,) in conn.execute("SELECT kind FROM planning_alert_events ORDER BY id")]
    assert kinds == ["opened", "opened", "opened", "escalated", "closed", "false_alarm"]
    # the mute survives the restart: the same condition stays silent
    assert len(c.update([1], [60.0], [SS])) == 0
    # the database itself refuses a second open alert for one SKU × site
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute(
            "INSERT INTO planning_alerts (sku, site, status, tier, max_tier, action, opened_ts, "
            "updated_ts) VALUES ('A', 'S1', 'open', 1, 1, 'review', 'x', 'x')"
        )
    closed, false = alert_counts(conn, "2025-01-01", {"A": 0, "B": 1}, {"S1": 0, "S2": 1})
    np.testing.assert_array_equal(closed, [0, 1, 1, 0])
    np.testing.assert_array_equal(false, [0, 1, 0, 0])


def test_unmute_is_persisted():
    conn = _db()
    b = _book()
    with conn:
        save_changes(conn, b, b.update([0], [95.0], [SS]))
        save_changes(conn, b, [b.mark_false(int(b.alert_id[0]))])
        assert conn.execute("SELECT count(*) FROM planning_alert_mutes").fetchone()[0] == 1
        save_changes(conn, b, b.update([0], [500.0], [SS]))
    assert conn.execute("SELECT count(*) FROM planning_alert_mutes").fetchone()[0] == 0


def test_changes_payload():
    b = _book()
    ch = b.update([3], [50.0], [SS], now="2025-01-01T00:00:00.000Z")
    assert ch.counts() == {"opened": 1}
    d = ch[0].to_dict()
    assert d == {
        "alert_id": 1, "series": 3, "sku": "B", "site": "S2", "kind": "opened", "tier": "red",
        "prev_tier": "none", "action": "urgent_order_notify", "position": 50.0,
        "safety_stock": 100.0, "ts": "2025-01-01T00:00:00.000Z",
    }  # fmt: skip


def test_records_match_objects():
    b = _book()
    ch = b.update(np.arange(4), np.array([110.0, 60.0, 95.0, 200.0]), np.full(4, SS), "x")
    assert ch.records() == [c.to_dict() for c in ch]
