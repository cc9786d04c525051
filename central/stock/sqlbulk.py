"""Many-row INSERTs that give the GIL back once per few hundred rows, not once per row.

Why this exists: Python's sqlite3 releases the GIL around every `sqlite3_step`, and
`executemany` steps once per row. When another thread of the same process is busy in Python (a
planning pass, the MQTT network thread), each row must wait to get the GIL back, up to the
interpreter's switch interval (5 ms by default): executemany of ledger rows was measured going
from 118,000 rows/s alone to 350 rows/s beside one busy thread
(`scripts/bench/bench_gil_convoy.py`). One `INSERT … VALUES (…), (…), …` statement per
ROWS_PER_STATEMENT rows steps once per statement, so the same insert keeps its speed whatever
the other threads do. SQL text stays parameterised.
"""

from __future__ import annotations

import functools
import itertools
import sqlite3
from collections.abc import Sequence
from typing import Any

#: Rows per statement: large enough that the per-statement GIL hand-back is negligible, small
#: enough to stay under SQLite's bound-parameter limit (32,766 since 3.32) for 22 columns.
ROWS_PER_STATEMENT = 500


@functools.lru_cache(maxsize=256)
def _statement(head: str, row_sql: str, n: int, tail: str) -> str:
    return f"{head} VALUES {', '.join([row_sql] * n)}{tail}"


def insert_rows(
    conn: sqlite3.Connection,
    head: str,
    row_sql: str,
    rows: Sequence[Sequence[Any]],
    tail: str = "",
) -> None:
    """Run `head VALUES row_sql, row_sql, … tail` over `rows`, ROWS_PER_STATEMENT at a time.

    `head` is e.g. "INSERT INTO t (a, b)", `row_sql` the parameter group of one row, e.g.
    "(?, ?)" or "(?, 'active', ?)", and `tail` an optional clause such as an ON CONFLICT upsert.
    """
    if not rows:
        return
    width = row_sql.count("?")
    limit = conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    per = max(1, min(ROWS_PER_STATEMENT, limit // width))
    for start in range(0, len(rows), per):
        part = rows[start : start + per]
        conn.execute(
            _statement(head, row_sql, len(part), tail), list(itertools.chain.from_iterable(part))
        )
