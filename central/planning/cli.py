"""`tallyman plan …`: a planning pass offline, and what a running central's planning found.

`tallyman plan run --db PATH` is read-only: a running central owns the alert tables and the
draft purchase orders; this command rebuilds stock from the ledger (engine, open reservations,
open POs), runs the same pass central runs and prints what it found (alerts with their tiers,
proposals, transfers, slow movers, KPIs) without writing to the ledger file or publishing
anything. The other commands ask a running central's API (`--api`, `--token`), so that a
person needs no curl for alerts, proposals and transfer suggestions.

Why the heavy imports sit inside `run`: `tallyman plan --help` must not load NumPy and Numba.
The tiers and statuses are written out here for the same reason; a test checks they agree with
planning's own.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import click

from tallyman.console import (
    api_call,
    api_options,
    emit,
    fail,
    json_option,
    keep_api,
    table,
)

if TYPE_CHECKING:
    from central.planning.service import PlanningService
    from central.stock.catalog import Catalog
    from central.stock.engine import StockEngine

TIERS = ("yellow", "orange", "red")
ALERT_STATUSES = ("open", "closed", "false", "all")
ALERT_COLUMNS = (
    "id", "tier", "sku", "site", "status", "action", "position", "safety_stock", "updated_ts"
)  # fmt: skip
PROPOSAL_COLUMNS = ("key", "supplier", "lines", "total_qty", "total_value", "po_number")
#: A proposal line and the numbers it came from (its `basis`), one row each.
LINE_COLUMNS = (
    "supplier", "sku", "site", "qty", "demand_per_day", "sigma_per_day", "lead_days",
    "safety_stock", "position", "order_before_rounding", "moq", "pack_size",
)  # fmt: skip
SUGGESTION_COLUMNS = (
    "sku", "from_site", "to_site", "qty", "lane_days", "cost", "demand_per_day",
    "safety_stock", "alert_position", "position", "need", "surplus",
)  # fmt: skip
LEAD_TIME_COLUMNS = (
    "supplier", "lead_days", "lead_sd_days", "source", "orders", "master_days", "below_floor",
    "outliers",
)  # fmt: skip


def rebuild_engine(conn: sqlite3.Connection) -> tuple[StockEngine, Catalog]:
    """Stock as central holds it: the ledger replayed, plus what workflows keep beside it
    (reserved from open reservation allocations, on order from approved and sent POs)."""
    from central.planning.inputs import table_exists
    from central.stock.catalog import Catalog
    from central.stock.engine import StockEngine

    catalog = Catalog().load(conn)
    engine = StockEngine()
    engine.rebuild(conn, catalog.max_item_id, catalog.max_loc_id)
    if table_exists(conn, "reservation_allocations"):
        from central.workflows.reservations import load_reserved

        load_reserved(conn, engine)
    if table_exists(conn, "purchase_orders"):
        from central.workflows.purchase_orders import load_on_order

        load_on_order(conn, engine)
    return engine, catalog


def report(svc: PlanningService, pass_summary: dict) -> dict:
    from central.planning.views import finite, kpis, lead_times, proposals, slow_movers, transfers

    o = svc.latest
    book = svc.state.book
    alerts = book.open_alerts()
    return finite(
        {
            "summary": pass_summary,
            "alerts": alerts,
            "proposals": proposals(o),
            "transfers": transfers(o),
            "slow_movers": slow_movers(o),
            "kpis": kpis(o, svc.conn(), svc.settings, groups=("total", "site")),
            "lead_times": lead_times(o),
        }
    )


def proposal_lines(proposals: list[dict]) -> list[dict]:
    """Each line of each proposal with the numbers it came from, flat (a table row)."""
    return [
        {"supplier": d["supplier"], **line, **line.get("basis", {})}
        for d in proposals
        for line in d.get("lines", [])
    ]


def suggestion_rows(rows: list[dict]) -> list[dict]:
    """Transfer suggestions with the receiving site's need and the giver's surplus, flat."""
    out = []
    for r in rows:
        basis = r.get("basis", {})
        to, giver = basis.get("to", {}), basis.get("from", {})
        out.append({**r, **to, "surplus": giver.get("surplus"), "qty": r["qty"]})
    return out


def print_report(doc: dict) -> None:
    s = doc["summary"]
    click.echo(
        f"planning pass over {s['series']:,} SKU × site series, today {s['today']}, "
        f"{s['seconds']:.2f} s"
    )
    tiers: dict[str, int] = {}
    for a in doc["alerts"]:
        tiers[a["tier"]] = tiers.get(a["tier"], 0) + 1
    click.echo(
        "alerts: "
        + (", ".join(f"{tiers.get(t, 0)} {t}" for t in ("red", "orange", "yellow")) or "none")
    )
    for a in doc["alerts"][:10]:
        click.echo(
            f"  {a['tier']:<6} {a['sku']} @ {a['site']}: position {a['position']:g} "
            f"vs safety stock {a['safety_stock']:.1f} → {a['action']}"
        )
    props = doc["proposals"]
    click.echo(
        f"proposals: {len(props['proposals'])} draft PO(s); "
        f"{len(props['covered_by_open_orders'])} need(s) covered by open orders; "
        f"{len(props['unsourced'])} without a supplier"
    )
    for d in props["proposals"][:10]:
        click.echo(
            f"  {d['supplier']}: {len(d['lines'])} line(s), {d['total_qty']:g} units, "
            f"value {d['total_value']:.2f}"
        )
        for line in d["lines"][:10]:
            why = line.get("basis", {}).get("why", "")
            click.echo(f"    {line['sku']} @ {line['site']}: {line['qty']:g} — {why}")
    click.echo(f"transfer suggestions: {len(doc['transfers'])}")
    for t in doc["transfers"][:10]:
        click.echo(f"  {t['sku']}: {t['qty']:g} from {t['from_site']} to {t['to_site']}")
        if t.get("basis"):
            click.echo(f"    {t['basis']['why']}")
    click.echo(f"slow movers: {len(doc['slow_movers'])}")
    total = doc["kpis"]["total"][0] if doc["kpis"]["total"] else {}
    if total:
        click.echo(
            f"KPIs over {doc['kpis']['period_days']} days: inventory value "
            f"{total['inventory_value']:.2f}, turnover {total['turnover'] or 0:.2f}, "
            f"stockout rate {total['stockout_rate'] or 0:.1%}, fill rate "
            + ("-" if total.get("fill_rate") is None else f"{total['fill_rate']:.1%}")
        )


@click.group("plan")
@api_options
@click.pass_context
def command(ctx: click.Context, api: str | None, token: str | None) -> None:
    """Planning: a pass offline over a ledger, and the alerts, proposals and transfer
    suggestions of a running central (`--api`, `--token` here or on each command)."""
    keep_api(ctx, api, token)


@command.command("run")
@click.option(
    "--db",
    required=True,
    metavar="PATH",
    help="central's ledger (an SQLite file) to plan over; it must exist, and is only read",
)
@click.option(
    "--config",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="planning TOML, as `tallyman central --planning-config` (default: built-in settings)",
)
@json_option
def run(db: str, config: str | None, as_json: bool) -> None:
    """One full planning pass over a ledger, offline and read-only.

    Prints alerts, draft POs, transfer suggestions, slow movers and KPIs; writes nothing.
    """
    from central.planning.service import PlanningService
    from central.planning.settings import load_settings
    from central.stock.storage import open_storage

    if not Path(db).exists():
        fail(f"no ledger at {db}")
    try:
        settings = load_settings(config)
    except (OSError, ValueError) as exc:  # the message names the file
        fail(str(exc))
    t0 = time.perf_counter()
    storage = open_storage(db, read_only=True)
    engine, catalog = rebuild_engine(storage.reader())
    svc = PlanningService(storage, engine, catalog, settings, read_only=True)
    svc.load()
    summary = svc.run_pass("cli")
    if svc.latest is None:
        fail("nothing to plan (no items or no locations): import them with `tallyman import`")
    doc = report(svc, summary)
    doc["summary"]["wall_seconds"] = round(time.perf_counter() - t0, 3)
    if as_json:
        json.dump(doc, sys.stdout, indent=1, default=float, allow_nan=False)
        click.echo()
    else:
        print_report(doc)


@command.command("alerts")
@click.option(
    "--status",
    type=click.Choice(ALERT_STATUSES),
    default="open",
    show_default=True,
    help="open, closed, false (marked a false alarm) or all",
)
@click.option("--tier", type=click.Choice(TIERS), help="only alerts at this tier (red is worst)")
@click.option("--site", metavar="SITE", help="only this site's alerts")
@click.option("--sku", metavar="SKU", help="only this SKU's alerts")
@click.option(
    "--limit", type=click.IntRange(1, 100_000), default=1000, show_default=True,
    help="at most this many, worst first",
)  # fmt: skip
@api_options
@json_option
def alerts(
    status: str,
    tier: str | None,
    site: str | None,
    sku: str | None,
    limit: int,
    api: str | None,
    token: str | None,
    as_json: bool,
) -> None:
    """Stock alerts of a running central, worst first.

    A tier compares the stock position with safety stock (defaults: yellow at 120 %, orange at
    100 %, red at 80 %); their actions: review, propose an order, urgent order and notify.
    """
    query = {"status": status, "tier": tier, "site": site, "sku": sku, "limit": limit}
    got = api_call(api, token, "GET", "/alerts?" + urlencode(_given(query)))
    emit(got["rows"], as_json, ALERT_COLUMNS)


@command.command("alert")
@click.argument("alert_id", metavar="ID", type=int)
@api_options
@json_option
def alert(alert_id: int, api: str | None, token: str | None, as_json: bool) -> None:
    """One alert with its history (opened, escalated, closed…)."""
    got = api_call(api, token, "GET", f"/alerts/{alert_id}")
    if as_json:
        emit(got, True)
        return
    events = got.pop("events", [])
    emit(got, False)
    if events:
        click.echo("\nEVENTS")
        click.echo(table(events))


@command.command("false-alarm")
@click.argument("alert_id", metavar="ID", type=int)
@click.option("--note", metavar="TEXT", help="why it was a false alarm (kept in the audit trail)")
@api_options
@json_option
def false_alarm(
    alert_id: int, note: str | None, api: str | None, token: str | None, as_json: bool
) -> None:
    """Mark alert ID a false alarm (role: staff or planner).

    It closes, and its SKU at that site stays quiet at that tier until it gets worse or
    recovers.
    """
    got = api_call(api, token, "POST", f"/alerts/{alert_id}/false", {"note": note} if note else {})
    if as_json:
        emit(got, True)
    else:
        click.echo(f"alert {alert_id}: marked a false alarm")


@command.command("proposals")
@click.option("--supplier", metavar="SUPPLIER", help="only this supplier's proposals")
@click.option("--site", metavar="SITE", help="only proposals with a line for this site")
@api_options
@json_option
def proposals(
    supplier: str | None, site: str | None, api: str | None, token: str | None, as_json: bool
) -> None:
    """Draft POs of the last planning pass, one per supplier.

    `--json` prints them in full; `tallyman workflow po from-proposal FILE` turns one (an entry
    of "proposals") into a PO.
    """
    query = urlencode(_given({"supplier": supplier, "site": site}))
    got = api_call(api, token, "GET", "/replenishment/proposals" + (f"?{query}" if query else ""))
    if as_json:
        emit(got, True)
        return
    rows = [{**d, "lines": len(d.get("lines", []))} for d in got["proposals"]]
    emit(rows, False, PROPOSAL_COLUMNS)
    lines = proposal_lines(got["proposals"])
    if lines:
        click.echo("\nLINES (and the numbers each came from; --json for all of them)")
        click.echo(table(lines, LINE_COLUMNS))
        for line in lines:
            click.echo(f"{line['sku']} @ {line['site']}: {line.get('why', '')}")
    covered, unsourced = got.get("covered_by_open_orders", []), got.get("unsourced", [])
    click.echo(f"\n{len(covered)} need(s) covered by open orders")
    click.echo(
        f"{len(unsourced)} without a supplier"
        + (": " + ", ".join(f"{u['sku']}@{u['site']}" for u in unsourced[:20]) if unsourced else "")
        + (" …" if len(unsourced) > 20 else "")
    )


@command.command("suggestions")
@click.option("--sku", metavar="SKU", help="only this SKU")
@click.option("--from", "from_site", metavar="SITE", help="only transfers from this site")
@click.option("--to", "to_site", metavar="SITE", help="only transfers to this site")
@api_options
@json_option
def suggestions(
    sku: str | None,
    from_site: str | None,
    to_site: str | None,
    api: str | None,
    token: str | None,
    as_json: bool,
) -> None:
    """Transfers between sites the last planning pass suggests, with the receiving site's need
    (demand, safety stock, position) and the giving site's surplus.

    `--json` prints a list that `tallyman workflow transfer from-suggestions FILE` takes.
    """
    query = urlencode(_given({"sku": sku, "from_site": from_site, "to_site": to_site}))
    got = api_call(api, token, "GET", "/transfers/suggestions" + (f"?{query}" if query else ""))
    if as_json:
        emit(got["rows"], True)
        return
    emit(suggestion_rows(got["rows"]), False, SUGGESTION_COLUMNS)
    for r in got["rows"]:
        if r.get("basis"):
            click.echo(f"{r['sku']} {r['from_site']} → {r['to_site']}: {r['basis']['why']}")


@command.command("lead-times")
@click.option("--supplier", metavar="SUPPLIER", help="only this supplier")
@api_options
@json_option
def lead_times(supplier: str | None, api: str | None, token: str | None, as_json: bool) -> None:
    """Each supplier's lead time as planning uses it.

    Observed from its orders once there are enough, else master data; with the orders the
    floor and the outlier rule left out.
    """
    query = urlencode(_given({"supplier": supplier}))
    got = api_call(api, token, "GET", "/planning/lead-times" + (f"?{query}" if query else ""))
    emit(got["rows"], as_json, LEAD_TIME_COLUMNS)


@command.command("status")
@api_options
@json_option
def status(api: str | None, token: str | None, as_json: bool) -> None:
    """Whether planning is ready, and its last pass."""
    emit(api_call(api, token, "GET", "/planning/status"), as_json)


def _given(query: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in query.items() if v is not None}
