"""100 replications × 4 strategies of the network example with 2 workers, as `tallyman sim`
runs them (compile, workers, aggregation, CIs), against the 3-minute budget.

    .venv/bin/python scripts/bench/bench_sim_montecarlo.py [--runs 3] [--replications 100]

Baseline in the same run: one worker on a tenth of the replications, scaled ×10, so the ratio
is the speed-up the two workers give on this 2-core machine.
"""

from __future__ import annotations

import argparse
import statistics
import time

from simulator.montecarlo import runner
from simulator.scenario import loader as scenario

SCENARIO = "examples/network/network.toml"
BUDGET_S = 180.0


def timed(sc, replications: int, workers: int) -> tuple[float, runner.Results]:
    t0 = time.perf_counter()
    res = runner.run(sc, replications=replications, workers=workers)
    return time.perf_counter() - t0, res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--replications", type=int, default=100)
    args = ap.parse_args()
    sc = scenario.load(SCENARIO)
    timed(sc, 1, 1)  # warm: load cached kernels
    two = [timed(sc, args.replications, 2) for _ in range(args.runs)]
    tenth = max(1, args.replications // 10)
    one = [timed(sc, tenth, 1)[0] * args.replications / tenth for _ in range(args.runs)]
    t2 = statistics.median(t for t, _ in two)
    t1 = statistics.median(one)
    res = two[0][1]
    n = len(res.strategies)
    print(
        f"{SCENARIO}: {len(res.site_ids)} sites × {len(res.sku_ids)} SKUs × "
        f"{sc.run.days} days, {args.replications} replications × {n} strategies"
    )
    print(
        f"--workers 2: median {t2:.1f} s over {args.runs} runs "
        f"({', '.join(f'{t:.1f}' for t, _ in two)}); "
        f"budget {BUDGET_S:.0f} s {'met' if t2 <= BUDGET_S else 'MISSED'}"
    )
    print(
        f"--workers 1 on {tenth} replications, scaled ×{args.replications // tenth}: "
        f"median {t1:.1f} s; speed-up from 2 workers {t1 / t2:.2f}×"
    )
    print(
        "ranking:",
        ", ".join(
            f"{s} {res.strategies[s].kpis['cost_per_day'].mean:.0f}/day"
            for s in sorted(
                res.strategies, key=lambda s: res.strategies[s].kpis["cost_per_day"].mean
            )
        ),
    )


if __name__ == "__main__":
    main()
