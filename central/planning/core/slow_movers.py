"""Slow movers: stock that does not sell, each with a clearance suggestion.

A series with stock on hand is a slow mover when

1. **idle**: no demand for `slow_days` days (default 30), or
2. **fading**: weekly velocity over the last 4 weeks is down by `velocity_drop` (default 40 %)
   against the 8 weeks before, and the stock on hand is older than `min_stock_age_days`
   (default 90; FIFO age, history.stock_age).

Clearance suggestion — a mark-down band by severity and a target channel:

* band 0 "10-20%": fading but with under 180 days of cover;
* band 1 "20-40%": idle, or 180+ days of cover;
* band 2 "40-60%": idle 3 × `slow_days`, 365+ days of cover, or stock older than 180 days
  (cover counts only where the forecast is above 0; without one, idle days decide);
* channel "transfer" when another site sells the SKU (the one with the highest demand gets
  it, `transfer_site`), otherwise by band: "in_store_promotion", "online", "outlet".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

IDLE, FADING = 1, 2
REASONS = ("", "idle", "fading")
MARKDOWN_BANDS = ("10-20%", "20-40%", "40-60%")
CHANNELS = ("transfer", "in_store_promotion", "online", "outlet")


@dataclass
class SlowMovers:
    series: np.ndarray  # int64
    reason: np.ndarray  # int8, REASONS
    days_idle: np.ndarray
    velocity_recent: np.ndarray
    velocity_base: np.ndarray
    stock_age: np.ndarray
    cover_days: np.ndarray  # inf when there is no demand
    on_hand: np.ndarray
    value: np.ndarray
    band: np.ndarray  # int8, MARKDOWN_BANDS
    channel: np.ndarray  # int8, CHANNELS
    transfer_site: np.ndarray  # int64 site index, -1 unless channel is transfer
    n_sites: int

    def __len__(self) -> int:
        return int(self.series.size)

    def records(self, sku_names: Sequence[str], site_names: Sequence[str]) -> list[dict]:
        out = []
        for j in range(len(self)):
            s = int(self.series[j])
            ts = int(self.transfer_site[j])
            out.append(
                {
                    "sku": sku_names[s // self.n_sites],
                    "site": site_names[s % self.n_sites],
                    "reason": REASONS[int(self.reason[j])],
                    "days_idle": int(self.days_idle[j]),
                    "velocity_recent": float(self.velocity_recent[j]),
                    "velocity_base": float(self.velocity_base[j]),
                    "stock_age_days": float(self.stock_age[j]),
                    "cover_days": float(self.cover_days[j]),
                    "on_hand": float(self.on_hand[j]),
                    "value": float(self.value[j]),
                    "markdown": MARKDOWN_BANDS[int(self.band[j])],
                    "channel": CHANNELS[int(self.channel[j])],
                    "transfer_to": site_names[ts] if ts >= 0 else None,
                }
            )
        return out


def velocity_drop(recent, base):
    """Relative fall of weekly velocity, 1 − recent / base (0 when there is no baseline)."""
    recent = np.asarray(recent, np.float64)
    base = np.asarray(base, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(base > 0, 1.0 - recent / base, 0.0)


def find_slow_movers(
    *,
    n_sites: int,
    on_hand: np.ndarray,
    unit_cost: np.ndarray,
    days_since_demand: np.ndarray,
    velocity_recent: np.ndarray,
    velocity_base: np.ndarray,
    stock_age: np.ndarray,
    rate: np.ndarray,
    slow_days: np.ndarray,
    velocity_drop_min: np.ndarray,
    min_stock_age: np.ndarray,
) -> SlowMovers:
    """Slow movers over all series (arrays per series; thresholds per series or scalars)."""
    on_hand = np.asarray(on_hand, np.float64)
    idle_days = np.asarray(days_since_demand, np.int64)
    has_stock = on_hand > 0
    idle = has_stock & (idle_days >= slow_days)
    drop = velocity_drop(velocity_recent, velocity_base)
    fading = has_stock & ~idle & (drop >= velocity_drop_min) & (stock_age > min_stock_age)
    sel = np.flatnonzero(idle | fading)
    rate = np.asarray(rate, np.float64)
    r = rate[sel]
    oh = on_hand[sel]
    with np.errstate(divide="ignore"):
        cover = np.where(r > 0, oh / np.where(r > 0, r, 1.0), np.inf)
    age = np.asarray(stock_age, np.float64)[sel]
    d_idle = idle_days[sel]
    sd = np.broadcast_to(np.asarray(slow_days, np.float64), on_hand.shape)[sel]
    band = np.zeros(sel.size, np.int8)
    # cover only counts where there is a forecast: no demand at all is judged by idle days
    finite = np.isfinite(cover)
    band[idle[sel] | (finite & (cover >= 180))] = 1
    band[(d_idle >= 3 * sd) | (finite & (cover >= 365)) | (age > 180)] = 2
    # the site selling the most of this SKU, other than this one
    n_skus = rate.size // n_sites
    grid = rate.reshape(n_skus, n_sites)
    best = np.argmax(grid, axis=1)
    second_grid = grid.copy()
    second_grid[np.arange(n_skus), best] = -np.inf
    second = np.argmax(second_grid, axis=1) if n_sites > 1 else best
    sku = sel // n_sites
    site = sel % n_sites
    cand = np.where(best[sku] == site, second[sku], best[sku])
    cand_rate = grid[sku, cand]
    cand_slow = (idle | fading)[sku * n_sites + cand]
    can_move = (cand != site) & (cand_rate > 0) & ~cand_slow
    channel = np.where(can_move, 0, band + 1).astype(np.int8)
    return SlowMovers(
        series=sel,
        reason=np.where(idle[sel], IDLE, FADING).astype(np.int8),
        days_idle=d_idle,
        velocity_recent=np.asarray(velocity_recent, np.float64)[sel],
        velocity_base=np.asarray(velocity_base, np.float64)[sel],
        stock_age=age,
        cover_days=cover,
        on_hand=oh,
        value=oh * np.asarray(unit_cost, np.float64)[sel],
        band=band,
        channel=channel,
        transfer_site=np.where(can_move, cand, -1).astype(np.int64),
        n_sites=n_sites,
    )
