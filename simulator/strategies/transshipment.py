"""`transshipment`: reactive pooling. Each day, before sites review, a pooling site about to
stock out on a SKU pulls from the nearest pooling sites that have days of cover to spare.

About to stock out: on hand plus lateral stock already on its way covers less than
`trigger_days` of mean demand. It asks for enough to reach `target_days` of cover (backorders
included). A donor gives only what it holds above `keep_days` of its own mean demand. Donors are
tried nearest first (see `network._neighbors`); transfers use the store-to-store lanes, with
their transfer time and per-unit cost. Both sites' inventory positions change, so their own
orders adjust at today's review.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from simulator.engine.events import Phase, at
from simulator.strategies._rows import put_row

DEFAULTS = {"trigger_days": 1.0, "target_days": 3.0, "keep_days": 3.0}


@numba.njit(cache=True)
def plan(il, lat_in, rate, pools, neighbors, lateral_open, trigger, target, keep, out):
    """Today's transfers as rows (src, dst, sku, qty) of `out`; returns how many."""
    n, m = il.shape
    promised = np.zeros(n, np.int64)
    count = 0
    for k in range(m):
        for i in range(n):
            promised[i] = 0
        for i in range(n):
            r = rate[i, k]
            if not pools[i] or r <= 0.0:
                continue
            on_hand = il[i, k] if il[i, k] > 0 else 0
            if on_hand + lat_in[i, k] >= trigger * r:
                continue
            need = int(math.ceil(target * r - 1e-9)) - (il[i, k] + lat_in[i, k])
            for nb in neighbors[i]:
                if nb < 0 or need <= 0 or count == out.shape[0]:
                    break
                if not lateral_open[nb, i]:
                    continue
                spare = il[nb, k] - promised[nb] - int(math.ceil(keep * rate[nb, k] - 1e-9))
                if spare <= 0:
                    continue
                q = spare if spare < need else need
                count = put_row(out, count, nb, i, k, q)
                promised[nb] += q
                need -= q
    return count


def plan_reference(il, lat_in, rate, pools, neighbors, lateral_open, trigger, target, keep, out):
    """Plain-Python statement of the same rule, for the equivalence test."""
    n, m = il.shape
    rows = []
    for k in range(m):
        promised = [0] * n
        for i in range(n):
            if not pools[i] or rate[i, k] <= 0:
                continue
            if max(int(il[i, k]), 0) + lat_in[i, k] >= trigger * rate[i, k]:
                continue
            need = math.ceil(target * rate[i, k] - 1e-9) - int(il[i, k] + lat_in[i, k])
            for nb in (int(x) for x in neighbors[i] if x >= 0):
                if need <= 0:
                    break
                if not lateral_open[nb, i]:
                    continue
                keep_units = math.ceil(keep * rate[nb, k] - 1e-9)
                spare = int(il[nb, k]) - promised[nb] - keep_units
                if spare > 0:
                    q = min(spare, need)
                    rows.append((nb, i, k, q))
                    promised[nb] += q
                    need -= q
    rows = rows[: out.shape[0]]
    for j, row in enumerate(rows):
        out[j] = row
    return len(rows)


def install(twin, params: dict) -> None:
    net = twin.net
    if net.pools.sum() < 2:
        return
    out = twin.transfer_rows_buffer()

    def process():
        for day in range(twin.days):
            yield at(twin.env, day, Phase.LATERAL)
            count = plan(
                twin.il,
                twin.lat_in,
                net.rate,
                net.pools,
                net.neighbors,
                twin.lateral_open(),
                params["trigger_days"],
                params["target_days"],
                params["keep_days"],
                out,
            )
            twin.transfer_rows(day, out, count)

    twin.env.process(process())
