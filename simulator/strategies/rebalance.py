"""`rebalance`: proactive levelling. Every `period_days` days, for each SKU, pooling sites are
brought toward the same days of cover: the pool's stock (on hand plus lateral stock in transit)
divided by its total mean demand. A site more than `tolerance_days` of cover above that level
gives its excess; one more than `tolerance_days` below receives, from the nearest donors first.
Unlike transshipment it acts before anyone is about to run out, at the price of moving more.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from simulator.engine.events import Phase, at
from simulator.strategies._rows import put_row

DEFAULTS = {"period_days": 7.0, "tolerance_days": 1.0}


@numba.njit(cache=True)
def plan(il, lat_in, rate, pools, neighbors, lateral_open, tolerance, out):
    """Rebalancing transfers as rows (src, dst, sku, qty) of `out`; returns how many."""
    n, m = il.shape
    spare = np.zeros(n, np.int64)
    short = np.zeros(n, np.int64)
    count = 0
    for k in range(m):
        stock = 0.0
        demand = 0.0
        for i in range(n):
            if pools[i] and rate[i, k] > 0.0:
                stock += max(il[i, k], 0) + lat_in[i, k]
                demand += rate[i, k]
        if demand <= 0.0:
            continue
        cover = stock / demand
        for i in range(n):
            spare[i] = 0
            short[i] = 0
            r = rate[i, k]
            if not pools[i] or r <= 0.0:
                continue
            have = il[i, k] + lat_in[i, k]
            goal = cover * r
            slack = max(1.0, tolerance * r)
            if have - goal > slack:
                spare[i] = min(int(math.floor(have - goal)), max(il[i, k], 0))
            elif goal - have > slack:
                short[i] = int(math.ceil(goal - have))
        # biggest shortfall first, each from its nearest donors
        while True:
            best = -1
            for i in range(n):
                if short[i] > 0 and (best < 0 or short[i] > short[best]):
                    best = i
            if best < 0:
                break
            i = best
            for nb in neighbors[i]:
                if nb < 0 or short[i] == 0 or count == out.shape[0]:
                    break
                if spare[nb] <= 0 or not lateral_open[nb, i]:
                    continue
                q = spare[nb] if spare[nb] < short[i] else short[i]
                count = put_row(out, count, nb, i, k, q)
                spare[nb] -= q
                short[i] -= q
            short[i] = 0  # served as far as the pool allows
    return count


def plan_reference(il, lat_in, rate, pools, neighbors, lateral_open, tolerance, out):
    """Plain-Python statement of the same rule, for the equivalence test."""
    n, m = il.shape
    rows = []
    for k in range(m):
        members = [i for i in range(n) if pools[i] and rate[i, k] > 0]
        demand = sum(rate[i, k] for i in members)
        if demand <= 0:
            continue
        cover = sum(max(int(il[i, k]), 0) + int(lat_in[i, k]) for i in members) / demand
        spare, short = [0] * n, [0] * n
        for i in members:
            have = int(il[i, k] + lat_in[i, k])
            goal = cover * rate[i, k]
            slack = max(1.0, tolerance * rate[i, k])
            if have - goal > slack:
                spare[i] = min(math.floor(have - goal), max(int(il[i, k]), 0))
            elif goal - have > slack:
                short[i] = math.ceil(goal - have)
        # stable: equal shortfalls go to the lower index first
        for i in sorted((i for i in range(n) if short[i] > 0), key=lambda i: (-short[i], i)):
            for nb in (int(x) for x in neighbors[i] if x >= 0):
                if short[i] == 0:
                    break
                if spare[nb] > 0 and lateral_open[nb, i]:
                    q = min(spare[nb], short[i])
                    rows.append((nb, i, k, q))
                    spare[nb] -= q
                    short[i] -= q
    rows = rows[: out.shape[0]]
    for j, row in enumerate(rows):
        out[j] = row
    return len(rows)


def install(twin, params: dict) -> None:
    net = twin.net
    if net.pools.sum() < 2:
        return
    period = int(params["period_days"])
    if period < 1:
        raise ValueError("[strategy.rebalance] period_days must be at least 1")
    out = twin.transfer_rows_buffer()

    def process():
        for day in range(0, twin.days, period):
            yield at(twin.env, day, Phase.LATERAL)
            count = plan(
                twin.il,
                twin.lat_in,
                net.rate,
                net.pools,
                net.neighbors,
                twin.lateral_open(),
                params["tolerance_days"],
                out,
            )
            twin.transfer_rows(day, out, count)

    twin.env.process(process())
