"""The device's durable outbox: every movement is committed here before the operator hears "OK".

An event leaves the outbox only when central's ack says it is in the ledger (accepted or rejected
with a reason); a broker PUBACK never deletes anything. The seq counter lives in the same file
and is bumped in the same transaction as the insert, so it survives restarts and never repeats.
Events are stored as their wire JSON so that publishing is string joining, not re-encoding.

A serialised unit (an item's GTIN or SKU + a serial) has a history of states (received, sold,
returned, transferred…, see tallyman.wire.serial_state). Each scan of one is judged against its
current state, the one its last stored event left it in: a scan leading to that same state (the
same transition again, nothing in between: a scanner re-sending a frame it got no reply for, a
tag read twice, a unit scanned twice) is refused as a repeat; sold, returned and sold again are
three events. An event central rejects never happened, so its state is forgotten with the ack.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

from tallyman import wire

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY, event TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS rejections (
    seq INTEGER PRIMARY KEY, code TEXT NOT NULL, detail TEXT, event TEXT, at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS serial_events (
    seq INTEGER PRIMARY KEY, item TEXT NOT NULL, serial TEXT NOT NULL, type TEXT NOT NULL,
    place TEXT
);
CREATE INDEX IF NOT EXISTS serial_events_unit ON serial_events(item, serial, seq);
CREATE TABLE IF NOT EXISTS context (key TEXT PRIMARY KEY, value TEXT);
INSERT OR IGNORE INTO meta (key, value) VALUES ('next_seq', 1), ('acked_upto', 0);
"""
#: An outbox from before serial states kept (GTIN, serial, type) once ever: its latest event per
#: serial becomes the serial's state (where it was is not known: place NULL).
MIGRATE_SERIALS = """
INSERT OR IGNORE INTO serial_events (seq, item, serial, type, place)
    SELECT max(seq), gtin, serial, type, NULL FROM serials GROUP BY gtin, serial;
DROP TABLE serials;
"""


def _connect(path: str, synchronous: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    return conn


def _meta(conn: sqlite3.Connection, key: str) -> int:
    return int(conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()[0])


class Outbox:
    """One SQLite file per device, with one connection for each of its two users.

    The scan side (`append`, context) commits with a full fsync: the operator's OK depends on it.
    The publisher side (`pending`, `ack`) runs on its own connection without waiting for fsync:
    an ack whose delete a power cut undoes only makes the edge resend events that central then
    drops as duplicates. Two connections also keep a slow disk on one side from stalling the
    other (WAL lets the publisher read while a scan commits).
    """

    def __init__(self, path: str | Path, *, synchronous: str = "FULL"):
        self.path = str(path)
        self.conn = _connect(self.path, synchronous)
        self.conn.executescript(SCHEMA)
        old = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'serials'"
        if self.conn.execute(old).fetchone():
            self.conn.executescript(f"BEGIN IMMEDIATE; {MIGRATE_SERIALS} COMMIT;")
        self.lock = threading.Lock()
        self.pub = _connect(self.path, "NORMAL")
        self.pub_lock = threading.Lock()

    def _meta(self, key: str) -> int:
        return _meta(self.conn, key)

    def append(self, event: dict[str, Any]) -> tuple[int, bool]:
        """Durably store one event, giving it the next seq. Returns (seq, new).

        A serialised unit's scan that repeats its last transition (see the module docstring) is
        not stored: (the seq of the event it repeats, False) is returned.
        """
        with self.lock:
            conn = self.conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                item, serial = event.get("gtin") or event.get("sku"), event.get("serial")
                state = None
                if isinstance(item, str) and isinstance(serial, str) and item and serial:
                    state = wire.serial_state(event["type"], event.get("loc"), event.get("to_loc"))
                    row = conn.execute(
                        "SELECT seq, type, place FROM serial_events WHERE item = ? AND serial = ? "
                        "ORDER BY seq DESC LIMIT 1",
                        (item, serial),
                    ).fetchone()
                    if row and (row[1], row[2]) == state:
                        conn.execute("COMMIT")
                        return row[0], False
                seq = self._meta("next_seq")
                event = {"seq": seq, **event}
                conn.execute(
                    "INSERT INTO outbox (seq, event) VALUES (?, ?)",
                    (seq, json.dumps(event, separators=(",", ":"))),
                )
                if state is not None:
                    self._serial_event(seq, str(item), str(serial), state)
                conn.execute("UPDATE meta SET value = ? WHERE key = 'next_seq'", (seq + 1,))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            return seq, True

    def _serial_event(
        self, seq: int, item: str, serial: str, state: tuple[str, str | None]
    ) -> None:
        """Record a serial's new state; forget the states before its newest acknowledged one
        (central has that one, so no rejection can bring an older one back)."""
        conn = self.conn
        conn.execute(
            "INSERT INTO serial_events (seq, item, serial, type, place) VALUES (?, ?, ?, ?, ?)",
            (seq, item, serial, *state),
        )
        conn.execute(
            "DELETE FROM serial_events WHERE item = ?1 AND serial = ?2 AND seq < ("
            "SELECT max(seq) FROM serial_events WHERE item = ?1 AND serial = ?2 AND seq <= ?3)",
            (item, serial, self._meta("acked_upto")),
        )

    def append_many(self, events: list[dict[str, Any]]) -> int:
        """Bulk load (benchmarks, replays of an export); same guarantees, one transaction."""
        with self.lock:
            conn = self.conn
            conn.execute("BEGIN IMMEDIATE")
            seq = self._meta("next_seq")
            rows = []
            for ev in events:
                rows.append((seq, json.dumps({"seq": seq, **ev}, separators=(",", ":"))))
                seq += 1
            conn.executemany("INSERT INTO outbox (seq, event) VALUES (?, ?)", rows)
            conn.execute("UPDATE meta SET value = ? WHERE key = 'next_seq'", (seq,))
            conn.execute("COMMIT")
            return len(rows)

    def pending(self, after_seq: int, limit: int) -> list[tuple[int, str]]:
        """Events not yet acknowledged with seq > after_seq, oldest first, as (seq, json)."""
        with self.pub_lock:
            return self.pub.execute(
                "SELECT seq, event FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?",
                (after_seq, limit),
            ).fetchall()

    def ack(self, upto: int, rejected: list[dict[str, Any]], at: str) -> int:
        """Central has everything ≤ upto: drop it, keeping rejected events and their reasons."""
        with self.pub_lock:
            conn = self.pub
            conn.execute("BEGIN IMMEDIATE")
            try:
                for r in rejected:
                    ev = conn.execute(
                        "SELECT event FROM outbox WHERE seq = ?", (r["seq"],)
                    ).fetchone()
                    conn.execute(
                        "INSERT OR REPLACE INTO rejections (seq, code, detail, event, at) "
                        "VALUES (?, ?, ?, ?, ?)",
                        (r["seq"], r.get("code", "?"), r.get("detail", ""), ev and ev[0], at),
                    )
                    # not in the ledger: the serial is still in the state before it
                    conn.execute("DELETE FROM serial_events WHERE seq = ?", (r["seq"],))
                cur = conn.execute("DELETE FROM outbox WHERE seq <= ?", (upto,))
                if upto > _meta(conn, "acked_upto"):
                    conn.execute("UPDATE meta SET value = ? WHERE key = 'acked_upto'", (upto,))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            return cur.rowcount

    @property
    def acked_upto(self) -> int:
        with self.pub_lock:
            return _meta(self.pub, "acked_upto")

    @property
    def next_seq(self) -> int:
        with self.lock:
            return self._meta("next_seq")

    def queue_length(self) -> int:
        with self.pub_lock:
            return int(self.pub.execute("SELECT count(*) FROM outbox").fetchone()[0])

    def rejections(self, limit: int = 100) -> list[dict[str, Any]]:
        with self.pub_lock:
            rows = self.pub.execute(
                "SELECT seq, code, detail, event, at FROM rejections ORDER BY seq DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [dict(zip(("seq", "code", "detail", "event", "at"), r, strict=True)) for r in rows]

    def save_context(self, context: dict[str, Any]) -> None:
        """The handheld's current bin, mode, document…: a restarted edge carries on with them."""
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.execute("DELETE FROM context")
            self.conn.executemany(
                "INSERT INTO context (key, value) VALUES (?, ?)",
                [(k, json.dumps(v)) for k, v in context.items()],
            )
            self.conn.execute("COMMIT")

    def load_context(self) -> dict[str, Any]:
        with self.lock:
            return {
                k: json.loads(v) for k, v in self.conn.execute("SELECT key, value FROM context")
            }

    def close(self) -> None:
        with self.lock, self.pub_lock:
            self.conn.close()
            self.pub.close()
