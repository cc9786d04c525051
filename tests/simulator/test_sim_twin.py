"""Behaviour of the twin: same-day event order, common random numbers, reproducibility,
disruptions, strategies, and stock conservation through a DC."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import simpy
from sim_helpers import two_stores

from simulator import strategies
from simulator.engine import kernel
from simulator.engine.events import Phase, PhasedEnvironment, at
from simulator.engine.network import compile_network
from simulator.engine.twin import Twin
from simulator.montecarlo import runner
from simulator.scenario import loader as scenario
from simulator.scenario.model import InitialState


def _doc(**over) -> dict:
    doc = {
        "run": {"days": 60, "warmup": 0, "replications": 2, "seed": 5},
        "costs": {"holding": 1.0, "backorder": 4.0},
        "supplier": [{"id": "S1", "lead_time": 0}],
        "site": [{"id": "STORE1", "source": "S1"}],
        "sku": [
            {
                "id": "A",
                "demand": {"dist": "poisson", "mean": 3},
                "policy": {"kind": "base_stock", "S": 5},
            }
        ],
    }
    doc.update(over)
    return doc


def test_same_day_events_run_in_phase_order_not_creation_order():
    env = PhasedEnvironment()
    seen = []

    def proc(phase):
        yield at(env, 3, phase)
        seen.append(phase)

    for phase in sorted(Phase, reverse=True):  # created last-phase first
        env.process(proc(phase))
    env.run()
    assert seen == sorted(Phase)


def test_phases_need_the_phased_environment():
    """A plain SimPy environment would silently run same-day events in creation order."""
    with pytest.raises(TypeError, match="PhasedEnvironment"):
        at(simpy.Environment(), 3, Phase.REVIEW)


def test_zero_lead_time_delivery_is_on_hand_before_that_days_demand():
    sc = scenario.parse(_doc(run={"days": 1, "warmup": 0, "replications": 1, "seed": 2}))
    sc = replace(sc, initial=InitialState(stock={("STORE1", "A"): 0}))
    twin = Twin(compile_network(sc))
    twin.run()
    demand, filled = twin.tot[kernel.T_DEMAND], twin.tot[kernel.T_FILLED]
    assert demand > 0
    assert filled == min(demand, 5), "ordered 5 at review, received before demand"


def test_an_order_with_lead_time_L_is_on_hand_at_the_start_of_day_t_plus_L():
    sc = scenario.parse(_doc(supplier=[{"id": "S1", "lead_time": 3}]))
    twin = Twin(compile_network(sc))
    landed = []
    real = twin.receive

    def spy(site, qty, lateral):
        landed.append((twin.env.now, int(qty.sum())))
        real(site, qty, lateral)

    twin.receive = spy
    twin.run()
    assert landed and landed[0][0] >= 4  # first order is on day ≥ 1 (day 0 starts at S)
    # everything ordered by day 56 has landed, each exactly 3 days after its review
    assert all(day >= 3 for day, _ in landed)


def test_strategies_face_identical_demand():
    sc = scenario.load("examples/network/network.toml")
    sc = replace(sc, run=replace(sc.run, days=90, warmup=10))
    net = compile_network(sc)
    demand = {}
    for name in ("none", "transshipment", "rebalance", "backup_supplier"):
        twin = Twin(net, strategies.for_scenario(sc, name), rep=3)
        twin.run()
        demand[name] = twin.tot[kernel.T_DEMAND]
    assert len(set(demand.values())) == 1, demand


def test_results_do_not_depend_on_worker_count():
    sc = scenario.load("examples/network/network.toml")
    sc = replace(sc, run=replace(sc.run, days=70, warmup=10))
    one = runner.run(sc, replications=3, workers=1, strategies=("none", "backup_supplier"))
    two = runner.run(sc, replications=3, workers=2, strategies=("none", "backup_supplier"))
    for name in one.strategies:
        a, b = one.strategies[name], two.strategies[name]
        assert a.per_rep == b.per_rep
        assert np.array_equal(a.on_hand, b.on_hand)
        assert np.array_equal(a.stockout_share, b.stockout_share)


def test_same_seed_same_results_other_seed_other_results():
    sc = scenario.parse(_doc())
    a = runner.run(sc, replications=3).strategies["none"].per_rep
    b = runner.run(sc, replications=3).strategies["none"].per_rep
    c = runner.run(sc, replications=3, seed=6).strategies["none"].per_rep
    assert a == b and a != c


def test_an_outage_without_mitigation_lowers_fill_rate():
    outage = {"disruption": [{"supplier": "S1", "start": 300, "days": 30}]}
    calm = two_stores(["none"], replications=15)
    hit = two_stores(["none"], replications=15, extra=outage)
    f0 = [p["fill_rate"] for p in calm.strategies["none"].per_rep]
    f1 = [p["fill_rate"] for p in hit.strategies["none"].per_rep]
    # same seed: same demand in both runs, so the difference is the outage alone
    assert all(b < a for a, b in zip(f0, f1, strict=True))
    from simulator.montecarlo.stats import paired_ci

    assert paired_ci(f1, f0).hi < -0.01


def test_transshipment_pools_two_symmetric_stores_and_lowers_cost():
    res = two_stores(["none", "transshipment"])
    diff = res.paired["transshipment"]["cost_per_day"]
    assert diff.hi < 0, f"cost change {diff}"
    assert res.paired["transshipment"]["fill_rate"].lo > 0
    assert res.strategies["transshipment"].kpis["lateral_units"].mean > 0


def test_backup_supplier_keeps_stores_supplied_during_an_outage():
    extra = {
        "supplier": [
            {"id": "S1", "lead_time": 3, "backup": "S2"},
            {"id": "S2", "lead_time": 4, "unit_cost": 0.5},
        ],
        "disruption": [{"supplier": "S1", "start": 300, "days": 60}],
    }
    res = two_stores(["none", "backup_supplier"], replications=10, extra=extra)
    d = res.paired["backup_supplier"]
    assert d["fill_rate"].lo > 0.02
    assert d["cost_per_day"].hi < 0


def test_port_closure_holds_shipments_until_it_reopens():
    doc = _doc(
        supplier=[{"id": "S1", "lead_time": 2}],
        lane=[{"from": "S1", "to": "STORE1", "days": 2, "port": "P1"}],
        disruption=[{"port": "P1", "start": 20, "days": 5}],
    )
    twin = Twin(compile_network(scenario.parse(doc)))
    landed = []
    real = twin.receive
    twin.receive = lambda s, q, lat: (landed.append(twin.env.now), real(s, q, lat))
    twin.run()
    assert not [d for d in landed if 20 <= d < 25], "nothing lands while the port is closed"
    assert 25 in landed, "what waited lands the day it reopens"
    assert not [d for d in landed if 23 <= d < 27 and d != 25], "nothing was ordered meanwhile"


def test_markov_supply_is_down_alpha_over_alpha_plus_beta_of_the_time():
    doc = _doc(
        run={"days": 6000, "warmup": 0, "replications": 1, "seed": 9},
        disruption=[{"supplier": "S1", "markov": {"alpha": 0.05, "beta": 0.2}}],
    )
    twin = Twin(compile_network(scenario.parse(doc)))
    down = []

    def watch():
        for day in range(twin.days):
            yield at(twin.env, day, Phase.DEMAND)
            down.append(twin.supplier_down[0] > 0)

    twin.env.process(watch())
    twin.run()
    assert np.mean(down) == pytest.approx(0.05 / 0.25, abs=0.03)


def test_surges_and_weekly_profile_scale_demand():
    doc = _doc(
        run={"days": 400, "warmup": 0, "replications": 1, "seed": 1},
        sku=[
            {
                "id": "A",
                "demand": {"dist": "poisson", "mean": 10, "weekly": [1, 1, 1, 1, 1, 2, 0.5]},
                "policy": {"kind": "base_stock", "S": 50},
            }
        ],
        disruption=[{"surge": 3.0, "start": 200, "days": 100, "skus": ["A"]}],
    )
    net = compile_network(scenario.parse(doc))
    out = np.zeros((400, 1, 1), np.int64)
    sg = net.surges
    kernel.demand_block(
        np.random.default_rng(0),
        0,
        0,
        net.faces,
        net.dist,
        net.mean,
        net.disp,
        net.weekly,
        sg.start,
        sg.end,
        sg.factor,
        sg.site,
        sg.sku,
        out,
    )
    d = out[:, 0, 0].astype(float)
    plain = d[:200][np.arange(200) % 7 < 5].mean()
    surged = d[200:300][np.arange(200, 300) % 7 < 5].mean()
    saturday = d[:200][np.arange(200) % 7 == 5].mean()
    assert plain == pytest.approx(10, rel=0.1)
    assert surged == pytest.approx(30, rel=0.1)
    assert saturday == pytest.approx(20, rel=0.15)


def test_supplier_reliability_makes_some_shipments_late():
    doc = _doc(
        supplier=[{"id": "S1", "lead_time": 4, "reliability": 0.8, "late_days": 5}],
        run={"days": 5000, "warmup": 0, "replications": 1, "seed": 1},
    )
    twin = Twin(compile_network(scenario.parse(doc)))
    lead = twin._lead[int(twin.net.primary_lane[0])]
    assert set(np.unique(lead)) == {4, 9}
    assert np.mean(lead == 9) == pytest.approx(0.2, abs=0.02)


def test_stock_is_conserved_through_a_dc():
    """Everything a store has on order is either owed by its DC or on a truck to it."""
    sc = scenario.load("examples/network/network.toml")
    sc = replace(sc, run=replace(sc.run, days=80, warmup=0))
    twin = Twin(compile_network(sc), strategies.for_scenario(sc, "rebalance"))
    twin.run()
    in_transit = np.zeros_like(twin.pipe)
    for lane, carrier in twin._carriers.items():
        for _, qty, _ in carrier.queue:
            in_transit[twin.net.lanes[lane].dst_index] += qty
    assert np.array_equal(twin.pipe, twin.owed + in_transit)
    dc = twin.net.dcs[0]
    assert (twin.il[dc] >= 0).all() and (twin.owed >= 0).all()
    assert np.array_equal(twin.committed[dc], twin.owed[twin.net.children[dc]].sum(axis=0))


def test_rebalance_levels_days_of_cover():
    doc = {
        "run": {"days": 1, "warmup": 0, "replications": 1, "seed": 1, "strategies": ["rebalance"]},
        "network": {"lateral_days": 0},
        "supplier": [{"id": "S1", "lead_time": 5}],
        "site": [{"id": "A", "source": "S1"}, {"id": "B", "source": "S1", "demand_scale": 3}],
        "sku": [
            {
                "id": "X",
                "demand": {"dist": "poisson", "mean": 0.0001},
                "policy": {"kind": "base_stock", "S": 0},
            }
        ],
    }
    sc = scenario.parse(doc)
    sc = replace(sc, initial=InitialState(stock={("A", "X"): 80, ("B", "X"): 0}))
    twin = Twin(compile_network(sc), strategies.for_scenario(sc, "rebalance"))
    twin.run()
    assert twin.il[:, 0].tolist() == [20, 60], "B sells 3× what A does, so holds 3× the stock"
