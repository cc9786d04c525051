#!/usr/bin/env python3
"""End-to-end ingest throughput: edge outbox → mosquitto → central ledger commit → ack.

Printed beside two baselines measured in the same run, as ratios:
- raw broker: a bare paho publisher → a bare paho subscriber, same payloads (same batching,
  QoS 1), nothing stored and nothing acknowledged;
- bare SQLite: the same rows inserted into the ledger's `movements` table (same unique index,
  WAL, synchronous=FULL, one commit per 1,000 rows), no broker and no validation.

Usage: .venv/bin/python scripts/bench/bench_ingest.py [--events 200000] [--devices 4] [--runs 3]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sqlite3
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

import paho.mqtt.client as mqtt  # noqa: E402
import sqlite_utils  # noqa: E402

from central.access.broker import BrokerDir  # noqa: E402
from central.stock import importer, ledger  # noqa: E402
from edge.delivery.outbox import Outbox  # noqa: E402
from tallyman import net, sample, wire  # noqa: E402
from tallyman.net import free_port, wait_port  # noqa: E402

BATCH = 1000
TYPES = ("receive", "pick", "sale", "return")


def make_events(device_index: int, n: int, items: list[sample.SampleItem]) -> list[dict]:
    ts = wire.now_ts()
    out = []
    for i in range(n):
        it = items[(i * 7 + device_index) % len(items)]
        out.append(
            {"ts": ts, "type": TYPES[i % 4], "gtin": it.gtin, "qty": 1 + i % 5, "loc": "DC1/A-01"}
        )
    return out


def prepare(tmp: Path, devices: int, per_device: int) -> tuple[BrokerDir, Path, list[str]]:
    broker = BrokerDir(tmp / "broker", port=free_port())
    broker.init()
    urls = [broker.add_device(f"hh-{d}", "DC1") for d in range(devices)]
    paths = sample.write_csvs(tmp / "sample", 300)
    db = tmp / "ledger.db"
    sdb = sqlite_utils.Database(ledger.connect(db))
    importer.import_items(sdb, paths["items"])
    importer.import_locations(sdb, paths["locations"])
    sdb.conn.close()
    items = sample.items(300)
    for d in range(devices):
        box = Outbox(tmp / f"hh-{d}.outbox", synchronous="NORMAL")
        box.append_many(make_events(d, per_device, items))
        box.close()
    return broker, db, urls


def queue_total(tmp: Path, devices: int) -> int:
    total = 0
    for d in range(devices):
        with contextlib.closing(sqlite3.connect(tmp / f"hh-{d}.outbox", timeout=30)) as c:
            total += c.execute("SELECT count(*) FROM outbox").fetchone()[0]
    return total


def wait_started(api: str, timeout: float = 120) -> None:
    """Until central's start-up planning pass is done: the target is *sustained* throughput, so
    the one-off warm-up (Numba cache loads, the first full pass) stays out of the window."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"{api}/planning/status", timeout=10) as r:
            if json.loads(r.read()).get("last_pass"):
                return
        time.sleep(0.05)
    raise TimeoutError("central's first planning pass did not finish")


def applied(api: str) -> int:
    with urllib.request.urlopen(f"{api}/health", timeout=10) as r:
        return json.loads(r.read())["movements_applied"]


def run_pipeline(devices: int, per_device: int) -> float:
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        broker, db, urls = prepare(tmp, devices, per_device)
        procs = [broker.start()]
        try:
            port = free_port()
            central = subprocess.Popen(
                [sys.executable, "-m", "tallyman.launch.cli", "central", "--db", str(db)]
                + ["--broker", broker.url("central", (broker.path / "central.secret").read_text())]
                + ["--http", f"127.0.0.1:{port}"],
                stdout=subprocess.DEVNULL,
                stderr=open(tmp / "central.log", "wb"),  # noqa: SIM115
            )
            procs.append(central)
            wait_port("127.0.0.1", port, 60, central)
            api = f"http://127.0.0.1:{port}/api"
            wait_started(api)
            base = applied(api)
            for d in range(devices):
                procs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "tallyman.launch.cli", "edge", "--device", f"hh-{d}"]
                        + ["--site", "DC1", "--broker", urls[d], "--outbox"]
                        + [str(tmp / f"hh-{d}.outbox"), "--batch", str(BATCH)],
                        stdout=subprocess.DEVNULL,
                        stderr=open(tmp / f"hh-{d}.log", "wb"),  # noqa: SIM115
                    )
                )
            while applied(api) == base:
                time.sleep(0.005)
            t0 = time.perf_counter()
            while queue_total(tmp, devices):
                time.sleep(0.02)
            elapsed = time.perf_counter() - t0
            total = applied(api) - base
            assert total == devices * per_device, (total, devices * per_device)
            return total / elapsed
        finally:
            for p in reversed(procs):
                p.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    p.wait(10)


def run_raw_broker(devices: int, per_device: int) -> float:
    """Bare paho: the same payloads, publisher → subscriber through the same mosquitto."""
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        broker = BrokerDir(tmp / "broker", port=free_port())
        central_url = broker.init()
        proc = broker.start()
        try:
            host, port, user, pw = net.parse_broker_url(central_url)
            items = sample.items(300)
            payloads = []
            for d in range(devices):
                evs = make_events(d, per_device, items)
                for i in range(0, per_device, BATCH):
                    chunk = [{"seq": i + j + 1, **e} for j, e in enumerate(evs[i : i + BATCH])]
                    payloads.append(wire.encode_movements("DC1", f"hh-{d}", chunk))
            expected = len(payloads)
            got = threading.Event()
            count = [0]

            def on_message(c, u, m):
                count[0] += 1
                if count[0] == expected:
                    got.set()

            sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="raw-sub")
            sub.username_pw_set(user, pw)
            sub.on_message = on_message
            sub.connect(host, port)
            sub.subscribe(wire.MOVEMENTS_SUBSCRIPTION, qos=1)
            sub.loop_start()
            time.sleep(0.3)
            script = (
                "import sys,pickle,paho.mqtt.client as m\n"
                "host,port,user,pw,payloads=pickle.load(sys.stdin.buffer)\n"
                "c=m.Client(m.CallbackAPIVersion.VERSION2,client_id='raw-pub')\n"
                "c.username_pw_set(user,pw);c.max_inflight_messages_set(50)\n"
                "c.connect(host,port);c.loop_start()\n"
                "sys.stdout.write('ready\\n');sys.stdout.flush();sys.stdin.buffer.read(1)\n"
                "infos=[c.publish(t,p,qos=1) for t,p in payloads]\n"
                "[i.wait_for_publish() for i in infos]\n"
            )
            import pickle

            pub = subprocess.Popen(
                [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE
            )
            topics = [
                (wire.movements_topic("DC1", f"hh-{i // (expected // devices)}"), p)
                for i, p in enumerate(payloads)
            ]
            pub.stdin.write(pickle.dumps((host, port, user, pw, topics)))
            pub.stdin.flush()
            pub.stdout.readline()
            t0 = time.perf_counter()
            pub.stdin.write(b"g")
            pub.stdin.flush()
            assert got.wait(300), f"raw subscriber got {count[0]} of {expected}"
            elapsed = time.perf_counter() - t0
            pub.wait(30)
            sub.loop_stop()
            sub.disconnect()
            return devices * per_device / elapsed
        finally:
            proc.terminate()
            proc.wait(10)


def run_sqlite(devices: int, per_device: int) -> float:
    with tempfile.TemporaryDirectory() as tmp_s:
        conn = ledger.connect(Path(tmp_s) / "bare.db")
        ts = wire.now_ts()
        rows = [
            [f"hh-{d}", s, "DC1", ts, ts, "receive", 4, "SKU00001", 1, None, None, None, None]
            + [1, 1, "DC1/A-01", 1, None, 0, None, None, None]
            for d in range(devices)
            for s in range(1, per_device + 1)
        ]
        t0 = time.perf_counter()
        for i in range(0, len(rows), BATCH):
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(ledger.INSERT_MOVEMENT, rows[i : i + BATCH])
            conn.execute("COMMIT")
        return len(rows) / (time.perf_counter() - t0)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--events", type=int, default=200_000)
    p.add_argument("--devices", type=int, default=4)
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()
    per = args.events // args.devices
    results: dict[str, list[float]] = {"pipeline": [], "raw broker": [], "bare sqlite": []}
    for _ in range(args.runs):
        results["pipeline"].append(run_pipeline(args.devices, per))
        results["raw broker"].append(run_raw_broker(args.devices, per))
        results["bare sqlite"].append(run_sqlite(args.devices, per))
    med = {k: statistics.median(v) for k, v in results.items()}
    n = per * args.devices
    print(
        f"{n:,} movements from {args.devices} devices, {BATCH} per message, median of {args.runs}"
    )
    for k, v in results.items():
        runs = ", ".join(f"{x:,.0f}" for x in v)
        print(f"  {k:<12} {med[k]:>10,.0f} movements/s   (runs: {runs})")
    print(f"  pipeline / raw broker  = {med['pipeline'] / med['raw broker']:.2f}")
    print(f"  pipeline / bare sqlite = {med['pipeline'] / med['bare sqlite']:.2f}")
    print("  target: pipeline ≥ 50,000 movements/s sustained")


if __name__ == "__main__":
    main()
