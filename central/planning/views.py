"""What the API and the CLI show of planning: records built from the last pass and the alert
tables. Plain functions over a `PassOutcome` (no Flask), so `tallyman plan` prints the same
records the API serves."""

from __future__ import annotations

import functools
import math
import sqlite3
from collections.abc import Mapping
from typing import Any

import numpy as np

from central.planning.core import alert_counts
from central.planning.core.alerts import ACTIONS, TIER_NAMES, AlertBook
from central.planning.core.config import POLICY_KINDS, SAFETY_STOCK_METHODS, category_arrays
from central.planning.core.history import day_date, weekday
from central.planning.core.history_summary import inbound_over, stock_ages, summarise
from central.planning.core.kpis import compute_kpis
from central.planning.core.policy import z_value
from central.planning.inputs import fill_counts, table_exists
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

    why = Basis(o)
    drafts = []
    for d in o.drafts:
        if supplier and d["supplier"] != supplier:
            continue
        if site and not any(line["site"] == site for line in d["lines"]):
            continue
        lines = [
            {**{k: v for k, v in line.items() if k != "series"}, "basis": why.order(line)}
            for line in d["lines"]
        ]
        drafts.append({**d, "lines": lines})
    return finite(
        {
            "pass": {"seq": o.seq, "ts": o.ts},
            "proposals": drafts,
            "covered_by_open_orders": keys(r.suppressed),
            "unsourced": keys(r.unsourced),
        }
    )


def transfers(o: PassOutcome, **filters: str | None) -> list[dict]:
    """The last pass's transfer suggestions, each with the numbers it came from (`basis`)."""
    t = o.result.transfers
    if t is None:
        return []
    why = Basis(o)
    recs = t.records(o.ix.sku_names, o.ix.site_names)
    for j, rec in enumerate(recs):
        rec["basis"] = why.transfer(int(t.src_series[j]), int(t.dst_series[j]), rec["qty"])
    return _filtered(recs, filters)


class Basis:
    """The numbers a proposal or a transfer suggestion came from, so a person can check it:
    demand per day and its σ, the lead time (and where it came from), safety stock and the
    policy's levels, the position and what it is made of, and the rounding to packs."""

    def __init__(self, o: PassOutcome):
        self.o = o
        ca = category_arrays(o.planning, o.net.category_names)
        self.ca = ca
        self.z = np.asarray(z_value(ca.service_level), np.float64)
        n = o.ix.n_series
        self.planned_in = np.broadcast_to(np.asarray(o.result.planned_in, np.float64), (n,))
        self.planned_out = np.broadcast_to(np.asarray(o.result.planned_out, np.float64), (n,))

    @functools.cached_property
    def line_of(self) -> dict[int, int]:
        """Series → its line in the pass's proposal arrays."""
        return {s: k for k, s in enumerate(self.o.result.proposals.series.tolist())}

    def _lead_source(self, s: int) -> str:
        net = self.o.net
        sup = int(net.sku_supplier[s // net.n_sites])
        if sup < 0 or net.lead_times is None:
            return "category default"
        src = net.lead_times.source[sup]
        if src == "observed":
            return f"observed ({int(net.lead_times.orders[sup])} orders)"
        return "master data" if src == "master" else "category default"

    def series(self, s: int) -> dict[str, Any]:
        """Demand, lead time, safety stock and the policy's levels of series `s`."""
        o, res, pol, ca = self.o, self.o.result, self.o.result.policy, self.ca
        cat = int(o.net.sku_category[s // o.net.n_sites])
        method = SAFETY_STOCK_METHODS[int(ca.ss_method[cat])]
        out: dict[str, Any] = {
            "demand_per_day": float(pol.rate[s]),
            "forecast_model": res.forecast.model_name(s),
            "sigma_per_day": float(res.forecast.sigma[s]),
            "lead_days": float(res.lead_days[s]),
            "lead_sd_days": float(res.lead_sd[s]),
            "lead_source": self._lead_source(s),
            "review_days": float(ca.review_days[cat]),
            "protection_days": float(pol.protection_days[s]),
            "protection_demand": float(pol.protection_demand[s]),
            "safety_stock_method": method,
        }
        if method == "cover":
            out["cover_days"] = float(ca.cover_days[cat])
        else:
            out["service_level"] = float(ca.service_level[cat])
            out["z"] = round(float(self.z[cat]), 4)
        out.update(
            safety_stock=float(pol.safety_stock[s]),
            policy=POLICY_KINDS[int(ca.policy[cat])],
            reorder_point=float(pol.reorder_point[s]),
            order_up_to=float(pol.order_up_to[s]),
            eoq=float(pol.eoq[s]),
            min=float(pol.min_level[s]),
            max=float(pol.max_level[s]),
        )
        return out

    def position(self, s: int) -> dict[str, float]:
        """What the inventory position of series `s` is made of (the proposals' position)."""
        st = self.o.stock
        parts = {
            "on_hand": float(st.on_hand[s]),
            "reserved": float(st.reserved[s]),
            "on_order": float(st.on_order[s]),
            "in_transit": float(st.in_transit[s]),
            "transfers_in": float(self.planned_in[s]),
            "transfers_out": float(self.planned_out[s]),
        }
        parts["position"] = (
            parts["on_hand"] - parts["reserved"] + parts["on_order"] + parts["in_transit"]
            + parts["transfers_in"] - parts["transfers_out"]
        )  # fmt: skip
        parts["alert_position"] = float(self.o.result.alert_position[s])
        return parts

    def order(self, line: Mapping[str, Any]) -> dict[str, Any]:
        """The basis of a proposal line (it carries its series)."""
        s = int(line["series"])
        k = self.line_of[s]
        props = self.o.result.proposals
        out = self.series(s)
        out.update(self.position(s))
        out.update(
            order_before_rounding=float(props.raw_qty[k]),
            moq=float(props.moq[k]),
            pack_size=float(props.pack_size[k]),
            qty=float(props.qty[k]),
        )
        out["why"] = _why_order(out)
        return out

    def transfer(self, src: int, dst: int, qty: float) -> dict[str, Any]:
        """The basis of a transfer suggestion: the receiving site's need, the giver's surplus."""
        o, pol = self.o, self.o.result.policy
        cover = o.planning.transfers.surplus_cover_days
        to = self.series(dst)
        to.update(self.position(dst))
        ip = float(o.result.inventory_position[dst])
        to["need"] = math.floor(max(float(pol.order_up_to[dst]) - ip, 0.0))
        rate = float(pol.rate[src])
        available = float(o.result.available[src])
        keep = max(float(pol.order_up_to[src]), cover * rate)
        giver = {
            "available": available,
            "demand_per_day": rate,
            "cover_days": available / rate if rate > 0 else None,
            "surplus_over_days": cover,
            "keeps": keep,
            "surplus": math.floor(max(available - keep, 0.0)),
        }
        why = (
            f"{o.ix.site_names[dst % o.ix.n_sites]}: alert position "
            f"{to['alert_position']:g} < safety stock {to['safety_stock']:.4g}, needs "
            f"{to['need']:g} to reach order-up-to {to['order_up_to']:.4g} from position "
            f"{ip:g}; {o.ix.site_names[src % o.ix.n_sites]} has {available:g}, keeps "
            f"{keep:.4g} (its order-up-to or {cover:g} days of demand): surplus "
            f"{giver['surplus']:g} → {qty:g}"
        )
        return {"to": to, "from": giver, "why": why}


def _why_order(b: Mapping[str, Any]) -> str:
    """One line a person can check a proposal line with."""
    ip, kind = b["position"], b["policy"]
    terms = (
        ("on_hand", 1), ("reserved", -1), ("on_order", 1), ("in_transit", 1),
        ("transfers_in", 1), ("transfers_out", -1),
    )  # fmt: skip
    parts = [
        f"{'+' if sign * b[name] > 0 else '−'} {name.replace('_', ' ')} {abs(b[name]):g}"
        for name, sign in terms
        if b[name]
    ]
    made_of = " ".join(parts).removeprefix("+ ") or "nothing"
    levels = (
        f"{b['protection_demand']:.4g} demand over {b['protection_days']:g} d "
        f"({b['demand_per_day']:.4g}/d, lead {b['lead_days']:.4g} d + review "
        f"{b['review_days']:g} d) + safety stock {b['safety_stock']:.4g}"
    )
    raw = b["order_before_rounding"]
    if kind == "rop_eoq":
        step = f"{raw / b['eoq']:g} × EOQ {b['eoq']:.4g}" if b["eoq"] > 0 else "the shortfall"
        text = (
            f"position {ip:g} ({made_of}) ≤ reorder point {b['reorder_point']:.4g} ({levels}): "
            f"order {step} = {raw:.4g}"
        )
    elif kind == "order_up_to":
        text = (
            f"order up to {b['order_up_to']:.4g} ({levels}) − position {ip:g} ({made_of}) = "
            f"{raw:.4g}"
        )
    else:
        text = (
            f"position {ip:g} ({made_of}) ≤ min {b['min']:.4g} ({levels}): max "
            f"{b['max']:.4g} − position = {raw:.4g}"
        )
    if b["moq"] > raw:
        text += f", raised to the MOQ {b['moq']:g}"
    if b["pack_size"] > 1:
        text += f", rounded up to packs of {b['pack_size']:g}"
    return f"{text} → {b['qty']:g}"


def slow_movers(o: PassOutcome, **filters: str | None) -> list[dict]:
    recs = o.result.slow_movers.records(o.ix.sku_names, o.ix.site_names)
    return _filtered(recs, filters)


def _filtered(records: list[dict], filters: Mapping[str, str | None]) -> list[dict]:
    """Records matching every given filter, with non-finite numbers as null (`finite`)."""
    wanted = {k: v for k, v in filters.items() if v}
    return [finite(r) for r in records if all(str(r.get(k)) == v for k, v in wanted.items())]


def finite(value: Any) -> Any:
    """`value` with every NaN and ±Infinity replaced by None, through dicts and lists. JSON has
    neither (a strict parser refuses `NaN`), and a figure that does not exist is null: a slow
    mover without demand has no days of cover, a series too new for a holdout no MAE."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


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
    stock; the false-alarm rate counts alerts closed within the period, the fill rate the
    demand of the period (`inputs.fill_counts`)."""
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
    demand, filled = fill_counts(conn, o.ix, since.isoformat())
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
        requested=demand,
        filled=filled,
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
    return finite(out)


def lead_times(o: PassOutcome, supplier: str | None = None) -> list[dict]:
    """Each supplier's lead time as the last pass planned with it: the observed distribution of
    its orders once there are enough, else master data; with what the floor and the outlier
    rule left out (docs/planning.md, "Lead times")."""
    lt = o.net.lead_times
    if lt is None:
        return []
    out = []
    for j, name in enumerate(o.net.supplier_names):
        if supplier and name != supplier:
            continue
        out.append(
            {
                "supplier": name,
                "lead_days": float(lt.days[j]),
                "lead_sd_days": float(lt.sd[j]),
                "source": lt.source[j],
                "orders": int(lt.orders[j]),
                "master_days": float(lt.prior[j]),
                "below_floor": int(lt.below_floor[j]),
                "outliers": int(lt.outliers[j]),
            }
        )
    return finite(out)


def forecasts(o: PassOutcome, sku: str, site: str | None = None, horizon: int = 14) -> list[dict]:
    """Per site of one SKU: the chosen model, its forecast path, σ and the policy figures."""
    ix = o.ix
    a = ix.sku_index.get(sku)
    if a is None:
        return []
    sites = range(ix.n_sites) if site is None else [ix.site_index.get(site, -1)]
    res, fc, pol = o.result, o.result.forecast, o.result.policy
    why = Basis(o)
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
                "basis": why.series(s),
            }
        )
    return finite(out)
