"""Textbook validation cases: single-stage systems whose exact long-run KPIs are known.

Used by the test suite (simulation inside its own 95% CI), by `scripts/bench/bench_sim_coverage.py`
(are those CIs really 95%?) and by the stockpyl speed benchmark. Each case is a scenario document
plus a function giving the exact `analytic.Metrics`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from simulator.engine import policies
from simulator.montecarlo import analytic as A


@dataclass(frozen=True)
class Case:
    name: str
    demand: dict
    policy: dict
    exact: Callable[[], A.Metrics]
    lead: int = 0
    holding: float = 1.0
    backorder: float = 4.0
    lost_sale: float = 0.0
    order: float = 0.0
    unmet: str = "backorder"

    def document(self, days: int, warmup: int, replications: int, seed: int) -> dict:
        """The scenario as a parsed-TOML document: one supplier, one store, one SKU."""
        return {
            "run": {
                "days": days,
                "warmup": warmup,
                "replications": replications,
                "seed": seed,
                "name": self.name,
            },
            "costs": {
                "holding": self.holding,
                "backorder": self.backorder,
                "lost_sale": self.lost_sale,
                "order": self.order,
            },
            "supplier": [{"id": "S1", "lead_time": self.lead}],
            "site": [{"id": "STORE1", "source": "S1"}],
            "sku": [{"id": "A", "demand": self.demand, "policy": self.policy, "unmet": self.unmet}],
        }


CASES = [
    Case(
        "newsvendor (S&S Ex. 4.3 style)",
        {"dist": "poisson", "mean": 6},
        {"kind": "base_stock", "S": 8},
        lambda: A.base_stock(8, 0, A.pmf_poisson(6), 1, 4),
    ),
    Case(
        "base-stock L=2",
        {"dist": "poisson", "mean": 6},
        {"kind": "base_stock", "S": 20},
        lambda: A.base_stock(20, 2, A.pmf_poisson(6), 1, 4),
        lead=2,
    ),
    Case(
        "periodic RS R=3 L=1",
        {"dist": "poisson", "mean": 5},
        {"kind": "RS", "R": 3, "S": 30},
        lambda: A.base_stock(30, 1, A.pmf_poisson(5), 1, 9, K=10, review=3),
        lead=1,
        backorder=9,
        order=10,
    ),
    Case(
        "(s,S) S&S Ex. 4.7",
        {"dist": "poisson", "mean": 6},
        {"kind": "sS", "s": 4, "S": 10},
        lambda: A.s_S(4, 10, 0, A.pmf_poisson(6), 1, 4, 5),
        order=5,
    ),
    Case(
        "(s,S) L=2",
        {"dist": "poisson", "mean": 5},
        {"kind": "sS", "s": 17, "S": 30},
        lambda: A.s_S(17, 30, 2, A.pmf_poisson(5), 1, 10, 20),
        lead=2,
        backorder=10,
        order=20,
    ),
    Case(
        "(r,Q) S&S Ex. 5.8",
        {"dist": "poisson", "mean": 1.5},
        {"kind": "rQ", "r": 3, "Q": 5},
        lambda: A.r_Q(3, 5, 1, A.pmf_poisson(1.5), 20, 150, 100),
        lead=1,
        holding=20,
        backorder=150,
        order=100,
    ),
    Case(
        "min/max L=1",
        {"dist": "poisson", "mean": 4},
        {"kind": "minmax", "min": 10, "max": 22},
        lambda: A.s_S(9, 22, 1, A.pmf_poisson(4), 1, 4, 8),
        lead=1,
        order=8,
    ),
    Case(
        "newsvendor, lost sales",
        {"dist": "poisson", "mean": 10},
        {"kind": "base_stock", "S": 12},
        lambda: A.newsvendor_lost_sales(12, A.pmf_poisson(10), 1, 6),
        unmet="lost",
        backorder=0,
        lost_sale=6,
    ),
    Case(
        "normal demand L=2",
        {"dist": "normal", "mean": 40, "sd": 12},
        {"kind": "base_stock", "S": 135},
        lambda: A.base_stock(135, 2, A.pmf_rounded_normal(40, 12), 1, 4),
        lead=2,
    ),
    Case(
        "negbin demand L=2",
        {"dist": "negbin", "mean": 5, "sd": 4},
        {"kind": "base_stock", "S": 24},
        lambda: A.base_stock(24, 2, A.pmf_negbin(5, 4), 1, 4),
        lead=2,
    ),
    Case(
        "auto policy L=3",
        {"dist": "poisson", "mean": 8},
        {"kind": "auto"},
        lambda: A.base_stock(_auto_S(8.0, 3), 3, A.pmf_poisson(8), 1, 4),
        lead=3,
    ),
]


def _auto_S(mean: float, lead: int) -> int:
    """The level `auto` picks for Poisson demand and a fixed lead time."""
    return int(policies.auto_base_stock(mean, mean, float(lead), 0.0, 1, policies.AUTO_Z))


#: The KPIs each case checks, with the matching `analytic.Metrics` field.
CHECKED = (("cost_per_day", "cost"), ("fill_rate", "fill_rate"), ("cycle_service_level", "csl"))
