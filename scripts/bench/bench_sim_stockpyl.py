"""The same single-stage problem in stockpyl's simulator and ours, per simulated period.

    .venv/bin/python scripts/bench/bench_sim_stockpyl.py [--runs 5]

Problem: base-stock S = 20, Poisson(6) demand, h = 1, p = 4, and a lead time that spans three
days of demand: L = 2 in the twin's convention (an order placed on day t is on hand before day
t+L's demand), which is stockpyl's shipment_lead_time = 3. Both should land near the exact
6.4896/period. Target: ours ≥ 20× faster per period. Medians of --runs runs of each.
"""

from __future__ import annotations

import argparse
import statistics
import time

from stockpyl.newsvendor import newsvendor_poisson_cost
from stockpyl.sim import simulation
from stockpyl.supply_chain_network import single_stage_system

from simulator.engine.network import compile_network
from simulator.engine.twin import BASELINE, run_replication
from simulator.scenario import loader as scenario

OURS_DAYS, THEIRS_PERIODS = 50_000, 5_000


def ours(rep: int) -> tuple[float, float]:
    doc = {
        "run": {"days": OURS_DAYS, "warmup": 0, "replications": 1, "seed": 1},
        "costs": {"holding": 1.0, "backorder": 4.0},
        "supplier": [{"id": "S1", "lead_time": 2}],
        "site": [{"id": "STORE1", "source": "S1"}],
        "sku": [
            {
                "id": "A",
                "demand": {"dist": "poisson", "mean": 6},
                "policy": {"kind": "base_stock", "S": 20},
            }
        ],
    }
    net = compile_network(scenario.parse(doc))
    t0 = time.perf_counter()
    result = run_replication(net, BASELINE, rep)
    return (time.perf_counter() - t0) / OURS_DAYS, result.kpis["cost_per_day"]


def theirs(seed: int) -> tuple[float, float]:
    net = single_stage_system(
        holding_cost=1.0,
        stockout_cost=4.0,
        demand_type="P",
        mean=6,
        policy_type="BS",
        base_stock_level=20,
        shipment_lead_time=3,
    )
    t0 = time.perf_counter()
    total = simulation(
        net, THEIRS_PERIODS, rand_seed=seed, progress_bar=False, consistency_checks="N"
    )
    return (time.perf_counter() - t0) / THEIRS_PERIODS, total / THEIRS_PERIODS


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    ours(99)  # warm: load cached kernels
    a = [ours(r) for r in range(args.runs)]
    b = [theirs(r + 1) for r in range(args.runs)]
    ours_us = statistics.median(x for x, _ in a) * 1e6
    theirs_us = statistics.median(x for x, _ in b) * 1e6
    exact = newsvendor_poisson_cost(20, 1.0, 4.0, 18)
    print(
        f"exact cost/period {exact:.4f}; ours {statistics.mean(c for _, c in a):.4f}, "
        f"stockpyl {statistics.mean(c for _, c in b):.4f} (means over runs)"
    )
    print(f"ours: median {ours_us:.1f} µs/period ({args.runs} runs × {OURS_DAYS} days)")
    print(f"stockpyl: median {theirs_us:.1f} µs/period ({args.runs} runs × {THEIRS_PERIODS})")
    print(f"speed-up per period: {theirs_us / ours_us:.1f}× (target ≥ 20×)")


if __name__ == "__main__":
    main()
