"""Are the simulator's 95% confidence intervals really 95%? For every textbook validation case,
run many independent seeds and count how often the exact value falls outside the CI.

    .venv/bin/python scripts/bench/bench_sim_coverage.py [--seeds 40] [--reps 10] [--days 1000]

A miss rate near 5% per KPI says the intervals are calibrated and the simulator unbiased; a
systematic bias shows as a miss rate far above 5% that grows with --days.
"""

from __future__ import annotations

import argparse
import time

from simulator.montecarlo import runner
from simulator.montecarlo.validation import CASES, CHECKED
from simulator.scenario import loader as scenario


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=40)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--days", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args()
    t0 = time.perf_counter()
    total = misses = 0
    print(f"{'case':34} " + " ".join(f"{k:>20}" for k, _ in CHECKED))
    for case in CASES:
        exact = case.exact()
        miss = dict.fromkeys((k for k, _ in CHECKED), 0)
        for seed in range(1000, 1000 + args.seeds):
            doc = case.document(args.days + 50, 50, args.reps, seed)
            res = runner.run(scenario.parse(doc), workers=args.workers)
            kpis = res.strategies["none"].kpis
            for k, field in CHECKED:
                miss[k] += not kpis[k].covers(float(getattr(exact, field)))
        total += args.seeds * len(CHECKED)
        misses += sum(miss.values())
        print(f"{case.name:34} " + " ".join(f"{miss[k] / args.seeds:>19.1%} " for k, _ in CHECKED))
    print(
        f"overall miss rate {misses / total:.2%} over {total} intervals "
        f"(nominal 5%), {time.perf_counter() - t0:.0f} s"
    )


if __name__ == "__main__":
    main()
