"""Reservations per channel that never oversell, whatever the concurrency.

The rule: a reservation is granted only if the site's `available = on_hand − reserved` covers it,
and checking and reserving are one step. Requests from any number of HTTP threads go to one desk
thread that, per group of requests, takes the engine lock, opens one write transaction (BEGIN
IMMEDIATE), checks and reserves each request in arrival order against the engine's arrays,
writes the rows and COMMITs, and only then answers. Nothing else changes `reserved` without the
engine lock, and no answer leaves before its row is durable: no two requests can both see the
last unit, and a crash after "201" cannot lose the reservation. Grouping is what makes it fast:
one fsync serves every request that arrived while the previous group committed.

A reservation is allocated to bins (most available first), so fulfilling it knows where to pick,
and `reserved` per bin never pushes a bin's available below zero when it is made.

After each group commits, the desk tells its owner which (SKU, site) pairs it changed (granted,
or expired on the way) and which requests it refused for want of stock (`positions_changed`,
`refused`: the workflow service's hooks, which planning's callbacks are wired to).
"""

from __future__ import annotations

import json
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
from msgspec import UNSET

from central.stock import sqlbulk
from central.stock.catalog import Catalog
from central.stock.engine import StockEngine
from central.stock.storage import Storage
from central.workflows import WorkflowError, states
from central.workflows.db import (
    AUDIT_HEAD,
    AUDIT_SQL,
    AUDIT_VALUES,
    Actor,
    audit,
    audit_row,
    engine_tx,
    one,
    rows,
)
from central.workflows.movements import CentralMovements
from central.workflows.tasks import close_task, open_task
from tallyman import wire

if TYPE_CHECKING:  # the models import CHANNELS from here: no cycle at run time
    from central.workflows.models import ReservationRequest

log = logging.getLogger("tallyman.workflows")

CHANNELS = ("store", "group_buy", "online", "dropship")
#: (SKU, site) pairs whose reserved changed; an empty list tells nothing changed.
PairsHook = Callable[[list[tuple[str, str]]], None]
#: A request refused for want of stock: (SKU, site asked for, quantity).
RefusedHook = Callable[[str, str, int], None]
MAX_GROUP = 1000
FIELDS = (
    "id, sku, site, partner, requested_site, channel, qty, picked, status, ref, created_at, "
    "created_by, expires_at, closed_at"
)


def _fmt(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def ts_after(seconds: float) -> str:
    """now + seconds in the ledger's timestamp form (comparable as text)."""
    return _fmt(datetime.now(UTC) + timedelta(seconds=seconds))


@dataclass
class _Rows:
    """What one group of reservations writes: reservations, their allocations, audit rows."""

    now: datetime
    next_id: int
    reservations: list[tuple] = field(default_factory=list)
    allocations: list[tuple] = field(default_factory=list)
    audit: list[tuple] = field(default_factory=list)
    ts: str = ""

    def __post_init__(self) -> None:
        self.ts = _fmt(self.now)

    def write(self, conn: sqlite3.Connection) -> None:
        """Many rows per statement: executemany waits for the GIL per row
        (central.stock.sqlbulk)."""
        sqlbulk.insert_rows(
            conn,
            "INSERT INTO reservations (id, sku, item_id, site, partner, requested_site, channel, "
            "qty, status, ref, created_at, created_by, expires_at)",
            "(?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?, ?, ?)",
            self.reservations,
        )
        sqlbulk.insert_rows(
            conn,
            "INSERT INTO reservation_allocations (reservation_id, item_id, loc_id, qty)",
            "(?, ?, ?, ?)",
            self.allocations,
        )
        sqlbulk.insert_rows(conn, AUDIT_HEAD, AUDIT_VALUES, self.audit)


def number(res_id: int) -> str:
    return f"RES-{res_id}"


def parse_number(ref: str) -> int | None:
    head, _, tail = ref.strip().upper().partition("-")
    return int(tail) if head == "RES" and tail.isdigit() else None


@dataclass
class Request:
    sku: str
    site: str
    qty: int
    channel: str
    ttl_s: float
    ref: str | None
    route: bool
    actor: Actor
    future: Future = field(default_factory=Future)


def request_from(req: ReservationRequest, actor: Actor, settings: dict) -> Request:
    """The desk's request for a decoded `ReservationRequest`. The model checked its shape (sku,
    site id, qty, channel, ref); what needs the live settings is checked here: the TTL, whose
    default and limit an admin may change (400 beyond the limit)."""
    ttl = settings["reservation_ttl_s"] if req.ttl_s is UNSET else req.ttl_s
    limit = settings["reservation_max_ttl_s"]
    if not 0 < ttl <= limit:
        raise WorkflowError(400, "bad_request", f"ttl_s must be in (0, {limit}] seconds")
    channel = req.channel.replace("-", "_")  # group-buy is a spelling of group_buy
    return Request(req.sku, req.site, req.qty, channel, float(ttl), req.ref, req.route, actor)


def load_reserved(conn: sqlite3.Connection, engine: StockEngine) -> int:
    """Add every open allocation to the engine's `reserved`; how many there were. Central's
    desk does it at start, `tallyman plan run` to see stock as central holds it."""
    n = 0
    for item_id, loc_id, qty in conn.execute(
        "SELECT item_id, loc_id, qty FROM reservation_allocations"
    ):
        engine.add_reserved(item_id, loc_id, qty)
        n += 1
    return n


class ReservationDesk:
    """The one thread that grants reservations (see the module docstring)."""

    def __init__(
        self,
        storage: Storage,
        engine: StockEngine,
        catalog: Catalog,
        settings: dict,
        movements: CentralMovements,
        positions_changed: PairsHook | None = None,
        refused: RefusedHook | None = None,
    ):
        """`positions_changed` and `refused` are called on the desk thread after each group
        commits; they must not raise or wait (the workflow service's hooks catch and queue)."""
        #: The desk thread's own write connection: each group of grants is one transaction.
        self.conn = storage.open_writer()
        self.engine, self.catalog, self.settings = engine, catalog, settings
        self.movements = movements
        self.queue: queue.Queue[Request | None] = queue.Queue()
        self._site_locs: dict[str, np.ndarray] = {}
        self._thread: threading.Thread | None = None
        self.granted = 0
        self.refused = 0
        self._positions_changed = positions_changed
        self._refused = refused
        #: Pairs whose reservations `_expire_due` expired in the group being granted.
        self._expired: list[tuple[str, str]] = []

    # --- start-up: memory from the tables ----------------------------------------------------

    def load(self, conn: sqlite3.Connection) -> int:
        """Add every open allocation to `reserved` (after `engine.clear_workflow_measures`)."""
        return load_reserved(conn, self.engine)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="reservations", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread:
            self.queue.put(None)
            if self._thread is not threading.current_thread():
                self._thread.join(timeout=10)
        self.conn.close()

    # --- requests (any thread) ----------------------------------------------------------------

    def submit(self, req: Request) -> Future:
        if self._thread is None:
            raise WorkflowError(503, "unavailable", "the reservation desk is not running")
        self.queue.put(req)
        return req.future

    # --- the desk thread ----------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            first = self.queue.get()
            if first is None:
                return
            group = [first]
            while len(group) < MAX_GROUP:
                try:
                    nxt = self.queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self.queue.put(None)
                    break
                group.append(nxt)
            self._grant(group)

    def _grant(self, group: list[Request]) -> None:
        results: list[Any] = []
        self._expired = []
        try:
            with engine_tx(self.engine.lock, self.conn) as undo:
                rows = _Rows(datetime.now(UTC), self._next_id())
                for req in group:
                    try:
                        results.append(self._one(req, undo, rows))
                    except WorkflowError as exc:
                        results.append(exc)
                rows.write(self.conn)
        except Exception as exc:  # the group rolled back: nobody got anything
            log.exception("reservation group failed")
            for req in group:
                req.future.set_exception(
                    WorkflowError(503, "unavailable", f"reservation not stored: {exc}")
                )
            return
        changed = list(self._expired)
        for req, res in zip(group, results, strict=True):
            if isinstance(res, Exception):
                self.refused += 1
                req.future.set_exception(res)
                if self._refused is not None and getattr(res, "code", "") == "insufficient_stock":
                    self._refused(req.sku, req.site, req.qty)
            else:
                self.granted += 1
                req.future.set_result(res)
                if res["site"] is not None:
                    changed.append((req.sku, res["site"]))
        if changed and self._positions_changed is not None:
            self._positions_changed(changed)

    def _next_id(self) -> int:
        """Ids are assigned here (write lock held) so a group's rows go in with executemany."""
        return self.conn.execute("SELECT coalesce(max(id), 0) + 1 FROM reservations").fetchone()[0]

    def site_locations(self, site: str, refresh: bool = False) -> np.ndarray:
        locs = self._site_locs.get(site)
        if locs is None or refresh:
            if refresh or site not in self.catalog.loc_site.values():
                self.catalog.refresh(self.conn)
            cat = self.catalog
            locs = np.array(
                sorted(i for name, i in list(cat.loc_id.items()) if cat.loc_site[name] == site),
                dtype=np.int64,
            )
            self._site_locs[site] = locs
        return locs

    def _one(self, req: Request, undo: list, rows: _Rows) -> dict:
        conn = self.conn
        item_id = self.catalog.item_id(conn, req.sku)
        if item_id is None:
            raise WorkflowError(404, "unknown_sku", f"SKU {req.sku} is not in the item master")
        locs = self.site_locations(req.site)
        if not locs.size:
            locs = self.site_locations(req.site, refresh=True)
            if not locs.size:
                raise WorkflowError(404, "unknown_site", f"site {req.site} has no locations")
        alloc = self._reserve(item_id, req.site, req.qty, undo)
        site, partner = req.site, None
        if alloc is None and req.route:
            rules = self.settings["reservation_routing"]
            for target in rules.get(req.channel, rules.get("*", [])):
                if target.startswith("dropship:"):
                    site, partner, alloc = None, target.split(":", 1)[1], []
                    break
                if target != req.site and self.site_locations(target).size:
                    alloc = self._reserve(item_id, target, req.qty, undo)
                    if alloc is not None:
                        site = target
                        break
        if alloc is None:
            available = self.engine.site_available(item_id, locs)
            raise WorkflowError(
                409,
                "insufficient_stock",
                f"available {max(available, 0)} of {req.sku} at {req.site}, asked {req.qty}",
            )
        res_id = rows.next_id
        rows.next_id += 1
        expires = _fmt(rows.now + timedelta(seconds=req.ttl_s))
        rows.reservations.append(
            (
                res_id,
                req.sku,
                item_id,
                site,
                partner,
                req.site,
                req.channel,
                req.qty,
                req.ref,
                rows.ts,
                req.actor.name,
                expires,
            )
        )
        rows.allocations += [(res_id, item_id, loc_id, n) for loc_id, n in alloc]
        detail = json.dumps({"sku": req.sku, "site": site or partner, "qty": req.qty})
        rows.audit.append(audit_row(req.actor, "reservation.create", number(res_id), detail))
        return {
            "id": res_id,
            "number": number(res_id),
            "sku": req.sku,
            "site": site,
            "partner": partner,
            "requested_site": req.site,
            "routed": site != req.site,
            "channel": req.channel,
            "qty": req.qty,
            "status": "active",
            "ref": req.ref,
            "created_at": rows.ts,
            "expires_at": expires,
            "allocations": [
                {"loc": self.catalog.loc_by_id.get(loc_id), "qty": n} for loc_id, n in alloc
            ],
        }

    def _reserve(self, item_id: int, site: str, qty: int, undo: list) -> list | None:
        locs = self.site_locations(site)
        alloc = self.engine.reserve(item_id, locs, qty)
        if alloc is None and self._expire_due(item_id, locs, undo):
            alloc = self.engine.reserve(item_id, locs, qty)
        if alloc is not None:
            undo.append(lambda: self._add(item_id, alloc, -1))
        return alloc

    def _add(self, item_id: int, alloc: list[tuple[int, int]], sign: int) -> None:
        for loc_id, n in alloc:
            self.engine.add_reserved(item_id, loc_id, sign * n)

    def _expire_due(self, item_id: int, locs: np.ndarray, undo: list) -> int:
        """Expire this item's overdue reservations now rather than at the next sweep."""
        due = self.conn.execute(
            "SELECT id, sku, site FROM reservations WHERE item_id = ? AND status = 'active' "
            "AND expires_at < ?",
            (item_id, wire.now_ts()),
        ).fetchall()
        for res_id, sku, site in due:
            release(self.conn, self.engine, res_id, "expire", undo)
            if site is not None:
                self._expired.append((sku, site))
        return len(due)


# --- changes of state (any thread; engine lock + transaction held by the caller) ----------------


def release(
    conn: sqlite3.Connection,
    engine: StockEngine,
    res_id: int,
    event: str,
    undo: list,
    loc_id: int | None = None,
    qty: int | None = None,
) -> int:
    """Release allocations: all of them, or up to `qty` (at `loc_id` first). Returns released.

    `event` is the machine event to apply first (None: release only, no change of state).
    """
    res = conn.execute("SELECT status FROM reservations WHERE id = ?", (res_id,)).fetchone()
    if res is None:
        raise WorkflowError(404, "not_found", f"no reservation {number(res_id)}")
    if event:
        new = states.RESERVATION.next(res[0], event)
        conn.execute(
            "UPDATE reservations SET status = ?, closed_at = ? WHERE id = ?",
            (new, wire.now_ts() if new in states.RESERVATION.final else None, res_id),
        )
    allocs = conn.execute(
        "SELECT item_id, loc_id, qty FROM reservation_allocations WHERE reservation_id = ? "
        "ORDER BY loc_id = ? DESC, loc_id",
        (res_id, loc_id if loc_id is not None else -1),
    ).fetchall()
    left = sum(a[2] for a in allocs) if qty is None else qty
    released = 0
    for item_id, a_loc, a_qty in allocs:
        if left <= 0:
            break
        n = min(left, a_qty)
        if n == a_qty:
            conn.execute(
                "DELETE FROM reservation_allocations WHERE reservation_id = ? AND loc_id = ?",
                (res_id, a_loc),
            )
        else:
            conn.execute(
                "UPDATE reservation_allocations SET qty = qty - ? "
                "WHERE reservation_id = ? AND loc_id = ?",
                (n, res_id, a_loc),
            )
        engine.add_reserved(item_id, a_loc, -n)
        undo.append(lambda i=item_id, c=a_loc, k=n: engine.add_reserved(i, c, k))
        left -= n
        released += n
    return released


def get(conn: sqlite3.Connection, catalog: Catalog, res_id: int) -> dict:
    found = one(conn, f"SELECT {FIELDS} FROM reservations WHERE id = ?", (res_id,))
    if found is None:
        raise WorkflowError(404, "not_found", f"no reservation {number(res_id)}")
    found["number"] = number(res_id)
    found["allocations"] = [
        {"loc": catalog.loc_by_id.get(loc_id), "qty": qty}
        for loc_id, qty in conn.execute(
            "SELECT loc_id, qty FROM reservation_allocations WHERE reservation_id = ? "
            "ORDER BY loc_id",
            (res_id,),
        )
    ]
    return found


def listing(conn: sqlite3.Connection, args: dict, limit: int) -> list[dict]:
    where, params = [], []
    for name in ("status", "site", "sku", "channel"):
        if args.get(name):
            where.append(f"{name} = ?")
            params.append(args[name])
    sql = f"SELECT {FIELDS} FROM reservations"
    if where:
        sql += " WHERE " + " AND ".join(where)
    out = rows(conn, sql + " ORDER BY id DESC LIMIT ?", (*params, limit))
    for r in out:
        r["number"] = number(r["id"])
    return out


def cancel(conn, engine, res_id: int, actor: Actor, undo: list) -> None:
    release(conn, engine, res_id, "cancel", undo)
    close_task(conn, "pick", number(res_id))
    audit(conn, actor, "reservation.cancel", number(res_id))


def fulfil(
    conn: sqlite3.Connection,
    engine: StockEngine,
    catalog: Catalog,
    movements: CentralMovements,
    res_id: int,
    how: str,
    actor: Actor,
) -> None:
    """`sale` or `pick`: central records the movement at the allocated bins (the allocation is
    released when the movement lands, so available never looks larger than it is); `handheld`:
    a pick task goes to the site's handhelds and their pick scans (REF: RES-n) fulfil it."""
    res = conn.execute(
        "SELECT status, site, sku, partner FROM reservations WHERE id = ?", (res_id,)
    ).fetchone()
    if res is None:
        raise WorkflowError(404, "not_found", f"no reservation {number(res_id)}")
    status, site, sku, partner = res
    if how == "handheld":
        if partner:
            raise WorkflowError(409, "invalid_transition", "a dropship partner picks it, not us")
        new = states.RESERVATION.next(status, "pick")
        conn.execute("UPDATE reservations SET status = ? WHERE id = ?", (new, res_id))
        bins = conn.execute(
            "SELECT loc_id, qty FROM reservation_allocations WHERE reservation_id = ? "
            "ORDER BY loc_id",
            (res_id,),
        ).fetchall()
        open_task(
            conn,
            site,
            "pick",
            number(res_id),
            {
                "lines": [{"sku": sku, "loc": catalog.loc_by_id[c], "qty": n} for c, n in bins],
                "scan": f"MODE:PICK, REF:{number(res_id)}, LOC:<loc>, then the items",
            },
        )
    else:
        new = states.RESERVATION.next(status, "fulfil")
        conn.execute(
            "UPDATE reservations SET status = ?, closed_at = ? WHERE id = ?",
            (new, wire.now_ts(), res_id),
        )
        allocs = conn.execute(
            "SELECT loc_id, qty FROM reservation_allocations WHERE reservation_id = ? "
            "ORDER BY loc_id",
            (res_id,),
        ).fetchall()
        events = [
            {
                "type": how,
                "sku": sku,
                "qty": qty,
                "loc": catalog.loc_by_id[loc_id],
                "ref": number(res_id),
                "operator": actor.name[:64],
            }
            for loc_id, qty in allocs
        ]
        if events:
            movements.add(conn, site, events, "reservation", res_id)
    audit(
        conn, actor, f"reservation.{'pick' if how == 'handheld' else 'fulfil'}", number(res_id), how
    )


def on_pick_scan(conn, engine, res_id: int, loc_id: int, qty: int, undo: list) -> None:
    """A handheld pick/sale with REF: RES-n: release that much, fulfilled once all is picked."""
    res = conn.execute("SELECT status, qty, picked FROM reservations WHERE id = ?", (res_id,))
    found = res.fetchone()
    if found is None or found[0] not in ("active", "picking"):
        log.warning("pick for %s ignored: it is %s", number(res_id), found and found[0])
        return
    status, total, picked = found
    if status == "active":
        status = states.RESERVATION.next(status, "pick")
    picked += qty
    done = picked >= total
    new = states.RESERVATION.next(status, "picked", "fulfilled" if done else "picking")
    conn.execute(
        "UPDATE reservations SET status = ?, picked = ?, closed_at = ? WHERE id = ?",
        (new, picked, wire.now_ts() if done else None, res_id),
    )
    release(conn, engine, res_id, "", undo, loc_id, None if done else qty)
    if done:
        close_task(conn, "pick", number(res_id))


def expire_due(conn, engine, undo: list, now: str) -> list[tuple[str, str | None]]:
    """Expire every overdue active reservation; the (SKU, site) of each, one per reservation
    (a dropship one has no site of ours: None)."""
    due = conn.execute(
        "SELECT id, sku, site FROM reservations WHERE status = 'active' AND expires_at < ?",
        (now,),
    ).fetchall()
    for res_id, _, _ in due:
        release(conn, engine, res_id, "expire", undo)
        conn.execute(
            AUDIT_SQL, audit_row(Actor("system", "system"), "reservation.expire", number(res_id))
        )
    return [(sku, site) for _, sku, site in due]
