"""KPIs per site, per category and in total, over a period of whole weeks.

Definitions (values at unit cost, so different SKUs add up):

* turnover = COGS / average inventory value (Silver, Pyke & Thomas 2017, ch. 1, measures of
  effectiveness), COGS = units sold (sale + pick) × unit cost, average inventory = (opening +
  closing) / 2 with opening = closing − inbound + outbound over the period (adjustments, counts
  and scrap are not in the demand history, so the opening value is an approximation);
  `turnover_annual` scales it to a year.
* days of cover = inventory value / forecast demand value per day.
* sell-through = units sold / (opening units + units received).
* stockout rate = share of series with demand (forecast > 0) whose available stock is ≤ 0,
  now.
* fill rate (type 2) = units filled / units of demand, when the caller provides them (central:
  walk-in sales and reservations against what customers asked for, `inputs.fill_counts`);
  `demand_units` and `filled_units` are reported beside it.
* inventory age bands = share of inventory value by FIFO age (0-30, 31-60, 61-90, 91-180,
  over 180 days).
* false-alarm rate = alerts marked false / alerts closed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .history_summary import AGE_BANDS

BAND_LABELS = ("0-30", "31-60", "61-90", "91-180", "180+")
assert len(BAND_LABELS) == len(AGE_BANDS) + 1


@dataclass
class KpiTable:
    group: str  # "site", "category" or "total"
    names: list[str]
    period_days: int
    columns: dict[str, np.ndarray]

    def rows(self) -> list[dict]:
        out = []
        for g, name in enumerate(self.names):
            row: dict = {self.group: name, "period_days": self.period_days}
            for k, v in self.columns.items():
                x = float(v[g])
                row[k] = None if np.isnan(x) else x
            out.append(row)
        return out


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1.0), np.nan)


def turnover(cogs, avg_inventory_value):
    """Inventory turnover = COGS / average inventory value."""
    return _ratio(np.asarray(cogs, np.float64), np.asarray(avg_inventory_value, np.float64))


def _per_series(d: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The additive per-series quantities every grouping sums (computed once)."""
    cost = d["unit_cost"]
    begin_units = np.maximum(d["on_hand"] - d["inbound"] + d["outbound"], 0.0)
    active = d["rate"] > 0
    band_v = d["band_qty"] * cost[:, None]
    out = {
        "cogs": d["sold"] * cost,
        "end_v": d["on_hand"] * cost,
        "begin_v": begin_units * cost,
        "sold": d["sold"],
        "rate_v": d["rate"] * cost,
        "received_base": begin_units + d["inbound"],
        "out_of_stock": (active & (d["available"] <= 0)).astype(np.float64),
        "active": active.astype(np.float64),
        "filled": d["filled"],
        "requested": d["requested"],
        "alerts_false": d["alerts_false"],
        "alerts_closed": d["alerts_closed"],
        "band_total": band_v.sum(axis=1),
    }
    for b in range(band_v.shape[1]):
        out[f"band{b}"] = np.ascontiguousarray(band_v[:, b])
    return out


def _table(group, names, n_groups, gid, period_days, per: dict[str, np.ndarray]) -> KpiTable:
    g = {k: np.bincount(gid, weights=v, minlength=n_groups) for k, v in per.items()}
    avg_v = (g["begin_v"] + g["end_v"]) / 2.0
    to = turnover(g["cogs"], avg_v)
    cols = {
        "inventory_value": g["end_v"],
        "cogs": g["cogs"],
        "units_sold": g["sold"],
        "turnover": to,
        "turnover_annual": to * 365.0 / period_days,
        "days_of_cover": _ratio(g["end_v"], g["rate_v"]),
        "sell_through": _ratio(g["sold"], g["received_base"]),
        "stockout_rate": _ratio(g["out_of_stock"], g["active"]),
        "fill_rate": _ratio(g["filled"], g["requested"]),
        "demand_units": g["requested"],
        "filled_units": g["filled"],
        "false_alarm_rate": _ratio(g["alerts_false"], g["alerts_closed"]),
    }
    for b, label in enumerate(BAND_LABELS):
        cols[f"age_{label}"] = _ratio(g[f"band{b}"], g["band_total"])
    return KpiTable(group, list(names), period_days, cols)


def compute_kpis(
    *,
    n_sites: int,
    site_names: Sequence[str],
    category_names: Sequence[str],
    sku_category: np.ndarray,
    unit_cost: np.ndarray,
    on_hand: np.ndarray,
    available: np.ndarray,
    rate: np.ndarray,
    sold: np.ndarray,
    outbound: np.ndarray,
    inbound: np.ndarray,
    band_qty: np.ndarray,
    period_days: int,
    alerts_closed: np.ndarray | None = None,
    alerts_false: np.ndarray | None = None,
    requested: np.ndarray | None = None,
    filled: np.ndarray | None = None,
) -> dict[str, KpiTable]:
    """KPI tables {"site", "category", "total"}; per-series inputs, `sku_category` per SKU."""
    n = on_hand.shape[0]
    zeros = np.zeros(n)

    def f(a):
        return zeros if a is None else np.asarray(a, np.float64)

    d = {
        "unit_cost": f(unit_cost),
        "on_hand": f(on_hand),
        "available": f(available),
        "rate": f(rate),
        "sold": f(sold),
        "outbound": f(outbound),
        "inbound": f(inbound),
        "band_qty": np.asarray(band_qty, np.float64),
        "alerts_closed": f(alerts_closed),
        "alerts_false": f(alerts_false),
        "requested": f(requested),
        "filled": f(filled),
    }
    per = _per_series(d)
    series = np.arange(n)
    site = series % n_sites
    cat = np.asarray(sku_category, np.int64)[series // n_sites]
    n_cat = len(category_names)
    return {
        "site": _table("site", site_names, n_sites, site, period_days, per),
        "category": _table("category", category_names, n_cat, cat, period_days, per),
        "total": _table("total", ["all"], 1, np.zeros(n, np.int64), period_days, per),
    }
