"""Compile a Scenario into index tables and per-(site, SKU) arrays for the kernels.

Why: kernels loop over dense (site × SKU) arrays; names, defaults, derived lanes and policy
levels in days of cover are resolved here once, not on every simulated day.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simulator.engine import policies
from simulator.engine.kernel import NEGBIN, NORMAL, POISSON
from simulator.scenario import distributions
from simulator.scenario.model import LeadTime, Policy, Scenario

AUTO = Policy("auto")


@dataclass(frozen=True)
class LaneInfo:
    src: str
    dst: str
    dst_index: int
    days: LeadTime
    cost: float
    reliability: float = 1.0
    late: LeadTime = LeadTime("fixed", 0.0)
    port: str | None = None
    lateral: bool = False

    @property
    def random(self) -> bool:
        return distributions.is_random(self.days) or self.reliability < 1.0


@dataclass(frozen=True)
class Surges:
    """Demand surges and promotions as a schedule: surge j multiplies demand of the pairs with
    site[j, i] and sku[j, k] by factor[j] on days start[j] ≤ day < end[j]."""

    start: np.ndarray
    end: np.ndarray
    factor: np.ndarray
    site: np.ndarray  # bool[n_surges, n_sites]
    sku: np.ndarray  # bool[n_surges, n_skus]


@dataclass
class Net:
    scenario: Scenario
    site_ids: list[str]
    sku_ids: list[str]
    supplier_ids: list[str]
    faces: np.ndarray  # bool[n_sites]
    pools: np.ndarray  # bool[n_sites]
    is_dc: np.ndarray
    src_site: np.ndarray  # int64[n_sites], -1 when sourced from a supplier
    src_supplier: np.ndarray  # int64[n_sites], -1 when sourced from a DC
    children: dict[int, np.ndarray]
    dcs: list[int]  # children before parents
    stores: np.ndarray  # every non-DC site: the first review tier
    lanes: list[LaneInfo]
    lane_index: dict[tuple[str, str], int]
    primary_lane: np.ndarray  # int64[n_sites]
    backup_lane: np.ndarray  # int64[n_sites], -1 when the source has no backup
    lateral_lane: np.ndarray  # int64[n_sites, n_sites], -1 when none
    neighbors: np.ndarray  # int64[n_sites, n_sites]: pooling sites nearest first, -1 padded
    dist: np.ndarray  # int64[n_sites, n_skus]: kernel.POISSON | NORMAL | NEGBIN
    mean: np.ndarray  # float64[n_sites, n_skus]: base daily mean (0 at DCs)
    disp: np.ndarray  # normal: sd; negbin: size n
    weekly: np.ndarray  # float64[n_skus, 7]
    rate: np.ndarray  # mean daily demand seen by the pair (DC: summed over what it supplies)
    var: np.ndarray
    pol: np.ndarray  # int64[5, n_sites, n_skus]: policy code, s, S, Q, R (policies.P_*)
    offset: np.ndarray
    lost: np.ndarray  # bool[n_skus]
    hold: np.ndarray  # float64[n_sites, n_skus]
    p_back: np.ndarray
    p_lost: np.ndarray
    K: np.ndarray
    unit_cost: np.ndarray  # float64[n_suppliers]
    il0: np.ndarray
    pipeline0: list[tuple[int, int, int, int]]  # (site, sku, qty, day)
    surges: Surges | None = None

    @property
    def n_sites(self) -> int:
        return len(self.site_ids)

    @property
    def n_skus(self) -> int:
        return len(self.sku_ids)


def compile_network(sc: Scenario) -> Net:
    site_ids = [s.id for s in sc.sites]
    sku_ids = [k.id for k in sc.skus]
    sup_ids = [s.id for s in sc.suppliers]
    si = {x: i for i, x in enumerate(site_ids)}
    ki = {x: i for i, x in enumerate(sku_ids)}
    pi = {x: i for i, x in enumerate(sup_ids)}
    n, m = len(site_ids), len(sku_ids)

    faces = np.array([s.faces_demand for s in sc.sites], bool)
    pools = np.array([s.pools and s.faces_demand for s in sc.sites], bool)
    is_dc = np.array([s.kind == "dc" for s in sc.sites], bool)
    src_site = np.array([si.get(s.source, -1) for s in sc.sites], np.int64)
    src_sup = np.array([pi.get(s.source, -1) for s in sc.sites], np.int64)
    children = {i: np.flatnonzero(src_site == i) for i in range(n) if is_dc[i]}
    dcs = sorted(children, key=lambda i: -_depth(i, src_site))
    stores = np.flatnonzero(~is_dc).astype(np.int64)

    lanes, lane_index, primary, backup, lateral = _lanes(sc, si)

    # Demand at demand-facing sites: the SKU's model × the site's scale, unless the scenario
    # gives the pair its own model (the live twin does, from central's ledger).
    dist = np.zeros((n, m), np.int64)
    mean = np.zeros((n, m))
    disp = np.zeros((n, m))
    var = np.zeros((n, m))
    weekly = np.array([k.demand.weekly for k in sc.skus], float).reshape(m, 7)
    for i, site in enumerate(sc.sites):
        if not site.faces_demand:
            continue
        for k, sku in enumerate(sc.skus):
            own = sc.pair_demand.get((site.id, sku.id))
            d, scale = (own, 1.0) if own is not None else (sku.demand, site.demand_scale)
            dist[i, k], mean[i, k], disp[i, k], var[i, k] = demand_params(d, scale)
    rate = mean.copy()
    for dc in dcs:  # children first, so a DC of DCs sums its DCs' totals
        rate[dc] = rate[children[dc]].sum(axis=0)
        var[dc] = var[children[dc]].sum(axis=0)

    # Policies.
    kind = np.zeros((n, m), np.int64)
    s_ = np.zeros((n, m), np.int64)
    S_ = np.zeros((n, m), np.int64)
    Q_ = np.ones((n, m), np.int64)
    R_ = np.ones((n, m), np.int64)
    for i, site in enumerate(sc.sites):
        lt_mean, lt_var = _lane_moments(lanes[primary[i]])
        for k, sku in enumerate(sc.skus):
            pol = (sku.dc_policy or AUTO) if site.kind == "dc" else sku.policy
            kind[i, k], s_[i, k], S_[i, k], Q_[i, k], R_[i, k] = policies.resolve(
                pol, rate[i, k], var[i, k], lt_mean, lt_var
            )
    offset = np.arange(n, dtype=np.int64)

    # Costs.
    c = sc.costs
    h_sku = np.array([c.holding if k.holding is None else k.holding for k in sc.skus])
    hold = np.outer([s.holding_factor for s in sc.sites], h_sku)
    p_back = np.array([c.backorder if k.backorder is None else k.backorder for k in sc.skus])
    p_lost = np.array([c.lost_sale if k.lost_sale is None else k.lost_sale for k in sc.skus])
    K = np.array([c.order if k.order is None else k.order for k in sc.skus])
    lost = np.array([k.unmet == "lost" for k in sc.skus], bool)

    # Opening state.
    il0 = policies.opening_level(kind, s_, S_, Q_).astype(np.int64)
    pipeline0: list[tuple[int, int, int, int]] = []
    if sc.initial is not None:
        for (site, sku), level in sc.initial.stock.items():
            il0[si[site], ki[sku]] = level
        pipeline0 = [(si[a], ki[b], q, d) for a, b, q, d in sc.initial.pipeline]

    net = Net(
        scenario=sc,
        site_ids=site_ids,
        sku_ids=sku_ids,
        supplier_ids=sup_ids,
        faces=faces,
        pools=pools,
        is_dc=is_dc,
        src_site=src_site,
        src_supplier=src_sup,
        children=children,
        dcs=dcs,
        stores=stores,
        lanes=lanes,
        lane_index=lane_index,
        primary_lane=primary,
        backup_lane=backup,
        lateral_lane=lateral,
        neighbors=_neighbors(sc, pools, lateral, lanes),
        dist=dist,
        mean=mean,
        disp=disp,
        weekly=weekly,
        rate=rate,
        var=var,
        pol=policies.pack(kind, s_, S_, Q_, R_),
        offset=offset,
        lost=lost,
        hold=hold,
        p_back=p_back,
        p_lost=p_lost,
        K=K,
        unit_cost=np.array([s.unit_cost for s in sc.suppliers]),
        il0=il0,
        pipeline0=pipeline0,
    )
    net.surges = _surges(sc, si, ki)
    return net


def demand_params(d, scale: float) -> tuple[int, float, float, float]:
    """(code, mean, spread, variance) of a demand model scaled by `scale`. The spread is the
    normal's sd (scaled with the mean, keeping the CV) or the negbin's size n (kept, so the scale
    multiplies the gamma's scale: variance = μ + μ²/n)."""
    mu = d.mean * scale
    if d.dist == "normal":
        sd = d.sd * scale
        return NORMAL, mu, sd, sd * sd
    if d.dist == "negbin":
        size = negbin_size(d.mean, d.sd)
        return NEGBIN, mu, size, mu + mu * mu / size
    return POISSON, mu, 0.0, mu


def negbin_size(mean: float, sd: float) -> float:
    """NumPy's negative_binomial(n, p) has mean n(1−p)/p and variance mean + mean²/n, so the
    size that gives a standard deviation sd is n = mean² / (sd² − mean)."""
    return mean * mean / (sd * sd - mean)


def _depth(i: int, src_site: np.ndarray) -> int:
    d = 0
    while src_site[i] >= 0:
        i = int(src_site[i])
        d += 1
    return d


def _lane_moments(lane: LaneInfo) -> tuple[float, float]:
    return distributions.with_reliability(lane.days, lane.reliability, lane.late)


def _lanes(sc: Scenario, si: dict[str, int]):
    """Every lane the twin may use: each site's inbound lane, the backup supplier's lane to it,
    and store-to-store lanes between pooling sites. Explicit [[lane]] entries win."""
    explicit = {(ln.src, ln.dst): ln for ln in sc.lanes}
    sups = {s.id: s for s in sc.suppliers}
    sites = {s.id: s for s in sc.sites}
    lanes: list[LaneInfo] = []
    index: dict[tuple[str, str], int] = {}

    def add(src: str, dst: str, lateral: bool = False) -> int:
        if (src, dst) in index:
            return index[(src, dst)]
        ex = explicit.get((src, dst))
        rel, late = 1.0, LeadTime("fixed", 0.0)
        if src in sups:
            sup = sups[src]
            days, cost, rel, late = sup.lead_time, 0.0, sup.reliability, sup.late_days
        elif lateral:
            days, cost = _lateral_days(sc, sites[src], sites[dst]), sc.costs.transfer
        else:
            days, cost = sc.network.dc_days, sc.network.dc_cost
        if ex is not None:
            days, cost = ex.days, ex.cost
        lane = LaneInfo(src, dst, si[dst], days, cost, rel, late, ex.port if ex else None, lateral)
        index[(src, dst)] = len(lanes)
        lanes.append(lane)
        return index[(src, dst)]

    n = len(sc.sites)
    primary = np.array([add(s.source, s.id) for s in sc.sites], np.int64)
    backup = np.full(n, -1, np.int64)
    for i, s in enumerate(sc.sites):
        b = sups[s.source].backup if s.source in sups else None
        if b:
            backup[i] = add(b, s.id)
    lateral = np.full((n, n), -1, np.int64)
    pooling = [i for i, s in enumerate(sc.sites) if s.pools and s.faces_demand]
    for a in pooling:
        for b in pooling:
            if a != b:
                lateral[a, b] = add(sc.sites[a].id, sc.sites[b].id, lateral=True)
    # Explicit lanes nobody derived (e.g. for a closure) are still known by name.
    for (src, dst), _ in explicit.items():
        if (src, dst) not in index and dst in si:
            add(src, dst, lateral=src in si and dst in si)
    return lanes, index, primary, backup, lateral


def _lateral_days(sc: Scenario, a, b) -> LeadTime:
    kmd = sc.network.km_per_day
    if kmd and None not in (a.x, a.y, b.x, b.y):
        return LeadTime("fixed", float(math.ceil(math.hypot(a.x - b.x, a.y - b.y) / kmd)))
    return sc.network.lateral_days


def _neighbors(sc, pools, lateral, lanes) -> np.ndarray:
    """For each pooling site, the other pooling sites nearest first: by distance when sites have
    coordinates, else by lane days, then cost, then order in the scenario."""
    n = len(sc.sites)
    out = np.full((n, max(n - 1, 1)), -1, np.int64)
    for a in np.flatnonzero(pools):
        sa = sc.sites[a]

        def key(b: int, sa=sa, a=a) -> tuple:
            sb = sc.sites[b]
            lane = lanes[lateral[a, b]]
            dist = (
                math.hypot(sa.x - sb.x, sa.y - sb.y)
                if None not in (sa.x, sa.y, sb.x, sb.y)
                else math.inf
            )
            return (dist, distributions.moments(lane.days)[0], lane.cost, b)

        order = sorted((b for b in np.flatnonzero(pools) if b != a), key=key)
        out[a, : len(order)] = order
    return out


def _surges(sc: Scenario, si: dict[str, int], ki: dict[str, int]) -> Surges:
    rows: list[tuple[int, int, float, list[int] | None, list[int] | None]] = []
    for d in sc.disruptions:
        if d.kind == "surge":
            sites = [si[x] for x in d.sites] if d.sites else None
            skus = [ki[x] for x in d.skus] if d.skus else None
            rows.append((d.start, d.start + d.days, d.factor, sites, skus))
    for k, sku in enumerate(sc.skus):
        for p in sku.demand.promotions:
            rows.append((p.start, p.start + p.days, p.factor, None, [k]))
    n, m = len(si), len(ki)
    site = np.zeros((len(rows), n), bool)
    sku = np.zeros((len(rows), m), bool)
    for j, (_, _, _, sites, skus) in enumerate(rows):
        site[j, sites if sites is not None else slice(None)] = True
        sku[j, skus if skus is not None else slice(None)] = True
    return Surges(
        start=np.array([r[0] for r in rows], np.int64),
        end=np.array([r[1] for r in rows], np.int64),
        factor=np.array([r[2] for r in rows], float),
        site=site,
        sku=sku,
    )
