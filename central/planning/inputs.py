"""Planning's inputs from central: master data as indexes and arrays, stock per SKU × site from
the engine, open documents from the workflow tables, observed lead times.

Why a separate module: the planning core (central/planning) takes plain arrays numbered by
series = sku_index × n_sites + site_index; everything that knows about ledger tables, engine
ids and workflow states is translated here, once, and nowhere else.

Engine ids → series: the engine's arrays are item id × location id; a SKU's index is its place
in `items` ordered by id, a site's index its place in the sorted list of sites in `locations`.
Stock per series is the sum of the engine's cells over the site's locations (`site_stock`).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import numpy as np
from numba import njit

from central.planning.core import LeadTimeRules, LeadTimes, Network, estimate_lead_times
from central.planning.core.transfers import Lanes
from central.planning.settings import CentralPlanning, LaneConfig
from central.stock.engine import StockEngine

UNCATEGORISED = "uncategorised"
#: Purchase orders that are not on order in the engine yet but already answer a need: a new
#: proposal must not repeat them (approved, sent and partly received POs are the engine's
#: `on_order`).
PENDING_PO = ("draft", "pending_approval")
#: Transfer orders whose goods have not left the source yet (those in transit are the
#: engine's `in_transit` at the destination).
PENDING_TO = ("proposed", "approved", "picking")


@dataclass
class Indexes:
    """Ledger ids ↔ planning indexes, and what identifies the master data they were built from
    (`signature`: a new item or site means rebuilding the planning state)."""

    sku_names: list[str]
    item_ids: np.ndarray  # int64 [n_skus]: engine row of each SKU
    item_to_sku: np.ndarray  # int64 [max item id + 1]: SKU index, -1 unknown
    site_names: list[str]
    loc_to_site: np.ndarray  # int64 [max loc id + 1]: site index, -1 unknown
    signature: tuple

    @property
    def n_sites(self) -> int:
        return len(self.site_names)

    @property
    def n_series(self) -> int:
        return len(self.sku_names) * self.n_sites

    @property
    def sku_index(self) -> dict[str, int]:
        return {s: i for i, s in enumerate(self.sku_names)}

    @property
    def site_index(self) -> dict[str, int]:
        return {s: i for i, s in enumerate(self.site_names)}


def signature(conn: sqlite3.Connection) -> tuple:
    """What the indexes depend on: item count and max id, location count and max id."""
    items = conn.execute("SELECT count(*), coalesce(max(id), 0) FROM items").fetchone()
    locs = conn.execute("SELECT count(*), coalesce(max(id), 0) FROM locations").fetchone()
    return (*items, *locs)


def load_master(conn: sqlite3.Connection, cfg: CentralPlanning) -> tuple[Indexes, Network]:
    """Indexes and the planning Network (categories, costs, suppliers with lead times, DCs,
    lanes) from the item and location master data and the observed PO lead times."""
    sig = signature(conn)
    items = conn.execute(
        "SELECT id, sku, category, unit_cost, supplier, pack_size, moq FROM items ORDER BY id"
    ).fetchall()
    locs = conn.execute("SELECT id, site, kind FROM locations ORDER BY id").fetchall()
    site_names = sorted({site for _, site, _ in locs})
    site_ix = {s: i for i, s in enumerate(site_names)}
    max_item = max((r[0] for r in items), default=0)
    max_loc = max((r[0] for r in locs), default=0)
    item_ids = np.array([r[0] for r in items], np.int64)
    item_to_sku = np.full(max_item + 1, -1, np.int64)
    item_to_sku[item_ids] = np.arange(item_ids.size)
    loc_to_site = np.full(max_loc + 1, -1, np.int64)
    for loc_id, site, _ in locs:
        loc_to_site[loc_id] = site_ix[site]
    ix = Indexes([r[1] for r in items], item_ids, item_to_sku, site_names, loc_to_site, sig)

    categories = sorted({r[2] or UNCATEGORISED for r in items}) or [UNCATEGORISED]
    cat_ix = {c: i for i, c in enumerate(categories)}
    suppliers = sorted({r[4] for r in items if r[4]})
    sup_ix = {s: i for i, s in enumerate(suppliers)}
    lead = supplier_lead_times(conn, suppliers, cfg.lead_times)
    if cfg.dc_sites is not None:
        dc = set(cfg.dc_sites)
    else:
        dc = {site for _, site, kind in locs if (kind or "").strip().lower() == "dc"}
    net = Network(
        sku_names=ix.sku_names,
        site_names=site_names,
        category_names=categories,
        sku_category=np.array([cat_ix[r[2] or UNCATEGORISED] for r in items], np.int64),
        sku_unit_cost=np.array([r[3] or 0.0 for r in items], np.float64),
        sku_supplier=np.array([sup_ix[r[4]] if r[4] else -1 for r in items], np.int64),
        supplier_names=suppliers,
        supplier_lead_days=lead.days,
        supplier_lead_sd=lead.sd,
        lead_times=lead,
        site_is_dc=np.array([s in dc for s in site_names], np.bool_),
        sku_pack_size=np.array([r[5] or 0 for r in items], np.float64),
        sku_moq=np.array([r[6] or 0 for r in items], np.float64),
        lanes=lanes_for(site_names, cfg.lanes),
    )
    return ix, net


def dc_site_names(net: Network) -> list[str]:
    dc = net.site_is_dc if net.site_is_dc is not None else np.zeros(net.n_sites, np.bool_)
    return [s for s, is_dc in zip(net.site_names, dc.tolist(), strict=True) if is_dc]


def lanes_for(site_names: list[str], cfg: LaneConfig) -> Lanes | None:
    """Lane days and costs per site pair from the config (None: no transfers)."""
    n = len(site_names)
    if not cfg.enabled or n < 2:
        return None
    lanes = Lanes.uniform(n, cfg.days, cfg.cost)
    ix = {s: i for i, s in enumerate(site_names)}
    for lane in cfg.lanes:
        a, b = ix.get(lane.src), ix.get(lane.dst)
        if a is None or b is None or a == b:
            continue
        ok = lane.days >= 0
        lanes.days[a, b] = lane.days if ok else np.inf
        lanes.cost[a, b] = lane.cost if ok else np.inf
    return lanes


def table_exists(conn: sqlite3.Connection, name: str) -> bool:
    found = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
    ).fetchone()
    return found is not None


def supplier_lead_times(
    conn: sqlite3.Connection, suppliers: list[str], rules: LeadTimeRules
) -> LeadTimes:
    """Each supplier's lead time: the observed distribution of its orders once there are enough
    (workflows' `lead_times`, one row per PO line's first receipt), else master data.

    One order is one observation, however many lines it has (fifty lines off one truck are one
    delivery): its lead time is the mean of its lines'. Master data holds a lead time per item;
    a supplier's prior is the median over its items (the planning core plans lead time per
    supplier). The floor, the outlier rule and what is enough are `estimate_lead_times`'.
    """
    n = len(suppliers)
    ix = {s: i for i, s in enumerate(suppliers)}
    per: list[list[float]] = [[] for _ in range(n)]
    for sup, days in conn.execute(
        "SELECT supplier, lead_time_days FROM items "
        "WHERE supplier IS NOT NULL AND lead_time_days IS NOT NULL"
    ):
        if sup in ix:
            per[ix[sup]].append(float(days))
    prior = np.array([np.median(v) if v else np.nan for v in per], np.float64)
    obs: list[tuple] = []
    if n and table_exists(conn, "lead_times"):
        obs = conn.execute(
            "SELECT supplier, avg(days) FROM lead_times GROUP BY po_id "
            "ORDER BY max(received_at), po_id"
        ).fetchall()
    sup = np.array([ix.get(s, -1) for s, _ in obs], np.int64)
    days = np.array([d for _, d in obs], np.float64)
    return estimate_lead_times(prior, sup, days, rules)


# --- stock from the engine -------------------------------------------------------------------


@njit(cache=True)
def _site_sums(on_hand, reserved, in_transit, on_order, items, loc_to_site, out):
    """out[m, k, site] = Σ over the site's locations of measure m of item items[k].

    One pass over each item's row of the four engine arrays: no temporary copies, so the full
    pass over every item costs what reading the arrays costs."""
    n_rows, n_cols = on_hand.shape
    n_locs = min(n_cols, loc_to_site.shape[0])
    for k in range(items.shape[0]):
        it = items[k]
        if it <= 0 or it >= n_rows:
            continue
        for c in range(1, n_locs):
            s = loc_to_site[c]
            if s < 0:
                continue
            out[0, k, s] += on_hand[it, c]
            out[1, k, s] += reserved[it, c]
            out[2, k, s] += in_transit[it, c]
            out[3, k, s] += on_order[it, c]


@dataclass
class SiteStock:
    """Engine measures summed per SKU × site: float64 [len(skus), n_sites] each."""

    on_hand: np.ndarray
    reserved: np.ndarray
    in_transit: np.ndarray
    on_order: np.ndarray

    @property
    def alert_position(self) -> np.ndarray:
        """Available after reservations plus what is due within the lead time: approved POs
        (the engine's on_order) and goods in transit (see docs/planning.md, "How central runs
        it", for why all of them are due within the lead time)."""
        return self.on_hand - self.reserved + self.on_order + self.in_transit


def site_stock(engine: StockEngine, ix: Indexes, skus: np.ndarray | None = None) -> SiteStock:
    """The engine's stock of some SKUs (indexes; None: all) per site, read under its lock."""
    skus = np.arange(len(ix.sku_names)) if skus is None else np.asarray(skus, np.int64)
    out = np.zeros((4, skus.size, ix.n_sites), np.float64)
    items = ix.item_ids[skus]
    with engine.lock:
        _site_sums(
            engine.on_hand, engine.reserved, engine.in_transit, engine.on_order,
            items, ix.loc_to_site, out,
        )  # fmt: skip
    return SiteStock(out[0], out[1], out[2], out[3])


# --- open documents --------------------------------------------------------------------------


def _per_series(ix: Indexes, rows: list[tuple]) -> np.ndarray:
    """(sku, site, qty) rows → qty per series (unknown SKUs or sites skipped)."""
    out = np.zeros(ix.n_series, np.float64)
    sku_ix, site_ix = ix.sku_index, ix.site_index
    for sku, site, qty in rows:
        a, b = sku_ix.get(sku), site_ix.get(site)
        if a is not None and b is not None and qty and qty > 0:
            out[a * ix.n_sites + b] += qty
    return out


def pending_orders(conn: sqlite3.Connection, ix: Indexes) -> tuple[np.ndarray, np.ndarray]:
    """(draft and unapproved PO quantity, unshipped transfer quantity inbound) per series.

    They are not stock on its way yet, so they do not calm an alert; they are decisions already
    taken, so the next pass must not propose them again (they join the inventory position).
    Goods received against a draft's number (workflows records the receipt as an exception) are
    that draft's goods: they are in on hand and no longer open on the draft.
    """
    if not table_exists(conn, "purchase_orders"):
        z = np.zeros(ix.n_series, np.float64)
        return z, z.copy()
    marks = ",".join("?" * len(PENDING_PO))
    po = conn.execute(
        f"SELECT l.sku, l.site, l.qty - l.received - coalesce((SELECT sum(r.qty) FROM "
        f"po_receipts r WHERE r.po_id = p.id AND r.line_id IS NULL AND r.sku = l.sku AND "
        f"r.site = l.site), 0) FROM po_lines l JOIN purchase_orders p ON p.id = l.po_id "
        f"WHERE p.status IN ({marks})",
        PENDING_PO,
    ).fetchall()
    marks = ",".join("?" * len(PENDING_TO))
    to = conn.execute(
        f"SELECT l.sku, o.to_site, CASE WHEN o.status = 'picking' THEN l.qty - l.picked "
        f"ELSE l.qty END FROM to_lines l JOIN transfer_orders o ON o.id = l.to_id "
        f"WHERE o.status IN ({marks})",
        PENDING_TO,
    ).fetchall()
    return _per_series(ix, po), _per_series(ix, to)


# --- demand and how much of it was filled (the fill rate) -----------------------------------

#: Reservation requests the desk refused (no stock): the only trace they leave, written by
#: `PlanningService.reservation_refused` (a refused reservation has no row in `reservations`).
REFUSED_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS planning_refused (id INTEGER PRIMARY KEY, ts TEXT NOT NULL, "
    "sku TEXT NOT NULL, site TEXT NOT NULL, qty INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS planning_refused_ts ON planning_refused(ts)",
)


def fill_counts(conn: sqlite3.Connection, ix: Indexes, since: str) -> tuple[np.ndarray, np.ndarray]:
    """(demand, filled) units per series since `since` (an ISO date or timestamp).

    Demand is what customers asked a site for: its walk-in sales (sale movements that do not
    fulfil a reservation), the quantity of every reservation requested there, and the requests
    the desk refused. Filled is the walk-in sales (a sale is scanned from stock) and the
    reservations granted from that site's own stock; a reservation routed to another site or a
    dropship partner is demand the requested site did not fill. Cancelled and expired
    reservations were filled when asked: the stock was there. See docs/planning.md, "KPIs".
    """
    walk_in = conn.execute(
        "SELECT sku, site, sum(qty) FROM movements WHERE ts >= ? AND type = 'sale' "
        "AND (ref IS NULL OR upper(ref) NOT LIKE 'RES-%') GROUP BY sku, site",
        (since,),
    ).fetchall()
    demand = _per_series(ix, walk_in)
    filled = demand.copy()
    if table_exists(conn, "reservations"):
        asked = conn.execute(
            "SELECT sku, requested_site, sum(qty), "
            "sum(CASE WHEN site = requested_site THEN qty ELSE 0 END) FROM reservations "
            "WHERE created_at >= ? GROUP BY sku, requested_site",
            (since,),
        ).fetchall()
        demand += _per_series(ix, [(sku, site, q) for sku, site, q, _ in asked])
        filled += _per_series(ix, [(sku, site, g) for sku, site, _, g in asked])
    if table_exists(conn, "planning_refused"):
        refused = conn.execute(
            "SELECT sku, site, sum(qty) FROM planning_refused WHERE ts >= ? GROUP BY sku, site",
            (since,),
        ).fetchall()
        demand += _per_series(ix, refused)
    return demand, filled
