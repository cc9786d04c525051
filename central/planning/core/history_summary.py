"""What the demand history says per series: days since the last demand, units sold and shipped
over the KPI period, recent and base velocity, the weekday pattern, and the FIFO age of the
stock on hand.

Why apart from history.py: that module keeps the history (the stream cubes, the weekly inbound,
loading and adding movements); this one reads figures out of it for policies, slow movers and
KPIs, each in one pass over the series.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from .history import History, demand_row, week_of, weekday
from .parallel import run_ranges


@njit(cache=True)
def _tail_sum(data, r, c0, t_lo):
    """Sum of row r over days [t_lo, n_days) of the window (ring start c0); 0 without a row."""
    if r < 0:
        return 0.0
    n_days = data.shape[1]
    row = data[r]
    a = n_days - c0  # days [0, a) sit at columns [c0, n_days), the rest at [0, c0)
    tot = 0.0
    for t in range(t_lo, a):
        tot += row[c0 + t]
    for t in range(max(t_lo, a), n_days):
        tot += row[t - a]
    return tot


@njit(nogil=True, cache=True)
def _summary_kernel(
    lo, hi, sd, sr, pd, pr, td, tr, tw, c0, dow_first, period, recent, base, dow_days,
    last_out, sold, out_all, vel_recent, vel_base, dow_mean, dow_var,
):  # fmt: skip
    n_days = sd.shape[1]
    y = np.empty(n_days)
    for i in range(lo, hi):
        demand_row(y, i, sd, sr, pd, pr, td, tr, tw, c0)
        last = n_days
        for t in range(n_days - 1, -1, -1):
            if y[t] > 0:
                last = n_days - 1 - t
                break
        last_out[i] = last
        # sold (sale + pick) and every outbound over the KPI period, whatever the weights
        t_lo = max(0, n_days - period)
        s_sold = _tail_sum(sd, sr[i], c0, t_lo) + _tail_sum(pd, pr[i], c0, t_lo)
        sold[i] = s_sold
        out_all[i] = s_sold + _tail_sum(td, tr[i], c0, t_lo)
        a = 0.0
        for t in range(max(0, n_days - recent), n_days):
            a += y[t]
        vel_recent[i] = a * 7.0 / recent
        b = 0.0
        lo = max(0, n_days - recent - base)
        for t in range(lo, n_days - recent):
            b += y[t]
        span = n_days - recent - lo
        vel_base[i] = b * 7.0 / span if span > 0 else 0.0
        sm = np.zeros(7)
        sq = np.zeros(7)
        cnt = np.zeros(7)
        for t in range(max(0, n_days - dow_days), n_days):
            w = (dow_first + t) % 7
            sm[w] += y[t]
            sq[w] += y[t] * y[t]
            cnt[w] += 1.0
        for w in range(7):
            if cnt[w] > 0:
                m = sm[w] / cnt[w]
                dow_mean[i, w] = m
                dow_var[i, w] = (sq[w] - cnt[w] * m * m) / (cnt[w] - 1.0) if cnt[w] > 1 else 0.0
                if dow_var[i, w] < 0:
                    dow_var[i, w] = 0.0
            else:
                dow_mean[i, w] = 0.0
                dow_var[i, w] = 0.0


AGE_BANDS = (30, 60, 90, 180)  # days: bands 0–30, 31–60, 61–90, 91–180, > 180


@njit(cache=True)
def stock_age(inbound, on_hand, week_col, days_into_week, bands, first_in, today, mean_age,
              band_qty):  # fmt: skip
    """FIFO age of the units on hand from weekly inbound buckets.

    The units on hand are assumed to be the most recently received ones (first in, first out:
    the oldest units left first). Walking back week by week, each week's receipts fill the
    on-hand quantity at the age of that week's middle; units the receipts do not explain (an
    opening count, receipts older than the buckets) are as old as the series' first stock
    (`first_in`, a day number), at most the window's length. Returns the quantity-weighted mean
    age in days and the quantity in each age band.
    """
    n, n_weeks = inbound.shape
    nb = bands.shape[0]
    for i in range(n):
        rem = on_hand[i]
        for b in range(nb + 1):
            band_qty[i, b] = 0.0
        if rem <= 0:
            mean_age[i] = 0.0
            continue
        total = rem
        acc = 0.0
        col = week_col
        for j in range(n_weeks):
            if rem <= 0:
                break
            if j == 0:
                age = days_into_week / 2.0
            else:
                age = days_into_week + 7.0 * (j - 1) + 3.5
            q = min(rem, inbound[i, col])
            if q > 0:
                acc += q * age
                rem -= q
                b = 0
                while b < nb and age > bands[b]:
                    b += 1
                band_qty[i, b] += q
            col -= 1
            if col < 0:
                col = n_weeks - 1
        if rem > 0:
            age = days_into_week + 7.0 * (n_weeks - 1)
            if first_in[i] <= today:  # else no stock came in that we know of: the window
                age = min(age, float(today - first_in[i]))
            acc += rem * age
            b = 0
            while b < nb and age > bands[b]:
                b += 1
            band_qty[i, b] += rem
        mean_age[i] = acc / total


@dataclass
class HistorySummary:
    """Per-series figures read from the history in one pass."""

    days_since_demand: np.ndarray  # int32; n_days when no demand in the window
    sold: np.ndarray  # sale + pick units over the KPI period
    outbound: np.ndarray  # sale + pick + transfer_out units over the KPI period
    velocity_recent: np.ndarray  # demand per week over the last 4 weeks
    velocity_base: np.ndarray  # demand per week over the 8 weeks before
    dow_mean: np.ndarray  # [n, 7] mean demand per weekday (Monday first) over dow_weeks
    dow_var: np.ndarray  # [n, 7] sample variance per weekday
    period_days: int


def summarise(
    history: History,
    period_days: int = 28,
    recent_weeks: int = 4,
    base_weeks: int = 8,
    dow_weeks: int = 8,
) -> HistorySummary:
    n = history.n_series
    last = np.empty(n, np.int32)
    sold, out_all, vr, vb = (np.empty(n, np.float64) for _ in range(4))
    dm = np.empty((n, 7), np.float32)
    dv = np.empty((n, 7), np.float32)
    nd = history.n_days
    run_ranges(
        _summary_kernel,
        n,
        *history.arrays(),
        history.transfer_out_weight,
        history.c0,
        int(weekday(history.first_day)),
        min(period_days, nd),
        min(7 * recent_weeks, nd),
        7 * base_weeks,
        min(7 * dow_weeks, nd),
        last,
        sold,
        out_all,
        vr,
        vb,
        dm,
        dv,
    )
    return HistorySummary(last, sold, out_all, vr, vb, dm, dv, min(period_days, nd))


def stock_ages(history: History, on_hand: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean FIFO age in days [n], quantity per age band [n, len(AGE_BANDS) + 1])."""
    n = history.n_series
    mean_age = np.empty(n, np.float32)
    band_qty = np.empty((n, len(AGE_BANDS) + 1), np.float32)
    stock_age(
        history.inbound,
        np.asarray(on_hand, np.float64),
        int(week_of(history.today) % history.n_weeks),
        float(weekday(history.today) + 1),
        np.array(AGE_BANDS, np.float64),
        history.first_in,
        int(history.today),
        mean_age,
        band_qty,
    )
    return mean_age, band_qty


def days_idle(history: History, days_since_demand: np.ndarray) -> np.ndarray:
    """Days without demand, counted from the later of the last demand and the day stock first
    came in: an item received a week ago that has not sold yet has been idle a week, not the
    whole window (its age starts at its first receipt)."""
    since_first = np.int64(history.today) - history.first_in.astype(np.int64)
    since_first = np.where(since_first < 0, np.iinfo(np.int64).max, since_first)
    return np.minimum(np.asarray(days_since_demand, np.int64), since_first)


def inbound_over(history: History, weeks: int) -> np.ndarray:
    """Inbound units per series over the last `weeks` weeks (current week included)."""
    cols = (week_of(history.today) - np.arange(min(weeks, history.n_weeks))) % history.n_weeks
    return history.inbound[:, cols].sum(axis=1, dtype=np.float64)
