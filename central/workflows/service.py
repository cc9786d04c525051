"""The workflow service: one object that central's app creates, and its threads.

It owns the reservation desk (grants reservations), the supplier sender (PO files and
webhooks), a sweeper (expiry of reservations and POs, late central movements) and the ledger
scan that turns committed movements into workflow progress: receipts against POs, picks and
receipts against transfers, picks against reservations, central's own movements landing. The
scan keeps a cursor in the same transaction as the changes it makes, so each movement is
applied to the workflows exactly once, across restarts.

Two hooks tell whoever cares (planning: central's lifecycle wires them, workflows may not import
planning) what changed, after each commit: `on_positions_changed(pairs)` with the (SKU, site)
pairs whose on order, in transit or reserved a PO, a transfer, a reservation, a receipt or an
expiry changed (an empty list: possibly any), and `on_reservation_refused(sku, site, qty)` when
the desk refuses a request for want of stock. A hook that raises is logged, never raised into the
workflow; the hooks must not wait (planning's queue).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

from central.stock.catalog import Catalog
from central.stock.engine import StockEngine
from central.stock.storage import Storage
from central.workflows import (
    WorkflowError,
    counts,
    purchase_orders,
    reservations,
    schema,
    supplier_send,
    tasks,
    transfers,
)
from central.workflows import settings as settings_mod
from central.workflows.db import Actor, audit, engine_tx, rows
from central.workflows.freeze import Freezes
from central.workflows.models import PurchaseOrderCreate, ReservationRequest, SettingsChange
from central.workflows.movements import CentralMovements
from central.workflows.reservations import ReservationDesk
from central.workflows.supplier_send import Sender
from central.workflows.tasks import TaskBoard
from tallyman import wire
from tallyman.periodic import Periodic

log = logging.getLogger("tallyman.workflows")

Pairs = list[tuple[str, str]]

SWEEP_S = 0.5
RESUBMIT_AFTER_S = 5.0
SCAN_SQL = (
    "SELECT id, device, seq, site, ts, type, sku, sku_id, qty, loc, loc_id, to_loc, to_loc_id, "
    "ref FROM movements WHERE id > ? AND id <= ? "
    "AND (ref IS NOT NULL OR device LIKE 'central.%') ORDER BY id"
)


class WorkflowService:
    def __init__(
        self,
        storage: Storage,
        engine: StockEngine,
        catalog: Catalog,
        freezes: Freezes | None = None,
    ):
        """`freezes`: the promotion freeze rules every transfer obeys (planning's, handed in by
        central's lifecycle; None: no freezes)."""
        self.storage, self.engine, self.catalog = storage, engine, catalog
        self.freezes = freezes if freezes is not None else Freezes()
        #: Where PO files go when no folder is configured: beside the ledger.
        self.outbox_dir = storage.files_dir("supplier-outbox")
        conn = storage.writer()
        schema.init(conn)  # the workflow tables, count_records included (the ingest's counts)
        self.settings = settings_mod.load(conn)
        self.movements = CentralMovements()
        self.board = TaskBoard()
        #: Called after a commit changed on order / in transit / reserved of these (SKU, site)
        #: pairs (empty: possibly any); see the module docstring.
        self.on_positions_changed: Callable[[Pairs], None] | None = None
        #: Called when the desk refused a reservation for want of stock: (SKU, site, qty).
        self.on_reservation_refused: Callable[[str, str, int], None] | None = None
        self.desk = ReservationDesk(
            storage,
            engine,
            catalog,
            self.settings,
            self.movements,
            positions_changed=self._positions_changed,
            refused=self._reservation_refused,
        )
        self.sender = Sender(storage, self.settings, self.tx)
        self.ingest: Any = None
        self._scan_lock = threading.Lock()
        self._scanned = 0  # movements up to here hold nothing for workflows
        self._sweeper = Periodic(SWEEP_S, self._sweep_tick, "workflows")
        self._since_resubmit = 0.0
        self._started = False
        self._stopped = False
        with engine.lock:
            engine.clear_workflow_measures()
            self.desk.load(conn)
            purchase_orders.load_on_order(conn, engine)
        conn.execute(
            "INSERT OR IGNORE INTO wf_cursor (name, movement_id) "
            "SELECT 'ledger', coalesce(max(id), 0) FROM movements"
        )

    # --- life cycle ------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the desk, the sender and the sweeper (works without an ingest: API only)."""
        if self._started:
            return
        self._started = True
        self.desk.start()
        self.sender.start()
        self._sweeper.start()

    def attach(self, ingest: Any, publish: Callable[[str, bytes, bool], None] | None) -> None:
        """Wire into a running ingest: its commits drive the ledger scan, central's movements
        go in through it, counts above the limit are held, tasks go out over MQTT."""
        self.ingest = ingest
        self.movements.submit = ingest.submit
        self.board.publish = publish
        ingest.count_rules = counts.Rules(self._hold_rule())
        ingest.subscribers.append(self.on_batch)
        conn = self.storage.writer()
        self.catch_up()
        self.movements.resubmit(conn)
        self.board.publish_all(conn)

    def stop(self) -> None:
        """Stop the threads and close their own connections (idempotent; central's lifecycle
        closes the storage)."""
        if self._stopped:
            return
        self._stopped = True
        self._sweeper.stop()
        self.desk.stop()
        self.sender.stop()

    def _ingest_gone(self) -> bool:
        """The ingest this service was attached to has stopped: central is shutting down (its
        owner stops the ingest, not us), so the service ends too rather than run on alone."""
        return self.ingest is not None and self.ingest.stopped

    def _hold_rule(self) -> counts.HoldRule | None:
        return counts.hold_rule(
            self.settings["count_hold_units"], self.settings["count_hold_value"]
        )

    # --- transactions ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def tx(self) -> Iterator[tuple[Any, list]]:
        """Engine lock + write transaction (+ undo list); central movements and task lists go
        out only after COMMIT."""
        conn = self.storage.writer()
        try:
            with engine_tx(self.engine.lock, conn) as undo:
                yield conn, undo
        except BaseException:
            self.movements.discard()
            TaskBoard.discard()
            raise
        self.movements.flush()
        self.board.flush(conn)

    # --- the hooks -------------------------------------------------------------------------------

    def _positions_changed(self, pairs: Pairs | None) -> None:
        """Tell `on_positions_changed` (after the commit): `pairs` changed, None possibly any,
        an empty list nothing (no call)."""
        hook = self.on_positions_changed
        if hook is None or pairs == []:
            return
        try:
            hook(sorted(set(pairs)) if pairs else [])
        except Exception:
            log.exception("on_positions_changed failed")

    def _reservation_refused(self, sku: str, site: str, qty: int) -> None:
        hook = self.on_reservation_refused
        if hook is None:
            return
        try:
            hook(sku, site, qty)
        except Exception:
            log.exception("on_reservation_refused failed")

    @staticmethod
    def _po_pairs(po: dict) -> Pairs | None:
        lines = po.get("lines")
        return None if lines is None else [(ln["sku"], ln["site"]) for ln in lines]

    @staticmethod
    def _to_pairs(*tos: dict) -> Pairs | None:
        out: Pairs = []
        for to in tos:
            if to.get("lines") is None:
                return None
            sites = (to["from_site"], to["to_site"])
            out += [(ln["sku"], site) for ln in to["lines"] for site in sites]
        return out

    # --- the ledger scan -------------------------------------------------------------------------

    def on_batch(self, batch: Any) -> None:
        self.catch_up()

    def catch_up(self) -> int:
        """Apply every committed movement past the cursor that a workflow cares about.

        Most ingest groups hold nothing a workflow cares about: those are skipped with one read
        and no write (the persisted cursor moves with the next relevant movement; re-scanning a
        stretch with nothing relevant in it after a restart finds nothing again).
        """
        with self._scan_lock:
            conn = self.storage.writer()
            upto = (
                self.ingest.last_id
                if self.ingest is not None
                else conn.execute("SELECT coalesce(max(id), 0) FROM movements").fetchone()[0]
            )
            start = max(self._scanned, self._cursor(conn))
            if upto <= start:
                return 0
            if (
                conn.execute(
                    SCAN_SQL.replace("SELECT id,", "SELECT 1,", 1) + " LIMIT 1", (start, upto)
                ).fetchone()
                is None
            ):
                self._scanned = upto
                return 0
            with self.tx() as (conn, undo):
                found = rows(conn, SCAN_SQL, (self._cursor(conn), upto))
                for m in found:
                    self._dispatch(conn, m, undo)
                conn.execute("UPDATE wf_cursor SET movement_id = ? WHERE name = 'ledger'", (upto,))
            self._scanned = upto
            if any(m["type"] == "receive" for m in found):
                self.sender.wake()
            # receipts against POs (on order), transfer scans, reservations picked or landed
            self._positions_changed([(m["sku"], m["site"]) for m in found if m["sku"]])
            return len(found)

    @property
    def scanned_upto(self) -> int:
        """The last ledger id the workflows have seen (tests and health checks wait on it)."""
        return max(self._scanned, self._cursor(self.storage.writer()))

    @staticmethod
    def _cursor(conn: Any) -> int:
        return conn.execute("SELECT movement_id FROM wf_cursor WHERE name = 'ledger'").fetchone()[0]

    def _dispatch(self, conn: Any, m: dict, undo: list) -> None:
        """One movement; a failure is logged and rolled back to a savepoint, never blocks."""
        sub: list = []
        conn.execute("SAVEPOINT movement")
        try:
            self._apply(conn, m, sub)
        except Exception as exc:
            conn.execute("ROLLBACK TO movement")
            for fn in reversed(sub):
                fn()
            sub = []
            if isinstance(exc, WorkflowError):
                log.warning("movement %s (%s %s): %s", m["id"], m["type"], m["ref"], exc.detail)
            else:
                log.exception("movement %s could not be applied to workflows", m["id"])
        conn.execute("RELEASE movement")
        undo.extend(sub)

    def _apply(self, conn: Any, m: dict, undo: list) -> None:
        if m["device"].startswith(counts.CENTRAL_DEVICE_PREFIX):
            landed = CentralMovements.landed(conn, m["device"], m["seq"], m["id"])
            if landed and landed[0] == "reservation" and landed[1] is not None:
                reservations.release(conn, self.engine, landed[1], "", undo, m["loc_id"], m["qty"])
            return
        ref, kind = (m["ref"] or "").strip().upper(), m["type"]
        if kind == "receive" and ref.startswith("PO-"):
            purchase_orders.on_receipt(conn, self.engine, self.settings, m, undo)
        elif kind in ("transfer_out", "transfer_in", "scrap") and ref.startswith("TO-"):
            transfers.on_scan(conn, m)
        elif kind in ("pick", "sale") and ref.startswith("RES-"):
            res_id = reservations.parse_number(ref)
            if res_id is not None:
                reservations.on_pick_scan(conn, self.engine, res_id, m["loc_id"], m["qty"], undo)

    # --- the sweeper -----------------------------------------------------------------------------

    def _sweep_tick(self) -> bool:
        """One sweep (the timer logs a failure and comes back); False ends the timer when the
        ingest this service served has stopped."""
        if self._ingest_gone():
            self.stop()
            return False
        self.sweep()
        self._since_resubmit += SWEEP_S
        if self._since_resubmit >= RESUBMIT_AFTER_S and self.ingest is not None:
            self._since_resubmit = 0.0
            self.movements.resubmit(self.storage.writer(), reservations.ts_after(-RESUBMIT_AFTER_S))
        return True

    def sweep(self) -> dict:
        """Expire what is overdue and apply movements other processes appended."""
        now = wire.now_ts()
        conn = self.storage.writer()
        due_res = conn.execute(
            "SELECT 1 FROM reservations WHERE status = 'active' AND expires_at < ? LIMIT 1", (now,)
        ).fetchone()
        due_po = conn.execute(
            "SELECT 1 FROM purchase_orders WHERE status IN ('draft', 'pending_approval', "
            "'approved') AND expires_at < ? LIMIT 1",
            (now,),
        ).fetchone()
        out = {"reservations": 0, "purchase_orders": 0}
        if due_res or due_po:
            with self.tx() as (conn, undo):
                expired = reservations.expire_due(conn, self.engine, undo, now)
                out["purchase_orders"] = purchase_orders.expire_due(conn, self.engine, now, undo)
            out["reservations"] = len(expired)
            self._positions_changed(
                None
                if out["purchase_orders"]
                else [(sku, site) for sku, site in expired if site is not None]
            )
        out["movements"] = self.catch_up()
        return out

    # --- settings --------------------------------------------------------------------------------

    def update_settings(self, change: SettingsChange, actor: Actor) -> dict:
        changes = settings_mod.validate(change)
        with self.storage.tx() as conn:
            settings_mod.save(conn, changes)
            audit(conn, actor, "settings.update", ",".join(sorted(changes)), str(changes)[:1000])
        self.settings.update(changes)
        if self.ingest is not None:
            self.ingest.count_rules = counts.Rules(self._hold_rule())
        return dict(self.settings)

    # --- purchase orders -------------------------------------------------------------------------

    def _after_approval(self, conn: Any, po: dict) -> None:
        if po["status"] == "approved" and self.settings["po_auto_send"]:
            channel, target = supplier_send.default_target(
                self.settings, po["supplier"], self.outbox_dir
            )
            supplier_send.queue(conn, po, channel, target)

    def po_create(self, actor: Actor, body: PurchaseOrderCreate, source: str) -> tuple[dict, bool]:
        """A draft PO (and submitted, with `submit`); (po, created). Planning builds `body` with
        `models.convert`, the API decodes it: one validation either way."""
        with self.tx() as (conn, undo):
            po, created = purchase_orders.create(
                conn, self.catalog, self.settings, actor, body, source
            )
            if created and body.submit:
                po = purchase_orders.submit(conn, self.engine, self.settings, po["id"], actor, undo)
                self._after_approval(conn, po)
        self.sender.wake()
        po = purchase_orders.view(self.storage.writer(), po["id"])
        if created and body.submit:
            self._positions_changed(self._po_pairs(po))
        return po, created

    def po_event(self, ref: str, event: str, actor: Actor, body: dict) -> dict:
        note = body.get("note") if isinstance(body, dict) else None
        with self.tx() as (conn, undo):
            if event == "submit":
                po = purchase_orders.submit(conn, self.engine, self.settings, ref, actor, undo)
                self._after_approval(conn, po)
            elif event in ("approve", "reject"):
                po = purchase_orders.decide(conn, self.engine, ref, event, actor, note, undo)
                self._after_approval(conn, po)
            elif event == "cancel":
                po = purchase_orders.cancel(conn, self.engine, ref, actor, undo)
            elif event == "close":
                po = purchase_orders.close(conn, self.engine, ref, actor, undo)
            elif event == "send":
                po = purchase_orders.find(conn, ref)
                channel = body.get("channel") if isinstance(body, dict) else None
                default_channel, target = supplier_send.default_target(
                    self.settings, po["supplier"], self.outbox_dir
                )
                channel = channel or default_channel
                if channel == "webhook" and default_channel != "webhook":
                    raise WorkflowError(
                        409, "no_webhook", f"supplier {po['supplier']} has no webhook configured"
                    )
                if channel == "file":
                    target = supplier_send.file_dir(self.settings, self.outbox_dir)
                supplier_send.queue(conn, po, channel, target)
                audit(conn, actor, "po.send", po["number"], channel)
            else:
                raise WorkflowError(404, "not_found", f"no purchase-order action {event}")
        self.sender.wake()
        po = purchase_orders.view(self.storage.writer(), po["id"])
        if event != "send":  # sending moves no quantity
            self._positions_changed(self._po_pairs(po))
        return po

    # --- transfers -------------------------------------------------------------------------------

    def to_create(self, actor: Actor, body: Any) -> tuple[dict, bool]:
        with self.tx() as (conn, _):
            to, created = transfers.create(conn, self.engine, actor, body, "manual", self.freezes)
        if created:
            self._positions_changed(self._to_pairs(to))
        return to, created

    def to_from_suggestions(self, actor: Actor, body: Any) -> list[tuple[dict, bool]]:
        with self.tx() as (conn, _):
            made = transfers.from_suggestions(conn, self.engine, actor, body, self.freezes)
        self._positions_changed(self._to_pairs(*(to for to, created in made if created)))
        return made

    def to_event(self, ref: str, event: str, actor: Actor, body: Any) -> dict:
        note = body.get("note") if isinstance(body, dict) else None
        with self.tx() as (conn, _):
            if event in ("approve", "reject", "cancel"):
                override = bool(isinstance(body, dict) and body.get("override_freeze"))
                to = transfers.decide(conn, ref, event, actor, note, override, self.freezes)
            elif event == "dispatch":
                to = transfers.dispatch(conn, ref, actor)
            elif event == "complete":
                to = transfers.complete(conn, ref, actor)
            elif event == "report":
                to = transfers.report(conn, ref, actor, body)
            else:
                raise WorkflowError(404, "not_found", f"no transfer action {event}")
        self._positions_changed(self._to_pairs(to))
        return to

    def to_resolve(self, ref: str, disc_id: int, actor: Actor, body: Any) -> dict:
        with self.tx() as (conn, _):
            to = transfers.resolve(conn, self.movements, ref, disc_id, actor, body)
        self._positions_changed(self._to_pairs(to))
        return to

    # --- reservations ----------------------------------------------------------------------------

    def reserve(self, req: ReservationRequest, actor: Actor, timeout: float = 30.0) -> dict:
        """Grant `req` through the desk (see central.workflows.reservations)."""
        request = reservations.request_from(req, actor, self.settings)
        return self.desk.submit(request).result(timeout=timeout)

    def reservation_event(self, res_id: int, event: str, actor: Actor, how: str = "sale") -> dict:
        """Cancel or fulfil a reservation; `how` a fulfilment is made (FulfilBody's choices:
        sale, pick or handheld)."""
        with self.tx() as (conn, undo):
            if event == "cancel":
                reservations.cancel(conn, self.engine, res_id, actor, undo)
            elif event == "fulfil":
                reservations.fulfil(
                    conn, self.engine, self.catalog, self.movements, res_id, how, actor
                )
            else:
                raise WorkflowError(404, "not_found", f"no reservation action {event}")
        res = reservations.get(self.storage.writer(), self.catalog, res_id)
        if res["site"] is not None:  # a fulfilment releases when its movement lands (the scan)
            self._positions_changed([(res["sku"], res["site"])])
        return res

    # --- counts ----------------------------------------------------------------------------------

    def count_event(self, record_id: int, event: str, actor: Actor, note: str | None) -> dict:
        if event not in ("approve", "reject"):
            raise WorkflowError(404, "not_found", f"no count action {event}")
        with self.tx() as (conn, _):
            counts.decide_in(conn, self.movements.add, record_id, event, actor, note)
        return counts.get_record(self.storage.writer(), record_id)

    def site_tasks(self, site: str) -> list[dict]:
        return tasks.site_tasks(self.storage.writer(), site)
