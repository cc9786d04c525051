"""The one way into central's database: opened once at start, handed to every service.

Why one object: the ingest, the workflows, the reservation desk, the supplier sender and
planning used to be handed a file path and each opened connections of its own. Now they are
handed a `Storage` and ask it for the connection they need, so the settings that make the
ledger durable live in one place and shutdown closes what was opened. Opening, configuring and
handing out connections is SQLite-specific only here and in `central.stock.ledger` (files,
pragmas, WAL); a second engine is a second class with these methods. What is not behind it yet:
the services still write SQLite's SQL dialect (`BEGIN IMMEDIATE`, `INSERT OR IGNORE`) and catch
`sqlite3.Error`, so a second engine also needs those statements translated.

The kinds of connection:

- `reader()`: the calling thread's read-only connection (API threads); WAL lets it read while
  the ingest writes.
- `writer()` and `tx()`: the calling thread's write connection, and one write transaction on it
  (BEGIN IMMEDIATE, so a read-check-write inside it is atomic).
- `open_writer()` / `open_reader()`: a connection of its own for a part that owns a thread and
  runs its own transactions (the ingest's committer and its preparing thread, the reservation
  desk, planning's alert book and its pass). That part closes it when its threads have ended.

Lock order, everywhere: the stock engine's lock first, then the database's write lock (BEGIN
IMMEDIATE); see `central.workflows.db`.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from central.stock import ledger


class Storage(Protocol):
    """What central's services may ask of the database (see the module docstring)."""

    def reader(self) -> sqlite3.Connection:
        """The calling thread's read-only connection."""
        ...

    def writer(self) -> sqlite3.Connection:
        """The calling thread's write connection (autocommit outside `tx`)."""
        ...

    def tx(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """One write transaction on the calling thread's write connection."""
        ...

    def open_writer(self, *, durable: bool = True) -> sqlite3.Connection:
        """A write connection for one part to own; `durable=False` for state derived from the
        ledger, whose commits need not survive a power cut."""
        ...

    def open_reader(self) -> sqlite3.Connection:
        """A read-only connection for one part to own."""
        ...

    def files_dir(self, name: str) -> str:
        """A folder for files that belong with this database (e.g. `supplier-outbox`)."""
        ...

    def close(self) -> None:
        """Close the per-thread connections (after the services have stopped)."""
        ...


class SqliteStorage:
    """The ledger as one SQLite file in WAL mode (see `central.stock.ledger.connect`)."""

    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self._local = threading.local()
        self._lock = threading.Lock()
        self._per_thread: list[tuple[threading.Thread, sqlite3.Connection]] = []
        self._closed = False
        if not read_only:
            ledger.connect(self.path).close()  # the file and the ledger's tables, once

    # --- per-thread connections -----------------------------------------------------------

    def reader(self) -> sqlite3.Connection:
        return self._mine("reader", True)

    def writer(self) -> sqlite3.Connection:
        if self.read_only:
            raise PermissionError(f"{self.path} was opened read-only")
        return self._mine("writer", False)

    @contextlib.contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        conn = self.writer()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            # SQLite may have rolled back already (a conflict clause, a failed COMMIT); a
            # ROLLBACK then would raise and hide the real error.
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _mine(self, kind: str, read_only: bool) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, kind, None)
        if conn is not None:
            return conn
        if self._closed:
            raise RuntimeError(f"storage {self.path} is closed")
        conn = self._connect(read_only=read_only, durable=True)
        setattr(self._local, kind, conn)
        with self._lock:
            self._prune()
            self._per_thread.append((threading.current_thread(), conn))
        return conn

    def _prune(self) -> None:
        """Close the connections of threads that have ended (a server's worker threads come
        and go; their connections must not hold file handles until shutdown)."""
        ended = [(t, c) for t, c in self._per_thread if not t.is_alive()]
        if ended:
            self._per_thread = [(t, c) for t, c in self._per_thread if t.is_alive()]
            for _, conn in ended:
                conn.close()

    # --- owned connections ----------------------------------------------------------------

    def open_writer(self, *, durable: bool = True) -> sqlite3.Connection:
        if self.read_only:
            raise PermissionError(f"{self.path} was opened read-only")
        return self._connect(read_only=False, durable=durable)

    def open_reader(self) -> sqlite3.Connection:
        return self._connect(read_only=True, durable=True)

    def _connect(self, *, read_only: bool, durable: bool) -> sqlite3.Connection:
        """`check_same_thread=False`: a connection is used by one thread at a time, but it
        may be opened on one thread and closed on another at shutdown."""
        if read_only:
            return ledger.reader(self.path, check_same_thread=False)
        conn = ledger.connect(self.path, check_same_thread=False, schema=False)
        if not durable:
            conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    # --- the rest -------------------------------------------------------------------------

    def files_dir(self, name: str) -> str:
        return f"{self.path.with_suffix('')}-{name}"

    def close(self) -> None:
        """Close the calling thread's connections and those of threads that have ended. A live
        thread's connection is left to that thread: closing it under a running statement is
        not safe (the process is ending anyway when that happens)."""
        me = threading.current_thread()
        with self._lock:
            self._closed = True
            done = [(t, c) for t, c in self._per_thread if t is me or not t.is_alive()]
            self._per_thread = [(t, c) for t, c in self._per_thread if (t, c) not in done]
        for _, conn in done:
            conn.close()
        for kind in ("reader", "writer"):
            setattr(self._local, kind, None)


def open_storage(path: str | Path, *, read_only: bool = False) -> Storage:
    """Open central's database once (created with its tables unless `read_only`)."""
    return SqliteStorage(path, read_only=read_only)
