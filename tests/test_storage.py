"""The storage's write transaction keeps the real error and leaves no transaction open."""

from __future__ import annotations

import sqlite3

import pytest

from central.stock.storage import open_storage


def test_a_statement_that_rolled_back_itself_keeps_its_own_error(tmp_path):
    storage = open_storage(tmp_path / "ledger.db")
    try:
        storage.writer().execute("CREATE TABLE t (k INTEGER PRIMARY KEY)")
        with storage.tx() as conn:
            conn.execute("INSERT INTO t VALUES (1)")
        # INSERT OR ROLLBACK ends the transaction inside SQLite before the error reaches us
        with pytest.raises(sqlite3.IntegrityError), storage.tx() as conn:
            conn.execute("INSERT OR ROLLBACK INTO t VALUES (1)")
        assert not storage.writer().in_transaction
        with storage.tx() as conn:  # the thread's writer is usable again
            conn.execute("INSERT INTO t VALUES (2)")
        assert storage.reader().execute("SELECT count(*) FROM t").fetchone()[0] == 2
    finally:
        storage.close()


def test_an_error_inside_rolls_back(tmp_path):
    storage = open_storage(tmp_path / "ledger.db")
    try:
        storage.writer().execute("CREATE TABLE t (k INTEGER PRIMARY KEY)")
        with pytest.raises(ZeroDivisionError), storage.tx() as conn:
            conn.execute("INSERT INTO t VALUES (1)")
            1 / 0  # noqa: B018
        assert storage.reader().execute("SELECT count(*) FROM t").fetchone()[0] == 0
        assert not storage.writer().in_transaction
    finally:
        storage.close()
