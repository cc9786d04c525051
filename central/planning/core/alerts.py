"""Tiered stock alerts relative to safety stock, one open alert per SKU × site.

Tiers (fractions of safety stock, per category): yellow at or below 120 %, orange at or below
100 %, red at or below 80 %. The position compared is what can still serve demand before a new
order could arrive: available (on hand − reserved) plus what is due within the lead time
(`alert_position`). Stock further out cannot prevent a stockout now, so it does not calm an
alert; it does suppress a *new order* (see proposals.py).

State machine per series (`AlertBook`):

* no alert → tier > 0: **opened** (one alert, one id, for as long as the problem lasts);
* tier rises: **escalated** (same id);
* tier falls: **de-escalated**, but only when the position clears the current tier's threshold
  by `hysteresis` × safety stock — noise around a threshold does not flap the alert;
* tier reaches none (with the same hysteresis): **closed**;
* a user marks an alert false: **false_alarm**; the series is muted at that tier, so the same
  condition does not re-open it (no nagging twice for one problem). A worse tier opens a new
  alert; recovering to no tier lifts the mute.

Only changes are returned, so the caller publishes exactly what changed. The book's tables in
SQLite (saving changes, loading the book back) are in alert_tables.py.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from numba import njit

NONE, YELLOW, ORANGE, RED = 0, 1, 2, 3
TIER_NAMES = ("none", "yellow", "orange", "red")
ACTIONS = ("none", "review", "propose_order", "urgent_order_notify")
OPENED, ESCALATED, DEESCALATED, CLOSED, FALSE_ALARM = 1, 2, 3, 4, 5
KIND_NAMES = ("", "opened", "escalated", "de-escalated", "closed", "false_alarm")


def alert_position(on_hand, reserved, due_within_lead):
    """Available after reservations plus stock due within the lead time."""
    return (
        np.asarray(on_hand, np.float64)
        - np.asarray(reserved, np.float64)
        + np.asarray(due_within_lead, np.float64)
    )


def due_within_lead(n_series, series, qty, due_day, today, lead_days):
    """Open PO / inbound transfer quantity per series expected by today + the series' lead
    time — the part of the pipeline that counts in the alert position. `series`, `qty`,
    `due_day` describe open order lines; `lead_days` is per series."""
    series = np.asarray(series, np.int64)
    lead = np.broadcast_to(np.asarray(lead_days, np.float64), (n_series,))
    ok = np.asarray(due_day, np.float64) <= today + lead[series]
    return np.bincount(series[ok], weights=np.asarray(qty, np.float64)[ok], minlength=n_series)


@njit(cache=True)
def _raw_tier(pos, ss, y, o, r, h):
    if pos <= (r + h) * ss:
        return RED
    if pos <= (o + h) * ss:
        return ORANGE
    if pos <= (y + h) * ss:
        return YELLOW
    return NONE


@njit(cache=True)
def tiers(position, safety_stock, prev, yellow, orange, red, hysteresis):
    """New tier per series with hysteresis on the way down.

    raw = the tier the position is in; if raw ≥ prev the alert takes it (escalation is
    immediate). Otherwise the alert only falls to the tier computed with every threshold raised
    by `hysteresis` (a fraction of safety stock), never below raw. No safety stock (no demand
    to protect) means no alert. Threshold arrays are per series.
    """
    n = position.shape[0]
    out = np.empty(n, np.int8)
    for i in range(n):
        ss = safety_stock[i]
        if not ss > 0:
            out[i] = NONE
            continue
        raw = _raw_tier(position[i], ss, yellow[i], orange[i], red[i], 0.0)
        p = prev[i]
        if raw >= p:
            out[i] = raw
        else:
            sticky = _raw_tier(position[i], ss, yellow[i], orange[i], red[i], hysteresis[i])
            out[i] = max(raw, min(p, sticky))
    return out


@dataclass
class AlertChange:
    """One change to publish (MQTT / webhook payload via `to_dict`)."""

    alert_id: int
    series: int
    sku: str
    site: str
    kind: str  # opened | escalated | de-escalated | closed | false_alarm
    tier: str  # the tier after the change (none when closed)
    prev_tier: str
    action: str  # what the tier asks for: review | propose_order | urgent_order_notify | none
    position: float
    safety_stock: float
    ts: str

    def to_dict(self) -> dict:
        return dict(vars(self))


@dataclass
class AlertChanges:
    """Changes of one update, as arrays (cheap for 100,000s); iterate for AlertChange objects."""

    alert_id: np.ndarray
    series: np.ndarray
    kind: np.ndarray  # int8, KIND_NAMES
    tier: np.ndarray  # int8
    prev_tier: np.ndarray  # int8
    position: np.ndarray
    safety_stock: np.ndarray
    ts: str
    unmuted: np.ndarray  # series whose false-alarm mute was lifted (persisted, not published)
    book: AlertBook

    def __len__(self) -> int:
        return int(self.series.size)

    def __iter__(self) -> Iterator[AlertChange]:
        for j in range(len(self)):
            yield self[j]

    def __getitem__(self, j: int) -> AlertChange:
        s = int(self.series[j])
        sku, site = self.book.key(s)
        tier = int(self.tier[j])
        return AlertChange(
            alert_id=int(self.alert_id[j]),
            series=s,
            sku=sku,
            site=site,
            kind=KIND_NAMES[int(self.kind[j])],
            tier=TIER_NAMES[tier],
            prev_tier=TIER_NAMES[int(self.prev_tier[j])],
            action=ACTIONS[tier],
            position=float(self.position[j]),
            safety_stock=float(self.safety_stock[j]),
            ts=self.ts,
        )

    def tuples(self) -> list[tuple]:
        """(alert_id, series, sku, site, kind, tier, prev_tier, position, safety_stock) per
        change, built straight from the arrays (no per-change objects): the fast path for
        publishing and saving 100,000s of changes."""
        n_sites = self.book.n_sites
        skus, sites = self.book.sku_names, self.book.site_names
        series = self.series.tolist()
        return [
            (aid, s, skus[s // n_sites], sites[s % n_sites], KIND_NAMES[k], t, p, pos, ss)
            for aid, s, k, t, p, pos, ss in zip(
                self.alert_id.tolist(), series, self.kind.tolist(), self.tier.tolist(),
                self.prev_tier.tolist(), self.position.tolist(), self.safety_stock.tolist(),
                strict=True,
            )
        ]  # fmt: skip

    def records(self) -> list[dict]:
        """The changes as payload dicts (same keys as AlertChange.to_dict)."""
        ts = self.ts
        return [
            {"alert_id": aid, "series": s, "sku": sku, "site": site, "kind": kind,
             "tier": TIER_NAMES[t], "prev_tier": TIER_NAMES[p], "action": ACTIONS[t],
             "position": pos, "safety_stock": ss, "ts": ts}
            for aid, s, sku, site, kind, t, p, pos, ss in self.tuples()
        ]  # fmt: skip

    def counts(self) -> dict[str, int]:
        c = np.bincount(self.kind, minlength=len(KIND_NAMES))
        return {KIND_NAMES[k]: int(c[k]) for k in range(1, len(KIND_NAMES)) if c[k]}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class AlertBook:
    """Open alerts of every series, as arrays; `update` is incremental over touched series.

    Series are numbered sku_index * n_sites + site_index (history.series_of); `sku_names` and
    `site_names` give the keys used in payloads and in SQLite. Thresholds default to the
    issue's 120 / 100 / 80 % with a hysteresis of 10 % of safety stock; set per series with
    `set_thresholds` (the planner does, from each series' category).
    """

    def __init__(self, sku_names: Sequence[str], site_names: Sequence[str]):
        self.sku_names = list(sku_names)
        self.site_names = list(site_names)
        self.n_sites = len(self.site_names)
        n = len(self.sku_names) * self.n_sites
        self.n_series = n
        self.tier = np.zeros(n, np.int8)
        self.max_tier = np.zeros(n, np.int8)
        self.alert_id = np.zeros(n, np.int64)
        self.muted = np.zeros(n, np.int8)
        self.position = np.zeros(n, np.float32)
        self.safety_stock = np.zeros(n, np.float32)
        self.raised = np.zeros(n, np.int32)
        self.closed = np.zeros(n, np.int32)
        self.false = np.zeros(n, np.int32)
        self.next_id = 1
        self.set_thresholds(1.2, 1.0, 0.8, 0.1)

    def key(self, series: int) -> tuple[str, str]:
        return self.sku_names[series // self.n_sites], self.site_names[series % self.n_sites]

    def set_thresholds(self, yellow, orange, red, hysteresis) -> None:
        """Scalars or per-series arrays (fractions of safety stock)."""
        n = self.n_series

        def full(v):
            return np.ascontiguousarray(np.broadcast_to(np.asarray(v, np.float32), (n,)))

        self.yellow, self.orange, self.red = full(yellow), full(orange), full(red)
        self.hysteresis = full(hysteresis)

    # --- transitions -------------------------------------------------------------------------

    def update(
        self,
        indices: np.ndarray | Sequence[int],
        position: np.ndarray,
        safety_stock: np.ndarray,
        now: str | None = None,
    ) -> AlertChanges:
        """Re-evaluate the series `indices` (unique) with their current alert position and
        safety stock (arrays aligned with `indices`); returns what changed."""
        ts = now or _now()
        idx = np.asarray(indices, np.int64)
        pos = np.ascontiguousarray(position, np.float64)
        ss = np.ascontiguousarray(safety_stock, np.float64)
        prev = self.tier[idx]
        muted = self.muted[idx]
        base = np.where(muted > 0, muted, prev).astype(np.int8)
        new = tiers(
            pos, ss, base, self.yellow[idx], self.orange[idx], self.red[idx],
            self.hysteresis[idx],
        )  # fmt: skip
        is_muted = muted > 0
        # muted series: recovered → lift the mute; same or better tier → stay silent;
        # worse tier → a new alert (and the mute goes)
        unmute = is_muted & ((new == NONE) | (new > muted))
        new = np.where(is_muted & (new <= muted), NONE, new).astype(np.int8)
        self.position[idx] = pos
        self.safety_stock[idx] = ss
        if unmute.any():
            self.muted[idx[unmute]] = 0
        kind = np.zeros(idx.size, np.int8)
        kind[(prev == NONE) & (new > NONE)] = OPENED
        kind[(prev > NONE) & (new == NONE)] = CLOSED
        kind[(prev > NONE) & (new > prev)] = ESCALATED
        kind[(prev > NONE) & (new > NONE) & (new < prev)] = DEESCALATED
        ch = np.flatnonzero(kind)
        c_idx = idx[ch]
        c_kind = kind[ch]
        c_new = new[ch]
        opened = c_idx[c_kind == OPENED]
        if opened.size:
            self.alert_id[opened] = np.arange(self.next_id, self.next_id + opened.size)
            self.next_id += int(opened.size)
            self.raised[opened] += 1
            self.max_tier[opened] = 0
        closed = c_idx[c_kind == CLOSED]
        ids = self.alert_id[c_idx].copy()
        self.tier[c_idx] = c_new
        self.max_tier[c_idx] = np.maximum(self.max_tier[c_idx], c_new)
        if closed.size:
            self.alert_id[closed] = 0
            self.max_tier[closed] = 0
            self.closed[closed] += 1
        return AlertChanges(
            alert_id=ids,
            series=c_idx,
            kind=c_kind,
            tier=c_new,
            prev_tier=prev[ch],
            position=pos[ch],
            safety_stock=ss[ch],
            ts=ts,
            unmuted=idx[unmute],
            book=self,
        )

    def mark_false(self, alert_id: int, now: str | None = None) -> AlertChange | None:
        """A user says this alert was a false alarm: close it and mute the series at its tier."""
        hit = np.flatnonzero(self.alert_id == alert_id)
        if not hit.size:
            return None
        s = int(hit[0])
        t = int(self.tier[s])
        self.muted[s] = t
        self.tier[s] = NONE
        self.alert_id[s] = 0
        self.max_tier[s] = 0
        self.false[s] += 1
        self.closed[s] += 1
        sku, site = self.key(s)
        return AlertChange(
            alert_id=int(alert_id),
            series=s,
            sku=sku,
            site=site,
            kind="false_alarm",
            tier="none",
            prev_tier=TIER_NAMES[t],
            action="none",
            position=float(self.position[s]),
            safety_stock=float(self.safety_stock[s]),
            ts=now or _now(),
        )

    # --- reading -----------------------------------------------------------------------------

    def open_series(self, min_tier: int = YELLOW) -> np.ndarray:
        return np.flatnonzero(self.tier >= min_tier)

    def open_alerts(self, min_tier: int = YELLOW, site: str | None = None) -> list[dict]:
        """Open alerts, worst first (for GET /api/alerts)."""
        s = self.open_series(min_tier)
        if site is not None:
            if site not in self.site_names:
                return []
            s = s[s % self.n_sites == self.site_names.index(site)]
        order = np.lexsort((self.position[s] / np.maximum(self.safety_stock[s], 1e-9),
                            -self.tier[s]))  # fmt: skip
        out = []
        for i in s[order]:
            sku, site_name = self.key(int(i))
            t = int(self.tier[i])
            out.append(
                {
                    "alert_id": int(self.alert_id[i]),
                    "sku": sku,
                    "site": site_name,
                    "tier": TIER_NAMES[t],
                    "max_tier": TIER_NAMES[int(self.max_tier[i])],
                    "action": ACTIONS[t],
                    "position": float(self.position[i]),
                    "safety_stock": float(self.safety_stock[i]),
                }
            )
        return out
