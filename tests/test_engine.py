"""Stock engine: the Numba kernel against its plain-Python reference, and rebuild from ledger."""

from __future__ import annotations

import numpy as np

from central.stock import ledger
from central.stock.engine import BEHAVIOUR, COUNT_DELTA, EFFECT, GAIN, StockEngine
from central.stock.kernels import apply_movements, apply_movements_py, as_columns

T = ledger.TYPE_CODE


def random_movements(n, n_items=30, n_locs=6, seed=0):
    rng = np.random.default_rng(seed)
    kind = rng.integers(0, len(T), n)
    to_loc = np.where(
        np.isin(kind, [T["putaway"], T["transfer_out"]]), rng.integers(0, n_locs + 1, n), 0
    )
    to_loc[(kind == T["putaway"]) & (to_loc == 0)] = 1
    return as_columns(
        rng.integers(1, n_items + 1, n),
        rng.integers(1, n_locs + 1, n),
        to_loc,
        kind,
        rng.integers(0, 12, n),
    )


def test_kernel_matches_reference():
    cols = random_movements(20_000)
    a = [np.zeros((31, 7), np.int64) for _ in range(2)]
    b = [np.zeros((31, 7), np.int64) for _ in range(2)]
    da, db = np.empty(20_000, np.int64), np.empty(20_000, np.int64)
    apply_movements(*a, *cols, BEHAVIOUR, GAIN, da)
    apply_movements_py(*b, *cols, BEHAVIOUR, GAIN, db)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert np.array_equal(da, db)
    assert (a[1] >= 0).all()  # in transit never negative


def test_movement_semantics():
    e = StockEngine()
    rows = [
        (1, 1, 0, T["receive"], 10),  # +10
        (1, 1, 0, T["sale"], 3),  # -3
        (1, 1, 2, T["putaway"], 2),  # move 2 from loc 1 to loc 2
        (1, 1, 0, T["count"], 4),  # counted 4 at loc 1
        (1, 2, 3, T["transfer_out"], 2),  # 2 leave loc 2 for loc 3: in transit there
        (1, 3, 0, T["transfer_in"], 2),  # they arrive
        (1, 1, 0, T["adjust"], -1),
    ]
    delta = e.apply(*np.array(rows).T)
    assert delta.tolist() == [10, -3, -2, -1, -2, 2, -1]
    assert e.on_hand[1, 1:4].tolist() == [3, 0, 2]
    assert e.in_transit[1, 3] == 0


def test_rebuild_equals_live_and_uses_blocks(tmp_path):
    conn = ledger.connect(tmp_path / "l.db")
    cols = random_movements(5000, seed=3)
    live = StockEngine()
    delta = live.apply(*cols)
    rows = []
    for i, (s, lc, t, k, q) in enumerate(zip(*(c.tolist() for c in cols), strict=True)):
        rows.append(
            [
                "d",
                i + 1,
                "S",
                "",
                "",
                "",
                k,
                "",
                s,
                None,
                None,
                None,
                None,
                q,
                int(delta[i]),
                "",
                lc,
                None,
                t,
                None,
                None,
                None,
            ]
        )
    conn.execute("BEGIN")
    conn.executemany(ledger.INSERT_MOVEMENT, rows[:3000])
    ledger.write_block(conn, 1, np.stack(cols, axis=1)[:2000])  # rows 2001-3000: no block
    conn.executemany(ledger.INSERT_MOVEMENT, rows[3000:])
    ledger.write_block(conn, 3001, np.stack(cols, axis=1)[3000:4500])  # 4501-5000: no block
    conn.execute("COMMIT")
    rebuilt = StockEngine()
    assert rebuilt.rebuild(conn, 30, 6) == 5000
    assert np.array_equal(rebuilt.on_hand[:31, :7], live.on_hand[:31, :7])
    assert np.array_equal(rebuilt.in_transit[:31, :7], live.in_transit[:31, :7])
    conn.execute("DELETE FROM movement_blocks")  # rows only: the same stock
    slow = StockEngine()
    slow.rebuild(conn, 30, 6)
    assert np.array_equal(slow.on_hand[:31, :7], live.on_hand[:31, :7])


def test_engine_grows_and_lists_cells():
    e = StockEngine()
    e.apply([5], [3], [0], [T["receive"]], [7])
    e.apply([500], [40], [0], [T["receive"]], [1])
    assert e.on_hand.shape[0] > 500 and e.on_hand.shape[1] > 40
    assert e.cells(None, None) == [(5, 3, 7, 0, 0, 0), (500, 40, 1, 0, 0, 0)]
    assert e.cells(np.array([5]), np.array([3, 4]), nonzero=False) == [
        (5, 3, 7, 0, 0, 0),
        (5, 4, 0, 0, 0, 0),
    ]


def test_late_kinds_in_the_kernel_match_the_reference():
    """Movements scanned before an applied count (engine-only kinds, see EFFECT) through the
    Numba kernel and the plain-Python reference."""
    cols = list(random_movements(20_000, seed=5))
    rng = np.random.default_rng(6)
    flagged = rng.integers(0, 4, cols[3].shape[0])
    cols[3] = EFFECT[flagged, cols[3]].astype(cols[3].dtype)
    assert cols[3].max() > COUNT_DELTA  # some late kinds in there
    a = [np.zeros((31, 7), np.int64) for _ in range(2)]
    b = [np.zeros((31, 7), np.int64) for _ in range(2)]
    da, db = np.empty(20_000, np.int64), np.empty(20_000, np.int64)
    apply_movements(*a, *cols, BEHAVIOUR, GAIN, da)
    apply_movements_py(*b, *cols, BEHAVIOUR, GAIN, db)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert np.array_equal(da, db)


def test_a_movement_before_a_count_leaves_the_counted_side_alone():
    at_loc, at_to = ledger.BEFORE_COUNT_AT_LOC, ledger.BEFORE_COUNT_AT_TO
    cases = [  # (type, flagged bits) -> (on_hand at 1, at 2, in_transit at 2) from (10, 10, 5)
        ("sale", at_loc, (10, 10, 5)),
        ("receive", at_loc, (10, 10, 5)),
        ("putaway", at_loc, (10, 13, 5)),
        ("putaway", at_to, (7, 10, 5)),
        ("putaway", at_loc | at_to, (10, 10, 5)),
        ("transfer_out", at_loc, (10, 10, 8)),
        ("sale", 0, (7, 10, 5)),
    ]
    for typ, bits, want in cases:
        e = StockEngine()
        e.apply([1, 1], [1, 2], [0, 0], [T["count"], T["count"]], [10, 10])
        e.in_transit[1, 2] = 5
        e.apply(
            [1], [1], [2 if typ in ("putaway", "transfer_out") else 0], [EFFECT[bits, T[typ]]], [3]
        )
        assert (int(e.on_hand[1, 1]), int(e.on_hand[1, 2]), int(e.in_transit[1, 2])) == want, typ
    e = StockEngine()  # an arrival before a count: in transit is still cleared
    e.in_transit = np.full((2, 3), 4, np.int64)
    e.on_hand = np.zeros((2, 3), np.int64)
    e.apply([1], [2], [0], [EFFECT[at_loc, T["transfer_in"]]], [3])
    assert (int(e.on_hand[1, 2]), int(e.in_transit[1, 2])) == (0, 1)
