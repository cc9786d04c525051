"""`simulator.analytic` against stockpyl, where stockpyl covers the case: the exact values the
simulator is validated against (test_sim_analytic.py) are the textbook ones.

`scripts/setup` installs stockpyl without its declared documentation dependencies (see
pyproject.toml, `stockpyl-runtime`); these tests fail, not skip, when it is missing.
"""

from __future__ import annotations

import pytest
from stockpyl.newsvendor import newsvendor_discrete, newsvendor_poisson_cost
from stockpyl.rq import r_q_cost_poisson
from stockpyl.ss import s_s_cost_discrete

from simulator.montecarlo import analytic as A


def test_textbook_newsvendor_of_the_single_store_example():
    exact = A.base_stock(8, 0, A.pmf_poisson(6), 1.0, 4.0)
    assert exact.cost == pytest.approx(newsvendor_poisson_cost(8, 1.0, 4.0, 6))


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
