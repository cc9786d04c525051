"""Monte Carlo: replications × strategies, across worker processes, summarised with 95% CIs.

Reproducibility: replication r of a seed draws from streams keyed by (seed, r) (see `rng.py`),
and results are combined in replication order with exact integer sums, so a seed gives the same
numbers whatever `--workers` is and whatever order workers finish in.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from simulator import strategies as registry
from simulator.engine import kpis as kpi_defs
from simulator.engine.network import Net, compile_network
from simulator.engine.twin import RepResult, first_stockout_from, load_kernels, run_replication
from simulator.montecarlo.stats import Estimate, mean_ci, paired_ci
from simulator.scenario.model import Scenario


@dataclass
class StrategySummary:
    name: str
    kpis: dict[str, Estimate]
    per_rep: list[dict[str, float]]  # in replication order
    on_hand: np.ndarray  # mean total on hand per day
    stockout_share: np.ndarray  # [site, sku]: mean share of measured days in stockout
    stockout_prob: np.ndarray  # [site, sku]: share of replications with any stockout
    first_day: np.ndarray  # [site, sku]: mean first stockout day (from first_from), else NaN


@dataclass
class Results:
    scenario: Scenario
    site_ids: list[str]
    sku_ids: list[str]
    faces: list[bool]  # per site: serves customer demand (DCs do not)
    replications: int
    seed: int
    strategies: dict[str, StrategySummary]
    baseline: str
    paired: dict[str, dict[str, Estimate]]  # strategy -> KPI -> (strategy − baseline)
    elapsed: float
    workers: int
    first_from: int  # "first stockout day" counts from this day (see twin.first_stockout_from)
    notes: list[str] = field(default_factory=list)


class _Acc:
    """Running sums for one strategy; integer arrays, so the order of arrival does not matter."""

    def __init__(self, net: Net, days: int):
        shape = (net.n_sites, net.n_skus)
        self.per_rep: dict[int, dict[str, float]] = {}
        self.on_hand = np.zeros(days)
        self.so_days = np.zeros(shape, np.int64)
        self.so_any = np.zeros(shape, np.int64)
        self.first_sum = np.zeros(shape, np.int64)

    def add(self, r: RepResult) -> None:
        self.per_rep[r.rep] = r.kpis
        self.on_hand += r.on_hand
        self.so_days += r.so_days
        hit = r.first_so >= 0
        self.so_any += hit
        self.first_sum += np.where(hit, r.first_so, 0)

    def summary(self, name: str, n: int, measured: int) -> StrategySummary:
        per_rep = [self.per_rep[i] for i in sorted(self.per_rep)]
        with np.errstate(invalid="ignore", divide="ignore"):
            first = np.where(self.so_any > 0, self.first_sum / self.so_any, np.nan)
        return StrategySummary(
            name=name,
            kpis={k: mean_ci([p[k] for p in per_rep]) for k in kpi_defs.NAMES},
            per_rep=per_rep,
            on_hand=self.on_hand / n,
            stockout_share=self.so_days / (n * measured),
            stockout_prob=self.so_any / n,
            first_day=first,
        )


# --- workers -------------------------------------------------------------------------------

_NET: Net | None = None


def _init_worker(scenario: Scenario) -> None:
    global _NET
    _NET = compile_network(scenario)


def _task(job: tuple[int, str]) -> RepResult:
    rep, name = job
    assert _NET is not None
    return run_replication(_NET, registry.for_scenario(_NET.scenario, name), rep)


def _context() -> mp.context.BaseContext:
    # fork shares the compiled network and Numba's loaded kernels with no start-up cost.
    return mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")


# --- the run -------------------------------------------------------------------------------


@dataclass
class Plan:
    """A run ready to start: the scenario with the run's settings applied and its compiled
    network, the kernels loaded."""

    scenario: Scenario
    net: Net
    started: float  # perf_counter() when preparing began: `Results.elapsed` counts from here


def prepare(
    scenario: Scenario,
    replications: int | None = None,
    seed: int | None = None,
    strategies: tuple[str, ...] | None = None,
) -> Plan:
    """Apply the run's settings, check its strategies, compile the network and load the
    kernels (compiling them on a first run), before any replication is timed or forked.

    Raises `ScenarioError` for a strategy that does not exist or a parameter it does not take,
    and `ValueError` for a parameter value a strategy refuses when it is installed.
    """
    run_cfg = scenario.run
    run_cfg = replace(
        run_cfg,
        replications=replications or run_cfg.replications,
        seed=run_cfg.seed if seed is None else seed,
        strategies=tuple(strategies or run_cfg.strategies),
    )
    scenario = replace(scenario, run=run_cfg)
    registry.check(scenario)
    t0 = time.perf_counter()
    net = compile_network(scenario)
    load_kernels(net, [registry.for_scenario(scenario, name) for name in run_cfg.strategies])
    return Plan(scenario, net, t0)


def run(
    scenario: Scenario,
    replications: int | None = None,
    workers: int = 1,
    seed: int | None = None,
    strategies: tuple[str, ...] | None = None,
    progress: bool = False,
    on_result: Callable[[RepResult], None] | None = None,
) -> Results:
    """Run every strategy for every replication; returns summaries with 95% CIs."""
    plan = prepare(scenario, replications, seed, strategies)
    return execute(plan, workers, progress, on_result)


def execute(
    plan: Plan,
    workers: int = 1,
    progress: bool = False,
    on_result: Callable[[RepResult], None] | None = None,
) -> Results:
    """The replications × strategies of a prepared run, summarised."""
    scenario, net = plan.scenario, plan.net
    run_cfg = scenario.run
    n = run_cfg.replications
    names = list(dict.fromkeys(run_cfg.strategies))
    jobs = [(rep, name) for rep in range(n) for name in names]
    accs = {name: _Acc(net, run_cfg.days) for name in names}

    def take(result: RepResult) -> None:
        accs[result.strategy].add(result)
        if on_result:
            on_result(result)

    workers = max(1, min(workers, len(jobs)))
    global _NET
    _NET = net
    # The pool forks before the progress bar starts its refresh thread.
    pool = _context().Pool(workers, _init_worker, (scenario,)) if workers > 1 else None
    bar = _progress(progress, len(jobs), run_cfg.name)
    try:
        results = pool.imap_unordered(_task, jobs) if pool else map(_task, jobs)
        for result in results:
            take(result)
            bar.advance()
    finally:
        bar.close()
        if pool:
            pool.terminate()
            pool.join()

    measured = run_cfg.days - run_cfg.warmup
    summaries = {name: accs[name].summary(name, n, measured) for name in names}
    baseline = "none" if "none" in names else names[0]
    paired = {
        name: {
            k: paired_ci(
                [p[k] for p in summaries[name].per_rep],
                [p[k] for p in summaries[baseline].per_rep],
            )
            for k in kpi_defs.NAMES
        }
        for name in names
        if name != baseline
    }
    return Results(
        scenario=scenario,
        site_ids=net.site_ids,
        sku_ids=net.sku_ids,
        faces=[bool(x) for x in net.faces],
        replications=n,
        seed=run_cfg.seed,
        strategies=summaries,
        baseline=baseline,
        paired=paired,
        elapsed=time.perf_counter() - plan.started,
        workers=workers,
        first_from=first_stockout_from(scenario),
    )


class _NoBar:
    def advance(self) -> None:
        pass

    def close(self) -> None:
        pass


class _RichBar:
    def __init__(self, total: int, label: str):
        from rich.markup import escape
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.p = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            transient=False,
        )
        self.task = self.p.add_task(f"{escape(label)}: replications × strategies", total=total)
        self.p.start()

    def advance(self) -> None:
        self.p.advance(self.task)

    def close(self) -> None:
        self.p.stop()


def _progress(enabled: bool, total: int, label: str):
    return _RichBar(total, label) if enabled else _NoBar()
