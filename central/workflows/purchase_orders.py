"""Purchase orders: draft → approvals → sent → received (partly, fully) → closed.

Created by hand or from a reorder proposal (the planner's draft-PO shape, idempotent by its
`key`); approved by as many distinct approvers as its value and categories require; sent to the
supplier (supplier_send); received through handheld `receive` scans whose `ref` is the PO number.
While a PO is approved or sent, its open quantity shows as `on_order` at its receiving bin.
"""

from __future__ import annotations

import json
import logging
import math
import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING

from msgspec import UNSET

from central.stock.catalog import Catalog
from central.stock.engine import StockEngine
from central.workflows import WorkflowError, approvals, places, states
from central.workflows.db import Actor, audit, one, rows
from central.workflows.reservations import ts_after
from tallyman import wire

if TYPE_CHECKING:  # the models import the workflows (their choices): no cycle at run time
    from central.workflows.models import PurchaseOrderCreate, PurchaseOrderLine

log = logging.getLogger("tallyman.workflows")

OPEN = ("approved", "sent", "partially_received")  # states whose open quantity is on order
RECEIVABLE = ("approved", "sent", "partially_received")
PO_FIELDS = (
    "id, number, supplier, status, source, proposal_key, categories, total_value, "
    "required_approvals, revision, note, created_at, created_by, submitted_at, approved_at, "
    "sent_at, expires_at, closed_at, updated_at"
)
LINE_FIELDS = (
    "id, line_no, sku, site, loc, qty, unit_cost, received, over_received, first_receipt_at"
)


def number(po_id: int) -> str:
    return f"PO-{po_id:06d}"


def find(conn: sqlite3.Connection, ref: str | int) -> dict:
    """A PO by id or by number (case-insensitive)."""
    text = str(ref).strip().upper()
    if text.isdigit():
        found = one(conn, f"SELECT {PO_FIELDS} FROM purchase_orders WHERE id = ?", (int(text),))
    else:
        found = one(conn, f"SELECT {PO_FIELDS} FROM purchase_orders WHERE number = ?", (text,))
    if found is None:
        raise WorkflowError(404, "not_found", f"no purchase order {ref}")
    found["categories"] = json.loads(found["categories"] or "[]")
    return found


def lines(conn: sqlite3.Connection, po_id: int) -> list[dict]:
    return rows(
        conn, f"SELECT {LINE_FIELDS} FROM po_lines WHERE po_id = ? ORDER BY line_no", (po_id,)
    )


def view(conn: sqlite3.Connection, ref: str | int) -> dict:
    po = find(conn, ref)
    po["lines"] = lines(conn, po["id"])
    po["approvals"] = approvals.listing(conn, "purchase_order", po["id"])
    po["approvals_given"] = approvals.count(conn, "purchase_order", po["id"], po["revision"])
    po["sends"] = rows(
        conn,
        "SELECT id, channel, target, idempotency_key, status, attempts, last_status, detail, "
        "created_at, done_at FROM po_sends WHERE po_id = ? ORDER BY id",
        (po["id"],),
    )
    po["receipts"] = rows(
        conn,
        "SELECT movement_id, sku, site, qty, accepted, excess, ts, note FROM po_receipts "
        "WHERE po_id = ? ORDER BY movement_id",
        (po["id"],),
    )
    po["exceptions"] = [r for r in po["receipts"] if r["excess"]]
    return po


def listing(conn: sqlite3.Connection, args: dict, limit: int) -> list[dict]:
    where, params = [], []
    for name in ("status", "supplier", "source"):
        if args.get(name):
            where.append(f"{name} = ?")
            params.append(args[name])
    sql = f"SELECT {PO_FIELDS} FROM purchase_orders"
    if where:
        sql += " WHERE " + " AND ".join(where)
    out = rows(conn, sql + " ORDER BY id DESC LIMIT ?", (*params, limit))
    for po in out:
        po["categories"] = json.loads(po["categories"] or "[]")
    return out


# --- creation ---------------------------------------------------------------------------------


def create(
    conn: sqlite3.Connection,
    catalog: Catalog,
    settings: dict,
    actor: Actor,
    body: PurchaseOrderCreate,
    source: str,
) -> tuple[dict, bool]:
    """A draft PO from a decoded `PurchaseOrderCreate` (its shape already checked by the model;
    what needs the ledger, the item master and the site's bins, is checked here).

    From a proposal, `key` makes it idempotent: the same key returns the PO already made
    (created False). Returns (po, created).
    """
    if body.key is not None:
        found = conn.execute(
            "SELECT id FROM purchase_orders WHERE proposal_key = ?", (body.key,)
        ).fetchone()
        if found is not None:
            return view(conn, found[0]), False
    supplier = known_supplier(conn, settings, body.supplier.strip())
    draft = _draft_lines(conn, body.lines)
    po_id = _insert(conn, settings, actor, source, supplier, body.key, draft, body.note)
    return view(conn, po_id), True


def known_supplier(conn: sqlite3.Connection, settings: dict, supplier: str) -> str:
    """`supplier` if master data knows it, else 404 unknown_supplier naming the field.

    There is no suppliers table: a supplier is known when an item in the item master names it
    (the `supplier` column of the items CSV) or the workflow settings configure it (`suppliers`,
    where its webhook lives). A PO to anyone else could never be sent or matched to a lead time,
    and a typo or a spreadsheet formula (`=HYPERLINK(…)`) must not become a document."""
    if (
        supplier in settings["suppliers"]
        or conn.execute("SELECT 1 FROM items WHERE supplier = ? LIMIT 1", (supplier,)).fetchone()
    ):
        return supplier
    names = {r[0] for r in conn.execute("SELECT DISTINCT supplier FROM items WHERE supplier > ''")}
    names |= set(settings["suppliers"])
    close = sorted(n for n in names if n.casefold() == supplier.casefold())
    hint = f"; did you mean {close[0]}?" if close else ""
    raise WorkflowError(
        404,
        "unknown_supplier",
        f"supplier: {supplier!r} is not in master data (no item names it and the workflow "
        f"settings configure no such supplier){hint}",
    )


@dataclass
class _Draft:
    """A PO's lines as checked: (line_no, sku, item_id, site, loc, loc_id, qty, unit_cost)."""

    lines: list[tuple]
    categories: set[str]
    total: float


def _draft_lines(conn: sqlite3.Connection, body_lines: list[PurchaseOrderLine]) -> _Draft:
    """Every line checked against the item master and the site's bins (numbered from 1 in
    the errors); one line per SKU and bin."""
    draft = _Draft([], set(), 0.0)
    seen: set[tuple[str, str]] = set()
    for n, line in enumerate(body_lines, 1):
        row, category = _draft_line(conn, n, line)
        _, sku, _, _, loc, _, qty, cost = row
        if (sku, loc) in seen:
            raise WorkflowError(400, "bad_request", f"line {n}: {sku} at {loc} appears twice")
        seen.add((sku, loc))
        if category:
            draft.categories.add(category)
        draft.total += qty * cost
        draft.lines.append(row)
    return draft


def _draft_line(
    conn: sqlite3.Connection, n: int, line: PurchaseOrderLine
) -> tuple[tuple, str | None]:
    """Line `n` as ((n, sku, item_id, site, loc, loc_id, qty, unit_cost), the item's
    category); the unit cost defaults to the item master's."""
    sku, site = line.sku, line.site
    item = conn.execute(
        "SELECT id, category, coalesce(unit_cost, 0) FROM items WHERE sku = ?", (sku,)
    ).fetchone()
    if item is None:
        raise WorkflowError(404, "unknown_sku", f"line {n}: SKU {sku} is not in the item master")
    qty = int(line.qty)  # whole: the model refuses 12.5
    loc, loc_id = places.resolve(conn, site, line.loc)
    cost = item[2] if line.unit_cost is UNSET else line.unit_cost
    return (n, sku, item[0], site, loc, loc_id, qty, float(cost)), item[1]


def _insert(
    conn: sqlite3.Connection,
    settings: dict,
    actor: Actor,
    source: str,
    supplier: str,
    key: str | None,
    draft: _Draft,
    note: str | None,
) -> int:
    """The draft and its lines in the caller's transaction, numbered PO-<id>; audited."""
    now = wire.now_ts()
    cur = conn.execute(
        "INSERT INTO purchase_orders (number, supplier, status, source, proposal_key, "
        "categories, total_value, note, created_at, created_by, expires_at, updated_at) "
        "VALUES (?, ?, 'draft', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            f"tmp-{now}-{actor.name}",
            supplier,
            source,
            key,
            json.dumps(sorted(draft.categories)),
            round(draft.total, 4),
            note,
            now,
            actor.name,
            ts_after(settings["po_expiry_hours"] * 3600),
            now,
        ),
    )
    po_id = cur.lastrowid
    conn.execute("UPDATE purchase_orders SET number = ? WHERE id = ?", (number(po_id), po_id))
    conn.executemany(
        "INSERT INTO po_lines (po_id, line_no, sku, item_id, site, loc, loc_id, qty, unit_cost) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(po_id, *line) for line in draft.lines],
    )
    audit(conn, actor, f"po.create.{source}", number(po_id), json.dumps({"total": draft.total}))
    return po_id


# --- changes of state -------------------------------------------------------------------------


def _set(conn: sqlite3.Connection, po: dict, new: str, **stamps: str) -> None:
    sets = ", ".join(["status = ?", "updated_at = ?"] + [f"{k} = ?" for k in stamps])
    conn.execute(
        f"UPDATE purchase_orders SET {sets} WHERE id = ?",
        (new, wire.now_ts(), *stamps.values(), po["id"]),
    )


def _on_order(conn, engine: StockEngine, po_id: int, sign: int, undo: list) -> None:
    """Add (sign 1) or remove (−1) the PO's open quantity from the engine's on_order."""
    for item_id, loc_id, qty, received in conn.execute(
        "SELECT item_id, loc_id, qty, received FROM po_lines WHERE po_id = ?", (po_id,)
    ).fetchall():
        open_qty = max(qty - received, 0)
        if open_qty:
            engine.add_on_order(item_id, loc_id, sign * open_qty)
            undo.append(
                lambda i=item_id, c=loc_id, n=open_qty: engine.add_on_order(i, c, -sign * n)
            )


def load_on_order(conn: sqlite3.Connection, engine: StockEngine) -> None:
    for (po_id,) in conn.execute(
        f"SELECT id FROM purchase_orders WHERE status IN ({','.join('?' * len(OPEN))})", OPEN
    ).fetchall():
        _on_order(conn, engine, po_id, 1, [])


def submit(conn, engine, settings: dict, ref, actor: Actor, undo: list) -> dict:
    po = find(conn, ref)
    need = approvals.required(po["total_value"], po["categories"], settings)
    new = states.PURCHASE_ORDER.next(po["status"], "submit", "approved" if need == 0 else None)
    conn.execute("UPDATE purchase_orders SET required_approvals = ? WHERE id = ?", (need, po["id"]))
    now = wire.now_ts()
    if new == "approved":
        _set(conn, po, new, submitted_at=now, approved_at=now)
        _on_order(conn, engine, po["id"], 1, undo)
    else:
        _set(conn, po, new, submitted_at=now)
    audit(conn, actor, "po.submit", po["number"], json.dumps({"required_approvals": need}))
    if new == "approved":
        audit(
            conn, actor, "po.auto_approve", po["number"], json.dumps({"total": po["total_value"]})
        )
    return find(conn, po["id"])


def decide(conn, engine, ref, event: str, actor: Actor, note: str | None, undo: list) -> dict:
    """An approver approves or rejects (distinct approvers; never the PO's creator)."""
    po = find(conn, ref)
    states.PURCHASE_ORDER.next(po["status"], event)  # refuse before recording anything
    given = approvals.record(
        conn, "purchase_order", po["id"], po["revision"], actor, event, note, po["created_by"]
    )
    if event == "reject":
        _set(conn, po, states.PURCHASE_ORDER.next(po["status"], "reject"), closed_at=wire.now_ts())
    elif given >= po["required_approvals"]:
        _set(
            conn,
            po,
            states.PURCHASE_ORDER.next(po["status"], "approve", "approved"),
            approved_at=wire.now_ts(),
        )
        _on_order(conn, engine, po["id"], 1, undo)
    audit(conn, actor, f"po.{event}", po["number"], json.dumps({"approvals": given, "note": note}))
    return find(conn, po["id"])


def cancel(conn, engine, ref, actor: Actor, undo: list) -> dict:
    po = find(conn, ref)
    new = states.PURCHASE_ORDER.next(po["status"], "cancel")
    received = conn.execute(
        "SELECT coalesce(sum(received), 0) FROM po_lines WHERE po_id = ?", (po["id"],)
    ).fetchone()[0]
    if received:
        raise WorkflowError(409, "invalid_transition", "goods were received: close it instead")
    if po["status"] in OPEN:
        _on_order(conn, engine, po["id"], -1, undo)
    _set(conn, po, new, closed_at=wire.now_ts())
    audit(conn, actor, "po.cancel", po["number"])
    return find(conn, po["id"])


def close(conn, engine, ref, actor: Actor, undo: list) -> dict:
    """Close short: what was not delivered is no longer expected."""
    po = find(conn, ref)
    new = states.PURCHASE_ORDER.next(po["status"], "close")
    _on_order(conn, engine, po["id"], -1, undo)
    _set(conn, po, new, closed_at=wire.now_ts())
    audit(conn, actor, "po.close", po["number"])
    return find(conn, po["id"])


def mark_sent(conn, po_id: int, channel: str) -> bool:
    """A send succeeded: approved → sent (a re-send of a sent PO stays sent)."""
    po = find(conn, po_id)
    if not states.PURCHASE_ORDER.allowed(po["status"], "send"):
        log.warning("%s was %s when its %s send finished", po["number"], po["status"], channel)
        return False
    _set(
        conn,
        po,
        states.PURCHASE_ORDER.next(po["status"], "send"),
        sent_at=po["sent_at"] or wire.now_ts(),
    )
    return True


def expire_due(conn, engine, now: str, undo: list) -> int:
    due = conn.execute(
        "SELECT id, status FROM purchase_orders WHERE status IN ('draft', 'pending_approval', "
        "'approved') AND expires_at < ?",
        (now,),
    ).fetchall()
    for po_id, status in due:
        po = find(conn, po_id)
        if status in OPEN:
            _on_order(conn, engine, po_id, -1, undo)
        _set(conn, po, states.PURCHASE_ORDER.next(status, "expire"), closed_at=now)
        conn.execute(
            "INSERT INTO audit (ts, actor, role, action, target, detail, remote_addr) "
            "VALUES (?, 'system', 'system', 'po.expire', ?, '', NULL)",
            (now, po["number"]),
        )
    return len(due)


# --- receipts (ledger scan) -------------------------------------------------------------------


def on_receipt(conn, engine, settings: dict, m: dict, undo: list) -> None:
    """A `receive` movement with REF: the PO number (m: the ledger row)."""
    try:
        po = find(conn, m["ref"])
    except WorkflowError:
        log.warning("receipt %s names unknown PO %s", m["id"], m["ref"])
        return
    qty = m["qty"]

    def receipt(line_id, accepted, excess, note=None):
        conn.execute(
            "INSERT OR IGNORE INTO po_receipts (po_id, line_id, movement_id, sku, site, qty, "
            "accepted, excess, ts, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (po["id"], line_id, m["id"], m["sku"], m["site"], qty, accepted, excess, m["ts"], note),
        )

    if po["status"] not in RECEIVABLE:
        receipt(None, 0, qty, f"the PO is {po['status']}")
        return
    line = one(
        conn,
        "SELECT id, qty, received, loc_id, item_id, first_receipt_at FROM po_lines "
        "WHERE po_id = ? AND sku = ? AND site = ? ORDER BY (received >= qty), line_no LIMIT 1",
        (po["id"], m["sku"], m["site"]),
    )
    if line is None:
        receipt(None, 0, qty, f"{m['sku']} at {m['site']} is not on this PO")
        return
    if settings["po_over_receipt"] == "accept":
        cap = math.inf
    else:
        cap = math.floor(line["qty"] * (1 + settings["po_over_receipt_pct"] / 100.0))
    accepted = int(min(qty, max(cap - line["received"], 0)))
    excess = qty - accepted
    receipt(line["id"], accepted, excess, "over-receipt" if excess else None)
    conn.execute(
        "UPDATE po_lines SET received = received + ?, over_received = over_received + ?, "
        "first_receipt_at = coalesce(first_receipt_at, ?) WHERE id = ?",
        (accepted, excess, m["ts"], line["id"]),
    )
    less_on_order = min(accepted, max(line["qty"] - line["received"], 0))
    if less_on_order:
        engine.add_on_order(line["item_id"], line["loc_id"], -less_on_order)
        undo.append(lambda: engine.add_on_order(line["item_id"], line["loc_id"], less_on_order))
    if line["first_receipt_at"] is None:
        sent_at = po["sent_at"] or po["approved_at"]
        days = (wire.parse_ts(m["ts"]) - wire.parse_ts(sent_at)).total_seconds() / 86400
        conn.execute(
            "INSERT OR IGNORE INTO lead_times (po_id, line_id, supplier, sku, site, sent_at, "
            "received_at, days) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (po["id"], line["id"], po["supplier"], m["sku"], m["site"], sent_at, m["ts"], days),
        )
    under = settings["po_under_receipt_pct"] / 100.0
    complete = all(
        received >= math.ceil(q * (1 - under))
        for q, received in conn.execute(
            "SELECT qty, received FROM po_lines WHERE po_id = ?", (po["id"],)
        )
    )
    new = states.PURCHASE_ORDER.next(
        po["status"], "receive", "closed" if complete else "partially_received"
    )
    if new == "closed":
        _on_order(conn, engine, po["id"], -1, undo)  # lines accepted short within tolerance
        _set(conn, po, new, closed_at=wire.now_ts())
        conn.execute(
            "INSERT INTO audit (ts, actor, role, action, target, detail, remote_addr) "
            "VALUES (?, ?, 'device', 'po.auto_close', ?, ?, NULL)",
            (wire.now_ts(), m["device"], po["number"], f"movement {m['id']}"),
        )
    elif new != po["status"]:
        _set(conn, po, new)


def lead_time_stats(conn: sqlite3.Connection, supplier: str | None) -> list[dict]:
    sql = (
        "SELECT supplier, sku, count(*) AS n, avg(days) AS mean_days, min(days) AS min_days, "
        "max(days) AS max_days FROM lead_times"
    )
    params: tuple = ()
    if supplier:
        sql += " WHERE supplier = ?"
        params = (supplier,)
    return rows(conn, sql + " GROUP BY supplier, sku ORDER BY supplier, sku", params)
