"""The live twin: start a scenario from central's current state (`--from-central URL`).

From central's HTTP API (over HTTP only: the simulator never imports central; the URL may be
given with or without `/api`):
  GET /api/stock?by=site       opening stock: available (on hand − reserved) per SKU × site,
                               plus in_transit and on_order as a pipeline
  GET /api/movements?type=…    sale (and pick) movements of the last `lookback_days`, paged by
                               after_id: each pair's daily demand rate and variance
  GET /api/lead-times/observed lead times central observed from purchase-order receipts (per
                               supplier × SKU, and per site when central says so): count, mean,
                               range and, when given, standard deviation
  GET /api/lead-times          the item master's lead time per supplier × SKU: the fallback

Lead times, per supplier: where central observed at least `[live] min_lead_time_obs` receipts
(5), the observed distribution (`distributions.fit_days`: whole days over the observed range with
the observed mean and spread); with fewer, the item master's mean; with neither (or a 404 on an
old central), the scenario's own, and the run says which. Per site, a supplier's lane to a site
it delivers gets the site's own observed distribution once that site has enough receipts.

Then the scenario's own disruptions and strategies apply, with day 0 = today. Choices, because
central does not say: in-transit stock lands on day ⌈L/2⌉ and on-order stock on day L (L = the
site's inbound mean lead time, at least 1); sites with sales use sales as demand, sites with no
sales use picks (fulfilment warehouses); SKUs the scenario lists keep their policy and weekly
profile, other SKUs get [live] policy (default `auto`) and unmet.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import numpy as np

from simulator.scenario import distributions
from simulator.scenario.lanes import Lanes
from simulator.scenario.model import (
    Demand,
    InitialState,
    Lane,
    LeadTime,
    Policy,
    Scenario,
    Site,
    Sku,
    Supplier,
)
from tallyman import http_client
from tallyman.console import api_base

DAY = timedelta(days=1)
#: Overdispersion test level: a pair is negbin only when Poisson is rejected at this level.
DISPERSION_ALPHA = 0.05
MIN_DAYS_FOR_NEGBIN = 7
#: Observed receipts a supplier (or a supplier at a site) needs before its observed lead times
#: replace the item master's; `[live] min_lead_time_obs` overrides it.
MIN_LEAD_TIME_OBS = 5

Row = dict[str, Any]  # one row of central's JSON


class LiveError(RuntimeError):
    """Central could not be read; the message says which call failed and why."""


@dataclass
class Snapshot:
    stock: list[Row]
    demand: dict[tuple[str, str], np.ndarray]  # (site, sku) -> units per day over the window
    window_days: int
    #: supplier -> the item master's mean lead time in days; None when central has no endpoint
    master_lead_times: dict[str, float] | None
    #: /api/lead-times/observed rows; None when central has no such endpoint
    observed_lead_times: list[Row] | None
    taken_at: datetime
    notes: list[str] = field(default_factory=list)


# --- reading central -----------------------------------------------------------------------


def _get(url: str, params: dict[str, Any] | None, timeout: float, missing_ok: bool = False) -> Any:
    """The JSON body of GET url?params; None for a 404 when `missing_ok`."""
    if params:
        url = f"{url}?{urlencode(params)}"
    resp = http_client.request("GET", url, timeout=timeout)
    if resp.status is None:
        raise LiveError(f"GET {url}: {resp.error}")
    if missing_ok and resp.status == 404:
        return None
    if resp.status != 200:
        raise LiveError(f"GET {url}: {resp.detail[:220]}")
    try:
        return resp.json()
    except ValueError as exc:
        raise LiveError(f"GET {url}: not JSON") from exc


def movements(api: str, kind: str, since: datetime, timeout: float, page: int = 1000) -> list[Row]:
    """Every movement of `kind` since `since`, following next_after_id until it is null."""
    rows: list[Row] = []
    after: int | None = None
    while True:
        params = {"type": kind, "since": since.isoformat().replace("+00:00", "Z"), "limit": page}
        if after is not None:
            params["after_id"] = after
        body = _get(f"{api}/movements", params, timeout)
        rows += body.get("rows", [])
        after = body.get("next_after_id")
        if after is None:
            return rows


def master_lead_times(api: str, timeout: float) -> dict[str, float] | None:
    """The item master's lead time per supplier (None when central has no such endpoint).

    Per-SKU rows are averaged per supplier, weighted by their counts when they have any: the
    twin's lead times are per lane, shared by every SKU on a shipment."""
    body = _get(f"{api}/lead-times", None, timeout, missing_ok=True)
    if body is None:
        return None
    overall: dict[str, float] = {}
    weighted: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for row in body.get("rows", []):
        sup, mean, n = row["supplier"], float(row["mean_days"]), float(row.get("n") or 1)
        if row.get("sku") is None:
            overall[sup] = mean
        else:
            weighted[sup][0] += mean * n
            weighted[sup][1] += n
    for sup, (total, n) in weighted.items():
        overall.setdefault(sup, total / n)
    return overall


def observed_lead_times(api: str, timeout: float) -> list[Row] | None:
    """Central's observed lead-time rows (None when central has no such endpoint)."""
    body = _get(f"{api}/lead-times/observed", None, timeout, missing_ok=True)
    return None if body is None else list(body.get("rows", []))


def fetch(
    url: str, lookback_days: int = 28, now: datetime | None = None, timeout: float = 10.0
) -> Snapshot:
    api = api_base(url)
    now = now or datetime.now(UTC)
    since = now - lookback_days * DAY
    notes: list[str] = []
    stock = _get(f"{api}/stock", {"by": "site"}, timeout).get("rows", [])
    sales = movements(api, "sale", since, timeout)
    picks = movements(api, "pick", since, timeout)
    observed = observed_lead_times(api, timeout)
    master = master_lead_times(api, timeout)
    if observed is None:
        notes.append("central has no /api/lead-times/observed (404): no observed lead times")
    if master is None:
        notes.append(
            "central has no /api/lead-times (404): the scenario's lead times stand where "
            "nothing was observed"
        )
    demand, window = daily_demand(sales, picks, since, now, lookback_days)
    if window < lookback_days:
        notes.append(f"central's sales history covers {window} of {lookback_days} days")
    return Snapshot(stock, demand, window, master, observed, now, notes)


def daily_demand(
    sales: list[Row], picks: list[Row], since: datetime, now: datetime, lookback: int
) -> tuple[dict[tuple[str, str], np.ndarray], int]:
    """Units per day per (site, sku) over the window. Sales count where a site has any; picks
    only at sites with no sales. The window starts at the first movement if history is short."""
    parsed = [
        (_site(m["loc"]), m["sku"], abs(int(m["qty"])), _ts(m["ts"]), t)
        for t, ms in (("sale", sales), ("pick", picks))
        for m in ms
        if m.get("sku")
    ]
    selling = {site for site, _, _, _, t in parsed if t == "sale"}
    used = [p for p in parsed if (p[4] == "sale") == (p[0] in selling)]
    start = since
    if used:
        first = min(p[3] for p in used)
        if first > since + DAY:
            start = first
    window = max(1, min(lookback, math.ceil((now - start) / DAY)))
    start = now - window * DAY
    out: dict[tuple[str, str], np.ndarray] = {}
    for site, sku, qty, ts, _ in used:
        day = int((ts - start) / DAY)
        if 0 <= day < window:
            out.setdefault((site, sku), np.zeros(window))[day] += qty
    return out, window


def _site(loc: str) -> str:
    return loc.split("/", 1)[0]


def _ts(text: str) -> datetime:
    ts = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


# --- estimating demand ---------------------------------------------------------------------


def dispersion_pvalue(counts: np.ndarray) -> float:
    """Poisson dispersion test: (n−1)s²/x̄ ~ χ²(n−1) when counts are Poisson; small p-values
    say the variance is larger than the mean (overdispersed)."""
    n, mean = counts.size, float(counts.mean())
    if n < 2 or mean <= 0:
        return 1.0
    stat = (n - 1) * float(counts.var(ddof=1)) / mean
    from scipy.special import chdtrc  # χ² survival function (scipy.stats.chi2.sf), lazily

    return float(chdtrc(n - 1, stat))


def estimate_demand(counts: np.ndarray, weekly: tuple[float, ...] = (1.0,) * 7) -> Demand:
    """Poisson at the observed mean, or negbin with the observed sd when the dispersion test
    rejects Poisson (needs at least a week of days)."""
    mean = float(counts.mean()) if counts.size else 0.0
    if counts.size >= MIN_DAYS_FOR_NEGBIN and mean > 0:
        var = float(counts.var(ddof=1))
        if var > mean and dispersion_pvalue(counts) < DISPERSION_ALPHA:
            return Demand("negbin", mean, math.sqrt(var), weekly)
    return Demand("poisson", mean, None, weekly)


# --- applying a snapshot -------------------------------------------------------------------


def apply(sc: Scenario, snap: Snapshot) -> tuple[Scenario, list[str]]:
    """The scenario, restarted from central's state: today is day 0, no warm-up."""
    notes = list(snap.notes)
    cfg = sc.live
    stock_rows = {(r["site"], r["sku"]): r for r in snap.stock}
    central_sites = sorted({s for s, _ in stock_rows} | {s for s, _ in snap.demand})
    central_skus = sorted({k for _, k in stock_rows} | {k for _, k in snap.demand})
    if not central_skus:
        raise LiveError("central reports no stock and no sales: nothing to start from")

    default_source = cfg.get("default_source") or next(
        (s.id for s in sc.sites if s.kind == "dc"), sc.suppliers[0].id if sc.suppliers else None
    )
    sites = list(sc.sites)
    known = {s.id for s in sites}
    added = [s for s in central_sites if s not in known]
    for sid in added:
        sites.append(Site(id=sid, source=default_source, kind="store"))
    if added:
        notes.append(
            f"{len(added)} site(s) only central knows were added, sourced from "
            f"{default_source}: {', '.join(added[:8])}{' …' if len(added) > 8 else ''}"
        )

    by_sku = {k.id: k for k in sc.skus}
    dropped = [k for k in by_sku if k not in set(central_skus)]
    if dropped:
        notes.append(f"{len(dropped)} scenario SKU(s) central does not stock were left out")
    live_policy = cfg.get("policy") or Policy("auto")
    skus = [
        by_sku.get(k) or Sku(k, Demand(), live_policy, unmet=cfg.get("unmet", "backorder"))
        for k in central_skus
    ]

    pair_demand = {}
    for site in sites:
        if site.faces_demand:
            for sku in skus:
                counts = snap.demand.get((site.id, sku.id), np.zeros(snap.window_days))
                pair_demand[(site.id, sku.id)] = estimate_demand(counts, sku.demand.weekly)

    min_obs = int(cfg.get("min_lead_time_obs", MIN_LEAD_TIME_OBS))
    suppliers = _suppliers(sc, snap, min_obs, notes)
    lanes = _site_lanes(sc, sites, suppliers, snap, min_obs, notes)
    run = replace(sc.run, warmup=0, start_weekday=snap.taken_at.weekday())
    if sc.run.warmup:
        notes.append(f"warm-up set to 0 (was {sc.run.warmup}): the run starts from today's stock")
    draft = replace(
        sc,
        run=run,
        suppliers=tuple(suppliers),
        sites=tuple(sites),
        lanes=tuple(lanes),
        skus=tuple(skus),
        pair_demand=pair_demand,
    )
    initial = _initial(draft, stock_rows)
    return replace(draft, initial=initial), notes


# --- lead times ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Observed:
    """Central's observed lead times for one supplier (or one supplier at one site), pooled
    over its rows (one per SKU, or per SKU × site)."""

    n: int
    mean: float
    low: float
    high: float
    #: Pooled sample variance; None when a row with several receipts gives no `sd_days`.
    var: float | None

    def lead_time(self) -> LeadTime:
        return distributions.fit_days(self.mean, self.low, self.high, self.var)

    def describe(self) -> str:
        sd = "" if self.var is None else f", sd {math.sqrt(self.var):.1f}"
        return (
            f"observed lead time over {self.n} receipt(s): mean {self.mean:.1f} days{sd}, "
            f"range {self.low:.1f}–{self.high:.1f}"
        )


def pool(rows: list[Row]) -> Observed | None:
    """Rows of /api/lead-times/observed pooled: counts add, means weigh by count, the range is
    the widest, and the variance is the pooled sample variance (within rows from `sd_days`,
    between rows from their means) when every row with several receipts gives `sd_days`."""
    used = [r for r in rows if (r.get("n") or 0) > 0 and r.get("mean_days") is not None]
    if not used:
        return None
    n = np.array([int(r["n"]) for r in used], np.float64)
    m = np.array([float(r["mean_days"]) for r in used])
    total = int(n.sum())
    mean = float(n @ m / n.sum())
    low = min(_num(r.get("min_days"), mu) for r, mu in zip(used, m, strict=True))
    high = max(_num(r.get("max_days"), mu) for r, mu in zip(used, m, strict=True))
    sds = [r.get("sd_days") for r in used]
    var: float | None = None
    if total > 1 and all(sd is not None or k == 1 for sd, k in zip(sds, n, strict=True)):
        within = sum((k - 1) * float(sd or 0.0) ** 2 for sd, k in zip(sds, n, strict=True))
        var = (within + float(n @ (m - mean) ** 2)) / (total - 1)
    return Observed(total, mean, low, high, var)


def _num(value: Any, default: float) -> float:
    return default if value is None else float(value)


def _suppliers(sc: Scenario, snap: Snapshot, min_obs: int, notes: list[str]) -> list[Supplier]:
    """Each supplier's lead time: observed where central has `min_obs` receipts of it, else the
    item master's mean, else the scenario's."""
    rows: dict[str, list[Row]] = defaultdict(list)
    for row in snap.observed_lead_times or []:
        rows[row["supplier"]].append(row)
    master = snap.master_lead_times or {}
    out = []
    for sup in sc.suppliers:
        obs = pool(rows.get(sup.id, []))
        if obs is not None and obs.n >= min_obs:
            out.append(replace(sup, lead_time=obs.lead_time()))
            notes.append(f"supplier {sup.id}: {obs.describe()}")
            continue
        seen = (
            f"{obs.n} observed receipt(s), fewer than {min_obs}"
            if obs is not None
            else "no observed receipts"
        )
        mean = master.get(sup.id)
        if mean is None:
            out.append(sup)
            if snap.observed_lead_times is not None or snap.master_lead_times is not None:
                notes.append(f"supplier {sup.id}: {seen} and no master lead time: the scenario's")
            continue
        lt = (
            LeadTime("poisson", mean)
            if sup.lead_time.kind == "poisson"
            else LeadTime("fixed", float(round(mean)))
        )
        out.append(replace(sup, lead_time=lt))
        notes.append(f"supplier {sup.id}: {seen}: the item master's mean lead time {mean:.1f} days")
    return out


def _site_lanes(
    sc: Scenario,
    sites: list[Site],
    suppliers: list[Supplier],
    snap: Snapshot,
    min_obs: int,
    notes: list[str],
) -> list[Lane]:
    """The scenario's lanes, plus the lane from a supplier to each site it delivers (as source
    or as backup) that central observed `min_obs` times at that site: the site's own
    distribution. Elsewhere the supplier's lead time stands."""
    rows: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for row in snap.observed_lead_times or []:
        if row.get("site"):
            rows[(row["supplier"], row["site"])].append(row)
    lanes = {(ln.src, ln.dst): ln for ln in sc.lanes}
    by_id = {s.id: s for s in suppliers}
    for site in sites:
        backup = by_id[site.source].backup if site.source in by_id else None
        delivers = [site.source] if backup is None else [site.source, backup]
        for sup in delivers:
            obs = pool(rows.get((sup, site.id), []))
            if sup not in by_id or obs is None or obs.n < min_obs:
                continue
            old = lanes.get((sup, site.id))
            lt = obs.lead_time()
            lanes[(sup, site.id)] = replace(old, days=lt) if old else Lane(sup, site.id, lt)
            notes.append(f"lane {sup}->{site.id}: {obs.describe()}")
    return list(lanes.values())


def _initial(sc: Scenario, stock_rows: dict[tuple[str, str], Row]) -> InitialState:
    lanes = Lanes(sc)  # each site's inbound lead time dates its open orders
    stock = {(s.id, k.id): 0 for s in sc.sites for k in sc.skus}
    pipeline = []
    for (site, sku), row in stock_rows.items():
        if (site, sku) not in stock:
            continue
        stock[(site, sku)] = int(row.get("available", row.get("on_hand", 0)))
        lane = lanes.inbound(lanes.sites[site])
        lt = max(1, round(distributions.moments(lane.days)[0]))
        if row.get("in_transit"):
            pipeline.append((site, sku, int(row["in_transit"]), max(1, math.ceil(lt / 2))))
        if row.get("on_order"):
            pipeline.append((site, sku, int(row["on_order"]), lt))
    return InitialState(stock=stock, pipeline=tuple(pipeline))


def from_central(sc: Scenario, url: str, now: datetime | None = None) -> tuple[Scenario, list[str]]:
    snap = fetch(
        url,
        lookback_days=int(sc.live.get("lookback_days", 28)),
        now=now,
        timeout=float(sc.live.get("timeout_s", 10.0)),
    )
    return apply(sc, snap)
