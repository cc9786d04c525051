#!/usr/bin/env python3
"""Ledger inserts beside a busy Python thread: executemany vs many-row statements (sqlbulk).

Why it matters: central's ingest thread shares the GIL with the planning pass and the MQTT
thread. Python's sqlite3 gives the GIL away around every step; executemany steps once per row,
and each time it must wait for a busy thread to hand the GIL back. Prints rows/s of both
methods alone and beside one thread spinning in Python, at Python's default switch interval
(5 ms) and at central's (central.main.SWITCH_INTERVAL_S), and the ratio sqlbulk / executemany.

Usage: .venv/bin/python scripts/bench/bench_gil_convoy.py [--rows 20000] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from central.lifecycle import SWITCH_INTERVAL_S  # noqa: E402
from central.stock import ledger  # noqa: E402
from tallyman import wire  # noqa: E402

GROUP = 5000  # rows per transaction, as a busy ingest group


def make_rows(n: int) -> list[list]:
    ts = wire.now_ts()
    return [
        [f"hh-{s % 4}", s, "DC1", ts, ts, "receive", 4, f"SKU{s % 300:05d}", s % 300 + 1]
        + ["00400000000015", None, None, None, 3, 3, "DC1/A-01", 1, None, 0, None, None, None]
        for s in range(1, n + 1)
    ]


def insert(rows: list[list], method: str) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        conn = ledger.connect(Path(tmp) / "l.db")
        t0 = time.perf_counter()
        for i in range(0, len(rows), GROUP):
            conn.execute("BEGIN IMMEDIATE")
            if method == "executemany":
                conn.executemany(ledger.INSERT_MOVEMENT, rows[i : i + GROUP])
            else:
                ledger.insert_movements(conn, rows[i : i + GROUP])
            conn.execute("COMMIT")
        conn.close()
        return len(rows) / (time.perf_counter() - t0)


def beside_busy_thread(rows: list[list], method: str) -> float:
    stop = threading.Event()

    def spin() -> None:
        while not stop.is_set():
            sum(range(1000))

    th = threading.Thread(target=spin)
    th.start()
    try:
        return insert(rows, method)
    finally:
        stop.set()
        th.join()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, default=20_000)
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()
    rows = make_rows(args.rows)
    print(f"{args.rows:,} ledger rows, {GROUP:,} per transaction, median of {args.runs} (rows/s)")
    for interval in (0.005, SWITCH_INTERVAL_S):
        sys.setswitchinterval(interval)
        res: dict[tuple[str, str], list[float]] = {}
        for _ in range(args.runs):
            for method in ("executemany", "sqlbulk"):
                res.setdefault((method, "alone"), []).append(insert(rows, method))
                res.setdefault((method, "busy"), []).append(beside_busy_thread(rows, method))
        med = {k: statistics.median(v) for k, v in res.items()}
        print(f"  switch interval {interval * 1000:g} ms")
        for where in ("alone", "busy"):
            em, sb = med[("executemany", where)], med[("sqlbulk", where)]
            print(
                f"    {where:<6} executemany {em:>9,.0f}   sqlbulk {sb:>9,.0f}   "
                f"sqlbulk / executemany = {sb / em:.1f}×"
            )


if __name__ == "__main__":
    main()
