"""Transfer suggestions: surplus → deficit, lanes against purchase lead time, freeze rules."""

from __future__ import annotations

from datetime import date

import numpy as np
from planning_reference import transfers as ref_transfers

from central.planning.core.config import FreezeRule, TransferConfig
from central.planning.core.transfers import Lanes, freeze_masks, suggest_transfers

SITES = ["DC1", "STORE1", "STORE2"]
IS_DC = np.array([True, False, False])
CFG = TransferConfig()


def _lanes():
    lanes = Lanes.uniform(3, 2.0, 0.5)  # store ↔ store: 2 days, 0.5 per unit
    lanes.days[0, 1:] = 1.0  # DC → store: 1 day, 1.0 per unit
    lanes.cost[0, 1:] = 1.0
    return lanes


def _state(unit_cost=10.0, lead=7.0):
    """One SKU; STORE1 is short (2 available, safety stock 10, target 30); STORE2 holds 500
    with demand 1/day (500 days of cover); the DC holds 100 with no demand of its own."""
    return dict(
        n_sites=3,
        available=np.array([100.0, 2.0, 500.0]),
        alert_pos=np.array([100.0, 2.0, 500.0]),
        position=np.array([100.0, 2.0, 500.0]),
        safety_stock=np.array([0.0, 10.0, 10.0]),
        target=np.array([0.0, 30.0, 30.0]),
        rate=np.array([0.0, 3.0, 1.0]),
        purchase_lead=np.full(3, lead),
        sku_unit_cost=np.array([unit_cost]),
    )


def _run(lanes=None, cfg=CFG, freeze=None, **over):
    st = {**_state(), **over}
    t = suggest_transfers(lanes=lanes or _lanes(), config=cfg, freeze=freeze, **st)
    return [(SITES[s], SITES[d], q) for s, d, q in zip(t.src, t.dst, t.qty, strict=True)]


def _freeze(rules, day=date(2025, 11, 26), unit_cost=10.0):
    return freeze_masks(rules, day, sku_names=["A"], sku_category=np.array([0]),
                        category_names=["electronics"], sku_unit_cost=np.array([unit_cost]),
                        site_names=SITES, site_is_dc=IS_DC)  # fmt: skip


def test_cheapest_surplus_covers_the_deficit():
    # score = cost + 1 % of unit cost per day: store 0.5 + 0.1·2 = 0.7 < DC 1.0 + 0.1·1 = 1.1
    assert _run() == [("STORE2", "STORE1", 28.0)]


def test_no_transfer_when_buying_is_as_fast():
    assert _run(purchase_lead=np.full(3, 1.5)) == []  # even the DC lane (1 day) gains < 1 day
    assert _run(purchase_lead=np.full(3, 2.5)) == [("DC1", "STORE1", 28.0)]  # only the DC's


def test_no_transfer_costing_more_than_the_cap():
    lanes = _lanes()
    lanes.cost[:] = 5.0  # > 30 % of 10
    assert _run(lanes=lanes) == []


def test_open_orders_reduce_the_need():
    assert _run(position=np.array([100.0, 25.0, 500.0])) == [("STORE2", "STORE1", 5.0)]


def test_limited_surplus_goes_to_the_most_urgent_first():
    st = _state()
    # two SKUs' worth in one: sites 1 and 2 both short, DC has 20 spare
    got = _run(
        available=np.array([20.0, 5.0, 1.0]),
        alert_pos=np.array([20.0, 5.0, 1.0]),
        position=np.array([20.0, 5.0, 1.0]),
        safety_stock=np.array([0.0, 10.0, 10.0]),
        target=np.array([0.0, 30.0, 30.0]),
        rate=np.array([0.0, 3.0, 3.0]),
        purchase_lead=st["purchase_lead"],
    )
    assert got == [("DC1", "STORE2", 20.0)]


def test_freeze_cross_store_during_promotion():
    rule = FreezeRule("promo", date(2025, 11, 24), date(2025, 11, 30), "cross_store",
                      min_unit_value=5.0)  # fmt: skip
    # store → store frozen, the DC still serves
    assert _run(freeze=_freeze([rule])) == [("DC1", "STORE1", 28.0)]
    # outside the promotion, or below the value threshold, the rule does not apply
    assert _run(freeze=_freeze([rule], day=date(2025, 12, 1))) == [("STORE2", "STORE1", 28.0)]
    assert _run(freeze=_freeze([rule], unit_cost=4.0)) == [("STORE2", "STORE1", 28.0)]
    # scope "all" for the category stops every transfer
    stop = FreezeRule("stop", scope="all", categories=("electronics",))
    assert _run(freeze=_freeze([stop])) == []
    other = FreezeRule("other", scope="all", categories=("food",))
    assert _run(freeze=_freeze([other])) == [("STORE2", "STORE1", 28.0)]


def test_freeze_masks_scopes():
    sku, lane = _freeze([FreezeRule("a", scope="cross_store"), FreezeRule("b", scope="from_dc"),
                         FreezeRule("c", scope="to_store", sites=("STORE2",))])  # fmt: skip
    assert sku.all()
    np.testing.assert_array_equal(lane[0], [[0, 0, 0], [0, 0, 1], [0, 1, 0]])
    np.testing.assert_array_equal(lane[1], [[0, 1, 1], [0, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(lane[2], [[0, 0, 1], [0, 0, 1], [0, 1, 0]])


def test_matching_equals_reference():
    rng = np.random.default_rng(0)
    n_sites, n_skus = 6, 300
    n = n_sites * n_skus
    lanes = Lanes(rng.uniform(0.5, 6, (n_sites, n_sites)), rng.uniform(0, 4, (n_sites, n_sites)))
    lanes.days[rng.random((n_sites, n_sites)) < 0.1] = np.inf
    np.fill_diagonal(lanes.days, np.inf)
    avail = np.floor(rng.uniform(-5, 200, n))
    st = dict(
        n_sites=n_sites,
        available=avail,
        alert_pos=avail + rng.integers(0, 5, n),
        position=avail + rng.integers(0, 10, n),
        safety_stock=rng.uniform(0, 20, n),
        target=rng.uniform(10, 60, n),
        rate=rng.uniform(0, 3, n),
        purchase_lead=rng.uniform(1, 10, n),
        sku_unit_cost=rng.uniform(1, 30, n_skus),
    )
    cfg = TransferConfig(surplus_cover_days=30)
    t = suggest_transfers(lanes=lanes, config=cfg, **st)
    got = list(zip(t.sku, t.src, t.dst, t.qty, strict=True))
    want = ref_transfers(n_sites, st["available"], st["alert_pos"], st["position"],
                         st["safety_stock"], st["target"], st["rate"], st["purchase_lead"],
                         st["sku_unit_cost"], lanes.days, lanes.cost, cfg)  # fmt: skip
    assert len(got) > 20
    assert got == want
    pin, pout = t.planned(n)
    assert pin.sum() == pout.sum() == t.qty.sum()
    rec = t.records([f"S{k}" for k in range(n_skus)], [f"X{j}" for j in range(n_sites)])
    assert set(rec[0]) == {"sku", "from_site", "to_site", "qty", "lane_days", "cost"}
