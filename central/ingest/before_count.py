"""Movements scanned before a count central has already applied: recorded, not applied past it.

A count fixes the quantity at its cell (item × bin) as of its scan time. A sale scanned offline
before the count and delivered after it is already inside what was counted: applying it on
arrival would take it off twice. So, in the ingest's commit (engine lock and write lock held),
after the count rules have decided the group's counts and before the engine applies it, each
movement is compared with the latest count that set each of its cells — counts already in the
ledger (`count_marks`) and counts earlier in the same group:

- scanned strictly before that count: the movement is stored as scanned (type, qty: planning
  still sees a late sale as demand) with `movements.flagged` saying which side is not applied
  (`BEFORE_COUNT_AT_LOC`, `BEFORE_COUNT_AT_TO` for a putaway's destination), and its kernel
  kind becomes the engine's EFFECT for those bits: its change to on-hand there is not made.
  In transit is not counted, so a late shipment still puts its quantity in transit and a late
  arrival still clears it. The review list is `GET /api/movements?flagged=1`;
- otherwise it applies as usual.

The packed block stores the kind applied, and a rebuild from rows maps a flagged row's kind
through the same EFFECT table, so a rebuild gives the numbers the live engine had. Every count
the group applies (kernel kind COUNT after the rules: a held or superseded count is not one)
marks its cell with its scan time, in the same transaction.

Why per-location marks in memory: almost every movement is scanned after the latest count at
its location, and comparing the first 19 characters of two timestamps settles it without a
database read; only a movement at or before its location's latest count looks its cell up.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from central.ingest.batch import Batch
from central.stock import ledger
from central.stock.engine import BEHAVIOUR, COUNT_DELTA, EFFECT
from central.stock.kernels import MOVE

COUNT = ledger.TYPE_CODE["count"]
_DEVICE, _SEQ, _TS = (ledger.MOVEMENT_COLUMNS.index(c) for c in ("device", "seq", "ts"))
_BEHAVIOUR: list[int] = BEHAVIOUR.tolist()
_EFFECT: list[list[int]] = EFFECT.tolist()
AT_LOC, AT_TO = ledger.BEFORE_COUNT_AT_LOC, ledger.BEFORE_COUNT_AT_TO

Cell = tuple[int, int]


@dataclass
class Settled:
    """What `CountMarks.settle` decided for one group."""

    #: (index in the group, flagged bits) of each movement not applied at a counted cell
    flagged: list[tuple[int, int]] = field(default_factory=list)
    #: cells the group's counts set, with the scan time (ts_key) of the latest
    marks: dict[Cell, str] = field(default_factory=dict)


@dataclass
class CountMarks:
    """Per location, the scan time to the second (the first 19 characters of its ts_key) of the
    latest count that set a cell there: the prefilter."""

    by_loc: dict[int, str] = field(default_factory=dict)

    @classmethod
    def load(cls, conn: sqlite3.Connection) -> CountMarks:
        return cls({c: key[:19] for c, key in ledger.location_count_marks(conn).items()})

    def settle(self, conn: sqlite3.Connection, batch: Batch) -> Settled:
        """Flag the group's movements that predate a count applied at one of their cells and
        rewrite their kernel kind (`batch.kind`); collect the cells the group's counts set."""
        out = Settled()
        kinds = batch.kind
        has_count = COUNT in kinds
        if not self.by_loc and not has_count:
            return out  # no count anywhere yet: nothing can be late
        rows, sku, loc, to_loc = batch.rows, batch.sku, batch.loc, batch.to_loc
        if not rows:
            return out
        if not has_count and min(r[_TS] for r in rows)[:19] > max(self.by_loc.values()):
            return out  # every movement scanned after the latest count anywhere: the usual case
        # counts earlier in the group move the prefilter too (on a copy: not committed yet)
        latest = dict(self.by_loc) if has_count else self.by_loc
        for i, k in enumerate(kinds):
            if k == COUNT:
                key = ledger.ts_key(rows[i][_TS])
                cell = (sku[i], loc[i])
                if key > out.marks.get(cell, ""):
                    out.marks[cell] = key
                if key[:19] > latest.get(loc[i], ""):
                    latest[loc[i]] = key[:19]
                continue
            if k >= COUNT_DELTA:
                continue  # a count stored as its change: the count rules placed it in time
            ts19 = rows[i][_TS][:19]
            bits = 0
            c = loc[i]
            if ts19 <= latest.get(c, "") and self._before(conn, rows[i], (sku[i], c), out):
                bits = AT_LOC
            if _BEHAVIOUR[k] == MOVE:
                t = to_loc[i]
                if ts19 <= latest.get(t, "") and self._before(conn, rows[i], (sku[i], t), out):
                    bits |= AT_TO
            if bits:
                kinds[i] = _EFFECT[bits][k]
                out.flagged.append((i, bits))
        return out

    @staticmethod
    def _before(conn: sqlite3.Connection, row: list, cell: Cell, settled: Settled) -> bool:
        """Was this movement scanned strictly before the latest count that set `cell`?"""
        mark = max(settled.marks.get(cell, ""), ledger.count_mark(conn, *cell) or "")
        return ledger.ts_key(row[_TS]) < mark

    def record(self, conn: sqlite3.Connection, batch: Batch, settled: Settled) -> None:
        """Store the group's flags and count marks (in the commit transaction, after the rows
        are inserted)."""
        for i, bits in settled.flagged:
            row = batch.rows[i]
            conn.execute(
                "UPDATE movements SET flagged = ? WHERE device = ? AND seq = ?",
                (bits, row[_DEVICE], row[_SEQ]),
            )
        if settled.marks:
            ledger.record_count_marks(conn, settled.marks)

    def committed(self, marks: dict[Cell, str]) -> None:
        """The marks are in the ledger: the prefilter knows them."""
        by_loc = self.by_loc
        for (_, c), key in marks.items():
            if key[:19] > by_loc.get(c, ""):
                by_loc[c] = key[:19]
