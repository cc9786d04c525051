"""Slow movers and KPIs against hand-worked cases."""

from __future__ import annotations

import numpy as np
import pytest

from central.planning.core.history import INBOUND, STOCK_SET, TYPE_CODE, History, epoch_day
from central.planning.core.history_summary import days_idle, stock_ages, summarise
from central.planning.core.kpis import compute_kpis, turnover
from central.planning.core.slow_movers import (
    CHANNELS,
    MARKDOWN_BANDS,
    find_slow_movers,
    velocity_drop,
)


def test_velocity_drop():
    np.testing.assert_allclose(velocity_drop([6, 10, 3], [10, 0, 3]), [0.4, 0.0, 0.0])


def test_slow_movers_hand_worked():
    # 2 SKUs × 3 sites
    sm = find_slow_movers(
        n_sites=3,
        on_hand=np.array([10, 5, 0, 100, 50, 10], float),
        unit_cost=np.array([3, 3, 3, 2, 2, 2], float),
        days_since_demand=np.array([40, 0, 100, 2, 95, 1]),
        velocity_recent=np.array([0, 14, 0, 3, 0, 8], float),
        velocity_base=np.array([5, 14, 0, 10, 4, 10], float),
        stock_age=np.array([50, 10, 0, 120, 130, 100], float),
        rate=np.array([0, 2, 0, 0.5, 0, 0], float),
        slow_days=30,
        velocity_drop_min=0.4,
        min_stock_age=90,
    )
    rows = {int(s): j for j, s in enumerate(sm.series)}
    assert set(rows) == {0, 3, 4}
    # idle 40 days, nothing sold here, but site 1 sells it: move it there
    j = rows[0]
    got = (sm.reason[j], MARKDOWN_BANDS[sm.band[j]], CHANNELS[sm.channel[j]])
    assert got == (1, "20-40%", "transfer")
    assert sm.transfer_site[j] == 1 and sm.value[j] == 30
    # velocity down 70 % with 120-day-old stock, 200 days of cover, no other site sells it
    j = rows[3]
    assert (sm.reason[j], sm.cover_days[j]) == (2, 200)
    assert (MARKDOWN_BANDS[sm.band[j]], CHANNELS[sm.channel[j]]) == ("20-40%", "online")
    # idle 95 days (≥ 3 × 30): the deepest band, to the outlet
    j = rows[4]
    assert (MARKDOWN_BANDS[sm.band[j]], CHANNELS[sm.channel[j]]) == ("40-60%", "outlet")
    rec = sm.records(["A", "B"], ["DC", "S1", "S2"])
    assert rec[0]["transfer_to"] == "S1" and rec[0]["sku"] == "A" and rec[0]["site"] == "DC"


def test_age_starts_at_the_first_stock_not_the_window():
    """Issue 12, defect 6: on a fresh ledger an item with no sales yet was "idle 365 days"."""
    today = epoch_day("2025-03-12")
    h = History.empty(4, today, n_days=365)
    assert TYPE_CODE["count"] == TYPE_CODE["adjust"] == STOCK_SET
    h.add(
        np.array([STOCK_SET, INBOUND, INBOUND, STOCK_SET], np.int8),
        np.array([0, 1, 2, 2]),
        np.array([today - 3, today - 40, today - 10, today - 20]),
        np.array([5.0, 5.0, 5.0, 0.0]),  # a count that found nothing brings no stock
    )
    h.first_in[3] = today - 1000  # stock from long before the window (load_history marks it)
    summ = summarise(h)
    idle = days_idle(h, summ.days_since_demand)
    # an opening count 3 days ago, a receipt 40 days ago, a receipt 10 days ago, old stock
    assert idle.tolist() == [3, 40, 10, 365]
    on_hand = np.full(4, 5.0)
    mean, _ = stock_ages(h, on_hand)
    assert mean[0] == 3  # no receipt explains it: as old as the count
    assert mean[3] == pytest.approx(3 + 7 * (h.n_weeks - 1))  # as old as the buckets reach
    sm = find_slow_movers(
        n_sites=1, on_hand=on_hand, unit_cost=np.ones(4), days_since_demand=idle,
        velocity_recent=np.zeros(4), velocity_base=np.zeros(4), stock_age=mean,
        rate=np.zeros(4), slow_days=30, velocity_drop_min=0.4, min_stock_age=90,
    )  # fmt: skip
    assert sm.series.tolist() == [1, 3]
    assert sm.days_idle.tolist() == [40, 365]


def test_kpis_hand_worked():
    k = compute_kpis(
        n_sites=2,
        site_names=["S0", "S1"],
        category_names=["food"],
        sku_category=np.array([0]),
        unit_cost=np.array([2.0, 2.0]),
        on_hand=np.array([10.0, 0.0]),
        available=np.array([8.0, 0.0]),
        rate=np.array([1.0, 2.0]),
        sold=np.array([20.0, 6.0]),
        outbound=np.array([25.0, 6.0]),
        inbound=np.array([15.0, 0.0]),
        band_qty=np.array([[6, 0, 0, 4, 0], [0, 0, 0, 0, 0]], float),
        period_days=28,
        alerts_closed=np.array([2, 2]),
        alerts_false=np.array([1, 0]),
        requested=np.array([10.0, 10.0]),
        filled=np.array([10.0, 5.0]),
    )
    s0, s1 = k["site"].rows()
    # S0: opening 10 − 15 + 25 = 20 units (40), closing 20 → average 30; COGS 40
    assert s0["turnover"] == pytest.approx(40 / 30)
    assert s0["turnover_annual"] == pytest.approx(40 / 30 * 365 / 28)
    assert s0["days_of_cover"] == pytest.approx(10.0)
    assert s0["sell_through"] == pytest.approx(20 / 35)
    assert s0["stockout_rate"] == 0.0
    assert (s0["age_0-30"], s0["age_91-180"]) == (pytest.approx(0.6), pytest.approx(0.4))
    assert s0["false_alarm_rate"] == 0.5 and s0["fill_rate"] == 1.0
    # S1: sold out; opening 6 units (12), closing 0 → average 6; COGS 12
    assert s1["turnover"] == pytest.approx(2.0)
    assert (s1["days_of_cover"], s1["sell_through"], s1["stockout_rate"]) == (0.0, 1.0, 1.0)
    assert s1["age_0-30"] is None  # no stock to age
    (tot,) = k["total"].rows()
    assert tot["turnover"] == pytest.approx(52 / 36)
    assert tot["fill_rate"] == 0.75 and tot["false_alarm_rate"] == 0.25
    assert k["category"].rows()[0]["cogs"] == 52
    assert np.isnan(turnover(5.0, 0.0))
