#!/usr/bin/env python3
"""Reservation throughput through the HTTP API, with an oversell check after every run.

A central (ledger, engine, workflows; no broker needed) serves the API in a child process; a
load generator in other processes keeps `--connections` keep-alive HTTP/1.1 connections busy
with `POST /api/reservations` on loopback. Stock is sized so that about a third of the requests
find the SKU sold out (409): the check after each run is that, per SKU, granted ≤ stock, the
engine's reserved equals the ledger's open reservations, and no `available` is negative.

Usage: .venv/bin/python scripts/bench/bench_reservations.py [--requests 20000] [--runs 3]
       [--connections 64] [--procs 2] [--server waitress|werkzeug]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

SKUS = 200
SITE = "DC1"
BINS = ("DC1/A-01", "DC1/A-02", "DC1/B-01")
THREADS = int(os.environ.get("BENCH_THREADS", "64"))


def prepare(db: Path, stock_per_sku: int) -> str:
    """Items, bins, opening stock and a staff token in a fresh ledger; returns the token."""
    from central.access import tokens as auth
    from central.stock import importer, ledger

    items = db.parent / "items.csv"
    items.write_text(
        "sku,gtin,name,category,unit_cost\n"
        + "".join(f"S{i:04d},,item {i},bench,1\n" for i in range(SKUS))
    )
    stock = db.parent / "stock.csv"
    lines = []
    for i in range(SKUS):
        per_bin = [stock_per_sku // len(BINS)] * len(BINS)
        per_bin[0] += stock_per_sku - sum(per_bin)
        lines += [f"S{i:04d},{b},{q}\n" for b, q in zip(BINS, per_bin, strict=True)]
    stock.write_text("sku,loc,qty\n" + "".join(lines))
    import sqlite_utils

    d = sqlite_utils.Database(ledger.connect(db))
    importer.import_items(d, items)
    importer.import_locations_from(d, list(BINS))
    importer.import_stock(d, stock)
    token = auth.create_token(d.conn, "staff", "bench")
    d.conn.close()
    return token


def serve(db: str, server: str) -> None:
    """Child process: central's app on a free port; prints the port, serves until killed."""
    import logging

    from central.http.app import create_app
    from central.lifecycle import load_state, start
    from tallyman.net import free_port

    logging.basicConfig(level=logging.WARNING)
    state = load_state(db)
    start(state)  # the services' threads (the reservation desk), no broker
    app = create_app(state)
    port = free_port()
    print(port, flush=True)
    if server == "waitress":
        import waitress

        logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "queue depth" per request
        waitress.serve(app, host="127.0.0.1", port=port, threads=THREADS, _quiet=True)
    else:
        from werkzeug.serving import make_server

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        make_server("127.0.0.1", port, app, threaded=True).serve_forever()


async def _connection(port: int, token: str, jobs: list[bytes], stats: dict) -> None:
    """One client: keep-alive requests in sequence; reconnects if the server closes."""
    head = (
        "POST /api/reservations HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
    ).encode()
    reader = writer = None
    for body in jobs:
        if reader is None or reader.at_eof():
            if writer is not None:
                writer.close()
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        status_line = await reader.readuntil(b"\r\n")
        headers = await reader.readuntil(b"\r\n\r\n")
        i = headers.lower().find(b"content-length:")
        length = int(headers[i + 15 : headers.index(b"\r\n", i)])
        payload = await reader.readexactly(length)
        if b"connection: close" in headers.lower():
            writer.close()
            reader = None
        code = int(status_line[9:12])
        stats[code] = stats.get(code, 0) + 1
        if code == 201:
            res = json.loads(payload)
            stats.setdefault("granted", {}).setdefault(res["sku"], 0)
            stats["granted"][res["sku"]] += res["qty"]
    if writer is not None:
        writer.close()


def _load_process(port: int, token: str, jobs: list[list[bytes]], out: mp.Queue) -> None:
    async def main() -> dict:
        stats: dict = {}
        await asyncio.gather(*(_connection(port, token, j, stats) for j in jobs))
        return stats

    out.put(asyncio.run(main()))


def load(port: int, token: str, n: int, connections: int, procs: int, seed: int) -> dict:
    """Send n requests over `connections` keep-alive connections spread over `procs` processes."""
    import random

    rng = random.Random(seed)
    bodies = [
        json.dumps(
            {
                "sku": f"S{rng.randrange(SKUS):04d}",
                "site": SITE,
                "qty": rng.randint(1, 3),
                "channel": rng.choice(("store", "online", "group_buy")),
            }
        ).encode()
        for _ in range(n)
    ]
    per_conn = [bodies[i::connections] for i in range(connections)]
    out: mp.Queue = mp.Queue()
    ps = [
        mp.Process(target=_load_process, args=(port, token, per_conn[p::procs], out))
        for p in range(procs)
    ]
    t0 = time.perf_counter()
    for p in ps:
        p.start()
    parts = [out.get() for _ in ps]
    elapsed = time.perf_counter() - t0
    for p in ps:
        p.join()
    total: dict = {"granted": {}}
    for part in parts:
        for k, v in part.items():
            if k == "granted":
                for sku, q in v.items():
                    total["granted"][sku] = total["granted"].get(sku, 0) + q
            else:
                total[k] = total.get(k, 0) + v
    total["elapsed"] = elapsed
    return total


def check(db: Path, stats: dict, stock_per_sku: int) -> None:
    """No oversell: per SKU granted ≤ stock, the ledger agrees with what clients were told."""
    import sqlite3

    conn = sqlite3.connect(db)
    stored = dict(
        conn.execute("SELECT sku, sum(qty) FROM reservations WHERE status = 'active' GROUP BY sku")
    )
    allocated = conn.execute("SELECT coalesce(sum(qty), 0) FROM reservation_allocations").fetchone()
    conn.close()
    assert stored == stats["granted"], "the ledger and the clients disagree"
    assert allocated[0] == sum(stored.values())
    over = {s: q for s, q in stored.items() if q > stock_per_sku}
    assert not over, f"OVERSOLD: {over}"
    assert set(stats) <= {201, 409, "granted", "elapsed"}, f"unexpected answers: {stats}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--requests", type=int, default=20_000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--procs", type=int, default=2, help="load-generator processes")
    p.add_argument("--server", choices=("waitress", "werkzeug"), default="waitress")
    p.add_argument("--serve", nargs=2, metavar=("DB", "SERVER"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.serve:
        serve(*args.serve)
        return 0
    # about 2 units per request on average; stock covers ~2/3 of the demand
    stock_per_sku = max(3, int(args.requests * 2 * 0.66 / SKUS))
    rates = []
    for run in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "ledger.db"
            token = prepare(db, stock_per_sku)
            child = subprocess.Popen(
                [sys.executable, __file__, "--serve", str(db), args.server],
                stdout=subprocess.PIPE,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )
            try:
                port = int(child.stdout.readline())
                from tallyman.net import wait_port

                wait_port("127.0.0.1", port, 30, child)
                warm = load(port, token, 200, 8, 1, seed=999)  # warm-up: caches, threads
                stats = load(port, token, args.requests, args.connections, args.procs, seed=run)
            finally:
                child.terminate()
                child.wait(10)
            rate = (stats.get(201, 0) + stats.get(409, 0)) / stats["elapsed"]
            granted = _merge(stats["granted"], warm["granted"])  # both are in the ledger
            check(db, {**stats, "granted": granted}, stock_per_sku)
            rates.append(rate)
            print(
                f"run {run + 1}: {rate:,.0f} requests/s ({stats.get(201, 0)} granted, "
                f"{stats.get(409, 0)} sold out, {stats['elapsed']:.2f} s), no oversell"
            )
    print(
        f"reservations via HTTP ({args.server}, {args.connections} connections): "
        f"median {statistics.median(rates):,.0f} requests/s over {args.runs} runs"
    )
    return 0


def _merge(a: dict, b: dict) -> dict:
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, 0) + v
    return out


if __name__ == "__main__":
    sys.exit(main())
