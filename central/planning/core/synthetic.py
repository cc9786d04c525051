"""A synthetic retail network with a year of demand, for benchmarks, demos and tests.

Shape: `n_skus` SKUs × `n_sites` sites; site 0 is a DC whose demand is its transfers out to the
stores, site 1 also fulfils online orders (picks), every store sells. Per series the daily rate
is log-normal (median 1.0), ~35 % of series are intermittent, categories differ in weekly
seasonality, a few lines trend, ~5 % launched in the last 60 days, ~3 % stopped selling 45+
days ago. Generation is a parallel Numba kernel: a 1,000,000-series year takes seconds.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .history import History
from .planner import Network, StockState
from .transfers import Lanes


@njit(parallel=True, cache=True)
def _fill(data, rows_series, n_sites, rate, weekly, cat_of_sku, trend, birth, death, dow0, c0,
          seed):  # fmt: skip
    """Poisson demand per row, written straight into ring order (day t at column c0 + t)."""
    n_rows, T = data.shape
    for r in prange(n_rows):
        np.random.seed(seed + r)
        i = rows_series[r]
        sku = i // n_sites
        c = cat_of_sku[sku]
        for t in range(T):
            col = (c0 + t) % T
            if t < birth[i] or t >= death[i]:
                data[r, col] = 0.0
                continue
            lam = rate[i] * weekly[c, (dow0 + t) % 7] * (1.0 + trend[i] * t / T)
            data[r, col] = np.random.poisson(max(lam, 0.0))


@njit(parallel=True, cache=True)
def _receipts(inbound, rate, seed):
    n, w = inbound.shape
    for i in prange(n):
        np.random.seed(seed + i)
        for j in range(w):
            inbound[i, j] = np.random.poisson(rate[i] * 7.0)


def synthetic_network(
    n_skus: int,
    n_sites: int = 20,
    days: int = 365,
    today: int = 20_000,
    seed: int = 1,
    n_categories: int = 8,
    n_suppliers: int = 200,
) -> tuple[History, Network, StockState]:
    rng = np.random.default_rng(seed)
    n = n_skus * n_sites
    cats = [f"cat{c}" for c in range(n_categories)]
    sku_cat = rng.integers(0, n_categories, n_skus)
    weekly = np.ones((n_categories, 7))
    for c in range(n_categories):
        if c % 2 == 0:  # weekend-heavy categories
            weekly[c] = [0.8, 0.8, 0.9, 0.9, 1.1, 1.4, 1.1]
    weekly /= weekly.mean(axis=1, keepdims=True)
    rate = rng.lognormal(0.0, 1.2, n).astype(np.float64)
    intermittent = rng.random(n) < 0.35
    rate[intermittent] *= 0.1
    site = np.arange(n) % n_sites
    rate[site == 0] *= 8.0  # the DC ships to all stores
    trend = np.where(rng.random(n) < 0.1, rng.normal(0.0, 0.5, n), 0.0)
    birth = np.where(rng.random(n) < 0.05, days - rng.integers(5, 60, n), 0)
    death = np.where(rng.random(n) < 0.03, days - rng.integers(45, 120, n), days)
    hist = History.empty(n, today, days)
    hist.transfer_out_weight[site == 0] = 1.0
    dow0 = int((hist.first_day + 3) % 7)
    groups = {
        "sale": np.flatnonzero(site != 0),
        "transfer_out": np.flatnonzero(site == 0),
        "pick": np.flatnonzero(site == 1) if n_sites > 1 else np.zeros(0, np.int64),
    }
    for name, series in groups.items():
        cube = hist.streams[name]
        cube.ensure(series)
        r = rate.copy()
        if name == "pick":
            r = r * 0.3
        _fill(cube.data[: cube.used], series.astype(np.int64), n_sites, r, weekly, sku_cat, trend,
              birth, death, dow0, hist.c0, seed * 1_000_003 + len(name))  # fmt: skip
    # weekly receipts: about one delivery per week covering a week of demand
    _receipts(hist.inbound, rate, seed * 7_919)
    on_hand = np.floor(rate * rng.uniform(0.0, 30.0, n))
    on_hand[death < days] += rng.integers(1, 40, int((death < days).sum()))
    reserved = np.minimum(on_hand, rng.poisson(0.2, n))
    on_order = np.where(rng.random(n) < 0.2, np.ceil(rate * 7.0), 0.0)
    in_transit = np.where(rng.random(n) < 0.05, np.ceil(rate * 3.0), 0.0)
    unit_cost = np.round(rng.lognormal(2.0, 1.0, n_skus), 2)
    lanes = Lanes.uniform(n_sites, 2.0, 0.5)
    lanes.days[0, :] = 1.0  # the DC is close to every store
    np.fill_diagonal(lanes.days, np.inf)
    net = Network(
        sku_names=[f"SKU{i:07d}" for i in range(n_skus)],
        site_names=["DC1"] + [f"STORE{j}" for j in range(1, n_sites)],
        category_names=cats,
        sku_category=sku_cat,
        sku_unit_cost=unit_cost,
        sku_supplier=rng.integers(0, n_suppliers, n_skus),
        supplier_names=[f"SUP{s:04d}" for s in range(n_suppliers)],
        supplier_lead_days=rng.integers(2, 15, n_suppliers).astype(np.float64),
        site_is_dc=np.arange(n_sites) == 0,
        lanes=lanes,
    )
    stock = StockState(on_hand, reserved.astype(np.float64), on_order, in_transit)
    return hist, net, stock
