#!/usr/bin/env python3
"""Stock engine: apply 10M movements (counts included), rebuild from a 10M-row ledger, memory.

Baselines measured in the same run:
- a plain-Python loop applying one movement at a time (`apply_movements_py`, timed on a slice and
  scaled), target: the Numba kernel ≥ 50× faster;
- numpy's best vectorised form, `np.bincount` on flat indices of the signed quantities (it cannot
  express counts, so it does less work than the kernel), target: the kernel no slower.

Usage: .venv/bin/python scripts/bench/bench_engine.py [--n 10000000] [--runs 7] [--rebuild]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from central.stock import ledger  # noqa: E402
from central.stock.engine import BEHAVIOUR, GAIN, StockEngine  # noqa: E402
from central.stock.kernels import apply_movements, apply_movements_py, as_columns  # noqa: E402

N_ITEMS, N_LOCS = 100_000, 100
#: Share of each movement type: mostly sales and picks, 5 % counts, 5 % putaways.
MIX = {
    "sale": 0.40,
    "pick": 0.20,
    "receive": 0.15,
    "return": 0.03,
    "count": 0.05,
    "putaway": 0.05,
    "transfer_out": 0.03,
    "transfer_in": 0.03,
    "adjust": 0.03,
    "scrap": 0.03,
}


def movements(n: int, seed: int = 1) -> tuple[np.ndarray, ...]:
    """Random movements over 100k items × 100 locations in a store-like mix (MIX)."""
    rng = np.random.default_rng(seed)
    sku = rng.integers(1, N_ITEMS + 1, n)
    loc = rng.integers(1, N_LOCS + 1, n)
    codes = np.array([ledger.TYPE_CODE[t] for t in MIX])
    kind = rng.choice(codes, n, p=np.array(list(MIX.values())))
    to_loc = np.where(kind == ledger.TYPE_CODE["putaway"], rng.integers(1, N_LOCS + 1, n), 0)
    qty = rng.integers(1, 20, n)
    return as_columns(sku, loc, to_loc, kind, qty)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_apply(n: int, runs: int) -> None:
    cols = movements(n)
    on_hand = np.zeros((N_ITEMS + 1, N_LOCS + 1), np.int64)
    in_transit = np.zeros_like(on_hand)
    delta = np.empty(n, np.int64)
    none = np.empty(0, np.int64)
    apply_movements(on_hand, in_transit, *(c[:10] for c in cols), BEHAVIOUR, GAIN, delta[:10])
    # numpy gets the columns as intp, its own best case (bincount converts anything else)
    sku, loc, _, kind, qty = (c.astype(np.int64) for c in cols)
    timings: dict[str, list[float]] = {"kernel": [], "kernel+delta": [], "numpy": [], "bc": []}
    for _ in range(runs):  # interleaved, so a noisy neighbour slows both alike
        t0 = time.perf_counter()
        apply_movements(on_hand, in_transit, *cols, BEHAVIOUR, GAIN, none)
        timings["kernel"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        apply_movements(on_hand, in_transit, *cols, BEHAVIOUR, GAIN, delta)
        timings["kernel+delta"].append(time.perf_counter() - t0)
        # numpy's best vectorised form from the same columns: flat indices, signed weights,
        # one bincount, added into the stock (counts treated as adds: it cannot express them)
        t0 = time.perf_counter()
        flat = sku * (N_LOCS + 1) + loc
        weights = GAIN[kind] * qty
        t1 = time.perf_counter()
        out = np.bincount(flat, weights=weights, minlength=on_hand.size)
        t2 = time.perf_counter()
        on_hand.ravel()[:] += out.astype(np.int64)
        timings["numpy"].append(time.perf_counter() - t0)
        timings["bc"].append(t2 - t1)
        del out, flat, weights
    m = 200_000
    t0 = time.perf_counter()
    py_cols = (c[:m] for c in (sku, loc, cols[2].astype(np.int64), kind, qty))
    apply_movements_py(on_hand, in_transit, *py_cols, BEHAVIOUR, GAIN, delta[:m])
    py_t = (time.perf_counter() - t0) * n / m
    med = {k: statistics.median(v) for k, v in timings.items()}
    nb = med["kernel"]
    ratios = [nv / kv for nv, kv in zip(timings["numpy"], timings["kernel"], strict=True)]
    print(f"apply {n:,} movements (store mix, counts included), median of {runs}:")
    print(f"  numba kernel          {nb:7.3f} s  {n / nb / 1e6:6.1f} M movements/s")
    print(f"  numba kernel + deltas {med['kernel+delta']:7.3f} s  (what ingest runs)")
    print(
        f"  numpy vectorised      {med['numpy']:7.3f} s  (index + weights + bincount + add; "
        f"bincount alone {med['bc']:.3f} s; adds only)  numpy/kernel = {med['numpy'] / nb:.2f}×"
    )
    print(
        f"  numpy/kernel per interleaved run: median {statistics.median(ratios):.2f}×, "
        f"range {min(ratios):.2f}–{max(ratios):.2f}×; numpy's fastest run / kernel's fastest "
        f"{min(timings['numpy']) / min(timings['kernel']):.2f}×"
    )
    print(
        f"  plain Python loop     {py_t:7.1f} s  (scaled from {m:,})  "
        f"Python/kernel = {py_t / nb:.0f}×"
    )


def bench_rebuild(n: int) -> None:
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        path = Path(tmp) / "ledger.db"
        conn = ledger.connect(path)
        conn.execute("PRAGMA synchronous=OFF")
        sku, loc, to_loc, kind, qty = movements(n, seed=2)
        t0 = time.perf_counter()
        chunk = 500_000
        for start in range(0, n, chunk):
            sl = slice(start, start + chunk)
            rows = zip(
                range(start + 1, start + 1 + len(sku[sl])),
                sku[sl].tolist(),
                loc[sl].tolist(),
                to_loc[sl].tolist(),
                kind[sl].tolist(),
                qty[sl].tolist(),
                strict=True,
            )
            conn.execute("BEGIN")
            conn.executemany(
                "INSERT INTO movements (device, seq, site, ts, received_at, type, kind, sku, "
                "sku_id, qty, delta, loc, loc_id, to_loc_id) "
                "VALUES ('bench', ?, 'S', '', '', '', ?, '', ?, ?, 0, '', ?, ?)",
                ((s, k, i, q, lc, t) for s, i, lc, t, k, q in rows),
            )
            block = np.stack([sku[sl], loc[sl], to_loc[sl], kind[sl], qty[sl]], axis=1)
            for b in range(0, len(block), 5000):  # as central writes them: one per group commit
                ledger.write_block(conn, start + b + 1, block[b : b + 5000])
            conn.execute("COMMIT")
        print(f"wrote a {n:,}-row ledger in {time.perf_counter() - t0:.1f} s")
        conn.close()
        times = []
        for _ in range(3):
            conn = ledger.connect(path)
            engine = StockEngine()
            t0 = time.perf_counter()
            engine.rebuild(conn, N_ITEMS, N_LOCS)
            times.append(time.perf_counter() - t0)
            conn.close()
        reb = statistics.median(times)
        print(
            f"rebuild from {n:,} ledger movements: median {reb:.2f} s (target ≤ 10 s), "
            f"engine arrays {engine.memory_bytes() / 2**20:.0f} MB"
        )
        conn = ledger.connect(path)
        conn.execute("DELETE FROM movement_blocks")  # baseline: replay the rows themselves
        slow = StockEngine()
        t0 = time.perf_counter()
        slow.rebuild(conn, N_ITEMS, N_LOCS)
        rows_t = time.perf_counter() - t0
        conn.close()
        assert np.array_equal(slow.on_hand, engine.on_hand)
        print(
            f"  from the rows alone (no packed blocks) {rows_t:.2f} s; "
            f"blocks are {rows_t / reb:.0f}× faster"
        )


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=10_000_000)
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--rebuild", action="store_true", help="also build and replay a ledger")
    args = p.parse_args()
    bench_apply(args.n, args.runs)
    engine = StockEngine()
    engine.ensure(N_ITEMS, N_LOCS)
    print(
        f"engine for {N_ITEMS:,} items × {N_LOCS} locations: "
        f"{engine.memory_bytes() / 2**20:.0f} MB of arrays; process peak RSS {rss_mb():.0f} MB"
    )
    if args.rebuild:
        bench_rebuild(args.n)
        print(f"process peak RSS {rss_mb():.0f} MB (target < 1.5 GB for central)")


if __name__ == "__main__":
    main()
