"""Central's own movements: a sale that fulfils a reservation, an approved count, a write-off.

Why through the ingest and not straight into the ledger: the ingest is the one writer that keeps
ledger order, engine and acknowledgements in step. Central therefore behaves like one more
device per site (`central.SITE`): each event gets a seq, is written to `wf_outbox` in the same
transaction as the workflow change that caused it, and is handed to the ingest after COMMIT.
The ingest de-duplicates on (device, seq) as for any handheld, so re-submitting after a crash
(`resubmit`) cannot apply an event twice; the workflow learns that an event landed when the
ledger scan meets its row (`landed`).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from central.workflows.counts import CENTRAL_DEVICE_PREFIX
from tallyman import wire

log = logging.getLogger("tallyman.workflows")

Submit = Callable[[str, bytes], None]


def device_for(site: str) -> str:
    return f"{CENTRAL_DEVICE_PREFIX}{site}"[:40]


@dataclass
class CentralMovements:
    submit: Submit | None = None
    _pending: threading.local = field(default_factory=threading.local)

    def add(
        self, conn: sqlite3.Connection, site: str, events: list[dict], purpose: str, doc_id: int
    ) -> list[int]:
        """Queue events in the caller's transaction; `flush` hands them over after COMMIT."""
        device = device_for(site)
        seq = max(
            conn.execute(
                "SELECT coalesce(max(seq), 0) FROM wf_outbox WHERE device = ?", (device,)
            ).fetchone()[0],
            conn.execute(
                "SELECT coalesce(max(seq), 0) FROM movements WHERE device = ?", (device,)
            ).fetchone()[0],
        )
        now = wire.now_ts()
        seqs = []
        for ev in events:
            seq += 1
            ev = {"seq": seq, **{k: v for k, v in ev.items() if v is not None}}
            ev.setdefault("ts", now)
            conn.execute(
                "INSERT INTO wf_outbox (device, seq, site, event, purpose, doc_id, status, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)",
                (device, seq, site, json.dumps(ev), purpose, doc_id, now),
            )
            self._queue().append((site, device, ev))
            seqs.append(seq)
        return seqs

    def _queue(self) -> list:
        q = getattr(self._pending, "q", None)
        if q is None:
            q = self._pending.q = []
        return q

    def discard(self) -> None:
        """The transaction rolled back: forget what it queued."""
        self._queue().clear()

    def flush(self) -> None:
        q = self._queue()
        events, q[:] = list(q), []
        if self.submit is None:
            if events:
                log.warning("%d central movements wait for the ingest to start", len(events))
            return
        by_device: dict[tuple[str, str], list[dict]] = {}
        for site, device, ev in events:
            by_device.setdefault((site, device), []).append(ev)
        for (site, device), evs in by_device.items():
            self.submit(
                wire.movements_topic(site, device), wire.encode_movements(site, device, evs)
            )

    def resubmit(self, conn: sqlite3.Connection, older_than: str | None = None) -> int:
        """Hand pending events to the ingest again (after a restart, or when one went missing).

        Events the ingest dead-lettered are marked failed with the reason instead.
        """
        if self.submit is None:
            return 0
        sql = "SELECT device, seq, site, event FROM wf_outbox WHERE status = 'pending'"
        params: tuple = ()
        if older_than:
            sql += " AND created_at < ?"
            params = (older_than,)
        pending = conn.execute(sql + " ORDER BY device, seq", params).fetchall()
        n = 0
        for device, seq, site, event in pending:
            dead = conn.execute(
                "SELECT code, detail FROM dead_letters WHERE device = ? AND seq = ? LIMIT 1",
                (device, seq),
            ).fetchone()
            if dead is not None:
                conn.execute(
                    "UPDATE wf_outbox SET status = 'failed' WHERE device = ? AND seq = ?",
                    (device, seq),
                )
                log.error("central movement %s #%d was rejected: %s %s", device, seq, *dead)
                continue
            self.submit(
                wire.movements_topic(site, device),
                wire.encode_movements(site, device, [json.loads(event)]),
            )
            n += 1
        return n

    @staticmethod
    def landed(
        conn: sqlite3.Connection, device: str, seq: int, movement_id: int
    ) -> tuple[str, int | None] | None:
        """Mark an event as in the ledger; returns its (purpose, doc_id), None if not ours."""
        found = conn.execute(
            "SELECT purpose, doc_id, status FROM wf_outbox WHERE device = ? AND seq = ?",
            (device, seq),
        ).fetchone()
        if found is None or found[2] == "landed":
            return None
        conn.execute(
            "UPDATE wf_outbox SET status = 'landed', movement_id = ? WHERE device = ? AND seq = ?",
            (movement_id, device, seq),
        )
        return found[0], found[1]
