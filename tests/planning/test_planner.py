"""The full planning pass on a small synthetic network, and the incremental alert path."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from central.planning.core import AlertBook, PlanningConfig, plan, refresh_alerts
from central.planning.core.config import CategoryPolicy
from central.planning.core.synthetic import synthetic_network


@pytest.fixture(scope="module")
def net():
    return synthetic_network(60, 4, days=140, seed=3)


def test_plan_end_to_end(net):
    hist, network, stock = net
    book = AlertBook(network.sku_names, network.site_names)
    res = plan(hist, network, stock, book=book, now="2025-01-01T00:00:00.000Z")
    n = network.n_series
    assert res.forecast.level.shape == (n,) and np.isfinite(res.forecast.sigma).all()
    pol = res.policy
    assert (pol.safety_stock >= 0).all() and (pol.eoq >= 0).all()
    np.testing.assert_allclose(pol.reorder_point, pol.protection_demand + pol.safety_stock)
    assert len(res.alert_changes) == int((book.tier > 0).sum()) > 0
    assert set(res.alert_changes.counts()) == {"opened"}
    assert len(res.proposals) > 0 and len(res.transfers) > 0
    assert set(res.kpis) == {"site", "category", "total"}
    assert len(res.kpis["site"].rows()) == 4
    assert set(res.timings) >= {"forecast", "policy", "alerts", "proposals", "kpis"}
    drafts = res.proposals.draft_pos(network.sku_names, network.site_names,
                                     network.supplier_names)  # fmt: skip
    assert sum(len(d.lines) for d in drafts) == len(res.proposals)
    # running the same plan again changes no alert: nothing is said twice
    again = plan(hist, network, stock, book=book)
    assert len(again.alert_changes) == 0
    np.testing.assert_array_equal(again.tiers, res.tiers)


def test_recorded_proposals_and_transfers_are_not_proposed_again(net):
    hist, network, stock = net
    first = plan(hist, network, stock)
    on_order = stock.on_order.copy()
    np.add.at(on_order, first.proposals.series, first.proposals.qty)
    in_transit = stock.in_transit.copy()
    np.add.at(in_transit, first.transfers.dst_series, first.transfers.qty)
    on_hand = stock.on_hand.copy()
    np.subtract.at(on_hand, first.transfers.src_series, first.transfers.qty)
    st2 = dataclasses.replace(stock, on_order=on_order, in_transit=in_transit, on_hand=on_hand)
    second = plan(hist, network, st2)
    again = np.intersect1d(second.proposals.series, first.proposals.series)
    assert again.size == 0
    assert np.isin(first.proposals.series, second.proposals.suppressed).any()


def test_category_policy_is_applied(net):
    hist, network, stock = net
    cfg = PlanningConfig(categories={"cat1": CategoryPolicy(safety_stock="cover", cover_days=2)})
    res = plan(hist, network, stock, cfg)
    sku_cat = np.asarray(network.sku_category)[np.arange(network.n_series) // network.n_sites]
    sel = sku_cat == 1
    assert sel.any()
    np.testing.assert_allclose(res.policy.safety_stock[sel], 2 * res.policy.rate[sel])


def test_refresh_alerts_matches_a_full_update(net):
    hist, network, stock = net
    book = AlertBook(network.sku_names, network.site_names)
    res = plan(hist, network, stock, book=book)
    rng = np.random.default_rng(0)
    touched = np.unique(rng.integers(0, network.n_series, 40))
    on_hand = stock.on_hand.copy()
    on_hand[touched] = np.maximum(on_hand[touched] - rng.integers(0, 30, touched.size), 0)
    due = stock.on_order + stock.in_transit
    ch = refresh_alerts(book, res.policy.safety_stock, touched, on_hand, stock.reserved, due)
    assert set(ch.series) <= set(touched)
    full = AlertBook(network.sku_names, network.site_names)
    full.set_thresholds(book.yellow, book.orange, book.red, book.hysteresis)
    full.tier[:] = res.tiers
    full.update(np.arange(network.n_series),
                on_hand - stock.reserved + due, res.policy.safety_stock)  # fmt: skip
    np.testing.assert_array_equal(book.tier, full.tier)
