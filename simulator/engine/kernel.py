"""The demand kernels: draw customer demand for every SKU × site pair, then serve one day of it
and book end-of-day costs and KPIs.

Why Numba kernels instead of a SimPy process per pair: a network of 50 sites × 1,000 SKUs has
50,000 pairs; SimPy costs microseconds per event, Numba nanoseconds per pair.

Why demand is drawn in blocks of days: demand does not depend on stock, only on the day (weekday,
promotions and surges are fixed schedules), so a block of days can be drawn in one call. That
pays Numba's per-call cost of unboxing a NumPy Generator once per block, not once per day, and
lets Poisson draws share work: NumPy draws Poisson(λ < 10) by multiplying uniforms until the
product falls to exp(−λ), computing exp(−λ) on every draw; here it is computed once per pair and
weekday of the block (`poisson_limits`): the same uniforms, the same numbers.

Common random numbers: every demand-facing pair with a positive mean draws exactly once per day,
day by day, in site-major order, from the replication's own demand stream (NumPy's Generator
algorithms, which Numba reproduces bit for bit). The demand every strategy faces is therefore
identical, whatever else the strategy does.

Demand models, with f = weekly[sku, weekday] × the product of the surges active that day:
  poisson  Poisson(f·mean)
  normal   max(0, ⌊N(f·mean, f·sd) + ½⌋)   (whole units; scaling keeps the CV)
  negbin   NegBin(n, n / (n + f·mean)): gamma-Poisson, the gamma's scale multiplied by f
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
def poisson_limits(day0, weekday0, mean, weekly, days):
    """exp(−mean·weekly) per pair for the first `days` (≤ 7) days of a block: where NumPy's
    multiplication method stops multiplying uniforms, for every weekday the block has."""
    n_sites, n_skus = mean.shape
    out = np.empty((days, n_sites, n_skus))
    for b in range(days):
        dow = (weekday0 + day0 + b) % 7
        for i in range(n_sites):
            for k in range(n_skus):
                out[b, i, k] = math.exp(-(mean[i, k] * weekly[k, dow]))
    return out


@numba.njit(cache=True)
def demand_block(
    gen,
    day0,
    weekday0,
    faces,
    dist,
    mean,
    disp,
    weekly,
    sg_start,
    sg_end,
    sg_factor,
    sg_site,
    sg_sku,
    out,
):
    """Demand of days day0 … day0+len(out)−1 into out[day − day0, site, sku].

    Each pair draws as the module docstring says, nothing when its λ is 0; a Poisson pair with
    λ < 10 and no surge that day stops at the block's `poisson_limits`, exactly where
    `gen.poisson(λ)` would. One loop, no helper calls, on purpose: handing the Generator or
    arrays to another jitted function costs a reference-count round trip per call (~17 ns, a
    third of this kernel's time on a 50-site × 1,000-SKU network)."""
    n_days, n_sites, n_skus = out.shape
    limits = poisson_limits(day0, weekday0, mean, weekly, min(n_days, 7))
    for b in range(n_days):
        day = day0 + b
        dow = (weekday0 + day) % 7
        slot = b % 7  # this weekday's row of `limits`
        for i in range(n_sites):
            for k in range(n_skus):
                if not faces[i]:
                    out[b, i, k] = 0
                    continue
                surge = 1.0  # product of the surges and promotions covering the pair today
                for s in range(sg_start.size):
                    if sg_start[s] <= day < sg_end[s] and sg_site[s, i] and sg_sku[s, k]:
                        surge *= sg_factor[s]
                f = weekly[k, dow] * surge
                lam = mean[i, k] * f
                kind = dist[i, k]
                if lam <= 0.0:
                    x = 0
                elif kind == POISSON and lam < 10.0 and surge == 1.0:
                    limit = limits[slot, i, k]
                    x = 0
                    prod = gen.random()
                    while prod > limit:
                        x += 1
                        prod *= gen.random()
                elif kind == POISSON:
                    x = gen.poisson(lam)
                elif kind == NORMAL:
                    y = math.floor(gen.normal(lam, disp[i, k] * f) + 0.5)
                    x = int(y) if y > 0 else 0
                else:
                    n = disp[i, k]
                    x = gen.negative_binomial(n, n / (n + lam))
                out[b, i, k] = x


@numba.njit(cache=True)
def serve_day(
    measure, day, demand, faces, lost, hold, p_back, p_lost, il, tot, so_days, first_so, first_from
):
    """Serve one day's demand from stock and book its costs; returns total end-of-day on hand.

    `il` is the inventory level (on hand − backorders), updated in place. A pair is in stockout
    for the day when backorders are outstanding at its end or a sale was lost during it. Costs
    and KPIs go to `tot`, `so_days` and `first_so` only when `measure` (past the warm-up);
    `first_so` keeps the first stockout day on or after `first_from` (the first disruption).
    """
    n_sites, n_skus = il.shape
    on_hand_total = 0.0
    for i in range(n_sites):
        for k in range(n_skus):
            level = il[i, k]
            lost_units = 0
            if faces[i]:
                d = demand[i, k]
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
                        if first_so[i, k] < 0 and day >= first_from:
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


# --- plain-Python references (tests compare the kernels against these) ----------------------


def demand_block_reference(
    gen,
    day0,
    weekday0,
    faces,
    dist,
    mean,
    disp,
    weekly,
    sg_start,
    sg_end,
    sg_factor,
    sg_site,
    sg_sku,
    out,
):
    for b in range(out.shape[0]):
        day = day0 + b
        for i in range(out.shape[1]):
            for k in range(out.shape[2]):
                out[b, i, k] = 0
                if not faces[i]:
                    continue
                f = weekly[k, (weekday0 + day) % 7]
                for s in range(len(sg_start)):
                    if sg_start[s] <= day < sg_end[s] and sg_site[s, i] and sg_sku[s, k]:
                        f *= sg_factor[s]
                m = mean[i, k] * f
                if m <= 0:
                    continue
                if dist[i, k] == POISSON:
                    out[b, i, k] = gen.poisson(m)
                elif dist[i, k] == NORMAL:
                    out[b, i, k] = max(0, math.floor(gen.normal(m, disp[i, k] * f) + 0.5))
                else:
                    n = disp[i, k]
                    out[b, i, k] = gen.negative_binomial(n, n / (n + m))


def serve_day_reference(
    measure, day, demand, faces, lost, hold, p_back, p_lost, il, tot, so_days, first_so, first_from
):
    total = 0.0
    for i in range(il.shape[0]):
        for k in range(il.shape[1]):
            short_lost = 0
            if faces[i]:
                d = int(demand[i, k])
                served = min(d, max(int(il[i, k]), 0))
                if lost[k]:
                    short_lost = d - served
                    il[i, k] = max(int(il[i, k]), 0) - served
                else:
                    il[i, k] -= d
                if measure:
                    tot[T_DEMAND] += d
                    tot[T_FILLED] += served
                    if il[i, k] < 0 or short_lost > 0:
                        tot[T_STOCKOUT] += 1
                        so_days[i, k] += 1
                        if first_so[i, k] < 0 and day >= first_from:
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


def block_days(pairs: int, days: int, budget: int = 2_000_000) -> int:
    """Days per demand block: as many as fit in `budget` numbers (16 MB), at most 256."""
    return max(1, min(days, 256, budget // max(pairs, 1)))
