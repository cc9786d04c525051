"""Demand history: daily outbound per SKU × site and stream, kept current as movements arrive.

Layout (why it looks like this):

* A *series* is one SKU at one site, numbered ``series = sku_index * n_sites + site_index`` so the
  sites of one SKU are contiguous (transfers match within that block) and central's engine can
  hand over its per-SKU × site arrays flattened.
* Each outbound stream (``sale``, ``pick``, ``transfer_out``) is a float32 cube of daily
  quantities, ``data[row, day % n_days]`` — a ring over the day window, so rolling to a new day
  clears one column instead of shifting 1.5 GB. float32 holds whole units exactly up to 2^24.
* A stream only has rows for the series that use it (``rows[series]``, -1 = none): stores sell,
  warehouses pick and ship transfers, and three dense 1,000,000 × 365 float32 cubes would be
  4.4 GB where the data needs ~1.7 GB.
* Inbound stock (receive, transfer_in, return) is kept per week (``inbound[series, week %
  n_weeks]``): stock age and the KPIs' opening inventory need inbound by week, not by day, and a
  daily inbound cube would cost another 1.5 GB.
* ``first_in[series]`` is the day stock first came to the series (a receipt, a transfer in, a
  return, or a count or adjustment that found stock): a series' age starts there, so an item
  received last week has been idle a week, not a year (issue 12).

Day numbers are days since 1970-01-01 (UTC); weeks start on Monday. The figures read out of
the history (velocities, weekday pattern, stock age) are in history_summary.py.
"""

from __future__ import annotations

import mmap
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import numpy as np
from numba import njit

STREAMS = ("sale", "pick", "transfer_out")
INBOUND_TYPES = ("receive", "transfer_in", "return")
#: Movement type → code used by `History.add`: 0..2 the streams, 3 inbound, 4 a count or an
#: adjustment (stock that appears without a receipt: an imported opening balance is a count),
#: -1 ignored.
TYPE_CODE = {
    "sale": 0, "pick": 1, "transfer_out": 2, "receive": 3, "transfer_in": 3, "return": 3,
    "count": 4, "adjust": 4,
}  # fmt: skip
INBOUND = 3
STOCK_SET = 4
#: `History.first_in` of a series no stock has come to yet.
NEVER = np.iinfo(np.int32).max
_EPOCH = date(1970, 1, 1)


def epoch_day(value: str | date | datetime) -> int:
    """Day number of an RFC 3339 UTC timestamp, a date or a datetime."""
    if isinstance(value, str):
        return (date.fromisoformat(value[:10]) - _EPOCH).days
    if isinstance(value, datetime):
        return (value.astimezone(UTC).date() - _EPOCH).days
    return (value - _EPOCH).days


def day_date(day: int) -> date:
    return _EPOCH + timedelta(days=int(day))


def weekday(day: int | np.ndarray) -> int | np.ndarray:
    """0 = Monday (1970-01-01 was a Thursday)."""
    return (day + 3) % 7


def week_of(day: int | np.ndarray) -> int | np.ndarray:
    """Monday-based week number."""
    return (day + 3) // 7


def series_of(sku_idx: np.ndarray | int, site_idx: np.ndarray | int, n_sites: int):
    """Series number of SKU `sku_idx` at site `site_idx`."""
    return sku_idx * n_sites + site_idx


# --- kernels ---------------------------------------------------------------------------------


@njit(cache=True)
def add_movements(cube, series_idx, day_idx, qty):
    """cube[series_idx[j], day_idx[j]] += qty[j]; entries with a negative index are skipped.

    The incremental update of a history cube: `series_idx` are the cube's rows and `day_idx` its
    columns (ring positions), already mapped by `History.add`. Duplicates accumulate, so a batch
    needs no pre-aggregation. O(batch), no allocation.
    """
    for j in range(series_idx.shape[0]):
        r = series_idx[j]
        c = day_idx[j]
        if r >= 0 and c >= 0:
            cube[r, c] += qty[j]


@njit(cache=True)
def first_days(first, series, days, qty):
    """first[series[j]] = min(first[series[j]], days[j]) where qty[j] > 0 (stock came in)."""
    for j in range(series.shape[0]):
        s = series[j]
        if s >= 0 and qty[j] > 0 and days[j] < first[s]:
            first[s] = days[j]


@njit(cache=True)
def demand_row(out, i, sd, sr, pd, pr, td, tr, tw, c0):
    """Write series i's daily demand (sale + pick + tw[i]·transfer_out) into `out`, oldest day
    first; `c0` is the ring column of the oldest day. Two straight segments, no modulo."""
    n_days = out.shape[0]
    out[:] = 0.0
    a = n_days - c0
    for s in range(3):
        if s == 0:
            r, data, w = sr[i], sd, 1.0
        elif s == 1:
            r, data, w = pr[i], pd, 1.0
        else:
            r, data, w = tr[i], td, tw[i]
        if r < 0 or w == 0.0:
            continue
        row = data[r]
        for t in range(a):
            out[t] += w * row[c0 + t]
        for t in range(a, n_days):
            out[t] += w * row[t - a]


@njit(cache=True)
def _zero_cols(data, cols):
    for r in range(data.shape[0]):
        for c in cols:
            data[r, c] = 0.0


# --- containers ------------------------------------------------------------------------------


def _reserve(rows: int, n_days: int) -> tuple[mmap.mmap | None, np.ndarray]:
    """A zeroed float32 [rows, n_days] array in an anonymous mapping: address space for every
    row is reserved up front, but the kernel only backs the pages that get written, so memory
    follows the rows in use and adding rows never copies the cube."""
    size = rows * n_days * 4
    if size == 0:
        return None, np.zeros((rows, n_days), np.float32)
    flags = mmap.MAP_PRIVATE | getattr(mmap, "MAP_ANONYMOUS", 0x20)
    flags |= getattr(mmap, "MAP_NORESERVE", 0)
    buf = mmap.mmap(-1, size, flags=flags)
    return buf, np.frombuffer(buf, np.float32).reshape(rows, n_days)


@dataclass
class StreamCube:
    """Daily quantities of one stream; a row is assigned to a series on its first movement.

    `data` has room for every series (reserved address space, see `_reserve`); rows are handed
    out in order, so only `data[:used]` is ever touched and resident.
    """

    rows: np.ndarray  # int32 [n_series]; -1: the series has no row in this stream
    data: np.ndarray  # float32 [n_series, n_days], rows [0, used) in use
    used: int = 0
    _buf: mmap.mmap | None = field(default=None, repr=False)

    @classmethod
    def empty(cls, n_series: int, n_days: int) -> StreamCube:
        buf, data = _reserve(n_series, n_days)
        return cls(np.full(n_series, -1, np.int32), data, 0, buf)

    def ensure(self, series: np.ndarray) -> np.ndarray:
        """Row of each series, assigning rows to series new to this stream."""
        rows = self.rows[series]
        missing = np.unique(series[rows < 0])
        if missing.size:
            need = self.used + missing.size
            self.rows[missing] = np.arange(self.used, need, dtype=np.int32)
            self.used = need
            rows = self.rows[series]
        return rows

    @property
    def nbytes(self) -> int:
        """Bytes in use (the rows assigned so far)."""
        return self.used * self.data.shape[1] * 4


@dataclass
class History:
    """Rolling daily outbound per stream + weekly inbound, for `n_series` SKU × site series.

    `today` is the newest day in the window; the window is [today - n_days + 1, today].
    `transfer_out_weight[series]` (0 or 1) says whether a series' transfers out are demand —
    yes for a warehouse that replenishes stores, no for a store rebalancing its stock.
    """

    n_series: int
    n_days: int
    today: int
    streams: dict[str, StreamCube]
    inbound: np.ndarray  # float32 [n_series, n_weeks]
    transfer_out_weight: np.ndarray  # float32 [n_series]
    #: int32 [n_series]: the day stock first came in (NEVER: not yet; any day before the
    #: window: before it, see load_history)
    first_in: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    n_weeks: int = field(init=False)

    def __post_init__(self) -> None:
        self.n_weeks = self.inbound.shape[1]
        if self.first_in.shape != (self.n_series,):
            self.first_in = np.full(self.n_series, NEVER, np.int32)

    @classmethod
    def empty(cls, n_series: int, today: int, n_days: int = 365) -> History:
        streams = {s: StreamCube.empty(n_series, n_days) for s in STREAMS}
        n_weeks = n_days // 7 + 2
        return cls(
            n_series,
            n_days,
            today,
            streams,
            np.zeros((n_series, n_weeks), np.float32),
            np.zeros(n_series, np.float32),
        )

    # ring positions
    @property
    def first_day(self) -> int:
        return self.today - self.n_days + 1

    @property
    def c0(self) -> int:
        """Ring column of the oldest day in the window."""
        return self.first_day % self.n_days

    def columns(self, days: np.ndarray) -> np.ndarray:
        """Ring column of each day, -1 outside the window."""
        days = np.asarray(days, np.int64)
        ok = (days >= self.first_day) & (days <= self.today)
        return np.where(ok, days % self.n_days, -1).astype(np.int64)

    def advance(self, today: int) -> None:
        """Roll the window forward to `today`, clearing the columns that come into use."""
        if today <= self.today:
            return
        gap = today - self.today
        new_days = np.arange(self.today + 1, today + 1)[-self.n_days :]
        cols = np.unique(new_days % self.n_days)
        for cube in self.streams.values():
            if cube.used:
                if gap >= self.n_days:
                    cube.data[: cube.used] = 0.0
                else:
                    _zero_cols(cube.data[: cube.used], cols)
        old_week, new_week = week_of(self.today), week_of(today)
        if new_week > old_week:
            weeks = np.arange(old_week + 1, new_week + 1)[-self.n_weeks :]
            _zero_cols(self.inbound, np.unique(weeks % self.n_weeks))
        self.today = today

    def add(
        self,
        codes: np.ndarray,
        series: np.ndarray,
        days: np.ndarray,
        qty: np.ndarray,
    ) -> np.ndarray:
        """Add movements (type codes from `TYPE_CODE`); returns the touched series, sorted.

        A movement dated after `today` rolls the window forward first; one older than the window
        is ignored (it cannot change a forecast any more).
        """
        codes = np.asarray(codes, np.int8)
        series = np.asarray(series, np.int64)
        days = np.asarray(days, np.int64)
        qty = np.asarray(qty, np.float32)
        if days.size and int(days.max()) > self.today:
            self.advance(int(days.max()))
        cols = self.columns(days)
        for code, name in enumerate(STREAMS):
            sel = codes == code
            if not sel.any():
                continue
            cube = self.streams[name]
            rows = cube.ensure(series[sel])
            add_movements(cube.data, rows.astype(np.int64), cols[sel], qty[sel])
        sel = codes == INBOUND
        if sel.any():
            weeks = week_of(days[sel])
            wk_ok = weeks > week_of(self.today) - self.n_weeks
            wcols = np.where(wk_ok, weeks % self.n_weeks, -1)
            add_movements(self.inbound, series[sel], wcols, qty[sel])
        sel = (codes == INBOUND) | (codes == STOCK_SET)
        if sel.any():
            first_days(self.first_in, series[sel], days[sel].astype(np.int32), qty[sel])
        return np.unique(series[codes >= 0])

    def arrays(self) -> tuple:
        """(sale data, rows, pick data, rows, transfer_out data, rows) for kernels."""
        out = []
        for s in STREAMS:
            cube = self.streams[s]
            out += [cube.data, cube.rows]
        return tuple(out)

    def demand(self, series: Sequence[int] | np.ndarray) -> np.ndarray:
        """Daily demand of some series, oldest day first: float64 [len(series), n_days]."""
        series = np.asarray(series, np.int64)
        out = np.empty((series.size, self.n_days))
        sd, sr, pd, pr, td, tr = self.arrays()
        for k, i in enumerate(series):
            demand_row(out[k], i, sd, sr, pd, pr, td, tr, self.transfer_out_weight, self.c0)
        return out

    def stream(self, name: str, series: int) -> np.ndarray:
        """One stream of one series, oldest day first (zeros when the series has no row)."""
        cube = self.streams[name]
        r = cube.rows[series]
        if r < 0:
            return np.zeros(self.n_days, np.float32)
        return np.roll(cube.data[r], -self.c0)

    @property
    def nbytes(self) -> int:
        """Bytes in use: weekly inbound plus the assigned stream rows."""
        return self.inbound.nbytes + sum(c.nbytes for c in self.streams.values())


# --- loading from central's ledger -----------------------------------------------------------

_LOAD_SQL = (
    "SELECT sku, site, type, CAST(julianday(substr(ts, 1, 10)) - 2440587.5 AS INTEGER) AS day, "
    "SUM(qty) FROM movements WHERE ts >= ? AND ts < ? AND type IN ({marks}) "
    "GROUP BY sku, site, type, day"
)


def load_history(
    conn: sqlite3.Connection,
    sku_index: Mapping[str, int],
    site_index: Mapping[str, int],
    days: int = 365,
    today: int | date | None = None,
    *,
    dc_sites: Sequence[str] = (),
    batch: int = 100_000,
) -> History:
    """Build a History from the ledger table `movements` (daily totals per SKU, site, type).

    Series are numbered `sku_index[sku] * len(site_index) + site_index[site]`; movements of
    SKUs or sites not in the indexes are skipped. Transfers out count as demand at `dc_sites`.
    The aggregation runs in SQLite (one GROUP BY) and the query is parameterised; a second
    query finds the series that had stock before the loaded range (their `first_in`).
    """
    if today is None:
        today = epoch_day(datetime.now(UTC))
    elif not isinstance(today, int):
        today = epoch_day(today)
    n_sites = len(site_index)
    n_series = len(sku_index) * n_sites
    hist = History.empty(n_series, today, days)
    for name in dc_sites:
        if name in site_index:
            hist.transfer_out_weight[site_index[name] :: n_sites] = 1.0
    lo = day_date(min(hist.first_day, week_of(today) * 7 - 3 - 7 * (hist.n_weeks - 1)))
    hi = day_date(today + 1)
    types = list(TYPE_CODE)
    sql = _LOAD_SQL.format(marks=",".join("?" * len(types)))
    cur = conn.execute(sql, [lo.isoformat(), hi.isoformat(), *types])
    while True:
        rows = cur.fetchmany(batch)
        if not rows:
            break
        sku_i = np.fromiter((sku_index.get(r[0], -1) for r in rows), np.int64, len(rows))
        site_i = np.fromiter((site_index.get(r[1], -1) for r in rows), np.int64, len(rows))
        codes = np.fromiter((TYPE_CODE[r[2]] for r in rows), np.int8, len(rows))
        day = np.fromiter((r[3] for r in rows), np.int64, len(rows))
        qty = np.fromiter((r[4] for r in rows), np.float32, len(rows))
        ok = (sku_i >= 0) & (site_i >= 0)
        # stream days outside the daily window are dropped by History.add; inbound keeps weeks
        hist.add(codes[ok], series_of(sku_i[ok], site_i[ok], n_sites), day[ok], qty[ok])
    _stock_before(conn, hist, lo, sku_index, site_index)
    return hist


_BEFORE_SQL = (
    "SELECT DISTINCT sku, site FROM movements WHERE ts < ? AND type IN ({marks}) AND qty > 0"
)


def _stock_before(
    conn: sqlite3.Connection,
    hist: History,
    lo: date,
    sku_index: Mapping[str, int],
    site_index: Mapping[str, int],
) -> None:
    """Mark the series stock came to before the loaded range (their age starts before it).
    Skipped at once when the ledger starts inside the range (a young ledger reads nothing)."""
    if conn.execute("SELECT 1 FROM movements WHERE ts < ? LIMIT 1", (lo.isoformat(),)).fetchone():
        types = [t for t, c in TYPE_CODE.items() if c in (INBOUND, STOCK_SET)]
        sql = _BEFORE_SQL.format(marks=",".join("?" * len(types)))
        n_sites = len(site_index)
        before = epoch_day(lo) - 1
        for sku, site in conn.execute(sql, [lo.isoformat(), *types]):
            a, b = sku_index.get(sku), site_index.get(site)
            if a is not None and b is not None:
                s = a * n_sites + b
                hist.first_in[s] = min(int(hist.first_in[s]), before)
