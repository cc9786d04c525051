"""The daily demand kernel: one call serves customer demand and books end-of-day costs and KPIs
for every SKU × site pair.

Why one Numba kernel instead of a SimPy process per pair: a network of 50 sites × 1,000 SKUs has
50,000 pairs; SimPy costs microseconds per event, Numba nanoseconds per pair.

Random numbers come from the replication's demand Generator (NumPy's algorithms, which Numba
reproduces bit for bit). Every demand-facing pair with a positive mean draws exactly once per
day, in site-major order, whatever the stock is, so the demand stream — and hence the demand
each strategy faces — is identical across strategies: common random numbers by construction.

Demand models, with f = weekly[sku, weekday] × surge multiplier[site, sku]:
  poisson  Poisson(f·mean)
  normal   max(0, ⌊N(f·mean, f·sd) + ½⌋)   (whole units; the scale keeps the CV)
  negbin   NegBin(n, n / (n + f·mean)): gamma-Poisson with the gamma's scale multiplied by f
"""

from __future__ import annotations

import math

import numba
import numpy as np

POISSON, NORMAL, NEGBIN = 0, 1, 2

# Slots of the `tot` accumulator (sums over the measured days).
T_DEMAND, T_FILLED, T_LOST, T_STOCKOUT, T_ON_HAND, T_HOLD, T_BACK, T_LOSTC = range(8)
N_TOT = 8


@numba.njit(cache=True)
def draw_demand(gen, dist: int, mean: float, disp: float) -> int:
    """One day's demand of one pair (0 without a draw when the mean is 0)."""
    if mean <= 0.0:
        return 0
    if dist == POISSON:
        return gen.poisson(mean)
    if dist == NORMAL:
        x = math.floor(gen.normal(mean, disp) + 0.5)
        return int(x) if x > 0 else 0
    return gen.negative_binomial(disp, disp / (disp + mean))


@numba.njit(cache=True)
def demand_day(
    gen,
    measure,
    dow,
    faces,
    dist,
    mean,
    disp,
    weekly,
    mult,
    lost,
    hold,
    p_back,
    p_lost,
    il,
    tot,
    so_days,
    first_so,
    day,
):
    """Serve one day's demand and book its costs; returns total end-of-day on hand.

    `il` is the inventory level (on hand − backorders) and is updated in place. A pair is in
    stockout for the day when backorders are outstanding at the end of it or it lost sales.
    Only when `measure` (past the warm-up) are costs and KPIs added to `tot`, `so_days` and
    `first_so`; the on-hand total is returned every day for the time series.
    """
    n_sites, n_skus = il.shape
    on_hand_total = 0.0
    for i in range(n_sites):
        for k in range(n_skus):
            level = il[i, k]
            lost_units = 0
            if faces[i]:
                f = weekly[k, dow] * mult[i, k]
                spread = disp[i, k] * f if dist[k] == NORMAL else disp[i, k]
                d = draw_demand(gen, dist[k], mean[i, k] * f, spread)
                on = level if level > 0 else 0
                filled = d if d < on else on
                if lost[k]:
                    lost_units = d - filled
                    level = on - filled
                else:
                    level -= d
                il[i, k] = level
                if measure:
                    tot[T_DEMAND] += d
                    tot[T_FILLED] += filled
                    if level < 0 or lost_units > 0:
                        tot[T_STOCKOUT] += 1
                        so_days[i, k] += 1
                        if first_so[i, k] < 0:
                            first_so[i, k] = day
            on_end = level if level > 0 else 0
            on_hand_total += on_end
            if measure:
                tot[T_ON_HAND] += on_end
                tot[T_HOLD] += hold[i, k] * on_end
                if level < 0:
                    tot[T_BACK] += p_back[k] * (-level)
                if lost_units > 0:
                    tot[T_LOST] += lost_units
                    tot[T_LOSTC] += p_lost[k] * lost_units
    return on_hand_total


def demand_day_reference(
    gen,
    measure,
    dow,
    faces,
    dist,
    mean,
    disp,
    weekly,
    mult,
    lost,
    hold,
    p_back,
    p_lost,
    il,
    tot,
    so_days,
    first_so,
    day,
):
    """Plain-Python statement of the same day, pair by pair, for the equivalence test."""
    total = 0.0
    for i in range(il.shape[0]):
        for k in range(il.shape[1]):
            d, short_lost = 0, 0
            if faces[i]:
                f = weekly[k, dow] * mult[i, k]
                m = mean[i, k] * f
                if m > 0:
                    if dist[k] == POISSON:
                        d = int(gen.poisson(m))
                    elif dist[k] == NORMAL:
                        d = max(0, int(math.floor(gen.normal(m, disp[i, k] * f) + 0.5)))
                    else:
                        n = disp[i, k]
                        d = int(gen.negative_binomial(n, n / (n + m)))
                on_hand = max(int(il[i, k]), 0)
                served = min(d, on_hand)
                if lost[k]:
                    short_lost = d - served
                    il[i, k] = on_hand - served
                else:
                    il[i, k] -= d
                if measure:
                    tot[T_DEMAND] += d
                    tot[T_FILLED] += served
                    if il[i, k] < 0 or short_lost > 0:
                        tot[T_STOCKOUT] += 1
                        so_days[i, k] += 1
                        if first_so[i, k] < 0:
                            first_so[i, k] = day
            on_end = max(int(il[i, k]), 0)
            total += on_end
            if measure:
                tot[T_ON_HAND] += on_end
                tot[T_HOLD] += hold[i, k] * on_end
                tot[T_BACK] += p_back[k] * max(-int(il[i, k]), 0)
                tot[T_LOST] += short_lost
                tot[T_LOSTC] += p_lost[k] * short_lost
    return total


def new_totals() -> np.ndarray:
    return np.zeros(N_TOT)
