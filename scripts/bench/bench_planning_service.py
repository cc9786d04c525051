"""Benchmark: planning through central's own code path — batches of movements committed by the
real ingest, folded by the PlanningService's alert worker (history, engine stock per site,
alerts of the touched SKU × sites, SQLite save, MQTT payloads), and a full pass through the
service.

    .venv/bin/python scripts/bench/bench_planning_service.py                # 50,000 SKUs × 20 sites
    .venv/bin/python scripts/bench/bench_planning_service.py --skus 5000    # a quick run

What is timed (issue target: alerts for the touched series current ≤ 100 ms after a batch of
10,000 movements):

* **latency** — from the ingest's commit handing the batch to its subscribers until the alert
  changes are saved (own connection, own transaction) and published; measured by the service
  itself (`Stats.latency`), with the worker thread that runs in central;
* **compute** — the part before the SQLite save: history update, engine stock per site of the
  touched SKUs, `refresh_alerts`.

Set-up, not timed: a ledger with the item and location master data, the engine filled with
random stock, and a year of synthetic demand history (central/planning/synthetic.py) in place
of loading one from a ledger of ~100 million rows. MQTT publishing goes to a no-op (the payloads
are still built); the periodic sweep is off while batches are timed and timed on its own.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from central.ingest.pipeline import Ingest  # noqa: E402
from central.planning.core import epoch_day  # noqa: E402
from central.planning.core.synthetic import synthetic_network  # noqa: E402
from central.planning.service import PlanningService, settle_memory  # noqa: E402
from central.planning.settings import CentralPlanning, Settings  # noqa: E402
from central.stock import ledger  # noqa: E402
from central.stock.catalog import Catalog  # noqa: E402
from central.stock.engine import StockEngine  # noqa: E402
from central.stock.storage import open_storage  # noqa: E402
from tallyman import wire  # noqa: E402

TYPES = ("sale", "sale", "sale", "pick", "receive", "transfer_out")


def build_ledger(db: Path, n_skus: int, n_sites: int, bins: int) -> list[str]:
    conn = ledger.connect(db)
    with conn:
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO items (sku, name, category, unit_cost, supplier, lead_time_days) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [
                (f"SKU{i:07d}", f"item {i}", f"cat{i % 8}", 1.0 + i % 50, f"SUP{i % 200:04d}",
                 float(2 + i % 13))
                for i in range(n_skus)
            ],
        )  # fmt: skip
        sites = ["DC1"] + [f"STORE{j:02d}" for j in range(1, n_sites)]
        conn.executemany(
            "INSERT INTO locations (loc, site, kind) VALUES (?, ?, ?)",
            [
                (f"{s}/B{b:02d}", s, "dc" if s == "DC1" else None)
                for s in sites
                for b in range(bins)
            ],
        )
    conn.close()
    return sites


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skus", type=int, default=50_000)
    ap.add_argument("--sites", type=int, default=20)
    ap.add_argument("--bins", type=int, default=5, help="locations per site")
    ap.add_argument("--batches", type=int, default=20)
    ap.add_argument("--batch-size", type=int, default=10_000)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    tmp = tempfile.TemporaryDirectory()
    db = Path(tmp.name) / "ledger.db"
    t = time.perf_counter()
    sites = build_ledger(db, args.skus, args.sites, args.bins)
    storage = open_storage(db)
    catalog = Catalog().load(storage.reader())
    engine = StockEngine()
    engine.ensure(catalog.max_item_id, catalog.max_loc_id)
    rng = np.random.default_rng(3)
    engine.on_hand[1:, 1:] = rng.integers(0, 12, engine.on_hand[1:, 1:].shape)
    engine.reserved[1:, 1:] = rng.integers(0, 2, engine.reserved[1:, 1:].shape)
    settings = Settings(central=CentralPlanning(sweep_s=0.0, interval_s=1e9))
    svc = PlanningService(storage, engine, catalog, settings)
    state = svc.load()
    today = epoch_day(wire.now_ts())
    hist, _, _ = synthetic_network(args.skus, args.sites, days=365, today=today)
    assert hist.n_series == state.ix.n_series
    state.history = hist
    ingest = Ingest(storage, engine, catalog, lambda topic, payload: None)
    svc.attach(ingest, lambda topic, payload, retain: None)
    setup_s = time.perf_counter() - t
    print(
        f"{args.skus:,} SKUs × {args.sites} sites ({state.ix.n_series:,} series), "
        f"{len(catalog.loc_id)} locations; set-up {setup_s:.1f} s; "
        f"threads {os.environ.get('NUMBA_NUM_THREADS', 'default')}, "
        f"load {os.getloadavg()[0]:.1f}"
    )

    # a full pass through the service (forecast … KPIs, alert book over every series, save)
    svc.stats.latency.clear()
    t = time.perf_counter()
    summary = svc.run_pass("bench")
    full_s = time.perf_counter() - t
    print(
        f"full pass through the service: {full_s:.2f} s "
        f"(plan() {sum(summary['timings'].values()):.2f} s; alerts {summary['alert_changes']}, "
        f"{summary['proposal_lines']:,} proposal lines)"
    )
    print("  stages (s): " + ", ".join(f"{k} {v:.2f}" for k, v in summary["stages"].items()))
    t = time.perf_counter()
    again = svc.run_pass("bench")
    again_s = time.perf_counter() - t
    print(
        f"second pass (alerts {again['alert_changes'] or 'unchanged'}): {again_s:.2f} s; "
        f"alert update under the lock {again['stages']['alerts_locked'] * 1000:.0f} ms"
    )
    t = time.perf_counter()
    svc.sweep()
    sweep_ms = 1000 * (time.perf_counter() - t)
    print(f"one sweep over every series (nothing moved): {sweep_ms:.1f} ms")

    settle_memory()  # as central's pass thread does after its first pass
    svc._ready.set()  # the pass thread is not running here: let the alert worker start
    threading.Thread(target=svc._work, name="planning-alerts", daemon=True).start()
    seqs = {s: 0 for s in sites}
    commit = []
    for _ in range(args.batches):
        items = []
        per_site = args.batch_size // len(sites)
        now = wire.now_ts()
        for s in sites:
            events = []
            for _k in range(per_site):
                seqs[s] += 1
                typ = TYPES[rng.integers(0, len(TYPES))]
                ev = {
                    "seq": seqs[s],
                    "ts": now,
                    "type": typ,
                    "sku": f"SKU{int(rng.integers(0, args.skus)):07d}",
                    "qty": int(rng.integers(1, 6)),
                    "loc": f"{s}/B{int(rng.integers(0, args.bins)):02d}",
                }
                if typ == "transfer_out":
                    dst = sites[int(rng.integers(0, len(sites)))]
                    ev["to_loc"] = f"{dst}/B00"
                events.append(ev)
            dev = f"hh-{s}"
            items.append(
                ("msg", wire.movements_topic(s, dev), wire.encode_movements(s, dev, events))
            )
        before = svc.stats.batches
        t = time.perf_counter()
        ingest.process(items)
        commit.append(time.perf_counter() - t)
        deadline = time.monotonic() + 30
        while svc.stats.batches == before and time.monotonic() < deadline:
            time.sleep(0.001)
    svc.stop()
    lat = [1000 * x for x in svc.stats.latency]
    comp = [1000 * x for x in svc.stats.compute]
    print(
        f"incremental, {per_site * len(sites):,} movements per batch, {len(lat)} batches: "
        f"commit → alerts saved and published median {statistics.median(lat):.1f} ms "
        f"(max {max(lat):.1f}; target ≤ 100 ms); of which history + stock + alerts median "
        f"{statistics.median(comp):.1f} ms (max {max(comp):.1f}); ingest commit itself "
        f"median {1000 * statistics.median(commit):.0f} ms"
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "series": state.ix.n_series,
                    "full_pass_s": full_s,
                    "full_pass_stages_s": summary["stages"],
                    "second_pass_s": again_s,
                    "second_pass_stages_s": again["stages"],
                    "sweep_ms": sweep_ms,
                    "latency_ms": lat,
                    "compute_ms": comp,
                    "latency_ms_median": statistics.median(lat),
                    "compute_ms_median": statistics.median(comp),
                },
                indent=2,
            )
        )
    tmp.cleanup()


if __name__ == "__main__":
    main()
