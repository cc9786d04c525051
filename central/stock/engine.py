"""The stock engine: dense arrays per item × location, rebuilt from the ledger at start-up.

Why dense int64 arrays: every planning pass and every stock query is a slice; 100,000 items × 100
locations × 4 measures is 320 MB, well inside central's budget, and a movement is an O(1) update.
Row 0 and column 0 are unused because ledger ids start at 1 (0 stands for "no location").
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from central.stock import ledger
from central.stock.kernels import ADD, ARRIVE, COUNT, MOVE, SHIP, apply_movements, as_columns
from central.stock.ledger import BEFORE_COUNT_AT_LOC, BEFORE_COUNT_AT_TO, TYPE_CODE
from tallyman.wire import SIGN

#: Internal kind of a `count` row stored as the change it made (`qty` = its delta): a count
#: that arrived late, applied as of its scan time, or one held for approval (delta 0). Its
#: effect cannot be recomputed from the counted quantity when the ledger is replayed in ledger
#: order, so the row carries the effect itself (see central.workflows.counts). Defined with
#: the ledger's schema, which needs it too.
COUNT_DELTA = ledger.COUNT_DELTA

#: Engine-only kinds of a movement scanned before a count already applied at one of its cells
#: (`movements.flagged`): the count fixed the on-hand there, so that side is not applied. They
#: never appear in a ledger row's `kind` (the row keeps its type's kind, so planning still sees
#: a late sale as demand); the packed blocks hold them, and a rebuild from rows maps a flagged
#: row's kind through EFFECT.
LATE_ADD = COUNT_DELTA + 1  #: nothing at loc
LATE_SHIP = COUNT_DELTA + 2  #: nothing at loc; in transit at to_loc as usual
LATE_ARRIVE = COUNT_DELTA + 3  #: nothing at loc; in transit there cleared as usual
LATE_MOVE = COUNT_DELTA + 4  #: putaway counted at loc: nothing there, arrives at to_loc
LATE_LEAVE = COUNT_DELTA + 5  #: putaway counted at to_loc: leaves loc, no arrival
N_KINDS = COUNT_DELTA + 6

#: Kernel behaviour per movement kind code (see central.stock.kernels), and its *gain*: the
#: change to on-hand at the movement's own location per unit of qty (0 for a count, which sets
#: it; −1 for a putaway or a shipment, which take stock away from there).
BEHAVIOUR = np.zeros(N_KINDS, dtype=np.int64)
GAIN = np.zeros(N_KINDS, dtype=np.int64)
for _type, _code in TYPE_CODE.items():
    BEHAVIOUR[_code] = {"count": COUNT, "putaway": MOVE, "transfer_out": SHIP}.get(
        _type, ARRIVE if _type == "transfer_in" else ADD
    )
    GAIN[_code] = {COUNT: 0, MOVE: -1, SHIP: -1, ARRIVE: 1}.get(BEHAVIOUR[_code], SIGN[_type])
BEHAVIOUR[COUNT_DELTA], GAIN[COUNT_DELTA] = ADD, 1
for _kind, _behaviour, _gain in (
    (LATE_ADD, ADD, 0),
    (LATE_SHIP, SHIP, 0),
    (LATE_ARRIVE, ARRIVE, 0),
    (LATE_MOVE, MOVE, 0),
    (LATE_LEAVE, ADD, -1),
):
    BEHAVIOUR[_kind], GAIN[_kind] = _behaviour, _gain


def _effect_table() -> np.ndarray:
    """EFFECT[flagged, kind]: the kind the engine applies for a movement of `kind` with these
    `movements.flagged` bits (a count and COUNT_DELTA are never flagged: they map to themselves)."""
    table = np.tile(np.arange(N_KINDS, dtype=np.int64), (4, 1))
    at_loc = {ADD: LATE_ADD, SHIP: LATE_SHIP, ARRIVE: LATE_ARRIVE, MOVE: LATE_MOVE}
    for code in TYPE_CODE.values():
        b = int(BEHAVIOUR[code])
        if b not in at_loc:
            continue
        both = BEFORE_COUNT_AT_LOC | BEFORE_COUNT_AT_TO
        table[BEFORE_COUNT_AT_LOC, code] = at_loc[b]
        table[BEFORE_COUNT_AT_TO, code] = LATE_LEAVE if b == MOVE else code
        table[both, code] = LATE_ADD if b == MOVE else at_loc[b]
    return table


EFFECT = _effect_table()

MEASURES = ("on_hand", "reserved", "in_transit", "on_order")
#: Measures the ledger's movements produce; the others belong to workflows (open reservations,
#: open purchase orders), which load them from their own tables and keep them through a rebuild.
LEDGER_MEASURES = ("on_hand", "in_transit")
REBUILD_CHUNK = 1_000_000


def _grow(a: np.ndarray, rows: int, cols: int) -> np.ndarray:
    if a.shape[0] >= rows and a.shape[1] >= cols:
        return a
    out = np.zeros((max(rows, a.shape[0]), max(cols, a.shape[1])), dtype=a.dtype)
    out[: a.shape[0], : a.shape[1]] = a
    return out


@dataclass
class StockEngine:
    on_hand: np.ndarray = field(default_factory=lambda: np.zeros((1, 1), np.int64))
    reserved: np.ndarray = field(default_factory=lambda: np.zeros((1, 1), np.int64))
    in_transit: np.ndarray = field(default_factory=lambda: np.zeros((1, 1), np.int64))
    on_order: np.ndarray = field(default_factory=lambda: np.zeros((1, 1), np.int64))
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    applied: int = 0

    def ensure(self, max_item_id: int, max_loc_id: int) -> None:
        """Make room for ids up to these (amortised doubling: imports add items at run time)."""
        rows, cols = self.on_hand.shape
        if max_item_id < rows and max_loc_id < cols:
            return
        new_rows = rows if max_item_id < rows else max(2 * rows, max_item_id + 1)
        new_cols = cols if max_loc_id < cols else max(2 * cols, max_loc_id + 1)
        with self.lock:
            for name in MEASURES:
                setattr(self, name, _grow(getattr(self, name), new_rows, new_cols))

    def apply(
        self,
        sku: npt.ArrayLike,
        loc: npt.ArrayLike,
        to_loc: npt.ArrayLike,
        kind: npt.ArrayLike,
        qty: npt.ArrayLike,
        *,
        want_delta: bool = True,
    ) -> np.ndarray:
        """Apply movements in order; returns each one's on-hand change at its location
        (an empty array when `want_delta` is false)."""
        cols = as_columns(sku, loc, to_loc, kind, qty)
        n = cols[0].shape[0]
        delta = np.empty(n if want_delta else 0, dtype=np.int64)
        if n:
            self.ensure(int(cols[0].max()), int(max(cols[1].max(), cols[2].max())))
            with self.lock:
                # a Numba dispatcher: mypy sees its generic __call__, not the kernel's signature
                apply_movements(  # type: ignore[call-arg]
                    self.on_hand, self.in_transit, *cols, BEHAVIOUR, GAIN, delta
                )
                self.applied += n
        return delta

    def rebuild(self, conn: sqlite3.Connection, max_item_id: int, max_loc_id: int) -> int:
        """Replay the whole ledger, in ledger order, into fresh arrays; returns the count.

        `reserved` and `on_order` are not in the ledger: they are kept as they are.
        """
        with self.lock:
            shape = (max_item_id + 1, max_loc_id + 1)
            for name in MEASURES:
                old = getattr(self, name)
                new = np.zeros((max(shape[0], old.shape[0]), max(shape[1], old.shape[1])), np.int64)
                if name not in LEDGER_MEASURES:
                    new[: old.shape[0], : old.shape[1]] = old
                setattr(self, name, new)
            self.applied = 0
            for cols in ledger.iter_engine_columns(conn, EFFECT, REBUILD_CHUNK):
                self.apply(*cols.T, want_delta=False)
        return self.applied

    def cells(
        self, item_ids: np.ndarray | None, loc_ids: np.ndarray | None, *, nonzero: bool = True
    ) -> list[tuple[int, int, int, int, int, int]]:
        """(item_id, loc_id, on_hand, reserved, in_transit, on_order) for the selected cells.

        Views, not copies, under the lock: a whole-table read must not stall ingest for the
        time it takes to copy 300 MB; only the selected non-zero cells are gathered.
        """
        with self.lock:
            n_rows, n_cols = self.on_hand.shape
            rows = np.arange(1, n_rows) if item_ids is None else item_ids[item_ids < n_rows]
            cols = np.arange(1, n_cols) if loc_ids is None else loc_ids[loc_ids < n_cols]
            r_sel = slice(1, n_rows) if item_ids is None else rows
            c_sel = slice(1, n_cols) if loc_ids is None else cols
            views = []
            for m in MEASURES:
                a = getattr(self, m)[r_sel]
                views.append(a[:, c_sel])
            if nonzero:
                mask = views[0] != 0
                for v in views[1:]:
                    mask |= v != 0
                ri, ci = np.nonzero(mask)
            else:
                ri, ci = (x.ravel() for x in np.indices((len(rows), len(cols))))
            values = [v[ri, ci].tolist() for v in views]
        return list(zip(rows[ri].tolist(), cols[ci].tolist(), *values, strict=True))

    # --- workflow measures (central.workflows) ---------------------------------------------

    def site_available(self, item_id: int, loc_ids: np.ndarray) -> int:
        """Σ (on_hand − reserved) of one item over a site's locations."""
        with self.lock:
            if item_id >= self.on_hand.shape[0] or not loc_ids.size:
                return 0
            cols = loc_ids[loc_ids < self.on_hand.shape[1]]
            return int(self.on_hand[item_id, cols].sum() - self.reserved[item_id, cols].sum())

    def reserve(self, item_id: int, loc_ids: np.ndarray, qty: int) -> list[tuple[int, int]] | None:
        """Check and reserve in one step: `qty` of the item over these locations, or nothing.

        Returns the allocation [(loc_id, n), …] — bins with the most available first, so a
        reservation touches few bins and no bin's available goes below zero — or None when the
        locations' total available is short. Callers hold `lock` across this and the write that
        makes it durable, so no other reservation can see the stock in between. (Plain Python
        over the row for a handful of bins: numpy's per-call overhead dominates at that size.)
        """
        with self.lock:
            if qty <= 0 or not loc_ids.size:
                return None
            self.ensure(item_id, int(loc_ids.max()))
            on_hand, reserved = self.on_hand[item_id], self.reserved[item_id]
            if loc_ids.size <= 32:
                locs = loc_ids.tolist()
                avail = [int(on_hand[c]) - int(reserved[c]) for c in locs]
            else:
                locs, avail = loc_ids.tolist(), (on_hand[loc_ids] - reserved[loc_ids]).tolist()
            if sum(avail) < qty:
                return None
            out = []
            left = qty
            for a, c in sorted(zip(avail, locs, strict=True), key=lambda ac: (-ac[0], ac[1])):
                if left == 0 or a <= 0:
                    break
                n = min(left, a)
                out.append((c, n))
                reserved[c] += n
                left -= n
            return out

    def add_reserved(self, item_id: int, loc_id: int, n: int) -> None:
        with self.lock:
            self.ensure(item_id, loc_id)
            self.reserved[item_id, loc_id] += n

    def add_on_order(self, item_id: int, loc_id: int, n: int) -> None:
        with self.lock:
            self.ensure(item_id, loc_id)
            self.on_order[item_id, loc_id] += n

    def clear_workflow_measures(self) -> None:
        """Zero `reserved` and `on_order` before workflows load them again from their tables."""
        with self.lock:
            self.reserved[:] = 0
            self.on_order[:] = 0

    def memory_bytes(self) -> int:
        return sum(getattr(self, m).nbytes for m in MEASURES)
