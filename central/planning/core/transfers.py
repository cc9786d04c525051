"""Transfer suggestions: move surplus to sites below safety stock before buying more.

Per SKU (its sites are one contiguous block of series):

* **surplus** at a site whose days of cover (available / forecast per day) exceed
  `surplus_cover_days`: what lies above max(order-up-to level, surplus_cover_days × demand)
  — the giving site keeps its own target and the surplus threshold's worth of cover;
* **deficit** at a site whose alert position is below safety stock: it needs up to its
  order-up-to level, less its inventory position (open orders count, so a deficit a PO already
  covers asks for nothing);
* deficits are served most urgent first (lowest position / safety stock), each from the
  cheapest eligible source by cost per unit + waiting cost (lane days × `day_cost_share` × unit
  cost). A lane is eligible when it exists, is not frozen, arrives at least `min_days_gain` days
  before a purchase would (lane days ≤ purchase lead time − gain), and costs at most
  `max_cost_share` of the unit cost. What transfers cannot cover is left to purchase proposals.

Freeze rules (config.FreezeRule) forbid lanes for some SKUs on some days — e.g. no cross-store
transfers of high-value items during a promotion.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
from numba import njit

from .config import FreezeRule, TransferConfig


@dataclass
class Lanes:
    """Site-to-site transfer lanes: days and cost per unit ([n_sites, n_sites]; inf = none)."""

    days: np.ndarray
    cost: np.ndarray

    @classmethod
    def uniform(cls, n_sites: int, days: float, cost: float) -> Lanes:
        d = np.full((n_sites, n_sites), days, np.float64)
        c = np.full((n_sites, n_sites), cost, np.float64)
        np.fill_diagonal(d, np.inf)
        np.fill_diagonal(c, np.inf)
        return cls(d, c)


def freeze_masks(
    rules: Sequence[FreezeRule],
    today: date,
    *,
    sku_names: Sequence[str],
    sku_category: np.ndarray,
    category_names: Sequence[str],
    sku_unit_cost: np.ndarray,
    site_names: Sequence[str],
    site_is_dc: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Rules active today as (sku_mask [R, n_skus], lane_mask [R, n_sites, n_sites]): a
    transfer of SKU k from site a to b is frozen when some rule r has both masks set."""
    active = [r for r in rules if r.active(today)]
    n_skus, n_sites = len(sku_names), len(site_names)
    sku_mask = np.zeros((len(active), n_skus), np.bool_)
    lane_mask = np.zeros((len(active), n_sites, n_sites), np.bool_)
    dc = np.asarray(site_is_dc, np.bool_)
    store = ~dc
    cat_of = np.asarray(sku_category, np.int64)
    for j, r in enumerate(active):
        m = np.ones(n_skus, np.bool_)
        if r.categories:
            wanted = [i for i, c in enumerate(category_names) if c in set(r.categories)]
            m &= np.isin(cat_of, wanted)
        if r.skus:
            m &= np.isin(np.asarray(sku_names, dtype=object), list(r.skus))
        if r.min_unit_value is not None:
            m &= np.asarray(sku_unit_cost, np.float64) >= r.min_unit_value
        sku_mask[j] = m
        if r.scope == "cross_store":
            lane = store[:, None] & store[None, :]
        elif r.scope == "to_store":
            lane = np.broadcast_to(store[None, :], (n_sites, n_sites)).copy()
        elif r.scope == "from_dc":
            lane = np.broadcast_to(dc[:, None], (n_sites, n_sites)).copy()
        else:
            lane = np.ones((n_sites, n_sites), np.bool_)
        if r.sites:
            inside = np.isin(np.asarray(site_names, dtype=object), list(r.sites))
            lane &= inside[:, None] | inside[None, :]
        np.fill_diagonal(lane, False)
        lane_mask[j] = lane
    return sku_mask, lane_mask


@njit(cache=True)
def _balances(base, available, alert_pos, position, safety_stock, target, rate, surplus_cover,
              surplus, need, urgency):  # fmt: skip
    """Surplus, need and urgency (position / safety stock) of each site of the SKU whose
    series start at `base`; returns (some site has surplus, some site needs stock)."""
    any_s = False
    any_d = False
    for j in range(surplus.shape[0]):
        i = base + j
        surplus[j] = 0.0
        need[j] = 0.0
        urgency[j] = 0.0
        r = rate[i]
        a = available[i]
        if a > 0 and (r <= 0 or a > surplus_cover * r):
            keep = max(target[i], surplus_cover * r)
            surplus[j] = np.floor(max(a - keep, 0.0))
            any_s |= surplus[j] > 0
        if safety_stock[i] > 0 and alert_pos[i] < safety_stock[i]:
            need[j] = np.floor(max(target[i] - position[i], 0.0))
            urgency[j] = alert_pos[i] / safety_stock[i]
            any_d |= need[j] > 0
    return any_s, any_d


@njit(cache=True)
def _by_urgency(urgency, order):
    """Site numbers into `order`, most urgent first (insertion sort: a handful of sites, and
    np.argsort is slow to compile)."""
    n_sites = urgency.shape[0]
    for j in range(n_sites):
        order[j] = j
    for j in range(1, n_sites):
        x = order[j]
        p = j - 1
        while p >= 0 and urgency[order[p]] > urgency[x]:
            order[p + 1] = order[p]
            p -= 1
        order[p + 1] = x


@njit(cache=True)
def _frozen(k, src, dst, freeze_sku, freeze_lane):
    """Whether some freeze rule forbids moving SKU k from site src to site dst."""
    for rr in range(freeze_sku.shape[0]):  # noqa: SIM110 - a loop compiles; any(genexpr) not
        if freeze_sku[rr, k] and freeze_lane[rr, src, dst]:
            return True
    return False


@njit(cache=True)
def _best_source(k, dst, surplus, lane_days, lane_cost, max_days, max_cost, wait, freeze_sku,
                 freeze_lane):  # fmt: skip
    """The site with surplus that serves `dst` cheapest (cost + wait × lane days) over an
    eligible lane: it exists, is not frozen, takes at most `max_days` and costs at most
    `max_cost` per unit. -1 when there is none."""
    best = -1
    best_score = np.inf
    for s in range(surplus.shape[0]):
        if s == dst or surplus[s] <= 0:
            continue
        days = lane_days[s, dst]
        cost = lane_cost[s, dst]
        if not (np.isfinite(days) and np.isfinite(cost)):
            continue
        if days > max_days or cost > max_cost:
            continue
        if _frozen(k, s, dst, freeze_sku, freeze_lane):
            continue
        score = cost + wait * days
        if score < best_score:
            best_score = score
            best = s
    return best


@njit(cache=True)
def match_transfers(
    n_sites, available, alert_pos, position, safety_stock, target, rate, purchase_lead,
    unit_cost, lane_days, lane_cost, surplus_cover, min_days_gain, max_cost_share,
    day_cost_share, freeze_sku, freeze_lane,
    o_sku, o_src, o_dst, o_qty,
):  # fmt: skip
    """Greedy surplus → deficit matching per SKU (see module docstring). Per-series inputs are
    [n_skus * n_sites]; unit_cost and freeze_sku are per SKU. Returns the number of transfers
    written to the o_* arrays (capacity ≥ number of series)."""
    n_skus = available.shape[0] // n_sites
    count = 0
    surplus = np.zeros(n_sites)
    need = np.zeros(n_sites)
    urgency = np.zeros(n_sites)
    order = np.zeros(n_sites, np.int64)
    for k in range(n_skus):
        base = k * n_sites
        any_s, any_d = _balances(base, available, alert_pos, position, safety_stock, target,
                                 rate, surplus_cover, surplus, need, urgency)  # fmt: skip
        if not (any_s and any_d):
            continue
        max_cost = max_cost_share * unit_cost[k]
        wait = day_cost_share * unit_cost[k]
        _by_urgency(urgency, order)
        for jj in range(n_sites):
            d = order[jj]
            max_days = purchase_lead[base + d] - min_days_gain
            while need[d] > 0:
                best = _best_source(k, d, surplus, lane_days, lane_cost, max_days, max_cost,
                                    wait, freeze_sku, freeze_lane)  # fmt: skip
                if best < 0:
                    break
                q = min(need[d], surplus[best])
                o_sku[count] = k
                o_src[count] = best
                o_dst[count] = d
                o_qty[count] = q
                count += 1
                need[d] -= q
                surplus[best] -= q
    return count


@dataclass
class TransferSuggestions:
    sku: np.ndarray  # int64 sku index
    src: np.ndarray  # int64 site index
    dst: np.ndarray
    qty: np.ndarray
    lane_days: np.ndarray
    lane_cost: np.ndarray  # per unit
    n_sites: int

    def __len__(self) -> int:
        return int(self.sku.size)

    @property
    def src_series(self) -> np.ndarray:
        return self.sku * self.n_sites + self.src

    @property
    def dst_series(self) -> np.ndarray:
        return self.sku * self.n_sites + self.dst

    def planned(self, n_series: int) -> tuple[np.ndarray, np.ndarray]:
        """(planned in, planned out) per series, to fold into inventory positions."""
        pin = np.bincount(self.dst_series, weights=self.qty, minlength=n_series)
        pout = np.bincount(self.src_series, weights=self.qty, minlength=n_series)
        return pin, pout

    def records(self, sku_names: Sequence[str], site_names: Sequence[str]) -> list[dict]:
        return [
            {
                "sku": sku_names[int(self.sku[j])],
                "from_site": site_names[int(self.src[j])],
                "to_site": site_names[int(self.dst[j])],
                "qty": float(self.qty[j]),
                "lane_days": float(self.lane_days[j]),
                "cost": float(self.qty[j] * self.lane_cost[j]),
            }
            for j in range(len(self))
        ]


def suggest_transfers(
    *,
    n_sites: int,
    available: np.ndarray,
    alert_pos: np.ndarray,
    position: np.ndarray,
    safety_stock: np.ndarray,
    target: np.ndarray,
    rate: np.ndarray,
    purchase_lead: np.ndarray,
    sku_unit_cost: np.ndarray,
    lanes: Lanes,
    config: TransferConfig,
    freeze: tuple[np.ndarray, np.ndarray] | None = None,
) -> TransferSuggestions:
    """Suggested transfers for every SKU (inputs per series, unit cost per SKU)."""
    n = available.shape[0]
    n_skus = n // n_sites
    if freeze is None:
        freeze = (np.zeros((0, n_skus), np.bool_), np.zeros((0, n_sites, n_sites), np.bool_))
    o_sku = np.empty(n, np.int64)
    o_src = np.empty(n, np.int64)
    o_dst = np.empty(n, np.int64)
    o_qty = np.empty(n, np.float64)

    def f64(a):
        # writable and contiguous whatever came in (a scalar, a view): one compiled kernel
        a = np.asarray(a, np.float64)
        if a.shape != (n,):
            a = np.broadcast_to(a, (n,)).copy()
        return np.require(a, None, "CW")

    cnt = match_transfers(
        n_sites, f64(available), f64(alert_pos), f64(position), f64(safety_stock), f64(target),
        f64(rate), f64(purchase_lead), np.asarray(sku_unit_cost, np.float64),
        np.asarray(lanes.days, np.float64), np.asarray(lanes.cost, np.float64),
        float(config.surplus_cover_days), float(config.min_days_gain),
        float(config.max_cost_share), float(config.day_cost_share),
        freeze[0], freeze[1], o_sku, o_src, o_dst, o_qty,
    )  # fmt: skip
    sku, src, dst = o_sku[:cnt], o_src[:cnt], o_dst[:cnt]
    return TransferSuggestions(
        sku=sku,
        src=src,
        dst=dst,
        qty=o_qty[:cnt],
        lane_days=np.asarray(lanes.days)[src, dst].astype(np.float64),
        lane_cost=np.asarray(lanes.cost)[src, dst].astype(np.float64),
        n_sites=n_sites,
    )
