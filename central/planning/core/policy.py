"""Replenishment formulas: safety stock, reorder point, EOQ, order-up-to, min/max, rounding.

Each formula lives here once, vectorised over series (numpy broadcasting; the order-quantity
rule is a small Numba kernel). Units: quantities in stock units, time in days, demand per day,
costs per unit. The protection interval of a daily-reviewed item is L + R (lead time plus review
period), which is what a safety stock has to cover (Silver, Pyke & Thomas 2017, ch. 6).

References
    SPP  — Silver, Pyke & Thomas, *Inventory and Production Management in Supply Chains*,
           4th ed., CRC Press 2017 (successor of Silver, Pyke & Peterson 1998); ch. 4 "Order
           Quantities When Demand Is Approximately Level", ch. 6 "Individual Items with
           Probabilistic Demand".
    S&S  — Snyder & Shen, *Fundamentals of Supply Chain Theory*, 2nd ed., Wiley 2019.
    Nah  — Nahmias & Olsen, *Production and Operations Analysis*, 7th ed., Waveland 2015.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
from numba import njit

# policy kinds (index into config.POLICY_KINDS)
ROP_EOQ, ORDER_UP_TO, MIN_MAX = 0, 1, 2
# safety stock methods (index into config.SAFETY_STOCK_METHODS)
SS_SERVICE, SS_COVER, SS_SEASONAL = 0, 1, 2


def z_value(service_level: float | np.ndarray) -> float | np.ndarray:
    """Safety factor k = Φ⁻¹(P₁) for a cycle service level P₁ (SPP ch. 6; Nah ch. 5)."""
    inv = NormalDist().inv_cdf
    if np.isscalar(service_level):
        return inv(float(service_level))
    levels = np.asarray(service_level, np.float64)
    uniq, where = np.unique(levels, return_inverse=True)
    return np.array([inv(float(v)) for v in uniq])[where].reshape(levels.shape)


def safety_stock_service(z, sigma, lead_days, review_days, demand_rate=0.0, sigma_lead=0.0):
    """SS = z · √((L + R)·σ² + d²·σ_L²); with a fixed lead time (σ_L = 0) SS = z·σ·√(L + R).

    σ is the standard deviation of one day's forecast error, assumed independent across days, so
    the error over the protection interval L + R has σ·√(L + R) (SPP ch. 6, the (R, S) system;
    S&S ch. 4, base-stock level S = μ + zσ). The σ_L term adds lead-time variability with
    daily demand rate d (SPP ch. 6, random lead times).
    """
    lr = np.asarray(lead_days, np.float64) + np.asarray(review_days, np.float64)
    var = lr * np.square(sigma) + np.square(demand_rate) * np.square(sigma_lead)
    return np.asarray(z) * np.sqrt(np.maximum(var, 0.0))


def safety_stock_cover(rate, cover_days):
    """SS = cover days × forecast demand per day — "keep 48 hours of consumption".

    Time-supply safety stock (SPP ch. 6, safety stocks as equal time supplies): simple and
    explainable, used for fast lines where a service-level model's σ is less trusted than a
    fixed buffer.
    """
    return np.asarray(cover_days, np.float64) * np.maximum(np.asarray(rate, np.float64), 0.0)


@njit(cache=True)
def _seasonal_var(dow_var, first_dow, days):
    n = dow_var.shape[0]
    out = np.empty(n)
    for i in range(n):
        d = days[i]
        full = int(np.floor(d))
        v = 0.0
        for j in range(full + 1):
            w = (first_dow + j) % 7
            v += dow_var[i, w] * (1.0 if j < full else d - full)
        out[i] = v
    return out


def safety_stock_seasonal(z, dow_var, first_weekday, lead_days, review_days):
    """SS = z · √(Σ_{d ∈ protection interval} σ²_{weekday(d)}) — the weekly-mean model.

    Demand on each weekday has its own mean and variance (estimated over the last weeks); the
    demand over the protection interval is a sum of independent, non-identical days, so its
    variance is the sum of the days' variances (SPP ch. 6; S&S ch. 4).
    A line that sells mostly at weekends gets the safety stock the coming weekend needs.
    `first_weekday` is the weekday (0 = Monday) of the first day of the interval (tomorrow).
    """
    days = np.ascontiguousarray(
        np.broadcast_to(np.asarray(lead_days, np.float64) + review_days, (dow_var.shape[0],))
    )
    var = _seasonal_var(np.asarray(dow_var, np.float64), int(first_weekday), days)
    return np.asarray(z) * np.sqrt(var)


def reorder_point(lead_demand, safety_stock):
    """s = x̂_L + SS: forecast demand over the protection interval plus safety stock
    (SPP ch. 6, order point of an (s, Q) or (R, s, Q) system; Nah ch. 5, R = μ_τ + zσ_τ)."""
    return np.asarray(lead_demand, np.float64) + np.asarray(safety_stock, np.float64)


def eoq(annual_demand, order_cost, holding_cost):
    """Economic order quantity Q* = √(2·A·D / (v·r)) (Harris 1913; SPP ch. 4; Nah ch. 4;
    S&S ch. 3). `holding_cost` is v·r, per unit per year. 0 where there is no demand or
    holding cost (no basis for a lot size: order what the need is)."""
    D = np.asarray(annual_demand, np.float64)
    h = np.asarray(holding_cost, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.sqrt(2.0 * np.asarray(order_cost, np.float64) * D / h)
    return np.where((D > 0) & (h > 0), q, 0.0)


def order_up_to_level(protection_demand, safety_stock):
    """S = x̂_{R+L} + SS: the (R, S) order-up-to level (SPP ch. 6; S&S ch. 4 base stock)."""
    return np.asarray(protection_demand, np.float64) + np.asarray(safety_stock, np.float64)


def min_max_levels(reorder_pt, lot):
    """(s, S) with s = reorder point and S = s + Q (SPP ch. 6: the simple (s, S) heuristic
    that sets S − s to the EOQ). Returns (min, max)."""
    s = np.asarray(reorder_pt, np.float64)
    return s, s + np.asarray(lot, np.float64)


def round_to_pack(qty, pack_size, moq):
    """Raise a positive order to the MOQ, then up to whole packs; 0 stays 0."""
    q = np.asarray(qty, np.float64)
    pack = np.maximum(np.asarray(pack_size, np.float64), 1.0)
    q = np.where(q > 0, np.maximum(q, np.asarray(moq, np.float64)), 0.0)
    return np.ceil(np.round(q / pack, 9)) * pack


@njit(cache=True)
def order_quantity(kind, position, rop, lot, up_to, min_level, max_level):
    """Raw order per series (before pack/MOQ rounding) for the series' policy kind.

    * rop_eoq — (s, nQ): at or below s order the smallest multiple of Q that lifts the
      position above s (SPP ch. 6); Q falls back to the shortfall when there is no EOQ.
    * order_up_to — (R, S): order S − position when the position is below S (SPP ch. 6).
    * min_max — (s, S): at or below min order max − position (SPP ch. 6).
    `position` must be the inventory position (available + on order + in transit), so that
    what is already coming suppresses a new order.
    """
    n = position.shape[0]
    out = np.zeros(n)
    for i in range(n):
        ip = position[i]
        k = kind[i]
        if k == ROP_EOQ:
            if ip <= rop[i] and rop[i] > 0:
                q = lot[i]
                short = rop[i] - ip
                if q <= 0:
                    out[i] = max(short, 1.0)
                else:
                    out[i] = max(1.0, np.ceil(short / q)) * q
        elif k == ORDER_UP_TO:
            if ip < up_to[i]:
                out[i] = up_to[i] - ip
        else:
            if ip <= min_level[i] and max_level[i] > 0:
                out[i] = max_level[i] - ip
    return out


#: A robust standard deviation is 1.4826 × the median absolute deviation (normal data).
MAD_TO_SD = 1.4826


@dataclass(frozen=True)
class LeadTimeRules:
    """How observed PO lead times (days from sending, or approval, to the first receipt) become
    a supplier's lead-time distribution. See docs/planning.md, "Lead times"."""

    #: An order received sooner than this after it was sent is not a delivery (the goods were
    #: on the dock already, or the PO was raised after the fact): it is left out.
    floor_days: float = 0.25
    #: Orders the observed distribution needs before it replaces the master-data lead time.
    min_orders: int = 5
    #: Only the supplier's most recent orders count (suppliers change).
    window: int = 20
    #: An order further than this many robust standard deviations from the median of the
    #: window is an outlier (a PO received months late against an old number) and left out.
    outlier_k: float = 3.0
    #: The robust standard deviation is at least this fraction of the median, so a supplier
    #: that is always exactly on time does not turn a one-day slip into an outlier.
    min_spread: float = 0.5

    def __post_init__(self) -> None:
        if self.floor_days < 0 or self.min_orders < 2 or self.window < self.min_orders:
            raise ValueError("lead time rules: floor_days ≥ 0, min_orders ≥ 2, window ≥ min_orders")
        if self.outlier_k <= 0 or self.min_spread < 0:
            raise ValueError("lead time rules: outlier_k > 0, min_spread ≥ 0")


@dataclass
class LeadTimes:
    """Per supplier: the lead time planning uses, its standard deviation, and where it came from
    (`source`: "observed", "master" or "default" — NaN days: the category default applies)."""

    days: np.ndarray
    sd: np.ndarray
    source: list[str]
    prior: np.ndarray  # the master-data lead time (NaN: none)
    orders: np.ndarray  # int64: orders the observed figures rest on
    below_floor: np.ndarray  # int64: orders left out by the floor
    outliers: np.ndarray  # int64: orders left out as outliers


def outlier_mask(days: np.ndarray, k: float, min_spread: float) -> np.ndarray:
    """True where an observation is further than k robust standard deviations from the median
    (robust sd = 1.4826 × MAD, at least `min_spread` × the median)."""
    med = float(np.median(days))
    spread = max(MAD_TO_SD * float(np.median(np.abs(days - med))), min_spread * med)
    return np.abs(days - med) > k * spread


def estimate_lead_times(
    prior: np.ndarray,
    supplier: np.ndarray,
    days: np.ndarray,
    rules: LeadTimeRules | None = None,
) -> LeadTimes:
    """Each supplier's lead-time distribution from its observed orders (oldest first; one
    observation per order) and the master-data prior (NaN: none).

    The floor drops impossible orders; of the rest, the last `window` count; with at least
    `min_orders` of them the outliers are dropped, and if `min_orders` remain their mean and
    standard deviation are the supplier's lead time — the observed distribution, not the
    master value. With fewer the master value stands (standard deviation 0); a supplier
    without one uses what it has observed (so its first order already beats a category default).
    """
    rules = rules or LeadTimeRules()
    prior = np.asarray(prior, np.float64)
    supplier = np.asarray(supplier, np.int64)
    days = np.asarray(days, np.float64)
    n = prior.size
    out = LeadTimes(
        days=prior.copy(),
        sd=np.zeros(n),
        source=["master" if np.isfinite(p) else "default" for p in prior],
        prior=prior,
        orders=np.zeros(n, np.int64),
        below_floor=np.zeros(n, np.int64),
        outliers=np.zeros(n, np.int64),
    )
    for s in np.unique(supplier[(supplier >= 0) & (supplier < n)]):
        mine = days[supplier == s]
        ok = np.isfinite(mine) & (mine >= rules.floor_days)
        out.below_floor[s] = int((~ok).sum())
        kept = mine[ok][-rules.window :]
        if kept.size >= rules.min_orders:
            wild = outlier_mask(kept, rules.outlier_k, rules.min_spread)
            out.outliers[s] = int(wild.sum())
            kept = kept[~wild]
        enough = kept.size >= rules.min_orders
        if kept.size and (enough or not np.isfinite(prior[s])):
            out.days[s] = float(kept.mean())
            out.sd[s] = float(kept.std(ddof=1)) if kept.size > 1 else 0.0
            out.source[s] = "observed"
            out.orders[s] = kept.size
    return out


@dataclass
class PolicyResult:
    """Per-series policy figures (float64 [n])."""

    rate: np.ndarray  # forecast demand per day over the next week
    protection_days: np.ndarray  # L + R
    protection_demand: np.ndarray  # x̂ over L + R
    safety_stock: np.ndarray
    reorder_point: np.ndarray
    eoq: np.ndarray
    order_up_to: np.ndarray
    min_level: np.ndarray
    max_level: np.ndarray


def compute_policy(
    *,
    rate: np.ndarray,
    protection_demand: np.ndarray,
    sigma: np.ndarray,
    dow_var: np.ndarray,
    first_weekday: int,
    lead_days: np.ndarray,
    lead_sd: np.ndarray | float,
    review_days: np.ndarray,
    z: np.ndarray,
    ss_method: np.ndarray,
    cover_days: np.ndarray,
    order_cost: np.ndarray,
    holding_rate: np.ndarray,
    unit_cost: np.ndarray,
) -> PolicyResult:
    """All policy figures for every series; each input is per series (or broadcastable).
    `z` is the safety factor, z_value(service level) (per category, then per series)."""
    ss_service = safety_stock_service(z, sigma, lead_days, review_days, rate, lead_sd)
    ss_cover = safety_stock_cover(rate, cover_days)
    ss = np.where(ss_method == SS_COVER, ss_cover, ss_service)
    seasonal = ss_method == SS_SEASONAL
    if seasonal.any():
        idx = np.flatnonzero(seasonal)
        zz = np.broadcast_to(z, seasonal.shape)[idx]
        ld = np.broadcast_to(lead_days, seasonal.shape)[idx]
        rv = np.broadcast_to(review_days, seasonal.shape)[idx]
        ss[idx] = safety_stock_seasonal(zz, dow_var[idx], first_weekday, ld, rv)
    rop = reorder_point(protection_demand, ss)
    lot = eoq(rate * 365.0, order_cost, holding_rate * unit_cost)
    up_to = order_up_to_level(protection_demand, ss)
    lo, hi = min_max_levels(rop, lot)
    return PolicyResult(
        rate=rate,
        protection_days=np.asarray(lead_days + review_days, np.float64),
        protection_demand=protection_demand,
        safety_stock=ss,
        reorder_point=rop,
        eoq=lot,
        order_up_to=up_to,
        min_level=lo,
        max_level=hi,
    )
