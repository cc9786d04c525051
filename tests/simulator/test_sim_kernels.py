"""Every Numba kernel against its plain-Python reference, on random small instances, plus the
ordering formulas on hand-checked values."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.engine import allocation, kernel, policies
from simulator.strategies import rebalance, transshipment


def _instance(seed: int, n: int = 4, m: int = 7):
    rng = np.random.default_rng(seed)
    return {
        "rng": rng,
        "faces": np.array([True, True, False, True][:n]),
        "dist": rng.integers(0, 3, (n, m)),
        "mean": rng.uniform(0, 12, (n, m)) * (rng.random((n, m)) > 0.1),
        "weekly": rng.uniform(0.5, 1.5, (m, 7)),
        "lost": rng.random(m) > 0.5,
        "hold": rng.uniform(0, 2, (n, m)),
        "p_back": rng.uniform(0, 9, m),
        "p_lost": rng.uniform(0, 9, m),
        "il": rng.integers(-5, 25, (n, m)),
    }


def _surges(n: int, m: int, rng):
    start = np.array([3, 0], np.int64)
    end = np.array([9, 4], np.int64)
    factor = np.array([2.5, 0.5])
    site = rng.random((2, n)) > 0.3
    sku = rng.random((2, m)) > 0.3
    return start, end, factor, site, sku


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_demand_block_matches_reference(seed):
    x = _instance(seed)
    n, m = x["il"].shape
    disp = np.where(x["dist"] == kernel.NEGBIN, 1.7, 2.0 + x["mean"] / 3)
    sg = _surges(n, m, x["rng"])
    out_nb = np.zeros((12, n, m), np.int64)
    out_py = np.zeros((12, n, m), np.int64)
    args = (x["faces"], x["dist"], x["mean"], disp, x["weekly"], *sg)
    kernel.demand_block(np.random.default_rng(seed), 2, 5, *args, out_nb)
    kernel.demand_block_reference(np.random.default_rng(seed), 2, 5, *args, out_py)
    assert np.array_equal(out_nb, out_py)
    assert out_nb[:, 2].sum() == 0  # a DC row has no customer demand
    assert out_nb.sum() > 0


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(("measure", "first_from"), [(True, 5), (True, 20), (False, 0)])
def test_serve_day_matches_reference(seed, measure, first_from):
    x = _instance(seed)
    n, m = x["il"].shape
    demand = x["rng"].poisson(6, (n, m))
    costs = (x["faces"], x["lost"], x["hold"], x["p_back"], x["p_lost"])
    results = []
    for fn in (kernel.serve_day, kernel.serve_day_reference):
        il = x["il"].copy()
        tot = kernel.new_totals()
        so = np.zeros((n, m), np.int32)
        first = np.full((n, m), -1, np.int32)
        on_hand = fn(measure, 9, demand, *costs, il, tot, so, first, first_from)
        results.append((on_hand, il, tot, so, first))
    (a, *ra), (b, *rb) = results
    assert a == pytest.approx(b)
    for u, v in zip(ra, rb, strict=True):
        assert np.allclose(u, v)
    il, first = results[0][1], results[0][4]
    assert (il[x["faces"]][:, x["lost"]] >= 0).all(), "lost-sales SKUs never go negative"
    assert (first == -1).all() if first_from > 9 or not measure else (first == 9).any()


def test_serve_day_books_textbook_costs():
    """One pair with 3 on hand meets demand 5: 3 filled, 2 backordered at cost p each."""
    il = np.array([[3]])
    tot = kernel.new_totals()
    so, first = np.zeros((1, 1), np.int32), np.full((1, 1), -1, np.int32)
    costs = (np.array([True]), np.array([False]), np.array([[1.0]]), np.array([4.0]), np.zeros(1))
    kernel.serve_day(True, 0, np.array([[5]]), *costs, il, tot, so, first, 0)
    assert il[0, 0] == -2
    assert tot[kernel.T_FILLED] == 3 and tot[kernel.T_DEMAND] == 5
    assert tot[kernel.T_BACK] == 8.0 and tot[kernel.T_HOLD] == 0.0
    assert tot[kernel.T_STOCKOUT] == 1 and first[0, 0] == 0


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_review_orders_matches_reference(seed):
    rng = np.random.default_rng(seed)
    n, m = 5, 9
    kind = rng.integers(0, 4, (n, m))
    s = rng.integers(-2, 10, (n, m))
    S = s + rng.integers(1, 15, (n, m))
    Q = rng.integers(1, 6, (n, m))
    R = rng.integers(1, 4, (n, m))
    pol = policies.pack(kind, s, S, Q, R)
    rows = np.array([0, 2, 3, 4], np.int64)
    can = np.array([True, True, False, True, True])
    il = rng.integers(-8, 20, (n, m))
    committed = rng.integers(0, 3, (n, m))
    K = rng.uniform(0, 3, m)
    offset = np.arange(n, dtype=np.int64)
    outs = []
    for fn in (policies.review_orders, policies.review_orders_reference):
        pipe = rng.integers(0, 5, (n, m)) * 0 + 1
        out = np.zeros((n, m), np.int64)
        units = np.zeros(n, np.int64)
        cost = fn(7, rows, can, il.copy(), pipe, committed, pol, offset, K, True, out, units)
        outs.append((cost, pipe, out, units))
    (c1, *a), (c2, *b) = outs
    assert c1 == pytest.approx(c2)
    for u, v in zip(a, b, strict=True):
        assert np.array_equal(u, v)
    assert outs[0][2][2].sum() == 0, "a site that cannot order orders nothing"


def test_order_formulas():
    assert policies.order_up_to(3, 8) == 5
    assert policies.order_up_to(9, 8) == 0
    assert policies.order_s_S(4, 4, 10) == 6
    assert policies.order_s_S(5, 4, 10) == 0
    assert policies.order_r_Q(3, 3, 5) == 5
    assert policies.order_r_Q(-4, 3, 5) == 10, "two lots to lift IP above r"
    assert policies.order_r_Q(4, 3, 5) == 0
    assert policies.order_min_max(9, 10, 25) == 16
    assert policies.order_min_max(10, 10, 25) == 0
    assert policies.days_to_units(2.5, 3.0) == 8
    assert policies.days_to_units(2.0, 3.0) == 6


def test_auto_level_matches_normal_approximation():
    # mean 10/day, Poisson variance, lead 4 fixed, daily review: 10·5 + 1.645·√50 = 61.63 → 62
    assert policies.auto_base_stock(10.0, 10.0, 4.0, 0.0, 1, 1.645) == 62


@pytest.mark.parametrize("seed", range(6))
def test_fair_shares_and_allocate_match_reference(seed):
    rng = np.random.default_rng(seed)
    n_sites, m = 6, 8
    kids = np.array([1, 2, 4, 5], np.int64)
    open_ = np.array([True, True, seed % 2 == 0, True])
    il = rng.integers(0, 20, (n_sites, m))
    owed = rng.integers(0, 9, (n_sites, m))
    res = []
    for fn in (allocation.allocate, allocation.allocate_reference):
        a, o = il.copy(), owed.copy()
        out = np.zeros((len(kids), m), np.int64)
        fn(0, kids, open_, seed, a, o, out)
        res.append((a, o, out))
    for u, v in zip(*res, strict=True):
        assert np.array_equal(u, v)
    a, o, out = res[0]
    assert (a >= 0).all() and (o >= 0).all()
    assert np.array_equal(il[0] - a[0], out.sum(axis=0)), "shipped = taken from the DC"
    if not open_[2]:
        assert out[2].sum() == 0, "nothing ships on a closed lane"


def test_fair_shares_is_proportional():
    out = np.zeros(3, np.int64)
    allocation.fair_shares(10, np.array([10, 5, 5]), 0, out)
    assert list(out) == [5, 3, 2] or list(out) == [5, 2, 3]
    assert out.sum() == 10


def _lateral_instance(seed: int):
    rng = np.random.default_rng(seed)
    n, m = 5, 6
    il = rng.integers(-3, 30, (n, m))
    lat_in = rng.integers(0, 3, (n, m))
    rate = rng.uniform(0, 6, (n, m))
    pools = np.array([True, True, True, False, True])
    neighbors = np.full((n, n - 1), -1, np.int64)
    members = np.flatnonzero(pools)
    for a in members:
        others = [b for b in members if b != a]
        rng.shuffle(others)
        neighbors[a, : len(others)] = others
    open_ = rng.random((n, n)) > 0.2
    return il, lat_in, rate, pools, neighbors, open_


@pytest.mark.parametrize("seed", range(6))
def test_transshipment_plan_matches_reference(seed):
    args = _lateral_instance(seed)
    outs = []
    for fn in (transshipment.plan, transshipment.plan_reference):
        out = np.zeros((200, 4), np.int64)
        count = fn(*args, 1.0, 3.0, 2.0, out)
        outs.append(out[:count])
    assert np.array_equal(outs[0], outs[1])


@pytest.mark.parametrize("seed", range(6))
def test_rebalance_plan_matches_reference(seed):
    args = _lateral_instance(seed)
    outs = []
    for fn in (rebalance.plan, rebalance.plan_reference):
        out = np.zeros((200, 4), np.int64)
        count = fn(*args, 0.5, out)
        outs.append(out[:count])
    assert np.array_equal(outs[0], outs[1])
    assert len(outs[0]) > 0
    il = args[0]
    for src, _, sku, qty in outs[0]:
        assert 0 < qty <= max(il[src, sku], 0)
