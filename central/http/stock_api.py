"""Central's REST API (a Flask blueprint): stock, movements, dead letters, health.

Stock reads come from the engine's arrays, never from summing the ledger, so a scan is visible the
moment its group commits. Every query parameter reaches SQL as a bound parameter.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import TimeoutError as FutureTimeout

import numpy as np
from flask import Blueprint, current_app, jsonify, request

from central.access.tokens import audit, require_role
from central.http.errors import ApiError
from central.http.openapi import SPEC
from central.stock import ledger

bp = Blueprint("api", __name__, url_prefix="/api")
_local = threading.local()

MAX_LIMIT = 100_000


def reader():
    """This thread's read-only ledger connection."""
    path = current_app.config["DB_PATH"]
    conn = getattr(_local, "conn", None)
    if conn is None or getattr(_local, "path", None) != path:
        if conn is not None:
            conn.close()  # a test or a second app on another ledger: don't leak the old one
        conn = _local.conn = ledger.reader(path)
        _local.path = path
    return conn


def _state():
    return current_app.config["STATE"]


def _int_arg(name: str, default: int, lo: int = 0, hi: int = MAX_LIMIT) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "bad_request", f"{name} must be an integer, got {raw!r}") from None
    if not lo <= value <= hi:
        raise ApiError(400, "bad_request", f"{name} must be between {lo} and {hi}")
    return value


@bp.get("/health")
def health():
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
def stock():
    st = _state()
    cat = st.catalog
    conn = reader()
    args = request.args
    item_ids = loc_ids = None
    sku = args.get("sku")
    gtin = args.get("gtin")
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
    loc, site = args.get("loc"), args.get("site")
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
    by = args.get("by", "loc")
    if by not in ("loc", "site"):
        raise ApiError(400, "bad_request", "by must be loc or site")
    limit = _int_arg("limit", 10_000, 1)
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


#: The ledger's columns as the API shows them: without the engine's internal ids and codes.
MOVEMENT_FIELDS = ("id",) + tuple(
    c for c in ledger.MOVEMENT_COLUMNS if c not in ("kind", "sku_id", "loc_id", "to_loc_id", "raw")
)


@bp.get("/movements")
def movements():
    where, params = [], []
    for name, column in (
        ("device", "device"),
        ("sku", "sku"),
        ("type", "type"),
        ("site", "site"),
        ("loc", "loc"),
        ("ref", "ref"),
    ):
        if request.args.get(name):
            where.append(f"{column} = ?")
            params.append(request.args[name])
    if request.args.get("since"):
        where.append("ts >= ?")
        params.append(request.args["since"])
    after_id = _int_arg("after_id", 0, 0, 2**62)
    where.append("id > ?")
    params.append(after_id)
    limit = _int_arg("limit", 1000, 1)
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


DEAD_LETTER_FIELDS = (
    "id",
    "received_at",
    "topic",
    "device",
    "site",
    "seq",
    "code",
    "detail",
    "event",
    "payload",
    "status",
    "attempts",
    "resolved_at",
)


@bp.get("/dead-letters")
def dead_letters():
    status = request.args.get("status", "open")
    where, params = [], []
    if status != "all":
        where.append("status = ?")
        params.append(status)
    for name in ("device", "code"):
        if request.args.get(name):
            where.append(f"{name} = ?")
            params.append(request.args[name])
    limit = _int_arg("limit", 1000, 1)
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
@require_role("planner", "admin")
def retry_dead_letter(dl_id: int):
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
    conn = ledger.connect(current_app.config["DB_PATH"])
    try:
        audit(conn, "dead_letter.retry", str(dl_id), json.dumps(result))
    finally:
        conn.close()
    if result.get("error"):
        raise ApiError(409, result["error"], f"still rejected: {result['detail']}")
    return jsonify(result)


@bp.get("/lead-times")
def lead_times():
    rows = [
        {"supplier": s, "sku": sku, "mean_days": lt, "n": 0}
        for s, sku, lt in reader().execute(
            "SELECT supplier, sku, lead_time_days FROM items "
            "WHERE supplier IS NOT NULL AND lead_time_days IS NOT NULL ORDER BY supplier, sku"
        )
    ]
    return jsonify(rows=rows)


@bp.get("/openapi.json")
def openapi():
    return jsonify(SPEC)
