"""`python -m central.planning.warmup`: fill Numba's on-disk cache with central's kernels.

Why: central's first planning pass on a fresh install used to spend ~35 of its ~42 seconds
compiling the forecast and planning kernels, holding the GIL while the ingest and the API
waited. The kernels are `cache=True`, so that cost is paid once per install (and again only
when a kernel's source changes); `scripts/setup` runs this module right after installing, so a
newcomer's first `scripts/demo` loads compiled kernels instead.

How: the demo's own sample catalogue in a temporary ledger, with eight weeks of sales and picks,
then the calls central makes: the stock engine rebuilt from the ledger, planning loaded, one
full pass, a batch of new movements folded in (the incremental alert path), a sweep, and the
API's KPI and forecast views. The same code paths give the same argument types, so exactly the
specialisations central asks for are compiled and cached.
"""

from __future__ import annotations

import argparse
import logging
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tallyman import sample

#: Items of the sample catalogue in the warm-up ledger (any number compiles the same kernels).
N_ITEMS = 24
#: Days of sales and picks before today.
DAYS = 56


def warm_up(folder: Path, n_items: int = N_ITEMS) -> dict[str, float]:
    """Run planning once over a small ledger in `folder`; returns seconds per step."""
    import numpy as np

    from central.planning import views
    from central.planning.service import PlanningService
    from central.stock.catalog import Catalog
    from central.stock.engine import StockEngine
    from central.stock.storage import open_storage

    laps: dict[str, float] = {}
    t0 = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t0
        now = time.perf_counter()
        laps[name] = round(now - t0, 2)
        t0 = now

    db = folder / "ledger.db"
    _sample_ledger(db, folder, n_items)
    storage = open_storage(db)
    try:
        catalog = Catalog().load(storage.reader())
        engine = StockEngine()
        engine.rebuild(storage.reader(), catalog.max_item_id, catalog.max_loc_id)
        lap("engine")
        svc = PlanningService(storage, engine, catalog)
        svc.load()
        svc.run_pass("warm-up")
        lap("planning_pass")
        sales = _movements(storage.reader(), days=1, seq0=10 * DAYS * n_items)
        with storage.tx() as conn:
            _insert(conn, sales)
        kinds = np.array([m["kind"] for m in sales])
        sku = np.array([m["sku_id"] for m in sales])
        loc = np.array([m["loc_id"] for m in sales])
        engine.apply(sku, loc, np.zeros_like(loc), kinds, np.array([m["qty"] for m in sales]))
        svc.process([], None)
        svc.sweep()
        lap("incremental_alerts")
        outcome = svc.latest
        assert outcome is not None, svc.error
        weeks = svc.settings.planning.kpi_weeks + 1  # another period: the summary is recomputed
        views.kpis(outcome, svc.conn(), svc.settings, weeks=weeks)
        views.forecasts(outcome, outcome.ix.sku_names[0])
        lap("views")
        svc.stop()
    finally:
        storage.close()
    return laps


def _sample_ledger(db: Path, folder: Path, n_items: int) -> None:
    """The demo's sample catalogue and opening stock, then `DAYS` days of sales at STORE1 and
    picks at DC1."""
    import sqlite_utils

    from central.stock import importer, ledger

    paths = sample.write_csvs(folder / "sample", n_items)
    conn = ledger.connect(db)
    try:
        sdb = sqlite_utils.Database(conn)
        importer.import_items(sdb, paths["items"])
        importer.import_locations(sdb, paths["locations"])
        importer.import_stock(sdb, paths["stock"])
        conn.execute("BEGIN IMMEDIATE")
        _insert(conn, _movements(conn, days=DAYS, seq0=0))
        conn.execute("COMMIT")
    finally:
        conn.close()


def _movements(conn: sqlite3.Connection, days: int, seq0: int) -> list[dict]:
    """A sale of each item at STORE1 and a pick at DC1 on each of the last `days` days."""
    from central.stock import ledger

    items = conn.execute("SELECT id, sku FROM items ORDER BY id").fetchall()
    bins = dict(conn.execute("SELECT loc, id FROM locations"))
    today = datetime.now(UTC)
    out, seq = [], seq0
    for back in range(days - 1, -1, -1):
        ts = (today - timedelta(days=back)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        for item_id, sku in items:
            for kind, loc in (("sale", "STORE1/SHELF"), ("pick", "DC1/A-01")):
                seq += 1
                qty = 1 + (item_id + back) % 3
                out.append(
                    {
                        "device": "warm-up",
                        "seq": seq,
                        "site": loc.split("/")[0],
                        "ts": ts,
                        "received_at": ts,
                        "type": kind,
                        "kind": ledger.TYPE_CODE[kind],
                        "sku": sku,
                        "sku_id": item_id,
                        "qty": qty,
                        "delta": -qty,
                        "loc": loc,
                        "loc_id": bins[loc],
                        "to_loc_id": 0,
                    }
                )
    return out


def _insert(conn: sqlite3.Connection, movements: list[dict]) -> None:
    from central.stock import ledger

    ledger.insert_movements(conn, [[m.get(c) for c in ledger.MOVEMENT_COLUMNS] for m in movements])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m central.planning.warmup",
        description="Compile central's Numba kernels into their on-disk cache (scripts/setup).",
    )
    parser.add_argument("--quiet", action="store_true", help="print nothing on success")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    t = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tallyman-warmup-") as tmp:
        laps = warm_up(Path(tmp))
    if not args.quiet:
        steps = ", ".join(f"{k} {v:.1f} s" for k, v in laps.items())
        print(f"kernels compiled and cached in {time.perf_counter() - t:.1f} s ({steps})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
