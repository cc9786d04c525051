"""KPI definitions, one function each, from one replication's measured-day accumulators.

All KPIs cover the days after the warm-up (`measured` days) and every demand-facing SKU × site
pair; on-hand and holding cover every site, DCs included. They live in the engine, beside the
kernel whose accumulator slots they read, because a replication reports its own KPIs; the
Monte Carlo layer only averages them.
"""

from __future__ import annotations

import numpy as np

from simulator.engine.kernel import (
    T_BACK,
    T_DEMAND,
    T_FILLED,
    T_HOLD,
    T_LOST,
    T_LOSTC,
    T_ON_HAND,
    T_STOCKOUT,
)

#: The KPIs every result carries (docs/simulator.md, "KPIs"), in display order.
NAMES = (
    "cost_per_day",
    "fill_rate",
    "cycle_service_level",
    "stockout_days",
    "lost_sales",
    "avg_on_hand",
    "turnover",
    "lateral_units",
)


def cost_per_day(tot: np.ndarray, extra: dict[str, float], measured: int) -> float:
    """Holding + backorder + lost-sale + fixed ordering + purchase premium + transport, per day."""
    stock_costs = tot[T_HOLD] + tot[T_BACK] + tot[T_LOSTC]
    flows = extra["order"] + extra["purchase"] + extra["transport"]
    return float(stock_costs + flows) / measured


def fill_rate(tot: np.ndarray) -> float:
    """Type 2: the share of demanded units served from stock on the day they were demanded."""
    return float(tot[T_FILLED] / tot[T_DEMAND]) if tot[T_DEMAND] > 0 else 1.0


def cycle_service_level(tot: np.ndarray, measured: int, pairs: int) -> float:
    """Type 1, per period: the share of pair-days with no stockout (no backorder outstanding at
    the end of the day and no sale lost during it). For a base-stock level S this is
    P(lead-time demand ≤ S), Snyder & Shen's α."""
    return 1.0 - float(tot[T_STOCKOUT]) / (measured * pairs) if pairs else 1.0


def stockout_days(tot: np.ndarray) -> float:
    """Pair-days in stockout (SKU × site × day), summed over the measured days."""
    return float(tot[T_STOCKOUT])


def lost_sales(tot: np.ndarray) -> float:
    """Units of demand lost (zero for backordered SKUs), summed over the measured days."""
    return float(tot[T_LOST])


def avg_on_hand(tot: np.ndarray, measured: int) -> float:
    """End-of-day units on hand across the network, averaged over the measured days."""
    return float(tot[T_ON_HAND]) / measured


def turnover(tot: np.ndarray, measured: int) -> float:
    """Annual turns: units sold per year (demand less lost sales, ×365/day) over average stock."""
    stock = avg_on_hand(tot, measured)
    sold_per_day = float(tot[T_DEMAND] - tot[T_LOST]) / measured
    return 365.0 * sold_per_day / stock if stock > 0 else float("inf")


def compute(tot: np.ndarray, extra: dict[str, float], measured: int, pairs: int) -> dict:
    return {
        "cost_per_day": cost_per_day(tot, extra, measured),
        "fill_rate": fill_rate(tot),
        "cycle_service_level": cycle_service_level(tot, measured, pairs),
        "stockout_days": stockout_days(tot),
        "lost_sales": lost_sales(tot),
        "avg_on_hand": avg_on_hand(tot, measured),
        "turnover": turnover(tot, measured),
        "lateral_units": float(extra["lateral_units"]),
    }
