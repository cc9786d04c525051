"""Getting a run ready: kernels loaded for every strategy of the run before any replication, and
`tallyman sim` leaving the garbage collector as it found it when run in-process."""

from __future__ import annotations

import gc
import weakref

import pytest

from simulator.engine.network import compile_network
from simulator.engine.twin import Strategy, load_kernels
from simulator.montecarlo import runner
from simulator.scenario import loader as scenario
from tallyman.launch.cli import main

SCENARIO = {
    "run": {"days": 20, "warmup": 0, "replications": 1, "seed": 1},
    "supplier": [{"id": "S1", "lead_time": 2}],
    "site": [{"id": "A", "source": "S1"}, {"id": "B", "source": "S1"}],
    "sku": [{"id": "X", "demand": {"mean": 3}, "policy": {"kind": "base_stock", "S": 12}}],
}


def recording(name: str, seen: list) -> Strategy:
    return Strategy(name, lambda twin: seen.append((name, twin.days)))


def test_load_kernels_runs_one_day_of_each_strategy_baseline_first():
    net = compile_network(scenario.parse(SCENARIO))
    seen: list = []
    load_kernels(net, [recording("a", seen), recording("b", seen), recording("a", seen)])
    assert seen == [("a", 1), ("b", 1)], "one day each, the same name once"
    baseline_first: list = []
    load_kernels(net, [recording("none", baseline_first)])
    assert baseline_first == [], "the twin's own `none` is the one run"


def test_prepare_loads_the_kernels_of_the_runs_strategies(monkeypatch):
    loaded: list[list[str]] = []
    monkeypatch.setattr(runner, "load_kernels", lambda net, s: loaded.append([x.name for x in s]))
    sc = scenario.parse(SCENARIO)
    runner.prepare(sc, strategies=("none", "transshipment", "rebalance"))
    assert loaded == [["none", "transshipment", "rebalance"]]


def test_a_parameter_a_strategy_refuses_stops_the_run_before_it_starts():
    sc = scenario.parse({**SCENARIO, "strategy": {"rebalance": {"period_days": 0}}})
    with pytest.raises(ValueError, match="period_days must be at least 1"):
        runner.prepare(sc, strategies=("rebalance",))


class Cycle:
    def __init__(self) -> None:
        self.me = self


def test_sim_in_process_freezes_nothing_for_good():
    """Garbage made before a run (a cycle that only a collection frees) and the run's own
    objects are collected as usual once the command returns."""
    gc.collect()
    pending = Cycle()
    gone = weakref.ref(pending)
    del pending
    assert main(["sim", "examples/single_store.toml", "-n", "2", "--days", "60", "-q"]) == 0
    assert gc.get_freeze_count() == 0 and gc.isenabled()
    gc.collect()
    assert gone() is None


def test_a_failed_sim_leaves_the_collector_on(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[run]\ndays = 0\n")
    assert main(["sim", str(bad), "-q"]) == 1
    assert gc.get_freeze_count() == 0 and gc.isenabled()
