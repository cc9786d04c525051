"""Policy formulas against hand-worked cases; configuration parsing."""

from __future__ import annotations

import tomllib
from datetime import date

import numpy as np
import pytest
from planning_reference import order_quantity

from central.planning.core import policy as P
from central.planning.core.config import (
    CategoryPolicy,
    PlanningConfig,
    category_arrays,
    parse_config,
)
from central.planning.settings import load_settings


def test_z_value():
    assert P.z_value(0.5) == pytest.approx(0.0, abs=1e-12)
    assert P.z_value(0.95) == pytest.approx(1.644854, abs=1e-6)
    got = P.z_value(np.array([0.9, 0.99, 0.9]))
    np.testing.assert_allclose(got, [1.281552, 2.326348, 1.281552], atol=1e-6)


def test_safety_stock_service_hand_worked():
    # z = 1.644854, σ = 2/day, L = 4, R = 1: 1.644854 · 2 · √5 = 7.35601
    assert P.safety_stock_service(1.644854, 2.0, 4.0, 1.0) == pytest.approx(7.35601, abs=1e-5)
    # lead-time variability: z = 2, σ = 3, L + R = 4, d = 10/day, σ_L = 1 day:
    # 2 · √(4 · 9 + 100 · 1) = 2 · √136 = 23.32381
    got = P.safety_stock_service(2.0, 3.0, 4.0, 0.0, demand_rate=10.0, sigma_lead=1.0)
    assert got == pytest.approx(23.32381, abs=1e-5)


def test_safety_stock_cover_hand_worked():
    # 48 hours of a line selling 12.5 a day
    np.testing.assert_allclose(P.safety_stock_cover([12.5, -1.0], 2.0), [25.0, 0.0])


def test_safety_stock_seasonal_hand_worked():
    # weekday variances Mon..Sun; interval starts Thursday (3)
    var = np.array([[1, 1, 1, 1, 1, 4, 9]], dtype=float)
    # 4 days Thu, Fri, Sat, Sun: 1 + 1 + 4 + 9 = 15; z = 1 → √15
    assert P.safety_stock_seasonal(1.0, var, 3, 3.0, 1.0)[0] == pytest.approx(15**0.5)
    # 2.5 days: Thu + Fri + ½ Sat = 1 + 1 + 2 = 4; z = 1.5 → 3
    assert P.safety_stock_seasonal(1.5, var, 3, 2.5, 0.0)[0] == pytest.approx(3.0)
    # wrapping into next week: from Sunday, 3 days Sun, Mon, Tue = 9 + 1 + 1
    assert P.safety_stock_seasonal(1.0, var, 6, 3.0, 0.0)[0] == pytest.approx(11**0.5)


def test_reorder_point_order_up_to_min_max():
    assert P.reorder_point(40.0, 7.5) == 47.5
    assert P.order_up_to_level(55.0, 5.0) == 60.0
    lo, hi = P.min_max_levels(np.array([47.5]), np.array([200.0]))
    assert (lo[0], hi[0]) == (47.5, 247.5)


def test_eoq_hand_worked():
    # D = 1000/yr, A = 50/order, h = 2/unit/yr: √(2·50·1000/2) = √50000
    np.testing.assert_allclose(P.eoq([1000.0, 0.0, 10.0], 50.0, [2.0, 2.0, 0.0]),
                               [50000**0.5, 0.0, 0.0])  # fmt: skip


def test_round_to_pack():
    got = P.round_to_pack([13, 13, 12, 0, 0.5, 24.0000000001], [6, 6, 6, 6, 1, 6],
                          [20, 0, 0, 20, 0, 0])  # fmt: skip
    np.testing.assert_array_equal(got, [24, 18, 12, 0, 1, 24])


CASES = [  # kind, ip, rop, lot, up_to, min, max, expected
    (P.ROP_EOQ, 10, 30, 15, 0, 0, 0, 30),  # two lots to get above 30
    (P.ROP_EOQ, 30, 30, 15, 0, 0, 0, 15),  # at the reorder point: one lot
    (P.ROP_EOQ, 31, 30, 15, 0, 0, 0, 0),
    (P.ROP_EOQ, 10, 30, 0, 0, 0, 0, 20),  # no EOQ: the shortfall
    (P.ROP_EOQ, -5, 0, 10, 0, 0, 0, 0),  # no reorder point (no demand): nothing
    (P.ORDER_UP_TO, 10, 0, 0, 60, 0, 0, 50),
    (P.ORDER_UP_TO, 60, 0, 0, 60, 0, 0, 0),
    (P.MIN_MAX, 10, 0, 0, 0, 20, 50, 40),
    (P.MIN_MAX, 21, 0, 0, 0, 20, 50, 0),
]


def test_order_quantity_cases_and_reference():
    arr = np.array(CASES, dtype=float)
    got = P.order_quantity(arr[:, 0].astype(np.int8), *[np.ascontiguousarray(arr[:, j])
                                                         for j in range(1, 7)])  # fmt: skip
    np.testing.assert_array_equal(got, arr[:, 7])
    rng = np.random.default_rng(0)
    n = 500
    cols = [rng.integers(0, 3, n).astype(np.int8)] + [rng.uniform(-20, 80, n) for _ in range(6)]
    got = P.order_quantity(*cols)
    want = [order_quantity(*(c[i] for c in cols)) for i in range(n)]
    np.testing.assert_allclose(got, want)


def test_lead_times_floor_outliers_and_enough_orders():
    """Issue 12, defect 5: a receipt 26 s after its order was sent became a 0.0003-day lead
    time. The floor drops it; an order months late against an old PO is an outlier; the
    observed distribution replaces master data only once there are enough orders."""
    rules = P.LeadTimeRules(floor_days=0.25, min_orders=5, window=20, outlier_k=3.0)
    prior = np.array([3.0, 3.0, 3.0, np.nan, np.nan])
    fast = 26 / 86400
    obs = [
        (0, fast),  # supplier 0: the 26-second "delivery" alone
        *[(1, d) for d in (4.0, 5.0, 4.0, 6.0, 5.0, 90.0)],  # 1: five orders and a stray one
        *[(2, d) for d in (5.0, 5.0, 6.0, 6.0)],  # 2: four orders, not enough yet
        (3, fast),  # 3: no master value, only an impossible order
        (4, 8.0),  # 4: no master value, one real order
    ]
    sup = np.array([s for s, _ in obs])
    days = np.array([d for _, d in obs])
    got = P.estimate_lead_times(prior, sup, days, rules)
    assert got.source == ["master", "observed", "master", "default", "observed"]
    assert got.days[0] == 3.0 and got.below_floor[0] == 1 and got.orders[0] == 0
    assert got.outliers[1] == 1 and got.orders[1] == 5
    assert got.days[1] == pytest.approx(4.8)
    assert got.sd[1] == pytest.approx(np.std([4, 5, 4, 6, 5], ddof=1))
    assert (got.days[2], got.sd[2]) == (3.0, 0.0)  # the master value until the fifth order
    assert np.isnan(got.days[3])  # the category default applies
    assert (got.days[4], got.sd[4]) == (8.0, 0.0)
    # without the floor the fast receipt is a lead time of 0.0003 days
    no_floor = P.estimate_lead_times(prior[3:4], np.array([0]), np.array([fast]),
                                     P.LeadTimeRules(floor_days=0.0))  # fmt: skip
    assert no_floor.days[0] == pytest.approx(0.0003, abs=1e-4)
    # only the last `window` orders count; a regular supplier's slip is not an outlier
    many = P.estimate_lead_times(np.array([3.0]), np.zeros(30, np.int64),
                                 np.r_[np.full(10, 20.0), np.full(19, 3.0), 5.0],
                                 rules)  # fmt: skip
    assert many.orders[0] == 20 and many.outliers[0] == 0
    assert many.days[0] == pytest.approx((19 * 3 + 5) / 20)
    np.testing.assert_array_equal(P.outlier_mask(np.array([3.0, 3, 3, 7.4, 7.6]), 3, 0.5),
                                  [False, False, False, False, True])  # fmt: skip


def test_compute_policy_mixes_methods_per_series():
    n = 3
    res = P.compute_policy(
        rate=np.full(n, 10.0),
        protection_demand=np.full(n, 50.0),
        sigma=np.full(n, 2.0),
        dow_var=np.full((n, 7), 4.0),
        first_weekday=0,
        lead_days=np.full(n, 4.0),
        lead_sd=0.0,
        review_days=np.full(n, 1.0),
        z=P.z_value(np.full(n, 0.95)),
        ss_method=np.array([P.SS_SERVICE, P.SS_COVER, P.SS_SEASONAL], np.int8),
        cover_days=np.full(n, 2.0),
        order_cost=np.full(n, 50.0),
        holding_rate=np.full(n, 0.25),
        unit_cost=np.full(n, 8.0),
    )
    z = 1.6448536269514722
    np.testing.assert_allclose(res.safety_stock, [z * 2 * 5**0.5, 20.0, z * (5 * 4.0) ** 0.5])
    np.testing.assert_allclose(res.reorder_point, 50.0 + res.safety_stock)
    np.testing.assert_allclose(res.order_up_to, res.reorder_point)
    # EOQ: D = 3650/yr, A = 50, h = 0.25 · 8 = 2 → √(2·50·3650/2)
    np.testing.assert_allclose(res.eoq, (2 * 50 * 3650 / 2) ** 0.5)
    np.testing.assert_allclose(res.max_level - res.min_level, res.eoq)


TOML = b"""
[forecast]
holdout_days = 21
holt = [[0.2, 0.02]]

[policy]
service_level = 0.97
review_days = 1

[policy.category."drink-ingredients"]
safety_stock = "cover"
cover_days = 2

[policy.category.electronics]
policy = "min_max"
pack_size = 4

[transfers]
surplus_cover_days = 45

[[transfers.freeze]]
name = "black-friday"
start = "2025-11-24"
end = "2025-11-30"
scope = "cross_store"
min_unit_value = 100
"""


def test_config_from_toml(tmp_path):
    path = tmp_path / "planning.toml"
    path.write_bytes(TOML)
    cfg = load_settings(path).planning
    assert cfg.forecast.holdout_days == 21 and cfg.forecast.holt == ((0.2, 0.02),)
    assert cfg.defaults.service_level == 0.97
    drinks = cfg.policy_for("drink-ingredients")
    assert (drinks.safety_stock, drinks.cover_days, drinks.service_level) == ("cover", 2, 0.97)
    assert cfg.policy_for("electronics").pack_size == 4
    assert cfg.policy_for("unknown") == cfg.defaults
    rule = cfg.transfers.freeze[0]
    assert rule.active(date(2025, 11, 28)) and not rule.active(date(2025, 12, 1))
    assert cfg.transfers.surplus_cover_days == 45
    arr = category_arrays(cfg, ["electronics", "drink-ingredients", "other"])
    np.testing.assert_array_equal(arr.ss_method, [0, 1, 0])
    np.testing.assert_array_equal(arr.policy, [2, 0, 0])
    # a [planning] table inside a larger file works too
    nested = TOML.replace(b"\n[[", b"\n[[planning.").replace(b"\n[p", b"\n[planning.p")
    nested = nested.replace(b"\n[f", b"\n[planning.f").replace(b"\n[t", b"\n[planning.t")
    path.write_bytes(b"[planning]\n" + nested)
    assert load_settings(path).planning.forecast.holdout_days == 21


def test_config_defaults_and_errors():
    cfg = PlanningConfig()
    assert (cfg.defaults.yellow, cfg.defaults.orange, cfg.defaults.red) == (1.2, 1.0, 0.8)
    assert cfg.defaults.slow_days == 30 and cfg.defaults.velocity_drop == 0.4
    with pytest.raises(ValueError):
        parse_config(tomllib.loads("[policy]\nservice_levle = 0.9"))
    with pytest.raises(ValueError):
        parse_config(tomllib.loads('[policy]\nsafety_stock = "magic"'))
    with pytest.raises(ValueError):
        CategoryPolicy(yellow=0.5, orange=1.0)
    with pytest.raises(ValueError):
        parse_config({"nonsense": {}})
