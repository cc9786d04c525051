"""Many-row INSERTs: same rows as executemany, in order, split under the parameter limit."""

from __future__ import annotations

import sqlite3

import pytest

from central.stock import sqlbulk


def _conn() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT UNIQUE, v INTEGER, s TEXT)")
    return conn


def test_inserts_every_row_in_order_across_statements():
    conn = _conn()
    rows = [(f"k{i}", i) for i in range(1234)]  # 3 statements of ≤ 500 rows
    sqlbulk.insert_rows(conn, "INSERT INTO t (k, v, s)", "(?, ?, 'x')", rows)
    got = conn.execute("SELECT id, k, v, s FROM t ORDER BY id").fetchall()
    assert got == [(i + 1, f"k{i}", i, "x") for i in range(1234)]


def test_upsert_tail_applies_rows_in_order():
    conn = _conn()
    rows = [("a", 1, "first"), ("b", 2, "b"), ("a", 3, "last")]
    sqlbulk.insert_rows(
        conn,
        "INSERT INTO t (k, v, s)",
        "(?, ?, ?)",
        rows,
        " ON CONFLICT(k) DO UPDATE SET v = excluded.v, s = excluded.s",
    )
    assert conn.execute("SELECT k, v, s FROM t ORDER BY k").fetchall() == [
        ("a", 3, "last"),
        ("b", 2, "b"),
    ]


def test_respects_a_small_parameter_limit():
    conn = _conn()
    conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 10)  # 5 rows of 2 per statement
    sqlbulk.insert_rows(conn, "INSERT INTO t (k, v)", "(?, ?)", [(str(i), i) for i in range(23)])
    assert conn.execute("SELECT count(*), sum(v) FROM t").fetchone() == (23, sum(range(23)))


def test_nothing_to_insert_is_a_no_op():
    conn = _conn()
    sqlbulk.insert_rows(conn, "INSERT INTO t (k, v)", "(?, ?)", [])
    assert conn.execute("SELECT count(*) FROM t").fetchone() == (0,)


def test_a_bad_row_raises_and_values_stay_parameters():
    conn = _conn()
    evil = "x'); DROP TABLE t; --"
    sqlbulk.insert_rows(conn, "INSERT INTO t (k, v)", "(?, ?)", [(evil, 1)])
    assert conn.execute("SELECT k FROM t").fetchone() == (evil,)
    with pytest.raises(sqlite3.IntegrityError):
        sqlbulk.insert_rows(conn, "INSERT INTO t (k, v)", "(?, ?)", [(evil, 2)])
