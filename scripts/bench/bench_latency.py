#!/usr/bin/env python3
"""Scan-to-visible latency: a scan written on a stub scanner's pty until /api/stock shows it.

20 real edge processes (each with its own pty scanner, outbox and broker login), one central,
one mosquitto; scans arrive at a steady 500/s spread over the 20 devices. Each device receives
its own SKU one unit at a time, so the on-hand of that SKU says how many of its scans are
visible; a poller reads /api/stock continuously. The poll interval bounds the resolution.

Printed beside the same measurement's floor, the poller's own round trip, and as a ratio to the
200 ms p99 budget.

Usage: .venv/bin/python scripts/bench/bench_latency.py [--rate 500] [--devices 20] [--seconds 20]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ["PATH"] = f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}:/usr/sbin"

import sqlite_utils  # noqa: E402

from central.access.broker import BrokerDir  # noqa: E402
from central.stock import importer, ledger  # noqa: E402
from firmware_stubs.barcode import BarcodeScannerStub  # noqa: E402
from tallyman import sample  # noqa: E402
from tallyman.net import free_port, wait_port  # noqa: E402
from tallyman.wire import parse_ts  # noqa: E402

BIN = "DC1/BENCH"


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--rate", type=float, default=500.0, help="scans per second, all devices")
    p.add_argument("--devices", type=int, default=20)
    p.add_argument("--seconds", type=float, default=20.0)
    args = p.parse_args()
    items = sample.items(args.devices)
    procs: list[subprocess.Popen] = []
    stubs: list[BarcodeScannerStub] = []
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        try:
            broker = BrokerDir(tmp / "broker", port=free_port())
            central_url = broker.init()
            paths = sample.write_csvs(tmp / "sample", args.devices)
            db = tmp / "ledger.db"
            sdb = sqlite_utils.Database(ledger.connect(db))
            importer.import_items(sdb, paths["items"])
            importer.import_locations_from(sdb, [BIN])
            sdb.conn.close()
            procs.append(broker.start())
            port = free_port()
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "tallyman.launch.cli", "central", "--db", str(db)]
                    + ["--broker", central_url, "--http", f"127.0.0.1:{port}"],
                    stdout=subprocess.DEVNULL,
                    stderr=open(tmp / "central.log", "wb"),  # noqa: SIM115
                )
            )
            wait_port("127.0.0.1", port, 60, procs[-1])
            for d in range(args.devices):
                url = broker.add_device(f"hh-{d:02d}", "DC1")
                stub = BarcodeScannerStub(link=str(tmp / f"scanner-{d}"))
                stubs.append(stub)
                procs.append(
                    subprocess.Popen(
                        [
                            sys.executable,
                            "-m",
                            "tallyman.launch.cli",
                            "edge",
                            "--device",
                            f"hh-{d:02d}",
                        ]
                        + ["--site", "DC1", "--broker", url, "--outbox", str(tmp / f"{d}.db")]
                        + ["--barcode", stub.path],
                        stdout=subprocess.DEVNULL,
                        stderr=open(tmp / f"edge-{d}.log", "wb"),  # noqa: SIM115
                    )
                )
            for stub in stubs:
                assert stub.wait_for_host(60)
                assert stub.scan_and_wait(f"LOC:{BIN}", timeout=10) is not None
                assert stub.scan_and_wait("MODE:RECEIVE", timeout=10) is not None
            api = f"http://127.0.0.1:{port}/api/stock?loc={BIN}"
            sku_dev = {it.sku: d for d, it in enumerate(items)}
            sent: list[list[float]] = [[] for _ in stubs]
            seen: list[list[float]] = [[] for _ in stubs]
            stop = threading.Event()
            rtts: list[float] = []

            def poll() -> None:
                while not stop.is_set():
                    t0 = time.perf_counter()
                    with urllib.request.urlopen(api, timeout=10) as r:
                        rows = json.loads(r.read())["rows"]
                    t1 = time.perf_counter()
                    rtts.append(t1 - t0)
                    for row in rows:
                        d = sku_dev[row["sku"]]
                        while len(seen[d]) < row["on_hand"]:
                            seen[d].append(t1)
                    time.sleep(0.002)

            poller = threading.Thread(target=poll, daemon=True)
            poller.start()
            n = int(args.rate * args.seconds)
            t_start = time.perf_counter()
            for i in range(n):
                due = t_start + i / args.rate
                now = time.perf_counter()
                if due > now:
                    time.sleep(due - now)
                d = i % len(stubs)
                sent[d].append(time.perf_counter())
                stubs[d].scan(f"]C101{items[d].gtin}21{i}")
                if i % len(stubs) == 0:
                    for stub in stubs:
                        stub.drain()
            deadline = time.perf_counter() + 30
            while time.perf_counter() < deadline and any(
                len(seen[d]) < len(sent[d]) for d in range(len(stubs))
            ):
                time.sleep(0.05)
                for stub in stubs:
                    stub.drain()
            stop.set()
            poller.join(5)
            lat = [
                (seen[d][k] - sent[d][k]) * 1000
                for d in range(len(stubs))
                for k in range(min(len(sent[d]), len(seen[d])))
            ]
            missing = sum(len(sent[d]) - len(seen[d]) for d in range(len(stubs)))
            achieved = n / (sent[-1][-1] - t_start) if sent[-1] else 0
            p99 = percentile(lat, 0.99)
            print(
                f"{len(lat):,} scans over {len(stubs)} devices at {achieved:.0f} scans/s "
                f"({missing} not visible within 30 s)"
            )
            print(
                f"  scan→visible  p50 {percentile(lat, 0.5):6.1f} ms   "
                f"p95 {percentile(lat, 0.95):6.1f} ms   p99 {p99:6.1f} ms   max {max(lat):.0f} ms"
            )
            print(f"  poller round trip (floor) median {statistics.median(rtts) * 1000:.1f} ms")
            with contextlib.closing(ledger.reader(db)) as conn:
                hops = [
                    (parse_ts(r) - parse_ts(t)).total_seconds() * 1000
                    for t, r in conn.execute(
                        "SELECT ts, received_at FROM movements WHERE device LIKE 'hh-%'"
                    )
                ]
            print(
                f"  of which edge event → central received: p50 {percentile(hops, 0.5):.1f} ms"
                f"   p99 {percentile(hops, 0.99):.1f} ms"
            )
            print(f"  p99 / 200 ms budget = {p99 / 200:.2f}")
        finally:
            for proc in reversed(procs):
                proc.terminate()
            for proc in procs:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(10)
            for stub in stubs:
                stub.close()


if __name__ == "__main__":
    main()
