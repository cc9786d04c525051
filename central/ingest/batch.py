"""What the ingest keeps per device and what one group commit carries.

`DeviceState` is central's gap-free watermark of one device (what an ack's `upto` reports);
`Batch` is a group of messages prepared for one transaction: the ledger rows, their engine
columns, dead letters, statuses and the acks to publish once it is committed.
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from central.stock import ledger

_QTY = ledger.MOVEMENT_COLUMNS.index("qty")


@dataclass
class DeviceState:
    """What central has of one device: a gap-free run up to `upto`, and seqs stored beyond it."""

    site: str
    upto: int = 0
    above: set[int] = field(default_factory=set)

    def mark(self, seq: int) -> None:
        if seq == self.upto + 1 and not self.above:  # the usual case: the next seq, in order
            self.upto = seq
            return
        self.above.add(seq)
        while self.upto + 1 in self.above:
            self.upto += 1
            self.above.discard(self.upto)

    def has(self, seq: int) -> bool:
        return seq <= self.upto or seq in self.above


@dataclass
class Batch:
    """What one group commit writes: movement rows, their kernel columns, dead letters, acks."""

    rows: list[list[Any]] = field(default_factory=list)
    sku: list[int] = field(default_factory=list)
    loc: list[int] = field(default_factory=list)
    to_loc: list[int] = field(default_factory=list)
    kind: list[int] = field(default_factory=list)
    qty: list[int] = field(default_factory=list)
    dead: list[tuple] = field(default_factory=list)
    acks: dict[str, list[dict]] = field(default_factory=dict)
    #: device -> retransmitted counts still held for an approver (ack entries, see
    #: central.ingest.hooks): merged at publish with the held counts of this group's own plan.
    held: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    statuses: list[tuple] = field(default_factory=list)
    #: (site, upto) of each acknowledged device as of the end of this group's preparation: the
    #: next group may already be marked in DeviceState while this one commits.
    watermarks: dict[str, tuple[str, int]] = field(default_factory=dict)
    retries: list[tuple[int, Future]] = field(default_factory=list)
    gen: int = 0
    #: The first event with each (device, seq) in this group, accepted or dead-lettered: a
    #: second event with the same seq is told from it (a retransmit or a replay) before either
    #: is in the ledger.
    seen: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    #: The state each serial is left in by this group's accepted movements:
    #: {(item_id, serial): (type, place, device, seq)} (see tallyman.wire.serial_state).
    serials: dict[tuple[int, str], tuple[str, str | None, str, int]] = field(default_factory=dict)

    def add_movement(self, row: list[Any], sku_id: int, loc_id: int, to_id: int, kind: int) -> None:
        self.rows.append(row)
        self.sku.append(sku_id)
        self.loc.append(loc_id)
        self.to_loc.append(to_id)
        self.kind.append(kind)
        self.qty.append(row[_QTY])

    def columns(self) -> np.ndarray:
        """The engine columns of this batch's movements, in ledger.BLOCK_COLUMNS order."""
        return np.array([self.sku, self.loc, self.to_loc, self.kind, self.qty], np.int64).T
