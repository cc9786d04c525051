"""Transfer orders between sites: proposed → approved → picked → in transit → received.

The source's handhelds get a pick task when the order is approved and record `transfer_out`
scans with REF: the TO number (and TO: the destination bin, so the engine shows the goods as
`in_transit` there); the destination's handhelds then get a receive task and record
`transfer_in` scans with the same REF. What arrives short, over or damaged is a discrepancy that
a planner resolves. A short leaves nothing in transit whatever its resolution: found units
enter the ledger as transfer_in at the destination, lost ones (written off, claimed, accepted)
as transfer_in + scrap there, so the loss is visible as scrap.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from typing import Any

import numpy as np

from central.stock.engine import StockEngine
from central.workflows import WorkflowError, places, states
from central.workflows.db import Actor, audit, one, rows
from central.workflows.freeze import Freezes, Hit, today
from central.workflows.movements import CentralMovements
from central.workflows.tasks import close_task, open_task
from tallyman import wire

log = logging.getLogger("tallyman.workflows")

TO_FIELDS = (
    "id, number, from_site, to_site, status, source, suggestion_key, note, created_at, "
    "created_by, approved_at, dispatched_at, closed_at, updated_at"
)
LINE_FIELDS = "id, sku, qty, from_loc, to_loc, picked, received, damaged"
KINDS = ("short", "over", "damaged")
RESOLUTIONS = ("write_off", "found", "claim", "accept")


def number(to_id: int) -> str:
    return f"TO-{to_id:06d}"


def find(conn: sqlite3.Connection, ref: str | int) -> dict:
    text = str(ref).strip().upper()
    if text.isdigit():
        found = one(conn, f"SELECT {TO_FIELDS} FROM transfer_orders WHERE id = ?", (int(text),))
    else:
        found = one(conn, f"SELECT {TO_FIELDS} FROM transfer_orders WHERE number = ?", (text,))
    if found is None:
        raise WorkflowError(404, "not_found", f"no transfer order {ref}")
    return found


def view(conn: sqlite3.Connection, ref: str | int) -> dict:
    to = find(conn, ref)
    to["lines"] = rows(
        conn, f"SELECT {LINE_FIELDS} FROM to_lines WHERE to_id = ? ORDER BY id", (to["id"],)
    )
    to["discrepancies"] = rows(
        conn,
        "SELECT id, sku, kind, qty, status, note, created_at, created_by, resolution, "
        "resolved_by, resolved_at FROM to_discrepancies WHERE to_id = ? ORDER BY id",
        (to["id"],),
    )
    to["scans"] = rows(
        conn,
        "SELECT movement_id, type, qty, ts, note FROM to_scans WHERE to_id = ? "
        "ORDER BY movement_id",
        (to["id"],),
    )
    return to


def listing(conn: sqlite3.Connection, args: dict, limit: int) -> list[dict]:
    where, params = [], []
    for name in ("status", "from_site", "to_site"):
        if args.get(name):
            where.append(f"{name} = ?")
            params.append(args[name])
    sql = f"SELECT {TO_FIELDS} FROM transfer_orders"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return rows(conn, sql + " ORDER BY id DESC LIMIT ?", (*params, limit))


def _set(conn, to: dict, new: str, **stamps: str) -> None:
    sets = ", ".join(["status = ?", "updated_at = ?"] + [f"{k} = ?" for k in stamps])
    conn.execute(
        f"UPDATE transfer_orders SET {sets} WHERE id = ?",
        (new, wire.now_ts(), *stamps.values(), to["id"]),
    )


# --- creation ---------------------------------------------------------------------------------


def _source_bin(conn, engine: StockEngine, site: str, item_id: int) -> str:
    """The source bin with the most on hand (read without the engine lock: only a default)."""
    bins = conn.execute(
        "SELECT loc, id FROM locations WHERE site = ? ORDER BY id", (site,)
    ).fetchall()
    if not bins:
        raise WorkflowError(404, "unknown_site", f"site {site} has no locations in master data")
    on_hand = engine.on_hand
    ids = np.array([i for _, i in bins], dtype=np.int64)
    if item_id < on_hand.shape[0]:
        inside = ids < on_hand.shape[1]
        stock = np.zeros(ids.size, dtype=np.int64)
        stock[inside] = on_hand[item_id, ids[inside]]
        return bins[int(np.argmax(stock))][0]
    return bins[0][0]


#: No freeze rules (a service built without central's planning settings).
NO_FREEZES = Freezes()


def _frozen_detail(hits: list[Hit], skus: list[str], src: str, dst: str) -> str:
    return "; ".join(f"lines[{skus.index(h.sku)}].sku: {h.describe(src, dst)}" for h in hits)


def create(
    conn,
    engine: StockEngine,
    actor: Actor,
    body: Any,
    source: str,
    freezes: Freezes = NO_FREEZES,
) -> tuple[dict, bool]:
    """`{"from_site","to_site","lines":[{"sku","qty"[,"from_loc","to_loc"]}]
    [,"key","note","override_freeze"]}`.

    A line that a promotion freeze forbids today is refused (409 frozen) unless the request
    asks for an override (`override_freeze`): the order is then proposed, and only an approver
    who overrides the freeze can approve it (`decide`)."""
    if not isinstance(body, dict):
        raise WorkflowError(400, "bad_request", "send a JSON object")
    src, dst = body.get("from_site"), body.get("to_site")
    if not wire.valid_id(src) or not wire.valid_id(dst) or src == dst:
        raise WorkflowError(400, "bad_request", "from_site and to_site must be two different sites")
    key = body.get("key")
    if key is not None:
        found = conn.execute(
            "SELECT id FROM transfer_orders WHERE suggestion_key = ?", (str(key),)
        ).fetchone()
        if found is not None:
            return view(conn, found[0]), False
    raw = body.get("lines")
    if not isinstance(raw, list) or not raw or len(raw) > 10_000:
        raise WorkflowError(400, "bad_request", "lines must be a non-empty list")
    parsed, seen = [], set()
    for n, line in enumerate(raw, 1):
        if not isinstance(line, dict) or not isinstance(line.get("sku"), str):
            raise WorkflowError(400, "bad_request", f"line {n}: sku is required")
        sku = line["sku"]
        item = conn.execute("SELECT id FROM items WHERE sku = ?", (sku,)).fetchone()
        if item is None:
            raise WorkflowError(
                404, "unknown_sku", f"line {n}: SKU {sku} is not in the item master"
            )
        if sku in seen:
            raise WorkflowError(400, "bad_request", f"line {n}: {sku} appears twice")
        seen.add(sku)
        qty = places.whole(line.get("qty"), f"line {n}: qty")
        from_loc = line.get("from_loc") or _source_bin(conn, engine, src, item[0])
        from_loc, _ = places.resolve(conn, src, from_loc)
        to_loc, _ = places.resolve(conn, dst, line.get("to_loc"))
        parsed.append((sku, item[0], qty, from_loc, to_loc))
    skus = [p[0] for p in parsed]
    hits = freezes.hits(conn, skus, src, dst, today())
    if hits and not body.get("override_freeze"):
        raise WorkflowError(
            409,
            "frozen",
            _frozen_detail(hits, skus, src, dst)
            + "; send override_freeze: true to propose it for an approver to override",
        )
    now = wire.now_ts()
    cur = conn.execute(
        "INSERT INTO transfer_orders (number, from_site, to_site, status, source, "
        "suggestion_key, note, created_at, created_by, updated_at) "
        "VALUES (?, ?, ?, 'proposed', ?, ?, ?, ?, ?, ?)",
        (f"tmp-{now}", src, dst, source, key, body.get("note"), now, actor.name, now),
    )
    to_id = cur.lastrowid
    conn.execute("UPDATE transfer_orders SET number = ? WHERE id = ?", (number(to_id), to_id))
    conn.executemany(
        "INSERT INTO to_lines (to_id, sku, item_id, qty, from_loc, to_loc) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [(to_id, *p) for p in parsed],
    )
    frozen = [{"sku": h.sku, "rule": h.rule} for h in hits]
    audit(
        conn,
        actor,
        f"transfer.create.{source}",
        number(to_id),
        json.dumps({"override_freeze_requested": frozen}) if frozen else "",
    )
    return view(conn, to_id), True


def from_suggestions(
    conn, engine, actor: Actor, body: Any, freezes: Freezes = NO_FREEZES
) -> list[tuple[dict, bool]]:
    """Planning's suggestion records (`sku, from_site, to_site, qty, …`), one TO per lane;
    frozen lines are refused as in `create` (a suggestion made before a freeze began)."""
    recs = body.get("suggestions") if isinstance(body, dict) else None
    if not isinstance(recs, list) or not recs:
        raise WorkflowError(400, "bad_request", 'send {"suggestions": [{"sku","from_site",…}]}')
    lanes: dict[tuple[str, str], list[dict]] = {}
    for n, r in enumerate(recs, 1):
        if not isinstance(r, dict):
            raise WorkflowError(400, "bad_request", f"suggestion {n} is not an object")
        lanes.setdefault((r.get("from_site"), r.get("to_site")), []).append(
            {"sku": r.get("sku"), "qty": r.get("qty")}
        )
    out = []
    for (src, dst), lines in lanes.items():
        digest = hashlib.sha1(
            repr(sorted((str(x["sku"]), str(x["qty"])) for x in lines)).encode()
        ).hexdigest()[:12]
        out.append(
            create(
                conn,
                engine,
                actor,
                {
                    "from_site": src,
                    "to_site": dst,
                    "lines": lines,
                    "key": f"sug-{src}-{dst}-{digest}",
                    "override_freeze": body.get("override_freeze", False),
                },
                "suggestion",
                freezes,
            )
        )
    return out


# --- decisions --------------------------------------------------------------------------------


def _task_lines(conn, to_id: int) -> list[dict]:
    return rows(
        conn,
        "SELECT sku, qty, picked, received, from_loc, to_loc FROM to_lines WHERE to_id = ? "
        "ORDER BY id",
        (to_id,),
    )


def _check_freeze(
    conn, to: dict, actor: Actor, note: str | None, override: bool, freezes: Freezes
) -> None:
    """Approving sends goods out: refused while a freeze covers a line (judged today, so a
    freeze that began after the order was proposed counts), unless this approver overrides
    it, which is audited as `transfer.freeze_override` with the rules and the note."""
    skus = [r[0] for r in conn.execute("SELECT sku FROM to_lines WHERE to_id = ?", (to["id"],))]
    hits = freezes.hits(conn, skus, to["from_site"], to["to_site"], today())
    if not hits:
        return
    if not override:
        raise WorkflowError(
            409,
            "frozen",
            f"{to['number']}: "
            + "; ".join(h.describe(to["from_site"], to["to_site"]) for h in hits)
            + "; an approver may override it: approve with override_freeze: true and a note",
        )
    frozen = [{"sku": h.sku, "rule": h.rule} for h in hits]
    audit(
        conn,
        actor,
        "transfer.freeze_override",
        to["number"],
        json.dumps({"frozen": frozen, "note": note}),
    )


def decide(
    conn,
    ref,
    event: str,
    actor: Actor,
    note: str | None,
    override_freeze: bool = False,
    freezes: Freezes = NO_FREEZES,
) -> dict:
    """approve (pushes the pick task to the source site; see `_check_freeze`), reject or
    cancel."""
    to = find(conn, ref)
    new = states.TRANSFER_ORDER.next(to["status"], event)
    if event in ("approve", "reject"):
        if actor.name == to["created_by"]:
            raise WorkflowError(
                403,
                "forbidden",
                f"{actor.name} proposed this transfer and cannot also decide on it",
            )
        if event == "approve":
            _check_freeze(conn, to, actor, note, override_freeze, freezes)
        conn.execute(
            "INSERT INTO approvals (doc_type, doc_id, revision, actor, role, decision, note, ts) "
            "VALUES ('transfer_order', ?, 1, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (to["id"], actor.name, actor.role, event, note, wire.now_ts()),
        )
    stamps = {"approved_at": wire.now_ts()} if new == "approved" else {"closed_at": wire.now_ts()}
    _set(conn, to, new, **stamps)
    if new == "approved":
        open_task(
            conn,
            to["from_site"],
            "transfer_out",
            to["number"],
            {
                "to_site": to["to_site"],
                "lines": _task_lines(conn, to["id"]),
                "scan": f"MODE:TRANSFER_OUT, REF:{to['number']}, TO:<to_loc>, then the items",
            },
        )
    if new == "cancelled":
        close_task(conn, "transfer_out", to["number"])
    audit(conn, actor, f"transfer.{event}", to["number"], json.dumps({"note": note}))
    return view(conn, to["id"])


def _to_in_transit(conn, to: dict) -> None:
    close_task(conn, "transfer_out", to["number"])
    open_task(
        conn,
        to["to_site"],
        "transfer_in",
        to["number"],
        {
            "from_site": to["from_site"],
            "lines": _task_lines(conn, to["id"]),
            "scan": f"MODE:TRANSFER_IN, REF:{to['number']}, then the items",
        },
    )


def dispatch(conn, ref, actor: Actor) -> dict:
    """Ship what was picked so far (the rest of the order is not coming)."""
    to = find(conn, ref)
    new = states.TRANSFER_ORDER.next(to["status"], "dispatch")
    _set(conn, to, new, dispatched_at=wire.now_ts())
    _to_in_transit(conn, to)
    audit(conn, actor, "transfer.dispatch", to["number"])
    return view(conn, to["id"])


def _discrepancy(conn, to_id, line_id, sku, kind, qty, who, note=None) -> None:
    conn.execute(
        "INSERT INTO to_discrepancies (to_id, line_id, sku, kind, qty, status, note, created_at, "
        "created_by) VALUES (?, ?, ?, ?, ?, 'open', ?, ?, ?)",
        (to_id, line_id, sku, kind, qty, note, wire.now_ts(), who),
    )


def _open_discrepancies(conn, to_id: int) -> int:
    return conn.execute(
        "SELECT count(*) FROM to_discrepancies WHERE to_id = ? AND status = 'open'", (to_id,)
    ).fetchone()[0]


def complete(conn, ref, actor: Actor) -> dict:
    """The destination has finished receiving: what is short or over becomes a discrepancy."""
    to = find(conn, ref)
    states.TRANSFER_ORDER.next(to["status"], "complete")
    for line_id, sku, picked, received in conn.execute(
        "SELECT id, sku, picked, received FROM to_lines WHERE to_id = ?", (to["id"],)
    ).fetchall():
        if received < picked:
            _discrepancy(conn, to["id"], line_id, sku, "short", picked - received, actor.name)
        elif received > picked:
            _discrepancy(conn, to["id"], line_id, sku, "over", received - picked, actor.name)
    new = "discrepancy" if _open_discrepancies(conn, to["id"]) else "closed"
    _set(
        conn,
        to,
        states.TRANSFER_ORDER.next(to["status"], "complete", new),
        **({"closed_at": wire.now_ts()} if new == "closed" else {}),
    )
    close_task(conn, "transfer_in", to["number"])
    audit(conn, actor, "transfer.complete", to["number"])
    return view(conn, to["id"])


def report(conn, ref, actor: Actor, body: Any) -> dict:
    """Staff report a discrepancy by hand: `{"sku","kind":"damaged"|"short"|"over","qty"}`."""
    to = find(conn, ref)
    if to["status"] not in ("in_transit", "receiving", "discrepancy"):
        raise WorkflowError(
            409,
            "invalid_transition",
            f"a transfer order in state {to['status']} has nothing arriving",
        )
    if not isinstance(body, dict) or body.get("kind") not in KINDS:
        raise WorkflowError(400, "bad_request", f"kind must be one of {', '.join(KINDS)}")
    qty = places.whole(body.get("qty"), "qty")
    line = conn.execute(
        "SELECT id FROM to_lines WHERE to_id = ? AND sku = ?", (to["id"], body.get("sku"))
    ).fetchone()
    if line is None:
        raise WorkflowError(404, "not_found", f"{body.get('sku')} is not on {to['number']}")
    if body["kind"] == "damaged":
        conn.execute("UPDATE to_lines SET damaged = damaged + ? WHERE id = ?", (qty, line[0]))
    _discrepancy(
        conn, to["id"], line[0], body["sku"], body["kind"], qty, actor.name, body.get("note")
    )
    audit(conn, actor, "transfer.discrepancy", to["number"], json.dumps(body)[:500])
    return view(conn, to["id"])


def _outstanding(conn, to_id: int, line_id: int) -> int:
    """Units of a line still in transit: picked, less received by scans, less what earlier
    resolutions already brought in (central's transfer_in events for this order and SKU)."""
    picked, received, sku = conn.execute(
        "SELECT picked, received, sku FROM to_lines WHERE id = ?", (line_id,)
    ).fetchone()
    cleared = conn.execute(
        "SELECT coalesce(sum(json_extract(event, '$.qty')), 0) FROM wf_outbox "
        "WHERE purpose = 'transfer' AND doc_id = ? AND status != 'failed' "
        "AND json_extract(event, '$.type') = 'transfer_in' AND json_extract(event, '$.sku') = ?",
        (to_id, sku),
    ).fetchone()[0]
    return max(0, int(picked) - int(received) - int(cleared))


def _settle_short(
    conn, movements: CentralMovements, to: dict, d: dict, resolution: str, actor: Actor
) -> None:
    """A short leaves nothing in transit, whatever the resolution: `found` brings the units in
    at the destination bin (transfer_in: they are there after all); `write_off`, `claim` and
    `accept` bring them in and scrap them (they are gone; the loss shows as scrap). Only what
    is still outstanding on the line moves, so two shorts for the same gap, or a late receipt
    scan before the resolution, never bring in more than was picked."""
    qty = min(d["qty"], _outstanding(conn, to["id"], d["line_id"]))
    if qty <= 0:
        return
    common = {
        "sku": d["sku"],
        "qty": qty,
        "loc": d["to_loc"],
        "ref": to["number"],
        "operator": actor.name[:64],
    }
    events = [{"type": "transfer_in", **common}]
    if resolution != "found":
        events.append({"type": "scrap", **common})
    movements.add(conn, to["to_site"], events, "transfer", to["id"])


def resolve(conn, movements: CentralMovements, ref, disc_id: int, actor: Actor, body: Any) -> dict:
    """Resolve one discrepancy; the order closes when none is open and nothing is arriving."""
    to = find(conn, ref)
    resolution = body.get("resolution") if isinstance(body, dict) else None
    if resolution not in RESOLUTIONS:
        raise WorkflowError(
            400, "bad_request", f"resolution must be one of {', '.join(RESOLUTIONS)}"
        )
    d = one(
        conn,
        "SELECT d.id, d.line_id, d.kind, d.qty, d.status, d.sku, l.to_loc "
        "FROM to_discrepancies d JOIN to_lines l ON l.id = d.line_id "
        "WHERE d.id = ? AND d.to_id = ?",
        (disc_id, to["id"]),
    )
    if d is None:
        raise WorkflowError(404, "not_found", f"no discrepancy {disc_id} on {to['number']}")
    if d["status"] != "open":
        raise WorkflowError(409, "already_decided", f"discrepancy {disc_id} is already resolved")
    conn.execute(
        "UPDATE to_discrepancies SET status = 'resolved', resolution = ?, resolved_by = ?, "
        "resolved_at = ?, note = coalesce(?, note) WHERE id = ?",
        (resolution, actor.name, wire.now_ts(), body.get("note"), disc_id),
    )
    if d["kind"] == "short":
        _settle_short(conn, movements, to, d, resolution, actor)
    if to["status"] == "discrepancy":
        done = _open_discrepancies(conn, to["id"]) == 0
        new = states.TRANSFER_ORDER.next(
            to["status"], "resolve", "closed" if done else "discrepancy"
        )
        if new != to["status"]:
            _set(conn, to, new, closed_at=wire.now_ts())
    audit(
        conn,
        actor,
        "transfer.resolve",
        to["number"],
        json.dumps({"id": disc_id, "resolution": resolution}),
    )
    return view(conn, to["id"])


# --- scans (ledger scan) ----------------------------------------------------------------------


def on_scan(conn, m: dict) -> None:
    """transfer_out at the source, transfer_in or scrap at the destination, REF: the TO number.

    Every scan naming a TO is kept in `to_scans`, with a note when it changed nothing (wrong
    site, wrong state, a SKU not on the order)."""
    try:
        to = find(conn, m["ref"])
    except WorkflowError:
        log.warning("movement %s names unknown transfer %s", m["id"], m["ref"])
        return
    line = conn.execute(
        "SELECT id, to_loc FROM to_lines WHERE to_id = ? AND sku = ?", (to["id"], m["sku"])
    ).fetchone()
    if line is None:
        _scan_note(conn, m, to, f"{m['sku']} is not on this transfer")
    elif m["type"] == "transfer_out":
        _picked(conn, m, to, line[0])
    elif m["site"] != to["to_site"]:
        where = f"{m['type']} at {m['site']}, not at the destination {to['to_site']}"
        _scan_note(conn, m, to, f"ignored: {where}")
    elif m["type"] == "scrap":
        _scrapped(conn, m, to, line[0])
    else:
        _received(conn, m, to, line[0])


def _scan_note(conn, m: dict, to: dict, text: str | None, line_id: int | None = None) -> None:
    conn.execute(
        "INSERT OR IGNORE INTO to_scans (movement_id, to_id, line_id, type, qty, ts, note) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (m["id"], to["id"], line_id, m["type"], m["qty"], m["ts"], text),
    )


def _picked(conn, m: dict, to: dict, line_id: int) -> None:
    """A pick at the source; the order is in transit once every line is picked in full."""
    status = to["status"]
    if m["site"] != to["from_site"] or not states.TRANSFER_ORDER.allowed(status, "pick"):
        _scan_note(conn, m, to, f"ignored: {to['number']} is {status} (picks at {to['from_site']})")
        return
    conn.execute("UPDATE to_lines SET picked = picked + ? WHERE id = ?", (m["qty"], line_id))
    untracked = None if m.get("to_loc") else "no TO: destination scanned; in_transit not tracked"
    _scan_note(conn, m, to, untracked, line_id)
    done = all(
        p >= q
        for q, p in conn.execute("SELECT qty, picked FROM to_lines WHERE to_id = ?", (to["id"],))
    )
    new = states.TRANSFER_ORDER.next(status, "pick", "in_transit" if done else "picking")
    if new != status:
        _set(conn, to, new, **({"dispatched_at": wire.now_ts()} if done else {}))
    if new == "in_transit":
        _to_in_transit(conn, to)


def _scrapped(conn, m: dict, to: dict, line_id: int) -> None:
    """A scrap scan at the destination: goods that arrived damaged, a discrepancy."""
    if to["status"] not in ("in_transit", "receiving", "discrepancy"):
        _scan_note(conn, m, to, f"ignored: {to['number']} is {to['status']}")
        return
    conn.execute("UPDATE to_lines SET damaged = damaged + ? WHERE id = ?", (m["qty"], line_id))
    _discrepancy(conn, to["id"], line_id, m["sku"], "damaged", m["qty"], m["device"], "scrap scan")
    _scan_note(conn, m, to, "damaged", line_id)


def _received(conn, m: dict, to: dict, line_id: int) -> None:
    """A receipt at the destination; when every line has arrived in full the order closes,
    or waits on the discrepancies (more received than picked) it raised."""
    status = to["status"]
    if not states.TRANSFER_ORDER.allowed(status, "receive"):
        _scan_note(conn, m, to, f"ignored: {to['number']} is {status}")
        return
    conn.execute("UPDATE to_lines SET received = received + ? WHERE id = ?", (m["qty"], line_id))
    _scan_note(conn, m, to, None, line_id)
    if status == "discrepancy":
        return
    lines = conn.execute(
        "SELECT qty, picked, received FROM to_lines WHERE to_id = ?", (to["id"],)
    ).fetchall()
    if all(r >= p for _, p, r in lines):
        _over_receipts(conn, m, to)
        new = "discrepancy" if _open_discrepancies(conn, to["id"]) else "closed"
        close_task(conn, "transfer_in", to["number"])
    else:
        new = "receiving"
    new = states.TRANSFER_ORDER.next(status, "receive", new)
    if new != status:
        _set(conn, to, new, **({"closed_at": wire.now_ts()} if new == "closed" else {}))


def _over_receipts(conn, m: dict, to: dict) -> None:
    """A discrepancy for every line that received more than was picked."""
    for lid, sku, p, r in conn.execute(
        "SELECT id, sku, picked, received FROM to_lines WHERE to_id = ? AND received > picked",
        (to["id"],),
    ).fetchall():
        _discrepancy(
            conn, to["id"], lid, sku, "over", r - p, m["device"], "received more than picked"
        )
