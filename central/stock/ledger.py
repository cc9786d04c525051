"""The append-only ledger: every accepted movement, every rejection, and the master data they need.

Why integer ids beside the text keys: the stock engine's arrays are indexed by item id × location
id, so rebuilding ten million movements reads integers straight into numpy instead of hashing
strings. Why `delta`: a count sets the quantity, so its effect depends on what came before; the
ledger keeps the effect it had when it was applied (the count's variance), for audit and planning.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from central.stock import sqlbulk
from tallyman.wire import TYPES, serial_state

if TYPE_CHECKING:
    import sqlite_utils  # imported where used: it loads pandas

#: Stable small-integer code of each movement type (stored as `movements.kind`).
TYPE_CODE: dict[str, int] = {t: i for i, t in enumerate(sorted(TYPES))}
CODE_TYPE: dict[int, str] = {i: t for t, i in TYPE_CODE.items()}
#: Kind of a `count` row stored as the change it made (`qty` = its delta): a late count applied
#: as of its scan time, or one held for approval (delta 0); see central.stock.engine.
COUNT_DELTA = len(TYPE_CODE)

#: `movements.flagged` bits: the movement was scanned before a count already applied at its
#: `loc` (its change to on-hand there is not made: the count fixed that quantity) or at its
#: `to_loc` (a putaway's arrival there is not made). Recorded, not applied there; for review.
BEFORE_COUNT_AT_LOC = 1
BEFORE_COUNT_AT_TO = 2

SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    id INTEGER PRIMARY KEY,
    sku TEXT NOT NULL UNIQUE,
    gtin TEXT UNIQUE,
    name TEXT,
    category TEXT,
    unit_cost REAL,
    price REAL,
    supplier TEXT,
    lead_time_days REAL,
    pack_size INTEGER,
    moq INTEGER
);
CREATE TABLE IF NOT EXISTS locations (
    id INTEGER PRIMARY KEY,
    loc TEXT NOT NULL UNIQUE,
    site TEXT NOT NULL,
    kind TEXT
);
CREATE TABLE IF NOT EXISTS movements (
    id INTEGER PRIMARY KEY,
    device TEXT NOT NULL,
    seq INTEGER NOT NULL,
    site TEXT NOT NULL,
    ts TEXT NOT NULL,
    received_at TEXT NOT NULL,
    type TEXT NOT NULL,
    kind INTEGER NOT NULL,
    sku TEXT NOT NULL,
    sku_id INTEGER NOT NULL,
    gtin TEXT,
    lot TEXT,
    expiry TEXT,
    serial TEXT,
    qty INTEGER NOT NULL,
    delta INTEGER NOT NULL,
    loc TEXT NOT NULL,
    loc_id INTEGER NOT NULL,
    to_loc TEXT,
    to_loc_id INTEGER NOT NULL DEFAULT 0,
    ref TEXT,
    operator TEXT,
    raw TEXT,
    flagged INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS movements_device_seq ON movements(device, seq);
-- no per-item index: nothing queried it, and it cost over a third of ingest's write time
-- (docs/scan-to-ledger.md, Throughput decisions)
DROP INDEX IF EXISTS movements_sku;
CREATE INDEX IF NOT EXISTS movements_ts ON movements(ts);
-- a serial's current state: the (type, place) its last accepted movement left it in
CREATE TABLE IF NOT EXISTS serial_states (
    sku_id INTEGER NOT NULL,
    serial TEXT NOT NULL,
    type TEXT NOT NULL,
    place TEXT,
    device TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (sku_id, serial)
) WITHOUT ROWID;
-- per cell, the scan time (ts_key) of the latest count that set it
CREATE TABLE IF NOT EXISTS count_marks (
    sku_id INTEGER NOT NULL,
    loc_id INTEGER NOT NULL,
    ts TEXT NOT NULL,
    PRIMARY KEY (sku_id, loc_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS count_marks_loc ON count_marks(loc_id, ts);
-- small facts about the ledger as a whole (count_marks_upto: see mark_counts)
CREATE TABLE IF NOT EXISTS ledger_state (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS movement_blocks (
    first_id INTEGER PRIMARY KEY,
    last_id INTEGER NOT NULL,
    data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS devices (
    device TEXT PRIMARY KEY,
    site TEXT NOT NULL,
    upto INTEGER NOT NULL DEFAULT 0,
    state TEXT,
    queue INTEGER,
    last_seen TEXT
);
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY,
    received_at TEXT NOT NULL,
    topic TEXT,
    device TEXT,
    site TEXT,
    seq INTEGER,
    code TEXT NOT NULL,
    detail TEXT,
    event TEXT,
    payload TEXT,
    status TEXT NOT NULL DEFAULT 'open',
    attempts INTEGER NOT NULL DEFAULT 0,
    resolved_at TEXT
);
CREATE INDEX IF NOT EXISTS dead_letters_status ON dead_letters(status, id);
CREATE INDEX IF NOT EXISTS dead_letters_device_seq ON dead_letters(device, seq);
CREATE TABLE IF NOT EXISTS tokens (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    token_sha256 TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY,
    ts TEXT NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    detail TEXT,
    remote_addr TEXT
);
"""

MOVEMENT_COLUMNS = (
    "device",
    "seq",
    "site",
    "ts",
    "received_at",
    "type",
    "kind",
    "sku",
    "sku_id",
    "gtin",
    "lot",
    "expiry",
    "serial",
    "qty",
    "delta",
    "loc",
    "loc_id",
    "to_loc",
    "to_loc_id",
    "ref",
    "operator",
    "raw",
)
INSERT_MOVEMENT_HEAD = f"INSERT INTO movements ({', '.join(MOVEMENT_COLUMNS)})"
MOVEMENT_VALUES = f"({', '.join('?' * len(MOVEMENT_COLUMNS))})"
INSERT_MOVEMENT = f"{INSERT_MOVEMENT_HEAD} VALUES {MOVEMENT_VALUES}"
#: Created after `flagged` exists (a ledger from before it gains the column in `_migrate`);
#: partial, so that the usual unflagged insert costs nothing more.
FLAGGED_INDEX = "CREATE INDEX IF NOT EXISTS movements_flagged ON movements(id) WHERE flagged != 0"
INSERT_DEAD_LETTER_HEAD = (
    "INSERT INTO dead_letters (received_at, topic, device, site, seq, code, detail, event, payload)"
)
DEAD_LETTER_VALUES = "(?, ?, ?, ?, ?, ?, ?, ?, ?)"


def insert_movements(conn: sqlite3.Connection, rows: Sequence[Sequence[Any]]) -> None:
    """Insert ledger rows (MOVEMENT_COLUMNS order), many per statement (see
    central.stock.sqlbulk)."""
    sqlbulk.insert_rows(conn, INSERT_MOVEMENT_HEAD, MOVEMENT_VALUES, rows)


def connect(
    path: str | Path, *, check_same_thread: bool = True, schema: bool = True
) -> sqlite3.Connection:
    """Open (and create) the ledger. WAL so readers never block the ingest writer; FULL sync
    because central acknowledges after commit and the edge then forgets the event: a commit that
    a power cut could undo would lose a scan. `schema=False` skips creating the tables (a
    process that created them once, see central.stock.storage)."""
    conn = sqlite3.connect(
        str(path), timeout=30, isolation_level=None, check_same_thread=check_same_thread
    )
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=30000")
    if schema:
        conn.executescript(SCHEMA)
        _migrate(conn)
    return conn


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring a ledger from before the serial states and count marks up to date, once.

    The check runs without a lock (the usual case: nothing to do); the change under the write
    lock, checked again, so two processes opening an old ledger at once migrate it once.
    """
    if _up_to_date(conn):
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        columns = {r[1] for r in conn.execute("PRAGMA table_info(movements)")}
        if "flagged" not in columns:
            conn.execute("ALTER TABLE movements ADD COLUMN flagged INTEGER NOT NULL DEFAULT 0")
            _fill_serial_states(conn)
            _fill_count_marks(conn)
        conn.execute(FLAGGED_INDEX)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _up_to_date(conn: sqlite3.Connection) -> bool:
    return (
        conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'movements_flagged'"
        ).fetchone()
        is not None
    )


def _fill_serial_states(conn: sqlite3.Connection) -> None:
    """Each serial's state as the ledger's movements left it (a ledger from before the table)."""
    latest: dict[tuple[int, str], tuple[str, str | None, str, int]] = {}
    for sku_id, serial, typ, loc, to_loc, device, seq in conn.execute(
        "SELECT sku_id, serial, type, loc, to_loc, device, seq FROM movements "
        "WHERE serial IS NOT NULL ORDER BY id"
    ):
        latest[(sku_id, serial)] = (*serial_state(typ, loc, to_loc), device, seq)
    record_serial_states(conn, latest)


def _fill_count_marks(conn: sqlite3.Connection) -> None:
    """Marks of the counts that set their cell, from the ledger's rows (a ledger from before the
    table). A late count applied with no variance cannot be told from a held one by its row
    (both store a change of 0): it is left out, and events before it keep their effect."""
    mark_counts(
        conn,
        conn.execute(
            "SELECT sku_id, loc_id, ts FROM movements WHERE kind = ? OR (kind = ? AND qty != 0)",
            (TYPE_CODE["count"], COUNT_DELTA),
        ),
    )
    set_count_marks_upto(conn, _max_movement_id(conn))


def _max_movement_id(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT coalesce(max(id), 0) FROM movements").fetchone()[0])


# --- serial states and count marks (see central.ingest) -----------------------------------------


def ts_key(ts: str) -> str:
    """A scan time as text that sorts in time order: `ts` has 0 to 9 fractional digits and
    ends in Z or +00:00 (wire._TS), so the raw text does not (`…:05Z` sorts after `…:05.5Z`)."""
    frac = ts[20:].removesuffix("Z").removesuffix("+00:00") if ts[19:20] == "." else ""
    return f"{ts[:19]}.{frac:0<9}"


def serial_state_of(
    conn: sqlite3.Connection, sku_id: int, serial: str
) -> tuple[str, str | None, str, int] | None:
    """(type, place, device, seq) of a serial's last accepted movement, or None."""
    row = conn.execute(
        "SELECT type, place, device, seq FROM serial_states WHERE sku_id = ? AND serial = ?",
        (sku_id, serial),
    ).fetchone()
    return None if row is None else (row[0], row[1], row[2], row[3])


def record_serial_states(
    conn: sqlite3.Connection, states: dict[tuple[int, str], tuple[str, str | None, str, int]]
) -> None:
    """Store serials' new states: {(sku_id, serial): (type, place, device, seq)}."""
    sqlbulk.insert_rows(
        conn,
        "INSERT INTO serial_states (sku_id, serial, type, place, device, seq)",
        "(?, ?, ?, ?, ?, ?)",
        [(s, n, *state) for (s, n), state in states.items()],
        " ON CONFLICT(sku_id, serial) DO UPDATE SET type = excluded.type, "
        "place = excluded.place, device = excluded.device, seq = excluded.seq",
    )


def count_mark(conn: sqlite3.Connection, sku_id: int, loc_id: int) -> str | None:
    """The ts_key of the latest count that set this cell, or None."""
    row = conn.execute(
        "SELECT ts FROM count_marks WHERE sku_id = ? AND loc_id = ?", (sku_id, loc_id)
    ).fetchone()
    return None if row is None else str(row[0])


def location_count_marks(conn: sqlite3.Connection) -> dict[int, str]:
    """Per location, the ts_key of the latest count that set any cell there (one index probe
    per location)."""
    out = {}
    for (loc_id,) in conn.execute("SELECT id FROM locations").fetchall():
        row = conn.execute("SELECT max(ts) FROM count_marks WHERE loc_id = ?", (loc_id,)).fetchone()
        if row[0] is not None:
            out[loc_id] = str(row[0])
    return out


def mark_counts(
    conn: sqlite3.Connection, rows: Iterable[tuple[int, int, str]]
) -> dict[tuple[int, int], str]:
    """Mark the cells these counts set, from (sku_id, loc_id, ts) rows; returns the marks."""
    marks: dict[tuple[int, int], str] = {}
    for sku_id, loc_id, ts in rows:
        key = ts_key(ts)
        if key > marks.get((sku_id, loc_id), ""):
            marks[(sku_id, loc_id)] = key
    record_count_marks(conn, marks)
    return marks


def count_marks_upto(conn: sqlite3.Connection) -> int:
    """Every movement up to this id that set its cell as a count has marked it: the ingest
    keeps this at its last commit; rows beyond it were written while no ingest ran (opening
    stock imported before central started) and are marked by `catch_up_count_marks`."""
    row = conn.execute("SELECT value FROM ledger_state WHERE key = 'count_marks_upto'").fetchone()
    return 0 if row is None else int(row[0])


def set_count_marks_upto(conn: sqlite3.Connection, upto: int) -> None:
    conn.execute(
        "INSERT INTO ledger_state (key, value) VALUES ('count_marks_upto', ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (upto,),
    )


def catch_up_count_marks(conn: sqlite3.Connection) -> int:
    """Mark the cells set by plain counts written since the last ingest commit (call inside a
    write transaction); returns how many cells were marked. Only kind `count` rows: a count
    stored as its change was written by an ingest, which marked it if it set its cell."""
    upto, last = count_marks_upto(conn), _max_movement_id(conn)
    if last <= upto:
        return 0
    marks = mark_counts(
        conn,
        conn.execute(
            "SELECT sku_id, loc_id, ts FROM movements WHERE id > ? AND kind = ?",
            (upto, TYPE_CODE["count"]),
        ),
    )
    set_count_marks_upto(conn, last)
    return len(marks)


def record_count_marks(conn: sqlite3.Connection, marks: dict[tuple[int, int], str]) -> None:
    """Mark cells set by counts: {(sku_id, loc_id): ts_key}; a later mark is never replaced by
    an earlier one."""
    sqlbulk.insert_rows(
        conn,
        "INSERT INTO count_marks (sku_id, loc_id, ts)",
        "(?, ?, ?)",
        [(s, c, ts) for (s, c), ts in marks.items()],
        " ON CONFLICT(sku_id, loc_id) DO UPDATE SET ts = max(ts, excluded.ts)",
    )


def database(path: str | Path) -> sqlite_utils.Database:
    """A sqlite-utils handle on the ledger, for import and ad-hoc queries."""
    import sqlite_utils

    return sqlite_utils.Database(connect(path))


def device_watermarks(conn: sqlite3.Connection) -> dict[str, tuple[str, int, set[int]]]:
    """Per device: (site, contiguous upto, seqs already stored above upto).

    Central acknowledges `upto` only over a gap-free run of seqs: a lost message (a broker killed
    before it persisted) leaves a gap that the edge fills by retransmitting.
    """
    out: dict[str, tuple[str, int, set[int]]] = {}
    for device, site, upto in conn.execute("SELECT device, site, upto FROM devices"):
        above = {
            s
            for (s,) in conn.execute(
                "SELECT seq FROM movements WHERE device = ? AND seq > ? "
                "UNION SELECT seq FROM dead_letters WHERE device = ? AND seq > ?",
                (device, upto, device, upto),
            )
        }
        out[device] = (site, upto, above)
    return out


#: Columns of a movement block, in order: what the stock engine needs of each movement.
BLOCK_COLUMNS = ("sku_id", "loc_id", "to_loc_id", "kind", "qty")
BLOCK_DTYPE = np.dtype("<i4")


def write_block(conn: sqlite3.Connection, first_id: int, columns: np.ndarray) -> None:
    """Store the engine's columns of movements first_id… (contiguous ids) as one packed block.

    Why: replaying ten million ledger rows through Python tuples takes longer than the ten
    seconds a restart may take; the same rows as a few thousand packed blocks load straight
    into numpy. A block is written in the same transaction as its rows, so the two never
    disagree, and rows without a block are still replayed from the rows themselves.
    """
    n = columns.shape[0]
    if n:
        data = np.ascontiguousarray(columns, dtype=BLOCK_DTYPE).tobytes()
        conn.execute(
            "INSERT INTO movement_blocks (first_id, last_id, data) VALUES (?, ?, ?)",
            (first_id, first_id + n - 1, data),
        )


def iter_engine_columns(
    conn: sqlite3.Connection, effect: np.ndarray, chunk: int = 1_000_000
) -> Iterator[np.ndarray]:
    """Every movement's engine columns in ledger order, as (n, 5) int arrays.

    Packed blocks where they exist (they hold the kind the engine applied); the rows themselves
    for any id range no block covers, a flagged row's kind translated by `effect[flagged, kind]`
    (the engine's table of what a movement does when it predates a count).
    """
    select = (
        f"SELECT {', '.join(BLOCK_COLUMNS)}, flagged FROM movements "
        "WHERE id > ? AND id < ? ORDER BY id"
    )
    kind = BLOCK_COLUMNS.index("kind")
    next_id = 1
    blocks = conn.execute("SELECT first_id, last_id, data FROM movement_blocks ORDER BY first_id")
    end = conn.execute("SELECT coalesce(max(id), 0) FROM movements").fetchone()[0] + 1
    for first_id, last_id, data in itertools.chain(blocks, [(end, end - 1, None)]):
        if first_id > next_id:
            cur = conn.execute(select, (next_id - 1, first_id))
            while rows := cur.fetchmany(chunk):
                a = np.array(rows, dtype=np.int64).reshape(-1, len(BLOCK_COLUMNS) + 1)
                cols, flagged = a[:, :-1], a[:, -1]
                if flagged.any():
                    cols[:, kind] = effect[flagged, cols[:, kind]]
                yield cols
        if data is not None:
            yield np.frombuffer(data, dtype=BLOCK_DTYPE).reshape(-1, len(BLOCK_COLUMNS))
        next_id = max(next_id, last_id + 1)


def count_movements(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM movements").fetchone()[0])


def reader(path: str | Path, *, check_same_thread: bool = True) -> sqlite3.Connection:
    """A read-only connection for API threads (WAL lets it read while ingest writes)."""
    conn = sqlite3.connect(
        str(path), timeout=30, isolation_level=None, check_same_thread=check_same_thread
    )
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute("PRAGMA query_only=1")
    return conn
