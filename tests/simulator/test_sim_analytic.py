"""The simulator against exact single-stage results (Snyder & Shen), with stockpyl as the
oracle where it covers the case and `simulator.analytic` (itself checked against stockpyl)
where it does not.

Each case runs 30 replications × 1,950 measured days with a fixed seed, and requires the
analytic cost per day, fill rate and cycle service level to lie inside the simulation's own 95%
confidence interval. The intervals are a few tenths of a percent wide, so a convention slip
(an off-by-one lead time, costs on the wrong inventory) fails by many widths.
"""

from __future__ import annotations

import pytest
from sim_helpers import single_stage
from stockpyl.newsvendor import newsvendor_discrete, newsvendor_poisson_cost
from stockpyl.rq import r_q_cost_poisson
from stockpyl.ss import s_s_cost_discrete

from simulator import analytic as A
from simulator import policies
from simulator.scenario import load

# --- the analytic module against stockpyl --------------------------------------------------


@pytest.mark.parametrize(("S", "mean", "lead"), [(8, 6, 0), (20, 6, 2), (40, 9.5, 3)])
def test_base_stock_cost_is_stockpyl_newsvendor_over_lead_time_plus_one(S, mean, lead):
    got = A.base_stock(S, lead, A.pmf_poisson(mean), 1.0, 4.0).cost
    assert got == pytest.approx(newsvendor_poisson_cost(S, 1.0, 4.0, mean * (lead + 1)), rel=1e-9)


@pytest.mark.parametrize(("s", "S", "mean", "K"), [(4, 10, 6, 5), (2, 12, 3.5, 20)])
def test_s_S_cost_is_stockpyl_zheng_federgruen(s, S, mean, K):
    got = A.s_S(s, S, 0, A.pmf_poisson(mean), 1.0, 4.0, K).cost
    assert got == pytest.approx(s_s_cost_discrete(s, S, 1.0, 4.0, K, True, mean), rel=1e-9)


def test_r_Q_holding_and_shortage_match_stockpyl():
    """With K → 0 the periodic (r, nQ) cost is stockpyl's (r, Q) cost: Σ g(y)/Q over r+1…r+Q,
    with lead-time demand over L+1 of our days = λ·L of stockpyl's continuous time."""
    got = A.r_Q(3, 5, 1, A.pmf_poisson(1.5), 20.0, 150.0, 0.0).cost
    assert got == pytest.approx(r_q_cost_poisson(3, 5, 20.0, 150.0, 1e-12, 1.5, 2), rel=1e-9)


def test_discrete_newsvendor_matches_stockpyl_for_rounded_normal():
    pmf = A.pmf_rounded_normal(40.0, 12.0)
    _, cost = newsvendor_discrete(
        1.0, 4.0, demand_pmf={d: float(p) for d, p in enumerate(pmf)}, base_stock_level=50
    )
    assert A.base_stock(50, 0, pmf, 1.0, 4.0).cost == pytest.approx(cost, rel=1e-9)


# --- the simulator against the formulas ----------------------------------------------------


def _check(res, exact: A.Metrics):
    k = res.strategies["none"].kpis
    for name, value in (
        ("cost_per_day", exact.cost),
        ("fill_rate", exact.fill_rate),
        ("cycle_service_level", exact.csl),
    ):
        est = k[name]
        assert est.covers(value), f"{name}: exact {value:.5f} outside CI [{est.lo:.5f}, {est.hi:.5f}]"
    assert k["cost_per_day"].half_width < 0.03 * exact.cost, "the check has power"


def test_example_single_store_reproduces_the_textbook_newsvendor():
    from simulator import runner

    res = runner.run(load("examples/single_store.toml"), replications=30)
    exact = A.base_stock(8, 0, A.pmf_poisson(6), 1.0, 4.0)
    assert exact.cost == pytest.approx(newsvendor_poisson_cost(8, 1.0, 4.0, 6))
    _check(res, exact)


CASES = {
    "base-stock L=2": (
        dict(demand={"dist": "poisson", "mean": 6}, policy={"kind": "base_stock", "S": 20},
             lead=2),
        lambda: A.base_stock(20, 2, A.pmf_poisson(6), 1.0, 4.0),
    ),
    "periodic RS R=3 L=1 K=10": (
        dict(demand={"dist": "poisson", "mean": 5}, policy={"kind": "RS", "R": 3, "S": 30},
             lead=1, backorder=9.0, order=10.0),
        lambda: A.base_stock(30, 1, A.pmf_poisson(5), 1.0, 9.0, K=10.0, review=3),
    ),
    "(s,S) Ex. 4.7": (
        dict(demand={"dist": "poisson", "mean": 6}, policy={"kind": "sS", "s": 4, "S": 10},
             order=5.0),
        lambda: A.s_S(4, 10, 0, A.pmf_poisson(6), 1.0, 4.0, 5.0),
    ),
    "(s,S) L=2": (
        dict(demand={"dist": "poisson", "mean": 5}, policy={"kind": "sS", "s": 17, "S": 30},
             lead=2, backorder=10.0, order=20.0),
        lambda: A.s_S(17, 30, 2, A.pmf_poisson(5), 1.0, 10.0, 20.0),
    ),
    "(r,Q) Ex. 5.8": (
        dict(demand={"dist": "poisson", "mean": 1.5}, policy={"kind": "rQ", "r": 3, "Q": 5},
             lead=1, holding=20.0, backorder=150.0, order=100.0),
        lambda: A.r_Q(3, 5, 1, A.pmf_poisson(1.5), 20.0, 150.0, 100.0),
    ),
    "min/max L=1": (
        dict(demand={"dist": "poisson", "mean": 4}, policy={"kind": "minmax", "min": 10, "max": 22},
             lead=1, order=8.0),
        lambda: A.s_S(9, 22, 1, A.pmf_poisson(4), 1.0, 4.0, 8.0),
    ),
    "newsvendor, lost sales": (
        dict(demand={"dist": "poisson", "mean": 10}, policy={"kind": "base_stock", "S": 12},
             unmet="lost", backorder=0.0, lost_sale=6.0),
        lambda: A.newsvendor_lost_sales(12, A.pmf_poisson(10), 1.0, 6.0),
    ),
    "normal demand L=2": (
        dict(demand={"dist": "normal", "mean": 40, "sd": 12}, policy={"kind": "base_stock",
             "S": 135}, lead=2),
        lambda: A.base_stock(135, 2, A.pmf_rounded_normal(40, 12), 1.0, 4.0),
    ),
    "negbin demand L=2": (
        dict(demand={"dist": "negbin", "mean": 5, "sd": 4}, policy={"kind": "base_stock",
             "S": 24}, lead=2),
        lambda: A.base_stock(24, 2, A.pmf_negbin(5, 4), 1.0, 4.0),
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_simulation_agrees_with_exact_values(case):
    kwargs, exact = CASES[case]
    _check(single_stage(**kwargs), exact())


def test_auto_policy_level_is_what_the_simulation_uses():
    """`auto` sizes S by the normal approximation; the run then behaves as base-stock at S."""
    S = policies.auto_base_stock(8.0, 8.0, 3.0, 0.0, 1, policies.AUTO_Z)
    res = single_stage({"dist": "poisson", "mean": 8}, {"kind": "auto"}, lead=3)
    _check(res, A.base_stock(S, 3, A.pmf_poisson(8), 1.0, 4.0))
    assert res.strategies["none"].kpis["cycle_service_level"].mean > 0.93
