"""Benchmark: a full planning pass over 1,000,000 SKU × site series with 365 days of history,
and the incremental alert update after batches of 10,000 movements.

    .venv/bin/python scripts/bench/bench_planning.py                 # 50,000 SKUs × 20 sites
    .venv/bin/python scripts/bench/bench_planning.py --skus 5000     # a quick run

Targets (issue): full pass ≤ 10 s on 2 cores and ≤ 4 GB; alerts for the touched series up to
date ≤ 100 ms after a 10,000-movement batch. Reported: median (and all) of `--runs` passes,
per-stage times of the median pass, peak RSS of the process (it includes the synthetic data
generation, so it is an upper bound for the pass), the incremental medians.
Kernels are compiled (or loaded from Numba's cache) on a small network first, so compile time
is not counted.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from central.planning.core import (  # noqa: E402
    TYPE_CODE,
    AlertBook,
    plan,
    refresh_alerts,
    save_changes,
    schema,
)
from central.planning.core.synthetic import synthetic_network  # noqa: E402


def rss_gb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1e6
    return float("nan")


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skus", type=int, default=50_000)
    ap.add_argument("--sites", type=int, default=20)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--batches", type=int, default=20)
    ap.add_argument("--batch-size", type=int, default=10_000)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    # compile / load cached kernels on a small network
    h, net, st = synthetic_network(200, 5, days=args.days)
    b = AlertBook(net.sku_names, net.site_names)
    r = plan(h, net, st, book=b)
    touched = h.add(np.zeros(3, np.int8), np.arange(3), np.full(3, h.today), np.ones(3))
    refresh_alerts(b, r.policy.safety_stock, touched, st.on_hand, st.reserved, st.on_order)

    t = time.perf_counter()
    hist, network, stock = synthetic_network(args.skus, args.sites, days=args.days)
    gen_s = time.perf_counter() - t
    n = network.n_series
    print(
        f"series {n:,} × {args.days} days; history {hist.nbytes / 1e9:.2f} GB "
        f"(generated in {gen_s:.1f} s); RSS {rss_gb():.2f} GB; "
        f"threads {os.environ.get('NUMBA_NUM_THREADS', 'default')}, load "
        f"{os.getloadavg()[0]:.1f}"
    )

    runs = []
    res = None
    for r in range(args.runs):
        book = AlertBook(network.sku_names, network.site_names)  # worst case: every alert new
        t = time.perf_counter()
        res = plan(hist, network, stock, book=book)
        dt = time.perf_counter() - t
        runs.append((dt, res.timings))
        print(
            f"  pass {r + 1}: {dt:.2f} s  "
            + " ".join(f"{k}={v:.2f}" for k, v in res.timings.items())
        )
    med = statistics.median(dt for dt, _ in runs)
    med_stages = sorted(runs, key=lambda x: x[0])[len(runs) // 2][1]
    print(
        f"full pass median {med:.2f} s (target ≤ 10 s); peak RSS {peak_gb():.2f} GB (target ≤ 4 GB)"
    )
    print(
        f"  alerts opened {len(res.alert_changes):,}, proposals {len(res.proposals):,} lines "
        f"to {len(res.proposals.suppliers)} suppliers ({res.proposals.suppressed.size:,} "
        f"covered by open orders), transfers {len(res.transfers):,}, "
        f"slow movers {len(res.slow_movers):,}"
    )

    # incremental: batches of movements → history + alerts of the touched series
    book = AlertBook(network.sku_names, network.site_names)
    first = plan(hist, network, stock, book=book)
    ss = first.policy.safety_stock
    on_hand = stock.on_hand.copy()
    due = stock.on_order + stock.in_transit
    rng = np.random.default_rng(7)
    codes = np.array([TYPE_CODE[t] for t in ("sale", "sale", "sale", "pick", "receive")], np.int8)
    inc, pub, save = [], [], []
    tmp = tempfile.TemporaryDirectory()
    conn = sqlite3.connect(os.path.join(tmp.name, "alerts.db"))
    for stmt in schema():
        conn.execute(stmt)
    t = time.perf_counter()
    with conn:
        save_changes(conn, book, first.alert_changes)
    print(
        f"  saving the pass's {len(first.alert_changes):,} alert openings to SQLite: "
        f"{time.perf_counter() - t:.1f} s"
    )
    for _ in range(args.batches):
        k = args.batch_size
        series = rng.integers(0, n, k)
        code = codes[rng.integers(0, codes.size, k)]
        qty = rng.integers(1, 6, k).astype(np.float64)
        # central's engine applies the batch first (simulated here: ± qty on hand)
        sign = np.where(code == TYPE_CODE["receive"], 1.0, -1.0)
        np.add.at(on_hand, series, sign * qty)
        t = time.perf_counter()
        touched = hist.add(code, series, np.full(k, hist.today), qty)
        changes = refresh_alerts(book, ss, touched, on_hand, stock.reserved, due)
        t1 = time.perf_counter()
        payloads = changes.records()
        t2 = time.perf_counter()
        with conn:
            save_changes(conn, book, changes)
        t3 = time.perf_counter()
        inc.append(t1 - t)
        pub.append(t2 - t1)
        save.append(t3 - t2)
    conn.close()
    tmp.cleanup()
    inc_ms = 1000 * statistics.median(inc)
    print(
        f"incremental, {args.batch_size:,} movements per batch, {args.batches} batches: "
        f"history + alerts median {inc_ms:.1f} ms (max {1000 * max(inc):.1f}; target ≤ 100 ms); "
        f"+ payload dicts {1000 * statistics.median(pub):.1f} ms; "
        f"+ SQLite save {1000 * statistics.median(save):.1f} ms; "
        f"last batch {len(payloads)} changes"
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "series": n,
                    "days": args.days,
                    "full_pass_s": [dt for dt, _ in runs],
                    "full_pass_median_s": med,
                    "stages_s": med_stages,
                    "peak_rss_gb": peak_gb(),
                    "incremental_ms_median": inc_ms,
                    "incremental_ms_max": 1000 * max(inc),
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
