"""Planning wired into central: history kept current from the ingest, alerts refreshed for the
SKU × sites each batch touched, periodic full passes, draft purchase orders from proposals.

Threads and who waits for whom (the ingest must never wait on planning):

* the ingest's committer calls `on_batch`, which only queues the batch;
* the **alert worker** folds queued batches into the demand history and re-evaluates the alerts
  of the series they touched against the engine's current stock (what `refresh_alerts` does,
  with the engine read for those SKUs only), saves the changes (the AlertBook's tables, in the
  ledger file, on its own connection) and publishes them (MQTT, webhooks — the webhook sender
  is a third thread, so a slow endpoint delays nothing);
  every `sweep_s` it also re-checks every series whose alert position moved without a movement
  (reservations, PO approvals and cancellations change the engine but not the ledger), and at
  once when told a workflow changed some (`positions_changed`: after a workflow's POST, or
  from the workflows after a commit);
* the **pass thread** loads everything at start-up, then runs the full `plan()` every
  `interval_s` and on demand (`run_pass`, also from the API). The heavy part of a pass runs
  outside the state lock, so incremental alerts keep flowing while it forecasts; only the
  final alert update over every series (with the stock of that moment) takes the lock.

Which movements are folded in: the worker keeps `upto`, the last ledger id in the history. The
history is loaded from the ledger in one read transaction together with its max id, so a batch
committed meanwhile is folded exactly once; a batch whose rows are not contiguous with `upto`
(rows another process appended, a restart) is completed from the ledger itself.
"""

from __future__ import annotations

import gc
import logging
import queue
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from central.planning.core import (
    AlertBook,
    AlertChange,
    AlertChanges,
    History,
    Network,
    PlanningConfig,
    PlanResult,
    StockState,
    epoch_day,
    load_book,
    load_history,
    plan,
    save_changes,
    schema,
)
from central.planning.core.config import category_arrays
from central.planning.core.history import TYPE_CODE, day_date
from central.planning.inputs import (
    REFUSED_SCHEMA,
    Indexes,
    dc_site_names,
    load_master,
    pending_orders,
    site_stock,
    table_exists,
)
from central.planning.notify import Publish, WebhookSender, publish_mqtt
from central.planning.settings import Settings
from central.stock import ledger
from central.stock.catalog import Catalog
from central.stock.engine import StockEngine
from central.stock.storage import Storage
from central.workflows.db import Actor
from central.workflows.models import PurchaseOrderCreate, convert
from tallyman import wire
from tallyman.periodic import Periodic

log = logging.getLogger("tallyman.planning")

_COL = {name: i for i, name in enumerate(ledger.MOVEMENT_COLUMNS)}
#: Ledger kind code (movements.kind) → history code (planning TYPE_CODE; -1: not demand or
#: inbound, e.g. counts, adjustments, putaways).
KIND_CODE = np.full(len(ledger.TYPE_CODE) + 2, -1, np.int8)
for _type, _kind in ledger.TYPE_CODE.items():
    KIND_CODE[_kind] = TYPE_CODE.get(_type, -1)
GAP_SQL = (
    "SELECT kind, sku_id, loc_id, to_loc_id, qty, ts FROM movements "
    "WHERE id > ? AND id <= ? ORDER BY id"
)
#: Who the audit trail names for draft POs made from proposals.
PLANNER = ("planning", "system")


@dataclass
class Moves:
    """Movement columns the history and the alerts need (numpy arrays, one entry a movement)."""

    kind: np.ndarray
    sku_id: np.ndarray
    loc_id: np.ndarray
    to_loc_id: np.ndarray
    qty: np.ndarray
    day: np.ndarray

    @classmethod
    def from_rows(cls, rows: Iterable[tuple]) -> Moves:
        """From (kind, sku_id, loc_id, to_loc_id, qty, ts) tuples (a list or a cursor)."""
        rows = list(rows)
        if not rows:
            z = np.zeros(0, np.int64)
            return cls(z, z, z, z, z.astype(np.float32), z)
        kind, sku, loc, to_loc, qty, ts = zip(*rows, strict=True)
        return cls(
            np.array(kind, np.int64),
            np.array(sku, np.int64),
            np.array(loc, np.int64),
            np.array(to_loc, np.int64),
            np.array(qty, np.float32),
            epoch_days([t[:10] for t in ts]),
        )

    @classmethod
    def concat(cls, parts: list[Moves]) -> Moves:
        return cls(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)))

    @classmethod
    def from_batch(cls, rows: list[list], start: int) -> Moves:
        """From ingest Batch rows (lists in ledger.MOVEMENT_COLUMNS order), from `start` on.
        Column by column: no per-row tuples, so a batch adds little for the cyclic GC."""
        part = rows[start:] if start else rows

        def col(name: str, dtype) -> np.ndarray:
            k = _COL[name]
            return np.fromiter((r[k] or 0 for r in part), dtype, len(part))

        ts = _COL["ts"]
        return cls(
            col("kind", np.int64),
            col("sku_id", np.int64),
            col("loc_id", np.int64),
            col("to_loc_id", np.int64),
            col("qty", np.float32),
            epoch_days([r[ts][:10] for r in part]),
        )


def epoch_days(dates: list[str]) -> np.ndarray:
    """Day numbers of ISO dates (numpy parses them in C: 10,000 in well under a millisecond)."""
    return np.array(dates, dtype="datetime64[D]").astype(np.int64)


def _take(table: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """table[ids] with -1 for ids outside the table."""
    ok = (ids >= 0) & (ids < table.shape[0])
    return np.where(ok, table[np.where(ok, ids, 0)], -1)


@dataclass
class PlanningState:
    """What the alert worker and the passes share (guarded by the service's lock)."""

    ix: Indexes
    net: Network
    history: History
    book: AlertBook
    safety_stock: np.ndarray  # float64 [n_series], from the last full pass
    upto: int  # last ledger id folded into the history


@dataclass
class PassOutcome:
    """One full pass, as the API serves it until the next one."""

    seq: int
    ts: str
    reason: str
    result: PlanResult
    ix: Indexes
    net: Network
    history: History
    stock: StockState
    drafts: list[dict]
    alert_changes: dict[str, int]
    seconds: float
    stages: dict[str, float] = field(default_factory=dict)
    #: the policies the pass ran with (what a proposal's basis names: method, service level)
    planning: PlanningConfig = field(default_factory=PlanningConfig)


@dataclass
class Stats:
    batches: int = 0
    movements: int = 0
    sweeps: int = 0
    #: seconds from the commit (subscriber call) to alerts saved and published, last 1,000
    latency: deque = field(default_factory=lambda: deque(maxlen=1000))
    #: seconds of history + alert update alone (before the SQLite save), last 1,000
    compute: deque = field(default_factory=lambda: deque(maxlen=1000))

    def summary(self) -> dict:
        def q(values: deque) -> dict:
            if not values:
                return {"n": 0}
            a = np.array(values) * 1000.0
            return {"n": len(a), "median_ms": float(np.median(a)), "max_ms": float(a.max())}

        return {
            "batches": self.batches,
            "movements": self.movements,
            "sweeps": self.sweeps,
            "latency": q(self.latency),
            "compute": q(self.compute),
        }


def thresholds(settings: Settings, net: Network) -> tuple[np.ndarray, ...]:
    """Per-series alert thresholds (yellow, orange, red, hysteresis) from each SKU's category."""
    ca = category_arrays(settings.planning, net.category_names)
    cat = np.repeat(np.asarray(net.sku_category, np.int64), net.n_sites)
    return ca.yellow[cat], ca.orange[cat], ca.red[cat], ca.hysteresis[cat]


def settle_memory() -> None:
    """Move everything alive after start-up (modules, master data, the loaded state) out of
    the cyclic GC's reach (`gc.freeze`).

    Why: central is one big long-lived Python process (Numba, Flask, paho, master data); a full
    collection walks every tracked object and took ~90 ms at 50,000 SKUs — a pause that lands on
    whichever thread is running, an alert refresh included. Objects made at start-up live as long
    as the process, so the collector has nothing to find among them; later collections only
    walk what was made since. Reference counting still frees everything as usual."""
    gc.collect()
    gc.freeze()


class PlanningService:
    def __init__(
        self,
        storage: Storage,
        engine: StockEngine,
        catalog: Catalog,
        settings: Settings | None = None,
        workflows: Any = None,
        *,
        read_only: bool = False,
    ):
        self.storage, self.engine, self.catalog = storage, engine, catalog
        #: Compute only: nothing is written to the ledger file or published (`tallyman plan`
        #: next to a running central, whose alert book owns the tables).
        self.read_only = read_only
        self.settings = settings or Settings()
        self.workflows = workflows
        self.ingest: Any = None
        self.publish: Publish | None = None
        self.webhooks = WebhookSender(self.settings.central.webhooks)
        self.state: PlanningState | None = None
        self.latest: PassOutcome | None = None
        self.stats = Stats()
        self.error: str | None = None
        self._conn: sqlite3.Connection | None = None
        self._pass_conn: sqlite3.Connection | None = None
        self._lock = threading.RLock()
        self._pass_lock = threading.Lock()
        self._queue: queue.Queue = queue.Queue()
        self._ready = threading.Event()
        #: The full passes: at once on start, then every interval_s or when asked (`trigger`).
        self._timer = Periodic(self.settings.central.interval_s, self._pass_tick, "planning-pass")
        self._requested = False  # the next pass was asked for, not due by the clock
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._seq = 0
        self._reload = False
        self._last_sweep = time.monotonic()
        #: SKU × site pairs whose position a workflow changed (`positions_changed`), and
        #: whether one asked for every series; the alert worker takes them at once.
        self._changed: set[tuple[str, str]] = set()
        self._changed_all = False
        self._changed_lock = threading.Lock()
        #: Reservation requests the desk refused, waiting to be written (`reservation_refused`).
        self._refused: deque[tuple[str, str, str, int]] = deque()

    # --- life cycle ------------------------------------------------------------------------------

    def attach(self, ingest: Any, publish: Publish | None) -> None:
        """Subscribe to the ingest's commits; alert changes go out through `publish`."""
        self.ingest = ingest
        self.publish = publish
        ingest.subscribers.append(self.on_batch)

    def start(self) -> None:
        """Start loading (in the background) and the threads; idempotent."""
        if self._threads:
            return
        self._timer.start().wake()  # the first round loads and plans at once
        t = threading.Thread(target=self._work, name="planning-alerts", daemon=True)
        t.start()
        self._threads.append(t)
        self.webhooks.start()

    def stop(self) -> None:
        self._stop.set()
        self._timer.stop(join_s=10)
        for t in self._threads:
            t.join(timeout=10)
        self.webhooks.stop()
        if not self._timer.running and not any(t.is_alive() for t in self._threads):
            for conn in (self._conn, self._pass_conn):
                if conn is not None:
                    conn.close()
            self._conn = self._pass_conn = None

    def wait_ready(self, timeout: float) -> bool:
        """Wait until the history is loaded and the first pass has run."""
        return self._ready.wait(timeout)

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def conn(self) -> sqlite3.Connection:
        """The service's own write connection (used under the lock). synchronous=NORMAL: alert
        state is derived from the ledger, and a commit must not cost the ingest an fsync."""
        if self._conn is None:
            if self.read_only:
                conn = self.storage.open_reader()
            else:
                conn = self.storage.open_writer(durable=False)
                for stmt in (*schema(), *REFUSED_SCHEMA):
                    conn.execute(stmt)
            self._conn = conn
        return self._conn

    # --- loading ---------------------------------------------------------------------------------

    def load(self) -> PlanningState:
        """(Re)build indexes, network, history and alert book from the ledger."""
        with self._lock:
            conn = self.conn()
            ix, net = load_master(conn, self.settings.central)
            today = epoch_day(wire.now_ts())
            t0 = time.perf_counter()
            conn.execute("BEGIN")  # one snapshot: the history and the id it runs up to
            try:
                upto = conn.execute("SELECT coalesce(max(id), 0) FROM movements").fetchone()[0]
                hist = load_history(
                    conn,
                    ix.sku_index,
                    ix.site_index,
                    days=self.settings.central.history_days,
                    today=today,
                    dc_sites=dc_site_names(net),
                )
            finally:
                conn.execute("COMMIT")
            if table_exists(conn, "planning_alerts"):
                book = load_book(conn, ix.sku_names, ix.site_names)
            else:  # a read-only look at a ledger central never planned on
                book = AlertBook(ix.sku_names, ix.site_names)
            book.set_thresholds(*thresholds(self.settings, net))
            # until the first pass, open alerts keep the safety stock they were raised with
            ss = book.safety_stock.astype(np.float64)
            self.state = PlanningState(ix, net, hist, book, ss, int(upto))
            log.info(
                "planning loaded: %d SKUs × %d sites, history up to movement %d in %.2f s",
                len(ix.sku_names), ix.n_sites, upto, time.perf_counter() - t0,
            )  # fmt: skip
            return self.state

    def _pass_tick(self) -> None:
        """One round of the pass timer. The first loads the history and plans at once (the
        alert worker waits for it); the others plan because they were asked (`trigger`) or
        because the interval is up. A failed pass is logged by the timer; the next comes as
        usual."""
        if not self._ready.is_set():
            self._first_pass()
            return
        requested, self._requested = self._requested, False
        self.run_pass("requested" if requested else "periodic")

    def _first_pass(self) -> None:
        try:
            self.load()
            self.run_pass("start")
            settle_memory()
        except Exception as exc:
            self.error = f"planning failed to start: {exc}"
            log.exception("planning failed to start")
        finally:
            self._ready.set()
        if self._requested:  # asked for before the first round ran: the next one comes now
            self._timer.wake()

    # --- incremental: the alert worker -----------------------------------------------------------

    def on_batch(self, batch: Any) -> None:
        """Ingest subscriber (committer thread): queue only, never wait."""
        if batch.rows:
            self._queue.put((time.monotonic(), batch))

    def positions_changed(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        """A workflow changed the position of these (SKU, site) pairs without a ledger movement
        (a PO approved, sent, cancelled, closed or expired; a transfer order made, approved,
        cancelled; a reservation made or released); no pairs: possibly any. The alert worker
        re-evaluates their alerts at once instead of at the next sweep or pass. Any thread;
        never waits (the caller is inside a request or a workflow's commit)."""
        pairs = list(pairs)
        with self._changed_lock:
            if pairs:
                self._changed.update(pairs)
            else:
                self._changed_all = True
        self._queue.put((time.monotonic(), None))  # wakes the worker

    def reservation_refused(self, sku: str, site: str, qty: int, ts: str | None = None) -> None:
        """The reservation desk refused a request for want of stock: unfilled demand for the
        fill rate (a refused request leaves no reservation row). Any thread; never waits."""
        self._refused.append((ts or wire.now_ts(), sku, site, int(qty)))
        self._queue.put((time.monotonic(), None))

    def _work(self) -> None:
        while not self._ready.wait(0.2):  # central may stop before the first pass has run
            if self._stop.is_set():
                return
        while not self._stop.is_set():
            try:
                first = self._queue.get(timeout=0.2)
            except queue.Empty:
                self._idle()
                continue
            items = [first]
            while True:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            batches = [(t, b) for t, b in items if b is not None]
            try:
                if batches:
                    self.process([b for _, b in batches], min(t for t, _ in batches))
            except Exception:
                log.exception("planning could not fold a batch; the next pass reloads")
                self._reload = True
                self.trigger()
            self._due_work()

    def _idle(self) -> None:
        """No batch waiting: fold rows no batch announced, then what is due."""
        try:
            st, ingest = self.state, self.ingest
            # committed but its batch not queued (yet), or rows no batch announced: read them
            behind = ingest is not None and st is not None and ingest.last_id > st.upto
            if behind and self._queue.empty():
                self.process([], None)
        except Exception:
            log.exception("planning idle work failed")
        self._due_work()

    def _due_work(self) -> None:
        """Between batches, busy or idle: positions workflows changed, refused reservations,
        and the sweep when it is time (a steady stream of batches must not starve it)."""
        try:
            self._flush_refused()
            with self._changed_lock:
                pairs, everything = self._changed, self._changed_all
                self._changed, self._changed_all = set(), False
            sweep = self.settings.central.sweep_s
            if everything or (sweep and time.monotonic() - self._last_sweep >= sweep):
                self.sweep()
            elif pairs:
                self.refresh_pairs(pairs)
        except Exception:
            log.exception("planning could not re-check alerts")

    def _ledger_end(self, conn: sqlite3.Connection) -> int:
        """The last committed movement the engine has applied: the ingest's, or (API-only,
        no ingest) the ledger's last row."""
        if self.ingest is not None:
            return int(self.ingest.last_id)
        return int(conn.execute("SELECT coalesce(max(id), 0) FROM movements").fetchone()[0])

    def _batch_first_id(self, conn: sqlite3.Connection, batch: Any) -> int | None:
        row = batch.rows[0]
        found = conn.execute(
            "SELECT id FROM movements WHERE device = ? AND seq = ?",
            (row[_COL["device"]], row[_COL["seq"]]),
        ).fetchone()
        return None if found is None else int(found[0])

    def process(self, batches: list[Any], since: float | None) -> AlertChanges | None:
        """Fold committed batches (in commit order) into the history and refresh the alerts of
        the series they touched; `since` is when the oldest was committed (for the stats)."""
        t0 = time.perf_counter()
        with self._lock:
            st = self.state
            if st is None:
                return None
            conn = self.conn()
            parts: list[Moves] = []
            for batch in batches:
                first = self._batch_first_id(conn, batch)
                if first is None:
                    continue
                last = first + len(batch.rows) - 1
                if last <= st.upto:
                    continue  # already in the history (loaded after it was committed)
                if first > st.upto + 1:
                    parts.append(Moves.from_rows(conn.execute(GAP_SQL, (st.upto, first - 1))))
                parts.append(Moves.from_batch(batch.rows, max(0, st.upto + 1 - first)))
                st.upto = last
            if not batches:
                end = self._ledger_end(conn)
                if end > st.upto:
                    parts.append(Moves.from_rows(conn.execute(GAP_SQL, (st.upto, end))))
                    st.upto = end
            if not parts:
                return None
            moves = Moves.concat(parts)
            touched = self._fold(st, moves)
            changes = self._refresh(st, touched)
            self.stats.compute.append(time.perf_counter() - t0)
            self._commit(changes)
        self.stats.batches += len(batches)
        self.stats.movements += len(moves.kind)
        if since is not None:
            self.stats.latency.append(time.monotonic() - since)
        return changes

    def _fold(self, st: PlanningState, m: Moves) -> np.ndarray:
        """Add the movements to the history; returns the series whose stock they changed."""
        ix = st.ix
        sku = _take(ix.item_to_sku, m.sku_id)
        site = _take(ix.loc_to_site, m.loc_id)
        dst = np.where(m.to_loc_id > 0, _take(ix.loc_to_site, m.to_loc_id), -1)
        unknown = (sku < 0) | (site < 0) | ((m.to_loc_id > 0) & (dst < 0))
        if unknown.any() and self._refresh_locations(st):
            site = _take(ix.loc_to_site, m.loc_id)
            dst = np.where(m.to_loc_id > 0, _take(ix.loc_to_site, m.to_loc_id), -1)
        if ((sku < 0) | (site < 0)).any():
            self.trigger()  # new items or sites: the next pass rebuilds from the ledger
        ok = (sku >= 0) & (site >= 0)
        n_sites = ix.n_sites
        series = sku * n_sites + site
        code = KIND_CODE[np.clip(m.kind, 0, KIND_CODE.size - 1)]
        sel = ok & (code >= 0)
        if sel.any():
            st.history.add(code[sel], series[sel], m.day[sel], m.qty[sel])
        moved_to = ok & (dst >= 0)
        return np.unique(np.concatenate([series[ok], (sku * n_sites + dst)[moved_to]]))

    def _refresh_locations(self, st: PlanningState) -> bool:
        """Bins added since the last load, at sites planning knows: map them (cheap)."""
        site_ix = st.ix.site_index
        rows = self.conn().execute("SELECT id, site FROM locations").fetchall()
        size = max((r[0] for r in rows), default=0) + 1
        table = np.full(size, -1, np.int64)
        for loc_id, site in rows:
            table[loc_id] = site_ix.get(site, -1)
        changed = table.shape != st.ix.loc_to_site.shape or bool((table != st.ix.loc_to_site).any())
        st.ix.loc_to_site = table
        return changed

    def _refresh(self, st: PlanningState, touched: np.ndarray) -> AlertChanges:
        """Re-evaluate the alerts of `touched` series with the engine's stock now."""
        n_sites = st.ix.n_sites
        skus, where = np.unique(touched // n_sites, return_inverse=True)
        stock = site_stock(self.engine, st.ix, skus)
        pos = stock.alert_position[where, touched % n_sites]
        return st.book.update(touched, pos, st.safety_stock[touched])

    def refresh_pairs(self, pairs: Iterable[tuple[str, str]]) -> AlertChanges | None:
        """Re-evaluate the alerts of some (SKU, site) pairs against the engine now (unknown
        names are skipped: the next pass knows them)."""
        with self._lock:
            st = self.state
            if st is None:
                return None
            sku_ix, site_ix = st.ix.sku_index, st.ix.site_index
            found = [
                sku_ix[sku] * st.ix.n_sites + site_ix[site]
                for sku, site in pairs
                if sku in sku_ix and site in site_ix
            ]
            if not found:
                return None
            changes = self._refresh(st, np.unique(np.array(found, np.int64)))
            self._commit(changes)
        return changes

    def _flush_refused(self) -> None:
        """Write the refused reservation requests queued by `reservation_refused`."""
        if not self._refused or self.read_only:
            return
        rows = []
        while self._refused:
            rows.append(self._refused.popleft())
        with self._lock:
            conn = self.conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany(
                    "INSERT INTO planning_refused (ts, sku, site, qty) VALUES (?, ?, ?, ?)", rows
                )
                conn.execute("COMMIT")
            except sqlite3.Error:
                conn.execute("ROLLBACK")
                raise

    def sweep(self) -> AlertChanges | None:
        """Re-check every series whose alert position moved without a ledger movement
        (reservations, approved or cancelled POs): one read of the engine, then only those."""
        self._last_sweep = time.monotonic()
        with self._lock:
            st = self.state
            if st is None or not st.ix.n_series:
                return None
            pos = site_stock(self.engine, st.ix).alert_position.ravel()
            moved = np.flatnonzero(pos.astype(np.float32) != st.book.position)
            changes = None
            if moved.size:
                changes = st.book.update(moved, pos[moved], st.safety_stock[moved])
                self._commit(changes)
        self.stats.sweeps += 1
        return changes

    def _commit(self, changes: AlertChanges | list[AlertChange], audit: Callable | None = None):
        """Save alert changes (and an audit row) in one transaction, then publish them.
        Called under the lock. On a database error memory is reloaded from the tables."""
        if (not len(changes) and audit is None) or self.read_only:
            return
        conn = self.conn()
        st = self.state
        try:
            conn.execute("BEGIN IMMEDIATE")
            save_changes(conn, st.book, changes)
            if audit is not None:
                audit(conn)
            conn.execute("COMMIT")
        except sqlite3.Error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            st.book = load_book(conn, st.ix.sku_names, st.ix.site_names)
            st.book.set_thresholds(*thresholds(self.settings, st.net))
            raise
        if isinstance(changes, AlertChanges):
            records = changes.records()
        else:
            records = [c.to_dict() for c in changes]
        publish_mqtt(self.publish, records)
        self.webhooks.submit(records)

    # --- full pass -------------------------------------------------------------------------------

    def run_pass(self, reason: str = "manual") -> dict:
        """One full planning pass; returns its summary. Passes never overlap.

        Only two short parts hold the state lock (and so hold up incremental alerts): taking
        the history to today, and the alert update over every series at the end."""
        with self._pass_lock:
            t0 = time.perf_counter()
            laps: dict[str, float] = {}

            def lap(name: str) -> None:
                nonlocal t0
                now_t = time.perf_counter()
                laps[name] = round(now_t - t0, 4)
                t0 = now_t

            start = t0
            now = wire.now_ts()
            if self.state is None:
                self.load()
            ix, net = load_master(self.pass_conn(), self.settings.central)
            lap("master_data")
            with self._lock:
                st = self.state
                renumbered = ix.signature != st.ix.signature or ix.site_names != st.ix.site_names
                reloaded = renumbered or self._reload
                if reloaded:
                    # new items or sites (renumbering), or a failed fold: reload from the ledger
                    st = self.load()
                    ix, net = st.ix, st.net
                    self._reload = False
                st.ix.loc_to_site = ix.loc_to_site
                st.net = net
                st.book.set_thresholds(*thresholds(self.settings, net))
                hist = st.history
                hist.advance(epoch_day(now))
                dc = net.site_is_dc if net.site_is_dc is not None else np.zeros(ix.n_sites, bool)
                hist.transfer_out_weight[:] = np.tile(dc.astype(np.float32), len(ix.sku_names))
            lap("reload" if reloaded else "advance")
            if not ix.n_series:
                return {"reason": reason, "ts": now, "series": 0}
            stock = self._stock_state(ix)
            lap("stock")
            result = plan(hist, net, stock, self.settings.planning, book=None, now=now)
            lap("plan")
            with self._lock:
                pos = site_stock(self.engine, ix).alert_position.ravel()
                st.safety_stock = result.policy.safety_stock
                changes = st.book.update(np.arange(ix.n_series), pos, st.safety_stock, now)
                self._commit(changes)
                result.alert_changes = changes
                result.tiers = st.book.tier.copy()
            lap("alerts_locked")
            drafts = self._drafts(result, net, hist.today, now)
            lap("draft_pos")
            self._seq += 1
            outcome = PassOutcome(
                seq=self._seq,
                ts=now,
                reason=reason,
                result=result,
                ix=ix,
                net=net,
                history=hist,
                stock=stock,
                drafts=drafts,
                alert_changes=changes.counts(),
                seconds=time.perf_counter() - start,
                stages=laps,
                planning=self.settings.planning,
            )
            self.latest = outcome
            self.error = None
            log.info("planning pass (%s) in %.2f s: %s", reason, outcome.seconds, summary(outcome))
            return summary(outcome)

    def pass_conn(self) -> sqlite3.Connection:
        """A read-only connection for the pass (used under the pass lock, from whichever thread
        runs the pass), so reading master data never waits for the alert worker's lock."""
        if self._pass_conn is None:
            self._pass_conn = self.storage.open_reader()
        return self._pass_conn

    def _stock_state(self, ix: Indexes) -> StockState:
        """The engine's stock per series, with pending documents folded into the position
        that orders are computed on (see pending_orders)."""
        stock = site_stock(self.engine, ix)
        pend_po, pend_to = pending_orders(self.pass_conn(), ix)
        on_order = stock.on_order.ravel()
        in_transit = stock.in_transit.ravel()
        return StockState(
            on_hand=stock.on_hand.ravel(),
            reserved=stock.reserved.ravel(),
            on_order=on_order + pend_po,
            in_transit=in_transit + pend_to,
            due_within_lead=on_order + in_transit,
        )

    def _drafts(self, result: PlanResult, net: Network, today: int, now: str) -> list[dict]:
        """The pass's proposals as draft purchase orders (workflows, idempotent by key)."""
        drafts = result.proposals.draft_pos(net.sku_names, net.site_names, net.supplier_names)
        out = []
        create = self.workflows is not None and self.settings.central.create_drafts
        create = create and not self.read_only
        for d in drafts:
            rec = d.to_dict()  # lines keep their series: the views show the basis, not it
            rec.update(po_number=None, po_status=None, created=False, error=None)
            if create:
                body = {
                    "supplier": d.supplier,
                    # one draft per need and day: the same lines tomorrow are a new order
                    "key": f"{d.key}@{day_date(today).isoformat()}",
                    "lines": [
                        {"sku": ln.sku, "site": ln.site, "qty": ln.qty, "unit_cost": ln.unit_cost}
                        for ln in d.lines
                    ],
                    "note": f"reorder proposal from the planning pass of {now}",
                }
                try:
                    draft = convert(PurchaseOrderCreate, body)  # as the API would validate it
                    po, created = self.workflows.po_create(Actor(*PLANNER), draft, "proposal")
                    rec.update(po_number=po["number"], po_status=po["status"], created=created)
                except Exception as exc:  # one bad draft must not lose the others
                    rec["error"] = getattr(exc, "detail", str(exc))
                    log.warning("draft PO for %s not created: %s", d.supplier, rec["error"])
            out.append(rec)
        return out

    def trigger(self) -> None:
        """Ask the pass thread for a pass now (without waiting for it)."""
        self._requested = True
        self._timer.wake()

    # --- false alarms ----------------------------------------------------------------------------

    def mark_false(self, alert_id: int, audit: Callable[[sqlite3.Connection], None]) -> dict:
        """Close an open alert as a false alarm (muting its series at that tier); the audit
        row commits with it. LookupError: no such alert; ValueError: it is not open."""
        with self._lock:
            st = self.state
            if st is None:
                raise RuntimeError("planning is still loading")
            change = st.book.mark_false(alert_id)
            if change is None:
                row = (
                    self.conn()
                    .execute("SELECT status FROM planning_alerts WHERE id = ?", (alert_id,))
                    .fetchone()
                )
                if row is None:
                    raise LookupError(f"no alert {alert_id}")
                raise ValueError(f"alert {alert_id} is {row[0]}, not open")
            self._commit([change], audit)
        return change.to_dict()

    # --- reading ---------------------------------------------------------------------------------

    def status(self) -> dict:
        st, last = self.state, self.latest
        out: dict = {
            "ready": self.ready,
            "error": self.error,
            "queue": self._queue.qsize(),
            "incremental": self.stats.summary(),
            "webhooks": {
                "configured": len(self.webhooks.hooks),
                "pending": self.webhooks.pending(),
                "sent": self.webhooks.sent,
                "failed": self.webhooks.failed,
                "dropped": self.webhooks.dropped,
            },
            "interval_s": self.settings.central.interval_s,
        }
        if st is not None:
            out.update(
                skus=len(st.ix.sku_names),
                sites=st.ix.site_names,
                dc_sites=dc_site_names(st.net),
                history_upto=st.upto,
                open_alerts=int((st.book.tier > 0).sum()),
            )
        if last is not None:
            out["last_pass"] = summary(last)
        return out


def summary(o: PassOutcome) -> dict:
    r = o.result
    return {
        "seq": o.seq,
        "ts": o.ts,
        "reason": o.reason,
        "seconds": round(o.seconds, 4),
        "series": o.ix.n_series,
        "today": day_date(o.history.today).isoformat(),
        "alert_changes": o.alert_changes,
        "open_alerts": int((r.tiers > 0).sum()),
        "proposal_lines": len(r.proposals),
        "draft_pos": len(o.drafts),
        "draft_pos_created": sum(1 for d in o.drafts if d["created"]),
        "covered_by_open_orders": int(r.proposals.suppressed.size),
        "unsourced": int(r.proposals.unsourced.size),
        "transfer_suggestions": 0 if r.transfers is None else len(r.transfers),
        "slow_movers": len(r.slow_movers),
        "stages": o.stages,
        "timings": {k: round(v, 4) for k, v in r.timings.items()},
    }
