#!/usr/bin/env python3
"""Central's resident memory with 100,000 SKUs × 100 locations, as a real `tallyman central`.

Baseline printed beside it: the engine's own arrays (4 measures × items × locations × 8 bytes),
so the ratio shows what the rest of central (Python, Flask, paho, planning, workflows) costs.

Usage: .venv/bin/python scripts/bench/bench_central_memory.py [--items 100000] [--locations 100]
       [--movements 1000000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ["PATH"] = f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}:/usr/sbin"

from central.access.broker import BrokerDir  # noqa: E402
from central.stock import ledger  # noqa: E402
from tallyman.net import free_port, wait_port  # noqa: E402
from tallyman.wire import gtin14  # noqa: E402


def rss_mb(pid: int) -> tuple[float, float]:
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--items", type=int, default=100_000)
    p.add_argument("--locations", type=int, default=100)
    p.add_argument("--movements", type=int, default=1_000_000)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        db = tmp / "ledger.db"
        conn = ledger.connect(db)
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO items (id, sku, gtin, name, category, unit_cost, supplier) "
            "VALUES (?, ?, ?, ?, 'grocery', 1.0, 'S1')",
            (
                (i, f"SKU{i:06d}", gtin14(f"04{i:010d}"), f"item {i}")
                for i in range(1, args.items + 1)
            ),
        )
        sites = 10
        per_site = args.locations // sites
        conn.executemany(
            "INSERT INTO locations (id, loc, site, kind) VALUES (?, ?, ?, 'bin')",
            (
                (s * per_site + b + 1, f"S{s}/B{b}", f"S{s}")
                for s in range(sites)
                for b in range(per_site)
            ),
        )
        rng = np.random.default_rng(1)
        n = args.movements
        sku = rng.integers(1, args.items + 1, n)
        loc = rng.integers(1, args.locations + 1, n)
        qty = rng.integers(1, 10, n)
        kind = ledger.TYPE_CODE["receive"]
        conn.executemany(
            "INSERT INTO movements (device, seq, site, ts, received_at, type, kind, sku, sku_id, "
            "qty, delta, loc, loc_id, to_loc_id) VALUES ('bench', ?, 'S0', "
            "'2026-11-01T00:00:00Z', '', 'receive', ?, '', ?, ?, ?, '', ?, 0)",
            (
                (i + 1, kind, int(s), int(q), int(q), int(c))
                for i, (s, c, q) in enumerate(zip(sku, loc, qty, strict=True))
            ),
        )
        cols = np.stack([sku, loc, np.zeros(n, np.int64), np.full(n, kind), qty], axis=1)
        for b in range(0, n, 5000):
            ledger.write_block(conn, b + 1, cols[b : b + 5000])
        conn.execute("COMMIT")
        conn.close()
        broker = BrokerDir(tmp / "broker", port=free_port())
        url = broker.init()
        bproc = broker.start()
        port = free_port()
        t0 = time.perf_counter()
        central = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tallyman.launch.cli",
                "central",
                "--db",
                str(db),
                "--broker",
                url,
            ]
            + ["--http", f"127.0.0.1:{port}"],
            stdout=subprocess.DEVNULL,
            stderr=open(tmp / "central.log", "wb"),  # noqa: SIM115
        )
        try:
            wait_port("127.0.0.1", port, 300, central)
            ready = time.perf_counter() - t0
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=30) as r:
                applied = json.loads(r.read())["movements_applied"]
            time.sleep(20)  # let the first planning pass run
            rss, peak = rss_mb(central.pid)
            engine_mb = 4 * (args.items + 1) * (args.locations + 1) * 8 / 2**20
            print(
                f"central with {args.items:,} SKUs × {args.locations} locations, "
                f"{applied:,} movements replayed, API up after {ready:.1f} s"
            )
            print(f"  resident {rss:.0f} MB, peak {peak:.0f} MB (target < 1,536 MB)")
            print(
                f"  engine arrays alone {engine_mb:.0f} MB: "
                f"central / arrays = {peak / engine_mb:.1f}×"
            )
        finally:
            central.terminate()
            central.wait(30)
            bproc.terminate()
            bproc.wait(10)


if __name__ == "__main__":
    main()
