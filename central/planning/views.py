"""What the API and the CLI show of planning: records built from the last pass and the alert
tables. Plain functions over a `PassOutcome` (no Flask), so `tallyman plan` prints the same
records the API serves."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping

import numpy as np

from central.planning.core import alert_counts
from central.planning.core.alerts import ACTIONS, TIER_NAMES, AlertBook
from central.planning.core.history import day_date, weekday
from central.planning.core.history_summary import inbound_over, stock_ages, summarise
from central.planning.core.kpis import compute_kpis
from central.planning.inputs import table_exists
from central.planning.service import PassOutcome
from central.planning.settings import Settings

ALERT_FIELDS = (
    "id", "sku", "site", "status", "tier", "max_tier", "action", "position", "safety_stock",
    "opened_ts", "updated_ts", "closed_ts",
)  # fmt: skip
ALERT_STATUSES = ("open", "closed", "false", "all")
KPI_GROUPS = ("site", "category", "total")


def alerts(
    conn: sqlite3.Connection,
    book: AlertBook | None,
    *,
    site: str | None = None,
    sku: str | None = None,
    tier: str | None = None,
    status: str = "open",
    alert_id: int | None = None,
    limit: int = 1000,
) -> list[dict]:
    """Alerts from the tables, worst first; open ones carry the book's current position (the
    table keeps the position of the alert's last change)."""
    if not table_exists(conn, "planning_alerts"):
        return []  # planning has not started on this ledger yet
    where, params = [], []
    if status != "all":
        where.append("status = ?")
        params.append(status)
    for name, value in (("site", site), ("sku", sku)):
        if value:
            where.append(f"{name} = ?")
            params.append(value)
    if alert_id is not None:
        where.append("id = ?")
        params.append(alert_id)
    if tier:
        where.append("tier = ?")
        params.append(TIER_NAMES.index(tier))
    sql = f"SELECT {', '.join(ALERT_FIELDS)} FROM planning_alerts"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY status = 'open' DESC, tier DESC, updated_ts DESC, id DESC LIMIT ?"
    out = []
    sku_ix = site_ix = None
    if book is not None:
        sku_ix = {s: i for i, s in enumerate(book.sku_names)}
        site_ix = {s: i for i, s in enumerate(book.site_names)}
    for r in conn.execute(sql, (*params, limit)):
        row = dict(zip(ALERT_FIELDS, r, strict=True))
        row["alert_id"] = row["id"]
        row["tier"] = TIER_NAMES[row["tier"]]
        row["max_tier"] = TIER_NAMES[row["max_tier"]]
        if row["status"] == "open" and book is not None:
            a, b = sku_ix.get(row["sku"]), site_ix.get(row["site"])
            if a is not None and b is not None:
                s = a * book.n_sites + b
                if int(book.alert_id[s]) == row["id"]:
                    row["position"] = float(book.position[s])
                    row["safety_stock"] = float(book.safety_stock[s])
        out.append(row)
    return out


def alert_events(conn: sqlite3.Connection, alert_id: int) -> list[dict]:
    names = ("ts", "kind", "tier", "prev_tier", "position", "safety_stock")
    rows = conn.execute(
        f"SELECT {', '.join(names)} FROM planning_alert_events WHERE alert_id = ? ORDER BY id",
        (alert_id,),
    )
    out = []
    for r in rows:
        d = dict(zip(names, r, strict=True))
        d["tier"], d["prev_tier"] = TIER_NAMES[d["tier"]], TIER_NAMES[d["prev_tier"]]
        d["action"] = ACTIONS[TIER_NAMES.index(d["tier"])]
        out.append(d)
    return out


def proposals(o: PassOutcome, supplier: str | None = None, site: str | None = None) -> dict:
    """The last pass's draft POs (with the workflow PO each became), what open orders already
    cover and what has no supplier."""
    r = o.result.proposals
    ix = o.ix

    def keys(series: np.ndarray) -> list[dict]:
        return [
            {"sku": ix.sku_names[s // ix.n_sites], "site": ix.site_names[s % ix.n_sites]}
            for s in series.tolist()
        ]

    drafts = []
    for d in o.drafts:
        if supplier and d["supplier"] != supplier:
            continue
        if site and not any(line["site"] == site for line in d["lines"]):
            continue
        drafts.append(d)
    return {
        "pass": {"seq": o.seq, "ts": o.ts},
        "proposals": drafts,
        "covered_by_open_orders": keys(r.suppressed),
        "unsourced": keys(r.unsourced),
    }


def transfers(o: PassOutcome, **filters: str | None) -> list[dict]:
    t = o.result.transfers
    if t is None:
        return []
    return _filtered(t.records(o.ix.sku_names, o.ix.site_names), filters)


def slow_movers(o: PassOutcome, **filters: str | None) -> list[dict]:
    recs = o.result.slow_movers.records(o.ix.sku_names, o.ix.site_names)
    return _filtered(recs, filters)


def _filtered(records: list[dict], filters: Mapping[str, str | None]) -> list[dict]:
    """Records matching every given filter, with non-finite numbers as null (JSON has no
    Infinity: a slow mover without demand has no days of cover)."""
    wanted = {k: v for k, v in filters.items() if v}
    out = []
    for r in records:
        if all(str(r.get(k)) == v for k, v in wanted.items()):
            out.append({k: _finite(v) for k, v in r.items()})
    return out


def _finite(v: object) -> object:
    return None if isinstance(v, float) and not np.isfinite(v) else v


def kpis(
    o: PassOutcome,
    conn: sqlite3.Connection,
    settings: Settings,
    weeks: int | None = None,
    groups: tuple[str, ...] = KPI_GROUPS,
    site: str | None = None,
    category: str | None = None,
) -> dict:
    """KPIs over the last `weeks` whole weeks (the current one included) at the last pass's
    stock; the false-alarm rate counts alerts closed within the period."""
    cfg = settings.planning
    weeks = weeks or cfg.kpi_weeks
    hist, net, res, stock = o.history, o.net, o.result, o.stock
    period_days = 7 * (weeks - 1) + int(weekday(hist.today)) + 1
    if weeks == cfg.kpi_weeks:
        summ = res.summary
    else:
        summ = summarise(hist, period_days=period_days, dow_weeks=cfg.dow_weeks)
    since = day_date(hist.today - period_days + 1)
    if table_exists(conn, "planning_alerts"):
        closed, false = alert_counts(conn, since.isoformat(), o.ix.sku_index, o.ix.site_index)
    else:
        closed = false = None
    _, band_qty = stock_ages(hist, stock.on_hand)
    unit_cost = np.repeat(np.asarray(net.sku_unit_cost, np.float64), net.n_sites)
    tables = compute_kpis(
        n_sites=net.n_sites,
        site_names=net.site_names,
        category_names=net.category_names,
        sku_category=net.sku_category,
        unit_cost=unit_cost,
        on_hand=np.asarray(stock.on_hand, np.float64),
        available=res.available,
        rate=res.policy.rate,
        sold=summ.sold,
        outbound=summ.outbound,
        inbound=inbound_over(hist, weeks),
        band_qty=band_qty,
        period_days=period_days,
        alerts_closed=closed,
        alerts_false=false,
    )
    out: dict = {
        "pass": {"seq": o.seq, "ts": o.ts},
        "weeks": weeks,
        "period_days": period_days,
        "since": since.isoformat(),
        "until": day_date(hist.today).isoformat(),
    }
    for g in groups:
        rows = tables[g].rows()
        if g == "site" and site:
            rows = [r for r in rows if r["site"] == site]
        if g == "category" and category:
            rows = [r for r in rows if r["category"] == category]
        out[g] = rows
    return out


def forecasts(o: PassOutcome, sku: str, site: str | None = None, horizon: int = 14) -> list[dict]:
    """Per site of one SKU: the chosen model, its forecast path, σ and the policy figures."""
    ix = o.ix
    a = ix.sku_index.get(sku)
    if a is None:
        return []
    sites = range(ix.n_sites) if site is None else [ix.site_index.get(site, -1)]
    res, fc, pol = o.result, o.result.forecast, o.result.policy
    out = []
    for b in sites:
        if b < 0:
            continue
        s = a * ix.n_sites + b
        recent = o.history.demand([s])[0][-28:]
        out.append(
            {
                "sku": sku,
                "site": ix.site_names[b],
                "model": fc.model_name(s),
                "rate_per_day": float(pol.rate[s]),
                "sigma": float(fc.sigma[s]),
                "holdout_mae": float(fc.mae[s]),
                "forecast": [round(float(x), 4) for x in fc.path([s], horizon)[0]],
                "lead_days": float(res.lead_days[s]),
                "protection_days": float(pol.protection_days[s]),
                "safety_stock": float(pol.safety_stock[s]),
                "reorder_point": float(pol.reorder_point[s]),
                "order_up_to": float(pol.order_up_to[s]),
                "eoq": float(pol.eoq[s]),
                "min": float(pol.min_level[s]),
                "max": float(pol.max_level[s]),
                "available": float(res.available[s]),
                "alert_position": float(res.alert_position[s]),
                "inventory_position": float(res.inventory_position[s]),
                "tier": TIER_NAMES[int(res.tiers[s])],
                "last_28_days": [float(x) for x in recent],
            }
        )
    return out
