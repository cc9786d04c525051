"""Connections, transactions and the audit trail for workflow writes.

Lock order, everywhere: the stock engine's lock first, then SQLite's write lock (BEGIN
IMMEDIATE). The ingest takes them in that order too; taking them the other way round could
leave two threads each waiting for the other until the busy timeout.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from central.stock import ledger
from central.workflows import schema
from tallyman.wire import now_ts


@dataclass(frozen=True)
class Actor:
    """Who asks: a token's name and role and the client address (the audit trail's columns)."""

    name: str
    role: str
    addr: str | None = None


SYSTEM = Actor("system", "system", None)


class Store:
    """Per-thread write connections to one ledger file."""

    def __init__(self, db_path: str):
        self.db_path = db_path
        self._local = threading.local()
        self._all: list[tuple[threading.Thread, sqlite3.Connection]] = []
        self._lock = threading.Lock()
        schema.init(self.conn())

    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = ledger.connect(self.db_path, check_same_thread=False)
            with self._lock:
                self._all.append((threading.current_thread(), conn))
        return conn

    def close(self) -> None:
        """Close the connections of this thread and of threads that have ended (a stopped
        service must not hold file handles). A live thread's connection is left to that thread:
        closing it under a running statement is not safe; it closes when the thread ends."""
        me = threading.current_thread()
        with self._lock:
            done = [(t, c) for t, c in self._all if t is me or not t.is_alive()]
            self._all = [(t, c) for t, c in self._all if not (t is me or not t.is_alive())]
        for _, conn in done:
            conn.close()
        if any(t is me for t, _ in done):
            self._local.conn = None

    @contextlib.contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: BEGIN IMMEDIATE, so a read-check-write inside it is atomic."""
        conn = self.conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")


AUDIT_HEAD = "INSERT INTO audit (ts, actor, role, action, target, detail, remote_addr)"
AUDIT_VALUES = "(?, ?, ?, ?, ?, ?, ?)"
AUDIT_SQL = f"{AUDIT_HEAD} VALUES {AUDIT_VALUES}"


def audit(
    conn: sqlite3.Connection, actor: Actor, action: str, target: str, detail: str = ""
) -> None:
    """One audit row, in the caller's transaction: the trail commits with the change it records."""
    conn.execute(AUDIT_SQL, audit_row(actor, action, target, detail))


def audit_row(actor: Actor, action: str, target: str, detail: str = "") -> tuple:
    return (now_ts(), actor.name, actor.role, action, target, detail, actor.addr)


def rows(conn: sqlite3.Connection, sql: str, params: tuple = ()) -> list[dict]:
    cur = conn.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def one(conn: sqlite3.Connection, sql: str, params: tuple = ()) -> dict | None:
    found = rows(conn, sql, params)
    return found[0] if found else None


@contextlib.contextmanager
def engine_tx(lock: Any, conn: sqlite3.Connection) -> Iterator[list[Callable[[], None]]]:
    """The engine lock, then one write transaction; yields a list of undo callbacks.

    Code inside changes the engine's workflow measures and appends how to undo each change: if
    anything fails before COMMIT returns, the transaction rolls back and the undo list restores
    memory, so the engine never shows a reservation the ledger file does not have.
    """
    undo: list[Callable[[], None]] = []
    with lock:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield undo
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            for fn in reversed(undo):
                fn()
            raise
