"""Cycle counts: applied as of their scan time, and held for approval above a variance limit.

A count sets the quantity at a bin *at the moment it was scanned*. A handheld that was offline
delivers its count after movements that happened later at the same bin; applying the counted
quantity on arrival would erase them. So the ingest asks `plan` for every group it commits:

- a count with nothing later at its cell is an ordinary count (kernel COUNT);
- a *late* count sets the cell to counted + the effect of every later movement there, and is
  stored as kind COUNT_DELTA with `qty` = the change it made, so replaying the ledger in ledger
  order reproduces exactly the same stock;
- a count with a later count at its cell changes nothing (the later count already set the cell);
- a count whose variance is above the configured limit is stored with no effect and waits for an
  approver; approval re-submits it with its original scan time, so it is applied as of then.
  The plan lists such counts as ack entries (`CountPlan.held`, `held_entry`), so the handheld
  that scanned one learns that it is held rather than hearing a plain OK.

"Later" is a later scan `ts`, or the same `ts` and a higher `seq` from the same device. Every
count, whatever became of it, gets a row in `count_records` in the ingest's own transaction:
the variance is visible and the counted quantity is never lost.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from central.stock import ledger
from central.stock.engine import BEHAVIOUR, COUNT_DELTA, GAIN
from central.stock.kernels import MOVE
from central.workflows import WorkflowError, states
from central.workflows.db import Actor, audit, one, rows
from tallyman import wire

COUNT = ledger.TYPE_CODE["count"]
PUTAWAY = ledger.TYPE_CODE["putaway"]
_C = {name: i for i, name in enumerate(ledger.MOVEMENT_COLUMNS)}
#: Device-id prefix of central's own movements (see central.workflows.movements).
CENTRAL_DEVICE_PREFIX = "central."

#: (conn, item_id, variance) -> hold this count for approval?
HoldRule = Callable[[sqlite3.Connection, int, int], bool]

LATER_SQL = (
    "SELECT m.ts, m.type, m.kind, m.loc_id, m.to_loc_id, m.qty, m.delta, m.device, m.seq, "
    "r.status FROM movements AS m INDEXED BY movements_ts "
    "LEFT JOIN count_records AS r ON r.device = m.device AND r.seq = m.seq "
    "WHERE m.ts >= ? AND m.sku_id = ? AND (m.loc_id = ? OR m.to_loc_id = ?)"
)
INSERT_RECORD = (
    "INSERT OR IGNORE INTO count_records (device, seq, site, sku, item_id, loc, loc_id, ts, "
    "received_at, counted, expected, variance, late, status, operator) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
#: Records whose count sets the cell (so a count scanned before them changes nothing).
_SETTING = (None, "applied", "superseded")
#: Where the status is in a row of INSERT_RECORD.
_R_STATUS = 13
#: The code of a held count in an ack's `held` list (beside `rejected`: see `held_entry`).
HELD = "count_held"


@functools.lru_cache(maxsize=1 << 16)
def _when(ts: str) -> datetime:
    return wire.parse_ts(ts)


@dataclass
class _Decision:
    index: int
    status: str  # applied | pending | superseded
    late: bool
    counted: int
    target: int  # what the cell is set to (counted + later effects; the current for superseded)
    current: int  # the cell before the count


@dataclass
class CountPlan:
    """What `plan` decided for the counts of one group; `finish` completes it after the apply."""

    decisions: list[_Decision] = field(default_factory=list)
    records: list[tuple] = field(default_factory=list)
    #: device -> the held counts of this group as ack entries (`held_entry`), once recorded:
    #: the ack tells the handheld that its count waits for an approver, not a plain OK.
    held: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def finish(self, batch: Any, delta: Any) -> None:
        """Store late counts as the change they made; record every count and its variance."""
        for d in self.decisions:
            row = batch.rows[d.index]
            applied = d.status == "applied"
            variance = int(delta[d.index]) if applied else d.target - d.current
            if applied and d.late:
                batch.kind[d.index] = row[_C["kind"]] = COUNT_DELTA
                batch.qty[d.index] = row[_C["qty"]] = variance
            self.records.append(
                (
                    row[_C["device"]],
                    row[_C["seq"]],
                    row[_C["site"]],
                    row[_C["sku"]],
                    row[_C["sku_id"]],
                    row[_C["loc"]],
                    row[_C["loc_id"]],
                    row[_C["ts"]],
                    row[_C["received_at"]],
                    d.counted,
                    d.counted - variance,
                    variance,
                    int(d.late),
                    d.status,
                    row[_C["operator"]],
                )
            )

    def record(self, conn: sqlite3.Connection) -> None:
        conn.executemany(INSERT_RECORD, self.records)
        for rec in self.records:
            if rec[_R_STATUS] == "pending":
                entry = held_entry(conn, rec[0], rec[1])
                if entry is not None:
                    self.held.setdefault(rec[0], []).append(entry)


def _later(key: tuple, ts: datetime, device: str, seq: int) -> bool:
    k_ts, k_device, k_seq = key
    return k_ts > ts or (k_ts == ts and k_device == device and k_seq > seq)


def plan(conn: sqlite3.Connection, engine: Any, batch: Any, hold: HoldRule | None) -> CountPlan:
    """Decide each count of a group before the engine applies it (engine lock held).

    Rewrites the group's kernel columns in place: a late count is applied as a COUNT of its
    target, a held or superseded one as a COUNT_DELTA of 0. Returns the plan; call `finish`
    with the kernel's deltas, then `record` in the same transaction.
    """
    out = CountPlan()
    if COUNT not in batch.kind:
        return out
    cells = {(batch.sku[i], batch.loc[i]) for i, k in enumerate(batch.kind) if k == COUNT}
    on_hand = engine.on_hand
    value: dict[tuple[int, int], int] = {}
    history: dict[tuple[int, int], list[tuple[tuple, int | None]]] = {c: [] for c in cells}

    def current(cell: tuple[int, int]) -> int:
        if cell not in value:
            s, c = cell
            inside = s < on_hand.shape[0] and c < on_hand.shape[1]
            value[cell] = int(on_hand[s, c]) if inside else 0
        return value[cell]

    for i, k in enumerate(batch.kind):
        s, c, t, q = batch.sku[i], batch.loc[i], batch.to_loc[i], batch.qty[i]
        at_c, at_t = (s, c) in cells, t != 0 and (s, t) in cells
        if not (at_c or at_t):
            continue
        row = batch.rows[i]
        key = (_when(row[_C["ts"]]), row[_C["device"]], row[_C["seq"]])
        if k == COUNT:
            d = _decide(conn, i, row, key, current((s, c)), history[(s, c)], hold)
            out.decisions.append(d)
            if d.status == "applied":
                value[(s, c)] = d.target
                history[(s, c)].append((key, None))
                batch.qty[i] = d.target  # the kernel sets the cell to it; finish() keeps the delta
            else:
                batch.kind[i] = row[_C["kind"]] = COUNT_DELTA
                batch.qty[i] = row[_C["qty"]] = 0
            continue
        if at_c:  # every kind but a count adds its gain there (a count was handled above)
            effect = int(GAIN[k]) * q
            value[(s, c)] = current((s, c)) + effect
            history[(s, c)].append((key, effect))
        if at_t and BEHAVIOUR[k] == MOVE:
            value[(s, t)] = current((s, t)) + q
            history[(s, t)].append((key, q))
    return out


def _decide(
    conn: sqlite3.Connection,
    i: int,
    row: list,
    key: tuple,
    current: int,
    history: list[tuple[tuple, int | None]],
    hold: HoldRule | None,
) -> _Decision:
    ts, device, seq = key
    counted = row[_C["qty"]]
    sku_id, loc_id = row[_C["sku_id"]], row[_C["loc_id"]]
    later, superseded, effect = False, False, 0
    for m_ts, m_type, m_kind, m_loc, m_to, m_qty, m_delta, m_dev, m_seq, status in conn.execute(
        LATER_SQL, (row[_C["ts"]][:19], sku_id, loc_id, loc_id)
    ):
        if not _later((_when(m_ts), m_dev, m_seq), ts, device, seq):
            continue
        if m_type == "count":
            if m_loc == loc_id and status in _SETTING:
                superseded = True
            continue  # held, rejected or approved-and-resubmitted counts changed nothing
        later = True
        effect += (m_delta if m_loc == loc_id else 0) + (
            m_qty if m_kind == PUTAWAY and m_to == loc_id else 0
        )
    for h_key, h_effect in history:
        if _later(h_key, ts, device, seq):
            if h_effect is None:
                superseded = True
            else:
                later, effect = True, effect + h_effect
    if superseded:
        return _Decision(i, "superseded", True, counted, current, current)
    target = counted + effect
    central = device.startswith(CENTRAL_DEVICE_PREFIX)
    if (
        hold is not None
        and not central
        and target != current
        and hold(conn, sku_id, target - current)
    ):
        return _Decision(i, "pending", later, counted, target, current)
    return _Decision(i, "applied", later, counted, target, current)


def hold_rule(units: int | None, value: float | None) -> HoldRule | None:
    """Hold a count when |variance| > units, or |variance| × unit cost > value."""
    if units is None and value is None:
        return None
    costs: dict[int, float] = {}

    def rule(conn: sqlite3.Connection, item_id: int, variance: int) -> bool:
        if units is not None and abs(variance) > units:
            return True
        if value is not None:
            if item_id not in costs:
                found = conn.execute(
                    "SELECT coalesce(unit_cost, 0) FROM items WHERE id = ?", (item_id,)
                ).fetchone()
                costs[item_id] = float(found[0]) if found else 0.0
            return abs(variance) * costs[item_id] > value
        return False

    return rule


def held_entry(conn: sqlite3.Connection, device: str, seq: int) -> dict[str, Any] | None:
    """`{"seq", "code": "count_held", "detail"}` when this device's count `seq` waits for an
    approver (its stock unchanged), else None. The shape of an ack's `rejected` entries, for an
    optional `held` list beside it: an edge that does not know the list still drops the event
    on `upto` (it is in the ledger), one that does shows the detail instead of a plain OK."""
    found = conn.execute(
        "SELECT id, loc, sku, counted, expected, variance FROM count_records "
        "WHERE device = ? AND seq = ? AND status = 'pending'",
        (device, seq),
    ).fetchone()
    if found is None:
        return None
    record_id, loc, sku, counted, expected, variance = found
    detail = (
        f"count of {counted} {sku} at {loc} differs from the expected {expected} by "
        f"{variance:+d}: held for an approver as count {record_id}; stock unchanged until "
        "it is approved"
    )
    return {"seq": seq, "code": HELD, "detail": detail}


def counted_qty(conn: sqlite3.Connection, device: str, seq: int) -> int | None:
    """The counted quantity of a count stored as COUNT_DELTA (its row's qty is the change)."""
    found = conn.execute(
        "SELECT counted FROM count_records WHERE device = ? AND seq = ?", (device, seq)
    ).fetchone()
    return None if found is None else found[0]


@dataclass(frozen=True)
class Rules:
    """The count rules the workflow service registers with the ingest (the `CountRules` hook of
    central.ingest.hooks): counts applied as of their scan time, held above `hold`."""

    hold: HoldRule | None = None

    def plan(self, conn: sqlite3.Connection, engine: Any, batch: Any) -> CountPlan:
        return plan(conn, engine, batch, self.hold)

    def counted_qty(self, conn: sqlite3.Connection, device: str, seq: int) -> int | None:
        return counted_qty(conn, device, seq)

    def held_entry(self, conn: sqlite3.Connection, device: str, seq: int) -> dict | None:
        """The ack entry of a retransmitted count still held (see `held_entry`)."""
        return held_entry(conn, device, seq)


# --- review (API) -----------------------------------------------------------------------------

RECORD_FIELDS = (
    "id, device, seq, site, sku, loc, ts, received_at, counted, expected, variance, late, "
    "status, operator, decided_by, decided_at, note"
)


def list_records(conn: sqlite3.Connection, status: str | None, limit: int) -> list[dict]:
    sql = f"SELECT {RECORD_FIELDS} FROM count_records"
    params: tuple = ()
    if status:
        sql += " WHERE status = ?"
        params = (status,)
    return rows(conn, sql + " ORDER BY id DESC LIMIT ?", (*params, limit))


def get_record(conn: sqlite3.Connection, record_id: int) -> dict:
    found = one(conn, f"SELECT {RECORD_FIELDS} FROM count_records WHERE id = ?", (record_id,))
    if found is None:
        raise WorkflowError(404, "not_found", f"no count {record_id}")
    return found


def decide_in(
    conn: sqlite3.Connection,
    submit: Callable[..., Any],
    record_id: int,
    event: str,
    actor: Actor,
    note: str | None,
) -> None:
    """Approve (re-submit the count as of its scan time) or reject a held count, in the
    caller's transaction. The person who counted cannot approve their own count."""
    rec = get_record(conn, record_id)
    if actor.name in (rec["device"], rec["operator"]):
        raise WorkflowError(403, "forbidden", "the person who counted cannot approve the count")
    new = states.COUNT_REVIEW.next(rec["status"], event)
    conn.execute(
        "UPDATE count_records SET status = ?, decided_by = ?, decided_at = ?, note = ? "
        "WHERE id = ?",
        (new, actor.name, wire.now_ts(), note, record_id),
    )
    if new == "approved":
        recount = {
            "ts": rec["ts"],
            "type": "count",
            "sku": rec["sku"],
            "qty": rec["counted"],
            "loc": rec["loc"],
            "ref": f"CNT-{record_id}",
            "operator": actor.name[:64],
        }
        submit(conn, rec["site"], [recount], "count", record_id)
    detail = json.dumps({"variance": rec["variance"], "note": note})
    audit(conn, actor, f"count.{event}", f"CNT-{record_id}", detail)
