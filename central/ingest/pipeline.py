"""MQTT ingest: validate, de-duplicate on (device, seq), commit to the ledger, then acknowledge.

Two threads, one job each, so that the two cores both work: `ingest-prepare` decodes, validates,
de-duplicates and resolves a group of messages (Python, holding the GIL) while `ingest` writes
the previous group (SQLite, which gives the GIL away while it steps). Messages queue up from the
MQTT thread and are committed in groups (one transaction, one fsync for many messages), which is
what makes tens of thousands of movements a second possible on a small machine. The ack is
published only after COMMIT returns, and carries the watermark as it was when its group was
prepared, so an event the edge forgets is always in the ledger or in the dead-letter table. A
failed commit reloads the state from the ledger and starts a new *generation*: groups prepared
before it are dropped unacknowledged, and their edges retransmit them.

Because preparing runs ahead of the ledger, what a group must be judged against is the ledger
plus the groups prepared and not yet committed: a seq used again with other contents (a replay)
and a serial's current state (a repeated transition, `serial_repeated`) are looked up in those
groups first. Movements scanned before a count already applied are settled in the commit
(central.ingest.before_count).
"""

from __future__ import annotations

import json
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import numpy as np

from central.ingest.batch import Batch, DeviceState
from central.ingest.before_count import COUNT, CountMarks
from central.ingest.hooks import CountRules
from central.stock import ledger, sqlbulk
from central.stock.catalog import Catalog
from central.stock.engine import COUNT_DELTA, EFFECT, StockEngine
from central.stock.storage import Storage
from tallyman import wire
from tallyman.wire import WireError

log = logging.getLogger("tallyman.ingest")

#: Stop draining the queue into one transaction past this many events (bounds commit latency).
MAX_GROUP_EVENTS = 20_000
_DELTA = ledger.MOVEMENT_COLUMNS.index("delta")
_COMPARED: tuple[str, ...] = ("ts", "type", "qty", "loc")
_COMPARED_WITHOUT_QTY: tuple[str, ...] = ("ts", "type", "loc")


class Ingest:
    def __init__(
        self,
        storage: Storage,
        engine: StockEngine,
        catalog: Catalog,
        publish: Callable[[str, bytes], None],
    ):
        #: The committer's own write connection: group commits are its transactions alone.
        self.conn = storage.open_writer()
        #: Reads while preparing (duplicates, catalogue misses): never the writer's connection,
        #: which is in the middle of the previous group's transaction.
        self.reads = storage.open_reader()
        self.engine = engine
        self.catalog = catalog
        self.publish = publish
        #: Called in the committer thread after each commit that added movements (planning,
        #: workflows). A subscriber that raises is logged; the ledger is already committed.
        self.subscribers: list[Callable[[Batch], None]] = []
        #: How counts are applied (registered by workflows, see central.ingest.hooks); None:
        #: a count sets the cell to what was counted.
        self.count_rules: CountRules | None = None
        self.queue: queue.Queue = queue.Queue()
        self.devices = self._load_devices()
        self.last_id = self._max_id()
        #: Where counts have fixed the quantity (central.ingest.before_count); the committer's.
        self.marks = self._load_marks()
        #: Groups prepared and not yet committed (or dropped), oldest first: what a group being
        #: prepared must see beside the ledger (seqs and serial states not committed yet).
        self._inflight: list[Batch] = []
        self.committed = 0
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        #: Prepared groups on their way to the writer: one at a time, so that preparing never
        #: runs more than a group ahead of the ledger.
        self._handoff: queue.Queue[Batch] = queue.Queue(maxsize=1)
        self._state_lock = threading.Lock()  # DeviceState and the generation
        self._commit_lock = threading.RLock()  # the writer connection's transactions
        self._gen = 0

    def _load_marks(self) -> CountMarks:
        """The count marks, after marking the counts written while no ingest ran (opening
        stock imported before central started)."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            ledger.catch_up_count_marks(self.conn)
            self.conn.execute("COMMIT")
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        return CountMarks.load(self.conn)

    def _load_devices(self) -> dict[str, DeviceState]:
        return {
            d: DeviceState(site, upto, above)
            for d, (site, upto, above) in ledger.device_watermarks(self.conn).items()
        }

    # --- inputs (any thread) --------------------------------------------------------------

    def submit(self, topic: str, payload: bytes) -> None:
        self.queue.put(("msg", topic, payload))

    def submit_status(self, topic: str, payload: bytes) -> None:
        self.queue.put(("status", topic, payload))

    def retry(self, dead_letter_id: int) -> Future:
        fut: Future = Future()
        self.queue.put(("retry", dead_letter_id, fut))
        return fut

    # --- the two threads ------------------------------------------------------------------

    def start(self) -> None:
        self._threads = [
            threading.Thread(target=self._prepare_loop, name="ingest-prepare", daemon=True),
            threading.Thread(target=self._commit_loop, name="ingest", daemon=True),
        ]
        for t in self._threads:
            t.start()

    @property
    def stopped(self) -> bool:
        """`stop()` was called: central is shutting down (a service attached to this ingest
        ends with it). Not the same as "not running": the services start before the ingest."""
        return self._stop.is_set()

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=10)
        if not any(t.is_alive() for t in self._threads):
            self.conn.close()  # SQLite keeps file handles while any connection is open
            self.reads.close()

    def _prepare_loop(self) -> None:
        while not self._stop.is_set():
            items = self._next_group()
            if not items:
                continue
            try:
                batch = self.prepare(items)
            except Exception:  # the ingest must outlive any one bad group
                log.exception("preparing an ingest group failed; edges will retransmit")
                continue
            while not self._stop.is_set():
                try:
                    self._handoff.put(batch, timeout=0.2)
                    break
                except queue.Full:
                    continue

    def _next_group(self) -> list[tuple]:
        """What has queued up, up to MAX_GROUP_EVENTS (empty after 0.2 s of nothing)."""
        try:
            items = [self.queue.get(timeout=0.2)]
        except queue.Empty:
            return []
        events = 0
        while events < MAX_GROUP_EVENTS:
            try:
                item = self.queue.get_nowait()
            except queue.Empty:
                break
            items.append(item)
            events += len(item[2]) // 120 if item[0] == "msg" else 1
        return items

    def _commit_loop(self) -> None:
        while not self._stop.is_set():
            try:
                batch = self._handoff.get(timeout=0.2)
            except queue.Empty:
                batch = None
            try:
                if batch is None:
                    self.tail_if_needed()
                else:
                    self.commit(batch)
            except Exception:  # the ingest must outlive any one bad group
                log.exception("ingest group failed; engine rebuilt, edges will retransmit")

    def process(self, items: list[tuple]) -> Batch:
        """Prepare and commit one group in the calling thread (tests, benchmarks, tools)."""
        batch = self.prepare(items)
        self.commit(batch)
        return batch

    def prepare(self, items: list[tuple]) -> Batch:
        """Decode, validate, de-duplicate and resolve a group: everything before the ledger."""
        with self._state_lock:
            batch = Batch(gen=self._gen)
            now = wire.now_ts()
            for item in items:
                if item[0] == "msg":
                    self._message(batch, now, item[1], item[2])
                elif item[0] == "status":
                    self._status(batch, now, item[1], item[2])
                else:
                    batch.retries.append((item[1], item[2]))
            batch.watermarks = {d: (self.devices[d].site, self.devices[d].upto) for d in batch.acks}
            self._inflight.append(batch)
        return batch

    def commit(self, batch: Batch) -> None:
        """Write a prepared group, acknowledge it, then run the dead-letter retries it carried."""
        with self._commit_lock:
            try:
                if batch.gen != self._gen:  # prepared against state a failed commit threw away
                    _fail(batch.retries, "the ingest restarted after a failed commit; retry")
                    return
                try:
                    self._commit(batch)
                except BaseException:
                    _fail(batch.retries, "the ingest could not commit; retry")
                    raise
            finally:
                with self._state_lock:  # committed or dropped: the ledger says what it holds
                    if batch in self._inflight:
                        self._inflight.remove(batch)
            for dl_id, fut in batch.retries:
                try:
                    fut.set_result(self._retry(dl_id))
                except Exception as exc:  # reported to the API caller, never a stack trace
                    fut.set_exception(exc)

    def _message(self, batch: Batch, now: str, topic: str, payload: bytes) -> None:
        try:
            site, device, events = wire.decode_movements(topic, payload)
        except WireError as exc:
            t_site, t_device = _topic_ids(topic)
            text = payload[:4096].decode("utf-8", "replace")
            batch.dead.append(
                (now, topic, t_device, t_site, None, exc.code, exc.detail, None, text)
            )
            log.warning("dead-lettered a message on %s: %s", topic, exc)
            return
        st = self.devices.get(device)
        if st is None:
            st = self.devices[device] = DeviceState(site)
        st.site = site
        rejected = batch.acks.setdefault(device, [])
        for ev in events:
            seq = ev.get("seq") if isinstance(ev, dict) else None
            if type(seq) is not int or seq < 1:
                detail = "an event without a positive integer seq cannot be acknowledged"
                batch.dead.append(
                    (now, topic, device, site, None, "invalid_event", detail, _dump(ev), None)
                )
                continue
            if st.has(seq):
                self._duplicate(batch, now, topic, device, site, ev, rejected)
                continue
            batch.seen[(device, seq)] = ev
            try:
                row, ids = self._resolve(self.reads, ev, device, site, now)
                if ev.get("serial") is not None:
                    self._serial(self.reads, batch, ev, ids[0], device)
            except WireError as exc:
                batch.dead.append(
                    (now, topic, device, site, seq, exc.code, exc.detail, _dump(ev), None)
                )
                rejected.append(wire.rejection(seq, exc.code, exc.detail))
            else:
                batch.add_movement(row, *ids)
            st.mark(seq)

    def _duplicate(self, batch, now, topic, device, site, ev, rejected) -> None:
        """A seq central already has: a retransmit (identical, ack again) or a replay (reject)."""
        seq = ev["seq"]
        first = self._uncommitted(batch, device, seq)  # before the ledger: its commit may be
        if first is not None:  # under way, and the group leaves this list only after COMMIT
            stored = tuple(first.get(k) for k in _COMPARED)
            if stored != tuple(ev.get(k) for k in _COMPARED):
                detail = f"seq {seq} was already used for a different event"
                batch.dead.append(
                    (now, topic, device, site, seq, "seq_replayed", detail, _dump(ev), None)
                )
                rejected.append(wire.rejection(seq, "seq_replayed", detail))
            return  # a retransmit: the ack of its group is on its way
        stored = self.reads.execute(
            "SELECT ts, type, qty, loc, kind FROM movements WHERE device = ? AND seq = ?",
            (device, seq),
        ).fetchone()
        compared = _COMPARED
        if stored is not None:
            found = dict(zip(_COMPARED, stored[:4], strict=True))  # the SELECT's order
            if stored[4] == COUNT_DELTA:
                # a late or held count stores its change, not what was counted: the rules that
                # stored it know the counted quantity; without them (an ingest run without the
                # workflows) it is unknown, and the count is judged by its time, type and bin
                rules = self.count_rules
                counted = None if rules is None else rules.counted_qty(self.reads, device, seq)
                found["qty"] = counted
                if counted is None:
                    compared = _COMPARED_WITHOUT_QTY
                elif tuple(found[k] for k in compared) == tuple(ev.get(k) for k in compared):
                    # a retransmit of a count still held: the edge missed the ack that said so
                    entry = None if rules is None else rules.held_entry(self.reads, device, seq)
                    if entry is not None:
                        batch.held.setdefault(device, []).append(entry)
            stored = tuple(found[k] for k in compared)
        earlier = None
        if stored is None:
            earlier = self.reads.execute(
                "SELECT code, detail, event FROM dead_letters WHERE device = ? AND seq = ? "
                "ORDER BY id LIMIT 1",
                (device, seq),
            ).fetchone()
            if earlier is None:
                return  # nothing to compare it with
            try:
                first = json.loads(earlier[2])
                stored = tuple(first.get(k) for k in _COMPARED)
            except (TypeError, ValueError, AttributeError):
                stored = None
        if stored is not None and tuple(stored) != tuple(ev.get(k) for k in compared):
            detail = f"seq {seq} was already used for a different event"
            batch.dead.append(
                (now, topic, device, site, seq, "seq_replayed", detail, _dump(ev), None)
            )
            rejected.append(wire.rejection(seq, "seq_replayed", detail))
        elif earlier is not None:  # a retransmit of a rejected event: the edge missed that ack
            rejected.append(wire.rejection(seq, earlier[0], earlier[1]))

    def _uncommitted(self, batch: Batch, device: str, seq: int) -> dict | None:
        """The first event with this seq in this group or in one prepared and not committed."""
        for b in (batch, *reversed(self._inflight)):
            ev = b.seen.get((device, seq))
            if ev is not None:
                return ev
        return None

    def _serial(
        self, conn: sqlite3.Connection, batch: Batch, ev: dict, item_id: int, device: str
    ) -> None:
        """Judge a serialised movement against the serial's current state: the same transition
        as its last one (nothing in between) is a repeat, refused (see wire.serial_state).
        The state is this group's, else the newest uncommitted group's, else the ledger's."""
        serial = ev["serial"]
        key = (item_id, serial)
        state = wire.serial_state(ev["type"], ev["loc"], ev.get("to_loc"))
        last = None
        for b in (batch, *reversed(self._inflight)):
            last = b.serials.get(key)
            if last is not None:
                break
        else:
            last = ledger.serial_state_of(conn, item_id, serial)
        if last is not None and (last[0], last[1]) == state:
            where = f" at {state[1]}" if state[1] else ""
            raise WireError(
                "serial_repeated",
                f"serial {serial} is already recorded as {state[0]}{where} by {last[2]} "
                f"#{last[3]}, with nothing in between",
            )
        batch.serials[key] = (*state, device, ev["seq"])

    def _resolve(
        self, conn: sqlite3.Connection, ev: dict, device: str, site: str, now: str
    ) -> tuple[list, tuple]:
        """Validate one event and resolve its item and locations to ledger ids (`conn` reads
        the master data the catalogue has not cached yet)."""
        wire.validate_event(ev, site)
        sku, gtin = ev.get("sku"), ev.get("gtin")
        if sku is None:
            sku = self.catalog.sku_for_gtin(conn, gtin)
            if sku is None:
                raise WireError("unknown_gtin", f"GTIN {gtin} is not in the item master")
        item_id = self.catalog.item_id(conn, sku)
        if item_id is None:
            raise WireError("unknown_sku", f"SKU {sku} is not in the item master")
        loc_id = self.catalog.location_id(conn, ev["loc"])
        if loc_id is None:
            raise WireError("unknown_location", f"location {ev['loc']} is not in master data")
        to_loc = ev.get("to_loc")
        to_id = 0
        if to_loc is not None:
            to_id = self.catalog.location_id(conn, to_loc) or 0
            if not to_id:
                raise WireError("unknown_location", f"location {to_loc} is not in master data")
        kind = ledger.TYPE_CODE[ev["type"]]
        row = [
            device,
            ev["seq"],
            site,
            ev["ts"],
            now,
            ev["type"],
            kind,
            sku,
            item_id,
            gtin,
            ev.get("lot"),
            ev.get("expiry"),
            ev.get("serial"),
            ev["qty"],
            0,
            ev["loc"],
            loc_id,
            to_loc,
            to_id,
            ev.get("ref"),
            ev.get("operator"),
            ev.get("raw"),
        ]
        return row, (item_id, loc_id, to_id, kind)

    def _status(self, batch: Batch, now: str, topic: str, payload: bytes) -> None:
        try:
            site, device, _ = wire.parse_device_topic(topic)
            msg = json.loads(payload) if payload else {"state": "removed"}
            state, queue_len = str(msg.get("state")), msg.get("queue")
        except (WireError, ValueError, AttributeError):
            log.warning("ignored a malformed status on %s", topic)
            return
        batch.statuses.append((device, site, state, queue_len, now))

    def _commit(self, batch: Batch) -> None:
        """Apply to the engine, write everything in one transaction, then acknowledge.

        The engine lock is taken first and held through COMMIT, so that a stock read never sees
        a movement the ledger could still lose; the write lock (BEGIN IMMEDIATE) is taken next,
        before anything is read or applied, so that rows other processes appended (`tallyman
        import stock`) are applied (`_tail`) in ledger order before this group's.
        """
        conn = self.conn
        rules = self.count_rules
        with self.engine.lock:
            try:
                conn.execute("BEGIN IMMEDIATE")
                self._tail()
                counts = rules.plan(conn, self.engine, batch) if rules is not None else None
                settled = self.marks.settle(conn, batch)
                delta = self.engine.apply(batch.sku, batch.loc, batch.to_loc, batch.kind, batch.qty)
                if counts is not None:
                    counts.finish(batch, delta)
                for row, d in zip(batch.rows, delta.tolist(), strict=True):
                    row[_DELTA] = d
                if counts is not None:
                    counts.record(conn)
                # many rows per statement, never executemany: see central.stock.sqlbulk
                ledger.insert_movements(conn, batch.rows)
                self.marks.record(conn, batch, settled)
                if batch.serials:
                    ledger.record_serial_states(conn, batch.serials)
                # inside the write lock: no other writer can add rows before COMMIT
                last_id = self._max_id()
                ledger.set_count_marks_upto(conn, last_id)  # every count up to it is marked
                first = self.last_id + 1
                if batch.rows and last_id == first + len(batch.rows) - 1:
                    ledger.write_block(conn, first, batch.columns())
                sqlbulk.insert_rows(
                    conn, ledger.INSERT_DEAD_LETTER_HEAD, ledger.DEAD_LETTER_VALUES, batch.dead
                )
                sqlbulk.insert_rows(
                    conn,
                    "INSERT INTO devices (device, site, upto)",
                    "(?, ?, ?)",
                    [(d, site, upto) for d, (site, upto) in batch.watermarks.items()],
                    " ON CONFLICT(device) DO UPDATE SET site = excluded.site, upto = excluded.upto",
                )
                sqlbulk.insert_rows(  # rows apply in order: a device's last status wins
                    conn,
                    "INSERT INTO devices (device, site, state, queue, last_seen)",
                    "(?, ?, ?, ?, ?)",
                    batch.statuses,
                    " ON CONFLICT(device) DO UPDATE SET state = excluded.state, "
                    "queue = excluded.queue, last_seen = excluded.last_seen",
                )
                conn.execute("COMMIT")
                self.last_id = last_id
                self.marks.committed(settled.marks)
            except sqlite3.Error:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                self._reload()
                raise
        self.committed += len(batch.rows)
        for device, rejected in batch.acks.items():
            site, upto = batch.watermarks[device]
            # held counts are in the ledger: acknowledged by upto, listed apart from rejected
            held = batch.held.get(device, []) + (counts.held.get(device, []) if counts else [])
            self.publish(wire.ack_topic(site, device), wire.encode_ack(upto, rejected, held))
        if batch.rows:
            for subscriber in self.subscribers:
                try:
                    subscriber(batch)
                except Exception:
                    log.exception("commit subscriber %r failed", subscriber)

    def _reload(self) -> None:
        """After a failed commit, memory is ahead of the ledger: reload both from the ledger,
        and start a generation so that groups prepared against the old state are dropped."""
        with self._state_lock:
            self._gen += 1
            self.devices = self._load_devices()
            self._inflight.clear()
            self.marks = self._load_marks()
            self.catalog.refresh(self.conn)
            self.engine.rebuild(self.conn, self.catalog.max_item_id, self.catalog.max_loc_id)
            self.last_id = self._max_id()

    def _max_id(self) -> int:
        return self.conn.execute("SELECT coalesce(max(id), 0) FROM movements").fetchone()[0]

    def _tail(self) -> None:
        """Apply rows another process appended since our last commit, fixing their delta."""
        rows = self.conn.execute(
            "SELECT id, sku_id, loc_id, to_loc_id, kind, qty, flagged, ts FROM movements "
            "WHERE id > ? ORDER BY id",
            (self.last_id,),
        ).fetchall()
        if not rows:
            return
        ids, sku, loc, to_loc, kind, qty, flagged, ts = zip(*rows, strict=True)
        kind = tuple(EFFECT[f, k] if f else k for f, k in zip(flagged, kind, strict=True))
        delta = self.engine.apply(sku, loc, to_loc, kind, qty)
        self.conn.executemany(
            "UPDATE movements SET delta = ? WHERE id = ?", zip(delta.tolist(), ids, strict=True)
        )
        if ids[-1] - ids[0] + 1 == len(ids):
            cols = np.array([sku, loc, to_loc, kind, qty], dtype=np.int64).T
            ledger.write_block(self.conn, ids[0], cols)
        # another writer's counts (opening stock) set their cells
        counted = zip(sku, loc, kind, ts, strict=True)
        marks = ledger.mark_counts(self.conn, [(s, c, t) for s, c, k, t in counted if k == COUNT])
        self.marks.committed(marks)
        self.last_id = ids[-1]
        log.info("applied %d movements written by another process", len(rows))

    def tail_if_needed(self) -> None:
        with self._commit_lock:
            if self._max_id() > self.last_id:
                self._commit(Batch())

    # --- dead-letter retry ----------------------------------------------------------------

    def _retry(self, dl_id: int) -> dict:
        """Re-run a dead-lettered event through validation now that its cause may be fixed."""
        row = self.conn.execute(
            "SELECT device, site, seq, code, event, status FROM dead_letters WHERE id = ?",
            (dl_id,),
        ).fetchone()
        if row is None:
            raise LookupError(f"no dead letter {dl_id}")
        device, site, seq, code, event, status = row
        if status != "open":
            return {"id": dl_id, "status": status, "detail": "already handled"}
        if event is None or seq is None:
            raise ValueError(f"a whole message rejected as {code} cannot be retried; resend it")
        if code == "seq_replayed":
            raise ValueError("a replayed seq cannot enter the ledger under the same seq")
        ev = json.loads(event)
        exists = self.conn.execute(
            "SELECT 1 FROM movements WHERE device = ? AND seq = ?", (device, seq)
        ).fetchone()
        now = wire.now_ts()
        batch = Batch()
        try:
            if exists is None:
                mrow, ids = self._resolve(self.conn, ev, device, site, now)
                if ev.get("serial") is not None:
                    with self._state_lock:  # the groups being prepared are the other thread's
                        self._serial(self.conn, batch, ev, ids[0], device)
                batch.add_movement(mrow, *ids)
        except WireError as exc:
            self.conn.execute(
                "UPDATE dead_letters SET attempts = attempts + 1, code = ?, detail = ? "
                "WHERE id = ?",
                (exc.code, exc.detail, dl_id),
            )
            return {"id": dl_id, "status": "open", "error": exc.code, "detail": exc.detail}
        self._commit(batch)
        self.conn.execute(
            "UPDATE dead_letters SET status = 'resolved', attempts = attempts + 1, "
            "resolved_at = ? WHERE id = ?",
            (now, dl_id),
        )
        return {"id": dl_id, "status": "resolved"}


def _fail(retries: list[tuple[int, Future]], why: str) -> None:
    for _, fut in retries:
        fut.set_exception(RuntimeError(why))


def _topic_ids(topic: str) -> tuple[str | None, str | None]:
    try:
        site, device, _ = wire.parse_device_topic(topic)
        return site, device
    except WireError:
        return None, None


def _dump(ev: Any) -> str:
    try:
        return json.dumps(ev)[:4096]
    except (TypeError, ValueError):
        return repr(ev)[:4096]
