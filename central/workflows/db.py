"""Transactions and the audit trail for workflow writes (connections come from central's one
`central.stock.storage.Storage`).

Lock order, everywhere: the stock engine's lock first, then the database's write lock (BEGIN
IMMEDIATE). The ingest takes them in that order too; taking them the other way round could
leave two threads each waiting for the other until the busy timeout.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from tallyman.wire import now_ts


@dataclass(frozen=True)
class Actor:
    """Who asks: a token's name and role and the client address (the audit trail's columns)."""

    name: str
    role: str
    addr: str | None = None


SYSTEM = Actor("system", "system", None)


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
