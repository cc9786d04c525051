"""`tallyman plan --db PATH [--config FILE] [--json]`: one full planning pass, offline.

Why read-only: a running central owns the alert tables and the draft purchase orders; this
command rebuilds stock from the ledger (engine, open reservations, open POs), runs the same
pass central runs and prints what it found — alerts with their tiers, proposals, transfers,
slow movers, KPIs — without writing to the ledger file or publishing anything.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time
from pathlib import Path

from central.planning.inputs import table_exists
from central.planning.service import PlanningService
from central.planning.settings import load_settings
from central.planning.views import kpis, proposals, slow_movers, transfers
from central.stock import ledger
from central.stock.catalog import Catalog
from central.stock.engine import StockEngine


def rebuild_engine(conn: sqlite3.Connection) -> tuple[StockEngine, Catalog]:
    """Stock as central holds it: the ledger replayed, plus what workflows keep beside it
    (reserved from open reservation allocations, on order from approved and sent POs)."""
    catalog = Catalog().load(conn)
    engine = StockEngine()
    engine.rebuild(conn, catalog.max_item_id, catalog.max_loc_id)
    if table_exists(conn, "reservation_allocations"):
        for item_id, loc_id, qty in conn.execute(
            "SELECT item_id, loc_id, qty FROM reservation_allocations"
        ):
            engine.add_reserved(item_id, loc_id, qty)
    if table_exists(conn, "purchase_orders"):
        from central.workflows.purchase_orders import load_on_order

        load_on_order(conn, engine)
    return engine, catalog


def report(svc: PlanningService, pass_summary: dict) -> dict:
    o = svc.latest
    book = svc.state.book
    alerts = book.open_alerts()
    return {
        "summary": pass_summary,
        "alerts": alerts,
        "proposals": proposals(o),
        "transfers": transfers(o),
        "slow_movers": slow_movers(o),
        "kpis": kpis(o, svc.conn(), svc.settings, groups=("total", "site")),
    }


def _print(doc: dict) -> None:
    s = doc["summary"]
    print(
        f"planning pass over {s['series']:,} SKU × site series, today {s['today']}, "
        f"{s['seconds']:.2f} s"
    )
    tiers: dict[str, int] = {}
    for a in doc["alerts"]:
        tiers[a["tier"]] = tiers.get(a["tier"], 0) + 1
    print(
        "alerts: "
        + (", ".join(f"{tiers.get(t, 0)} {t}" for t in ("red", "orange", "yellow")) or "none")
    )
    for a in doc["alerts"][:10]:
        print(
            f"  {a['tier']:<6} {a['sku']} @ {a['site']}: position {a['position']:g} "
            f"vs safety stock {a['safety_stock']:.1f} → {a['action']}"
        )
    props = doc["proposals"]
    print(
        f"proposals: {len(props['proposals'])} draft PO(s); "
        f"{len(props['covered_by_open_orders'])} need(s) covered by open orders; "
        f"{len(props['unsourced'])} without a supplier"
    )
    for d in props["proposals"][:10]:
        print(
            f"  {d['supplier']}: {len(d['lines'])} line(s), {d['total_qty']:g} units, "
            f"value {d['total_value']:.2f}"
        )
    print(f"transfer suggestions: {len(doc['transfers'])}")
    for t in doc["transfers"][:10]:
        print(f"  {t['sku']}: {t['qty']:g} from {t['from_site']} to {t['to_site']}")
    print(f"slow movers: {len(doc['slow_movers'])}")
    total = doc["kpis"]["total"][0] if doc["kpis"]["total"] else {}
    if total:
        print(
            f"KPIs over {doc['kpis']['period_days']} days: inventory value "
            f"{total['inventory_value']:.2f}, turnover {total['turnover'] or 0:.2f}, "
            f"stockout rate {total['stockout_rate'] or 0:.1%}"
        )


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="tallyman plan", description=__doc__.splitlines()[0])
    p.add_argument("--db", required=True, help="central's ledger SQLite file")
    p.add_argument("--config", help="planning TOML (as `tallyman central --planning-config`)")
    p.add_argument("--json", action="store_true", help="print the full result as JSON")
    args = p.parse_args(argv)
    if not Path(args.db).exists():
        print(f"tallyman plan: no ledger at {args.db}", file=sys.stderr)
        return 1
    try:
        settings = load_settings(args.config)
    except (OSError, ValueError) as exc:
        print(f"tallyman plan: {args.config}: {exc}", file=sys.stderr)
        return 1
    t0 = time.perf_counter()
    conn = ledger.reader(args.db)
    engine, catalog = rebuild_engine(conn)
    conn.close()
    svc = PlanningService(args.db, engine, catalog, settings, read_only=True)
    svc.load()
    summary = svc.run_pass("cli")
    if svc.latest is None:
        print("tallyman plan: nothing to plan (no items or no locations)", file=sys.stderr)
        return 1
    doc = report(svc, summary)
    doc["summary"]["wall_seconds"] = round(time.perf_counter() - t0, 3)
    if args.json:
        json.dump(doc, sys.stdout, indent=1, default=float)
        print()
    else:
        _print(doc)
    return 0


from tallyman.console import passthrough as _passthrough  # noqa: E402

command = _passthrough(main, "plan")
