"""The alert book in SQLite: its tables, saving each update's changes, loading the book back at
start-up, and the closed / false-alarm counts behind the false-alarm KPI.

Why apart from alerts.py: that module decides (tiers, the state machine per series, the changes
to publish) over arrays in memory; this one only stores and reads what was decided. The caller
owns the transaction, so alert state commits together with whatever caused it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence

import numpy as np

from .alerts import ACTIONS, TIER_NAMES, AlertBook, AlertChange, AlertChanges


def save_changes(
    conn: sqlite3.Connection, book: AlertBook, changes: AlertChanges | Sequence[AlertChange]
) -> None:
    """Write changes (from `book.update` or `book.mark_false`) to the tables of `schema()`.

    The caller owns the transaction (`with conn:`), so alert state commits together with
    whatever caused it.
    """
    if isinstance(changes, AlertChanges):
        ts_all = changes.ts
        rows = [(*r, ts_all) for r in changes.tuples()]
    else:
        rows = [
            (c.alert_id, c.series, c.sku, c.site, c.kind, TIER_NAMES.index(c.tier),
             TIER_NAMES.index(c.prev_tier), c.position, c.safety_stock, c.ts)
            for c in changes
        ]  # fmt: skip
    ins, upd, close, false, events, mutes = [], [], [], [], [], []
    for aid, _s, sku, site, kind, t, p, pos, ss, ts in rows:
        if kind == "opened":
            ins.append((aid, sku, site, t, t, ACTIONS[t], pos, ss, ts, ts))
        elif kind in ("escalated", "de-escalated"):
            upd.append((t, t, ACTIONS[t], pos, ss, ts, aid))
        elif kind == "closed":
            close.append((pos, ss, ts, ts, aid))
        elif kind == "false_alarm":
            false.append((ts, ts, aid))
            mutes.append((sku, site, p))
        events.append((aid, ts, kind, t, p, pos, ss))
    conn.executemany(
        "INSERT INTO planning_alerts (id, sku, site, status, tier, max_tier, action, "
        "position, safety_stock, opened_ts, updated_ts) VALUES (?,?,?,'open',?,?,?,?,?,?,?)",
        ins,
    )
    conn.executemany(
        "UPDATE planning_alerts SET tier = ?, max_tier = max(max_tier, ?), action = ?, "
        "position = ?, safety_stock = ?, updated_ts = ? WHERE id = ?",
        upd,
    )
    conn.executemany(
        "UPDATE planning_alerts SET status = 'closed', action = 'none', position = ?, "
        "safety_stock = ?, updated_ts = ?, closed_ts = ? WHERE id = ?",
        close,
    )
    conn.executemany(
        "UPDATE planning_alerts SET status = 'false', action = 'none', updated_ts = ?, "
        "closed_ts = ? WHERE id = ?",
        false,
    )
    conn.executemany(
        "INSERT INTO planning_alert_events (alert_id, ts, kind, tier, prev_tier, position, "
        "safety_stock) VALUES (?,?,?,?,?,?,?)",
        events,
    )
    conn.executemany(
        "INSERT OR REPLACE INTO planning_alert_mutes (sku, site, tier) VALUES (?,?,?)", mutes
    )
    unmuted = getattr(changes, "unmuted", np.zeros(0, np.int64))
    if len(unmuted):
        conn.executemany(
            "DELETE FROM planning_alert_mutes WHERE sku = ? AND site = ?",
            [book.key(int(s)) for s in unmuted],
        )


def load_book(
    conn: sqlite3.Connection,
    sku_names: Sequence[str],
    site_names: Sequence[str],
) -> AlertBook:
    """Rebuild the book from SQLite: open alerts, mutes, per-series counters, next id."""
    book = AlertBook(sku_names, site_names)
    sku_ix: Mapping[str, int] = {s: i for i, s in enumerate(book.sku_names)}
    site_ix: Mapping[str, int] = {s: i for i, s in enumerate(book.site_names)}

    def series(sku: str, site: str) -> int:
        a, b = sku_ix.get(sku), site_ix.get(site)
        return -1 if a is None or b is None else a * book.n_sites + b

    for aid, sku, site, tier, mx, pos, ss in conn.execute(
        "SELECT id, sku, site, tier, max_tier, position, safety_stock FROM planning_alerts "
        "WHERE status = 'open'"
    ):
        s = series(sku, site)
        if s >= 0:
            book.alert_id[s], book.tier[s], book.max_tier[s] = aid, tier, mx
            book.position[s], book.safety_stock[s] = pos or 0.0, ss or 0.0
    for sku, site, tier in conn.execute("SELECT sku, site, tier FROM planning_alert_mutes"):
        s = series(sku, site)
        if s >= 0:
            book.muted[s] = tier
    for sku, site, status, cnt in conn.execute(
        "SELECT sku, site, status, count(*) FROM planning_alerts GROUP BY sku, site, status"
    ):
        s = series(sku, site)
        if s < 0:
            continue
        book.raised[s] += cnt
        if status in ("closed", "false"):
            book.closed[s] += cnt
        if status == "false":
            book.false[s] += cnt
    (mx_id,) = conn.execute("SELECT coalesce(max(id), 0) FROM planning_alerts").fetchone()
    book.next_id = int(mx_id) + 1
    return book


def schema() -> list[str]:
    """CREATE statements for the alert tables (idempotent). The partial unique index makes
    "one open alert per SKU × site" a database guarantee, not just a convention."""
    return [
        """CREATE TABLE IF NOT EXISTS planning_alerts (
            id INTEGER PRIMARY KEY,
            sku TEXT NOT NULL,
            site TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('open', 'closed', 'false')),
            tier INTEGER NOT NULL CHECK (tier BETWEEN 0 AND 3),
            max_tier INTEGER NOT NULL,
            action TEXT NOT NULL,
            position REAL,
            safety_stock REAL,
            opened_ts TEXT NOT NULL,
            updated_ts TEXT NOT NULL,
            closed_ts TEXT
        )""",
        "CREATE UNIQUE INDEX IF NOT EXISTS planning_alerts_one_open "
        "ON planning_alerts (sku, site) WHERE status = 'open'",
        """CREATE TABLE IF NOT EXISTS planning_alert_events (
            id INTEGER PRIMARY KEY,
            alert_id INTEGER NOT NULL REFERENCES planning_alerts (id),
            ts TEXT NOT NULL,
            kind TEXT NOT NULL,
            tier INTEGER NOT NULL,
            prev_tier INTEGER NOT NULL,
            position REAL,
            safety_stock REAL
        )""",
        "CREATE INDEX IF NOT EXISTS planning_alert_events_ts ON planning_alert_events (ts)",
        """CREATE TABLE IF NOT EXISTS planning_alert_mutes (
            sku TEXT NOT NULL,
            site TEXT NOT NULL,
            tier INTEGER NOT NULL,
            PRIMARY KEY (sku, site)
        )""",
    ]


def alert_counts(
    conn: sqlite3.Connection,
    since_ts: str,
    sku_index: Mapping[str, int],
    site_index: Mapping[str, int],
) -> tuple[np.ndarray, np.ndarray]:
    """(closed, false) alert counts per series for alerts closed since `since_ts` — the
    false-alarm KPI over a period."""
    n_sites = len(site_index)
    n = len(sku_index) * n_sites
    closed = np.zeros(n, np.int32)
    false = np.zeros(n, np.int32)
    for sku, site, status, cnt in conn.execute(
        "SELECT sku, site, status, count(*) FROM planning_alerts WHERE closed_ts >= ? "
        "GROUP BY sku, site, status",
        (since_ts,),
    ):
        a, b = sku_index.get(sku), site_index.get(site)
        if a is None or b is None:
            continue
        s = a * n_sites + b
        closed[s] += cnt
        if status == "false":
            false[s] += cnt
    return closed, false
