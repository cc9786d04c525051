"""What another part of central may plug into the ingest's commit: the rules for counts.

Why a hook and not an import: a count sets the quantity, and how it is applied (as of its scan
time when it arrives late, held for approval above a variance limit, recorded with its variance)
is a workflow decision kept in a workflow table. The ingest knows only that such rules may exist
and where in its commit they run; the workflow service registers them when it attaches
(`Ingest.count_rules = central.workflows.counts.Rules(...)`). Without rules a count is an
ordinary count: it sets the cell to what was counted.
"""

from __future__ import annotations

import sqlite3
from typing import Any, Protocol

import numpy as np

from central.ingest.batch import Batch
from central.stock.engine import StockEngine


class CountPlan(Protocol):
    """What the rules decided for one group; completed after the engine applied it."""

    #: device -> the group's counts held for an approver, as ack entries (`{"seq", "code",
    #: "detail"}`), filled by `record`: the ack's `held` list (tallyman.wire.encode_ack).
    held: dict[str, list[dict[str, Any]]]

    def finish(self, batch: Batch, delta: np.ndarray) -> None:
        """Fix up the group's ledger rows with the change each count made (`delta`)."""
        ...

    def record(self, conn: sqlite3.Connection) -> None:
        """Write what the rules keep of the group's counts, in the commit transaction."""
        ...


class CountRules(Protocol):
    """Called by the ingest's committer with the engine lock and the write lock held."""

    def plan(self, conn: sqlite3.Connection, engine: StockEngine, batch: Batch) -> CountPlan:
        """Decide each count of the group before the engine applies it; may rewrite the
        group's kernel columns in place."""
        ...

    def counted_qty(self, conn: sqlite3.Connection, device: str, seq: int) -> int | None:
        """What a count stored as its change (COUNT_DELTA) had counted, to tell a retransmit
        of it from a replayed seq."""
        ...

    def held_entry(self, conn: sqlite3.Connection, device: str, seq: int) -> dict[str, Any] | None:
        """The ack entry of a retransmitted count that still waits for an approver, else None."""
        ...
