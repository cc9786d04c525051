"""Demand history: incremental kernel, rolling window, loading from the ledger, summaries."""

from __future__ import annotations

import sqlite3
from datetime import date

import numpy as np
import pytest
from planning_reference import add_movements as ref_add
from planning_reference import stock_age as ref_stock_age
from planning_reference import summary as ref_summary

from central.planning.core.history import (
    NEVER,
    TYPE_CODE,
    History,
    add_movements,
    epoch_day,
    load_history,
    series_of,
    week_of,
    weekday,
)
from central.planning.core.history_summary import AGE_BANDS, inbound_over, stock_ages, summarise

TODAY = epoch_day("2025-03-12T10:00:00Z")  # a Wednesday


def test_days_and_weeks():
    assert epoch_day("1970-01-02T00:00:00Z") == 1
    assert epoch_day(date(2025, 3, 12)) == TODAY
    assert weekday(TODAY) == 2
    assert weekday(epoch_day("2025-03-10")) == 0  # Monday
    assert week_of(epoch_day("2025-03-10")) == week_of(epoch_day("2025-03-16"))
    assert week_of(epoch_day("2025-03-17")) == week_of(epoch_day("2025-03-16")) + 1
    assert series_of(3, 2, 5) == 17


def test_add_movements_equals_reference():
    rng = np.random.default_rng(0)
    cube = rng.uniform(0, 5, (20, 30)).astype(np.float32)
    rows = rng.integers(-1, 20, 500)
    cols = rng.integers(-1, 30, 500)
    qty = rng.integers(1, 9, 500).astype(np.float32)
    want = ref_add(cube, rows, cols, qty)
    add_movements(cube, rows, cols, qty)
    np.testing.assert_array_equal(cube, want)


def test_add_rolls_and_routes_streams():
    h = History.empty(4, TODAY, n_days=10)
    touched = h.add(
        np.array(
            [
                TYPE_CODE["sale"],
                TYPE_CODE["pick"],
                TYPE_CODE["sale"],
                TYPE_CODE["receive"],
                TYPE_CODE["sale"],
                -1,
            ],
            np.int8,
        ),  # fmt: skip
        np.array([1, 1, 1, 2, 3, 0]),
        np.array([TODAY, TODAY - 1, TODAY, TODAY - 3, TODAY - 10, TODAY]),  # last sale too old
        np.array([2, 5, 3, 40, 7, 1]),
    )
    assert list(touched) == [1, 2, 3]
    assert h.streams["sale"].used == 2 and h.streams["pick"].used == 1
    assert h.streams["transfer_out"].used == 0
    np.testing.assert_array_equal(h.demand([1])[0][-2:], [5, 5])
    assert h.demand([3]).sum() == 0
    # received on Sunday (TODAY - 3), so last week, not this one
    assert inbound_over(h, 1)[2] == 0 and inbound_over(h, 2)[2] == 40
    np.testing.assert_array_equal(h.stream("sale", 1)[-1:], [5])
    np.testing.assert_array_equal(h.stream("pick", 0), np.zeros(10))
    # a scan dated tomorrow rolls the window: today's sales move one day back
    h.add(np.array([0], np.int8), np.array([1]), np.array([TODAY + 1]), np.array([1]))
    assert h.today == TODAY + 1
    np.testing.assert_array_equal(h.demand([1])[0][-3:], [5, 5, 1])
    # rolling past the whole window clears everything
    h.advance(TODAY + 30)
    assert h.demand([1]).sum() == 0 and h.inbound.sum() == 0


def test_transfers_out_count_as_demand_only_where_weighted():
    h = History.empty(2, TODAY, n_days=5)
    h.add(np.array([2, 2], np.int8), np.array([0, 1]), np.array([TODAY, TODAY]), np.array([4, 4]))
    h.transfer_out_weight[1] = 1.0
    np.testing.assert_array_equal(h.demand([0, 1])[:, -1], [0, 4])


def _ledger():
    conn = sqlite3.connect(":memory:")
    conn.execute(
        "CREATE TABLE movements (id INTEGER PRIMARY KEY, device TEXT, seq INTEGER, site TEXT, "
        "ts TEXT, type TEXT, sku TEXT, qty INTEGER, loc TEXT, to_loc TEXT, ref TEXT)"
    )
    rows = [
        ("STORE1", "2025-03-12T09:00:00.000Z", "sale", "A", 2),
        ("STORE1", "2025-03-12T18:30:00.000Z", "sale", "A", 3),
        ("STORE1", "2025-03-11T08:00:00.000Z", "pick", "A", 1),
        ("DC1", "2025-03-10T08:00:00.000Z", "transfer_out", "A", 50),
        ("STORE1", "2025-03-10T12:00:00.000Z", "transfer_out", "B", 4),
        ("STORE1", "2025-03-05T12:00:00.000Z", "receive", "B", 30),
        ("STORE1", "2025-03-12T12:00:00.000Z", "adjust", "A", 9),  # not demand
        ("STORE1", "2025-03-12T12:00:00.000Z", "sale", "ZZZ", 9),  # unknown SKU
        ("STORE1", "2024-01-01T12:00:00.000Z", "sale", "A", 9),  # before the window
        ("STORE1", "2025-03-13T00:00:00.000Z", "sale", "A", 9),  # after today
        ("STORE1', 'x'); DROP TABLE movements; --", "2025-03-12T12:00:00.000Z", "sale", "A", 1),
    ]
    conn.executemany(
        "INSERT INTO movements (site, ts, type, sku, qty, loc) VALUES (?, ?, ?, ?, ?, 'X/1')", rows
    )
    return conn


def test_load_history_from_ledger():
    conn = _ledger()
    sites = {"DC1": 0, "STORE1": 1}
    h = load_history(conn, {"A": 0, "B": 1}, sites, days=30, today=TODAY, dc_sites=["DC1"])
    a_store, a_dc, b_store = series_of(0, 1, 2), series_of(0, 0, 2), series_of(1, 1, 2)
    np.testing.assert_array_equal(h.stream("sale", a_store)[-3:], [0, 0, 5])
    np.testing.assert_array_equal(h.stream("pick", a_store)[-3:], [0, 1, 0])
    np.testing.assert_array_equal(h.demand([a_store])[0][-3:], [0, 1, 5])
    # transfers out are the DC's demand, not the store's
    np.testing.assert_array_equal(h.demand([a_dc])[0][-3:], [50, 0, 0])
    assert h.demand([b_store]).sum() == 0 and h.stream("transfer_out", b_store).sum() == 4
    assert inbound_over(h, 2)[b_store] == 30 and inbound_over(h, 1)[b_store] == 0
    assert conn.execute("SELECT count(*) FROM movements").fetchone()[0] == 11
    # when stock first came: B's receipt, A's adjustment at STORE1; A at DC1 never had any
    assert h.first_in[b_store] == epoch_day("2025-03-05")
    assert h.first_in[a_store] == TODAY and h.first_in[a_dc] == NEVER


def test_load_history_knows_stock_from_before_the_window():
    conn = _ledger()
    rows = [("DC1", "2024-06-01T08:00:00.000Z", "receive", "A", 5),  # before the 30 days
            ("STORE1", "2024-06-01T08:00:00.000Z", "count", "B", 0)]  # found nothing  # fmt: skip
    conn.executemany(
        "INSERT INTO movements (site, ts, type, sku, qty, loc) VALUES (?, ?, ?, ?, ?, 'X/1')", rows
    )
    sites = {"DC1": 0, "STORE1": 1}
    h = load_history(conn, {"A": 0, "B": 1}, sites, days=30, today=TODAY, dc_sites=["DC1"])
    assert h.first_in[series_of(0, 0, 2)] < h.first_day  # older than anything loaded
    assert h.first_in[series_of(1, 1, 2)] == epoch_day("2025-03-05")  # the count found none


def test_summary_equals_reference():
    rng = np.random.default_rng(3)
    n, T = 40, 120
    h = History.empty(n, TODAY, n_days=T)
    h.transfer_out_weight[::3] = 1.0
    for code in (0, 1, 2):
        s = rng.integers(0, n, 3000)
        d = TODAY - rng.integers(0, T + 5, 3000)
        h.add(np.full(3000, code, np.int8), s, d, rng.integers(1, 5, 3000))
    h.advance(TODAY + 9)  # the ring is not aligned with the window any more
    summ = summarise(h, period_days=26, recent_weeks=4, base_weeks=8, dow_weeks=6)
    dem = h.demand(np.arange(n))
    dow_first = int(weekday(h.first_day))
    for i in range(n):
        sale, pick, tout = (h.stream(s, i) for s in ("sale", "pick", "transfer_out"))
        last, sold, allout, vr, vb, mean, var = ref_summary(
            dem[i], sale + pick, sale + pick + tout, 26, 28, 56, 42, dow_first
        )
        assert summ.days_since_demand[i] == last
        assert summ.sold[i] == pytest.approx(sold) and summ.outbound[i] == pytest.approx(allout)
        assert summ.velocity_recent[i] == pytest.approx(vr)
        assert summ.velocity_base[i] == pytest.approx(vb)
        np.testing.assert_allclose(summ.dow_mean[i], mean, rtol=1e-6)
        np.testing.assert_allclose(summ.dow_var[i], var, rtol=1e-5, atol=1e-5)


def test_stock_age_hand_worked_and_reference():
    h = History.empty(3, TODAY, n_days=28)  # Wednesday: 3 days into the week
    wk = week_of(TODAY)
    h.add(np.full(2, 3, np.int8), [0, 0], [(wk - 1) * 7 - 3, (wk - 2) * 7 - 3], [10, 5])
    mean, bands = stock_ages(h, np.array([12.0, 0.0, 4.0]))
    # 10 units from last week (age 3 + 3.5), 2 from the week before (3 + 7 + 3.5)
    assert mean[0] == pytest.approx((10 * 6.5 + 2 * 13.5) / 12)
    np.testing.assert_array_equal(bands[0], [12, 0, 0, 0, 0])
    assert mean[1] == 0
    # no receipts on record: as old as the buckets reach
    assert mean[2] == pytest.approx(3 + 7 * (h.n_weeks - 1))
    rng = np.random.default_rng(5)
    h = History.empty(50, TODAY, n_days=200)
    h.inbound[:] = rng.integers(0, 6, h.inbound.shape) * (rng.random(h.inbound.shape) < 0.3)
    on_hand = rng.integers(-2, 40, 50).astype(float)
    known = rng.random(50) < 0.5  # half the series know when stock first came in
    since = rng.integers(0, 250, 50)
    h.first_in[known] = TODAY - since[known]
    mean, bands = stock_ages(h, on_hand)
    col = week_of(TODAY) % h.n_weeks
    order = [(col - j) % h.n_weeks for j in range(h.n_weeks)]
    for i in range(50):
        first = int(since[i]) if known[i] else None
        m, q = ref_stock_age(h.inbound[i, order], on_hand[i], 3.0, AGE_BANDS, first)
        assert mean[i] == pytest.approx(m, rel=1e-6)
        np.testing.assert_allclose(bands[i], q)
