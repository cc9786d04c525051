"""Central's REST API (a Flask blueprint): stock, movements, dead letters, health.

Stock reads come from the engine's arrays, never from summing the ledger, so a scan is visible the
moment its group commits. Every query parameter reaches SQL as a bound parameter.
"""

from __future__ import annotations

import json
from concurrent.futures import TimeoutError as FutureTimeout

import numpy as np
from flask import Blueprint, current_app, jsonify

from central.access.tokens import audit
from central.http import openapi
from central.http.contract import endpoint
from central.http.errors import ApiError
from central.http.models import (
    DEAD_LETTER_FIELDS,
    MOVEMENT_FIELDS,
    DeadLetterPage,
    DeadLetterQuery,
    Health,
    LeadTimes,
    MovementPage,
    MovementQuery,
    StockPage,
    StockQuery,
)

bp = Blueprint("api", __name__, url_prefix="/api")


def reader():
    """This thread's read-only connection (central's storage keeps one per thread)."""
    return current_app.config["READER"]()


def _state():
    return current_app.config["STATE"]


@bp.get("/health")
@endpoint(response=Health)
def health():
    """Liveness, broker connection and every device's watermark."""
    st = _state()
    conn = reader()
    devices = [
        dict(zip(("device", "site", "upto", "state", "queue", "last_seen"), r, strict=True))
        for r in conn.execute(
            "SELECT device, site, upto, state, queue, last_seen FROM devices ORDER BY device"
        )
    ]
    open_dl = conn.execute("SELECT count(*) FROM dead_letters WHERE status = 'open'").fetchone()[0]
    return jsonify(
        status="ok",
        broker_connected=st.bus.connected if st.bus else False,
        movements_applied=st.engine.applied,
        ingest_queue=st.ingest.queue.qsize() if st.ingest else 0,
        open_dead_letters=open_dl,
        devices=devices,
    )


@bp.get("/stock")
@endpoint(query=StockQuery, response=StockPage)
def stock(query: StockQuery):
    """Stock per SKU × location (by=site: per SKU × site), from the engine's arrays."""
    st = _state()
    cat = st.catalog
    conn = reader()
    item_ids = loc_ids = None
    sku = query.sku
    gtin = query.gtin
    if gtin:
        sku_for = cat.sku_for_gtin(conn, gtin)
        if sku_for is None or (sku and sku != sku_for):
            return jsonify(rows=[], count=0)
        sku = sku_for
    if sku:
        item_id = cat.item_id(conn, sku)
        if item_id is None:
            return jsonify(rows=[], count=0)
        item_ids = np.array([item_id], dtype=np.int64)
    loc, site = query.loc, query.site
    if loc:
        loc_id = cat.location_id(conn, loc)
        if loc_id is None or (site and cat.loc_site.get(loc) != site):
            return jsonify(rows=[], count=0)
        loc_ids = np.array([loc_id], dtype=np.int64)
    elif site:
        cat.refresh(conn)
        loc_ids = np.array(
            sorted(i for name, i in cat.loc_id.items() if cat.loc_site[name] == site),
            dtype=np.int64,
        )
    by, limit = query.by, query.limit
    cells = st.engine.cells(item_ids, loc_ids)
    rows: dict[tuple[str, str], dict] = {}
    for item_id, loc_id, on_hand, reserved, in_transit, on_order in cells:
        sku_name = cat.sku_by_id.get(item_id)
        loc_name = cat.loc_by_id.get(loc_id)
        if sku_name is None or loc_name is None:
            cat.refresh(conn)
            sku_name, loc_name = cat.sku_by_id[item_id], cat.loc_by_id[loc_id]
        key = (sku_name, cat.loc_site[loc_name] if by == "site" else loc_name)
        row = rows.get(key)
        if row is None:
            row = rows[key] = {"sku": key[0], "site": cat.loc_site[loc_name]}
            if by == "loc":
                row["loc"] = loc_name
            row.update(on_hand=0, reserved=0, available=0, in_transit=0, on_order=0)
        row["on_hand"] += on_hand
        row["reserved"] += reserved
        row["available"] += on_hand - reserved
        row["in_transit"] += in_transit
        row["on_order"] += on_order
    out = sorted(rows.values(), key=lambda r: (r["sku"], r.get("loc", r["site"])))
    return jsonify(rows=out[:limit], count=len(out), truncated=len(out) > limit)


@bp.get("/movements")
@endpoint(query=MovementQuery, response=MovementPage)
def movements(query: MovementQuery):
    """Ledger rows in ledger order; page with after_id."""
    where: list[str] = []
    params: list[object] = []
    for name in ("device", "sku", "type", "site", "loc", "ref"):
        value = getattr(query, name)
        if value:
            where.append(f"{name} = ?")
            params.append(value)
    if query.since:
        where.append("ts >= ?")
        params.append(query.since)
    if query.flagged is not None:  # the review list of movements scanned before a count
        where.append("flagged != 0" if query.flagged else "flagged = 0")
    where.append("id > ?")
    params.append(query.after_id)
    limit = query.limit
    sql = (
        f"SELECT {', '.join(MOVEMENT_FIELDS)} FROM movements WHERE {' AND '.join(where)} "
        "ORDER BY id LIMIT ?"
    )
    rows = [
        dict(zip(MOVEMENT_FIELDS, r, strict=True))
        for r in reader().execute(sql, (*params, limit + 1))
    ]
    more = len(rows) > limit
    rows = rows[:limit]
    return jsonify(rows=rows, next_after_id=rows[-1]["id"] if more else None)


@bp.get("/dead-letters")
@endpoint(query=DeadLetterQuery, response=DeadLetterPage)
def dead_letters(query: DeadLetterQuery):
    """Rejected messages and events with their reason codes."""
    where: list[str] = []
    params: list[object] = []
    if query.status != "all":
        where.append("status = ?")
        params.append(query.status)
    for name in ("device", "code"):
        value = getattr(query, name)
        if value:
            where.append(f"{name} = ?")
            params.append(value)
    limit = query.limit
    sql = f"SELECT {', '.join(DEAD_LETTER_FIELDS)} FROM dead_letters"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY id LIMIT ?"
    rows = []
    for r in reader().execute(sql, (*params, limit)):
        row = dict(zip(DEAD_LETTER_FIELDS, r, strict=True))
        if row["event"] and row["event"].startswith("{"):
            row["event"] = json.loads(row["event"])
        rows.append(row)
    return jsonify(rows=rows)


@bp.post("/dead-letters/<int:dl_id>/retry")
@endpoint(roles=("planner", "admin"), errors=(409, 503))
def retry_dead_letter(dl_id: int):
    """Re-validate a dead letter once its cause is fixed."""
    ingest = _state().ingest
    try:
        result = ingest.retry(dl_id).result(timeout=30)
    except LookupError as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    except ValueError as exc:
        raise ApiError(409, "not_retryable", str(exc)) from None
    except FutureTimeout:
        raise ApiError(503, "busy", "ingest is busy; try again") from None
    except RuntimeError as exc:  # its group was dropped by a failed commit (central.ingest)
        raise ApiError(503, "retry_later", str(exc)) from None
    with current_app.config["STORAGE"].tx() as conn:
        audit(conn, "dead_letter.retry", str(dl_id), json.dumps(result))
    if result.get("error"):
        raise ApiError(409, result["error"], f"still rejected: {result['detail']}")
    return jsonify(result)


@bp.get("/lead-times")
@endpoint(response=LeadTimes)
def lead_times():
    """Supplier lead times from the item master."""
    rows = [
        {"supplier": s, "sku": sku, "mean_days": lt, "n": 0}
        for s, sku, lt in reader().execute(
            "SELECT supplier, sku, lead_time_days FROM items "
            "WHERE supplier IS NOT NULL AND lead_time_days IS NOT NULL ORDER BY supplier, sku"
        )
    ]
    return jsonify(rows=rows)


@bp.get("/openapi.json")
@endpoint()
def openapi_document():
    """This document, generated from the routes and their models."""
    return jsonify(openapi.document(current_app))
