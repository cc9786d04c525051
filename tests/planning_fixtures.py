"""Deterministic demand history for planning tests: a ledger whose SKU sold a constant amount
every day, so every forecast model agrees and the safety stock is an exact number.

With `cover` safety stock, SS = cover_days × forecast per day: 10 a day and 2 days of cover give
SS = 20, so the tiers sit at 24 (yellow), 20 (orange) and 16 (red) units.
"""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from central.stock import ledger

CONFIG = """
[policy.category.tools]
safety_stock = "cover"
cover_days = 2

[central]
interval_s = 3600
sweep_s = {sweep_s}
create_drafts = {drafts}

[central.lanes]
enabled = {lanes}
"""


def write_config(
    path: Path, *, sweep_s: float = 0.2, lanes: bool = False, drafts: bool = True, extra: str = ""
) -> Path:
    text = CONFIG.format(sweep_s=sweep_s, lanes=str(lanes).lower(), drafts=str(drafts).lower())
    path.write_text(text + extra)
    return path


def seed_sales(
    db: Path, sku: str, loc: str, per_day: int, days: int, on_hand: int, device: str = "seed"
) -> None:
    """`days` days of `per_day` sales of `sku` at `loc`, today included, then a count that
    leaves `on_hand` at `loc` (ledger order is what the engine replays; the count is last)."""
    now = datetime.now(UTC)
    with contextlib.closing(ledger.connect(db)) as conn:
        sku_id = conn.execute("SELECT id FROM items WHERE sku = ?", (sku,)).fetchone()[0]
        loc_id = conn.execute("SELECT id FROM locations WHERE loc = ?", (loc,)).fetchone()[0]
        site = loc.split("/")[0]
        rows = []
        for k in range(days):
            day = (now - timedelta(days=days - 1 - k)).strftime("%Y-%m-%d")
            rows.append(_row(device, k + 1, site, f"{day}T00:00:01.000Z", "sale", sku, sku_id,
                             per_day, loc, loc_id))  # fmt: skip
        ts = now.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        rows.append(_row(device, days + 1, site, ts, "count", sku, sku_id, on_hand, loc, loc_id))
        conn.executemany(ledger.INSERT_MOVEMENT, rows)


def _row(device, seq, site, ts, kind, sku, sku_id, qty, loc, loc_id) -> list:
    delta = -qty if kind == "sale" else 0
    return [device, seq, site, ts, ts, kind, ledger.TYPE_CODE[kind], sku, sku_id, None, None,
            None, None, qty, delta, loc, loc_id, None, 0, None, None, None]  # fmt: skip


def token(db: Path, role: str) -> str:
    from central.access import tokens as auth

    with contextlib.closing(ledger.connect(db)) as conn:
        return auth.create_token(conn, role, f"test-{role}")


def audit_rows(db: Path, action: str) -> list[tuple]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return conn.execute(
            "SELECT actor, role, target, detail FROM audit WHERE action = ?", (action,)
        ).fetchall()
