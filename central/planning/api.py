"""REST API of planning (a Flask blueprint under /api): alerts, proposals, transfer
suggestions, slow movers, KPIs, forecasts, and running a pass.

Reads are open like the rest of /api and come from the last full pass (and, for alerts, from
the alert tables plus the live alert book). Writes need a bearer token: marking a false alarm
is for staff and planners, running a pass for planners (admin always passes); both are audited.
"""

from __future__ import annotations

import json

from flask import Blueprint, current_app, jsonify, request

from central.access.tokens import audit, require_role
from central.http.errors import ApiError
from central.http.stock_api import reader
from central.planning.core.alerts import TIER_NAMES
from central.planning.service import PassOutcome, PlanningService
from central.planning.views import ALERT_STATUSES, KPI_GROUPS
from central.planning.views import alert_events as _alert_events
from central.planning.views import alerts as _alerts
from central.planning.views import forecasts as _forecasts
from central.planning.views import kpis as _kpis
from central.planning.views import proposals as _proposals
from central.planning.views import slow_movers as _slow_movers
from central.planning.views import transfers as _transfers
from central.stock import ledger

bp = Blueprint("planning", __name__, url_prefix="/api")

MAX_LIMIT = 100_000
READY_TIMEOUT_S = 120.0


def service() -> PlanningService:
    svc = getattr(current_app.config["STATE"], "planning", None)
    if svc is None:
        raise ApiError(503, "unavailable", "planning is not running in this central")
    return svc


def outcome() -> PassOutcome:
    """The last full pass, or 503 while the first one has not finished."""
    last = service().latest
    if last is None:
        detail = service().error or "the first planning pass has not finished yet; retry shortly"
        raise ApiError(503, "not_ready", detail)
    return last


def _choice(name: str, allowed: tuple[str, ...], default: str | None = None) -> str | None:
    value = request.args.get(name) or default
    if value is not None and value not in allowed:
        raise ApiError(400, "bad_request", f"{name} must be one of {', '.join(allowed)}")
    return value


def _int(name: str, default: int, lo: int, hi: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw.rstrip("wW") if name == "period" else raw)
    except ValueError:
        raise ApiError(400, "bad_request", f"{name} must be an integer, got {raw!r}") from None
    if not lo <= value <= hi:
        raise ApiError(400, "bad_request", f"{name} must be between {lo} and {hi}")
    return value


@bp.get("/alerts")
def alerts():
    status = _choice("status", ALERT_STATUSES, "open")
    tier = _choice("tier", TIER_NAMES[1:])
    st = service().state
    rows = _alerts(
        reader(),
        None if st is None else st.book,
        site=request.args.get("site"),
        sku=request.args.get("sku"),
        tier=tier,
        status=status,
        limit=_int("limit", 1000, 1, MAX_LIMIT),
    )
    return jsonify(rows=rows, count=len(rows))


@bp.get("/alerts/<int:alert_id>")
def alert(alert_id: int):
    st = service().state
    rows = _alerts(reader(), None if st is None else st.book, status="all", alert_id=alert_id)
    if not rows:
        raise ApiError(404, "not_found", f"no alert {alert_id}")
    row = rows[0]
    row["events"] = _alert_events(reader(), alert_id)
    return jsonify(row)


@bp.post("/alerts/<int:alert_id>/false")
@require_role("staff", "planner")
def mark_false(alert_id: int):
    """A person says this alert was a false alarm: it closes, and its SKU × site stays quiet
    at that tier until the condition gets worse or recovers."""
    body = request.get_json(silent=True)
    note = body.get("note") if isinstance(body, dict) else None
    if note is not None and (not isinstance(note, str) or len(note) > 1000):
        raise ApiError(400, "bad_request", "note must be text of at most 1000 characters")
    svc = service()
    if not svc.wait_ready(READY_TIMEOUT_S) or svc.state is None:
        raise ApiError(503, "not_ready", svc.error or "planning is still loading")
    detail = json.dumps({"note": note}) if note else ""
    try:
        change = svc.mark_false(
            alert_id, lambda conn: audit(conn, "alert.false", str(alert_id), detail)
        )
    except LookupError as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    except ValueError as exc:
        raise ApiError(409, "not_open", str(exc)) from None
    change.pop("series", None)
    return jsonify(change)


@bp.get("/replenishment/proposals")
def proposals():
    return jsonify(
        _proposals(outcome(), supplier=request.args.get("supplier"), site=request.args.get("site"))
    )


@bp.get("/transfers/suggestions")
def transfer_suggestions():
    rows = _transfers(
        outcome(),
        sku=request.args.get("sku"),
        from_site=request.args.get("from_site"),
        to_site=request.args.get("to_site"),
    )
    return jsonify(rows=rows, count=len(rows))


@bp.get("/slow-movers")
def slow_movers():
    rows = _slow_movers(
        outcome(),
        site=request.args.get("site"),
        sku=request.args.get("sku"),
        reason=request.args.get("reason"),
    )
    return jsonify(rows=rows, count=len(rows))


@bp.get("/kpis")
def kpis():
    svc = service()
    group = _choice("group", KPI_GROUPS)
    weeks = _int("period", 0, 1, 52) or _int("weeks", svc.settings.planning.kpi_weeks, 1, 52)
    return jsonify(
        _kpis(
            outcome(),
            reader(),
            svc.settings,
            weeks=weeks,
            groups=(group,) if group else KPI_GROUPS,
            site=request.args.get("site"),
            category=request.args.get("category"),
        )
    )


@bp.get("/forecasts")
def forecasts():
    sku = request.args.get("sku")
    if not sku:
        raise ApiError(400, "bad_request", "sku is required")
    last = outcome()
    site = request.args.get("site")
    if sku not in last.ix.sku_index:
        raise ApiError(404, "not_found", f"SKU {sku} is not planned (not in the item master?)")
    if site and site not in last.ix.site_index:
        raise ApiError(404, "not_found", f"site {site} has no locations in master data")
    rows = _forecasts(last, sku, site, horizon=_int("horizon", 14, 1, 365))
    return jsonify(rows=rows, pass_ts=last.ts)


@bp.post("/planning/run")
@require_role("planner")
def run():
    """Run a full pass now and wait for it (passes never overlap: this may wait for one)."""
    svc = service()
    if not svc.wait_ready(READY_TIMEOUT_S):
        raise ApiError(503, "not_ready", "planning is still loading; retry shortly")
    result = svc.run_pass("api")
    conn = ledger.connect(current_app.config["DB_PATH"])
    try:
        audit(conn, "planning.run", str(result.get("seq", "")), json.dumps(result)[:2000])
    finally:
        conn.close()
    return jsonify(result)


@bp.get("/planning/status")
def status():
    return jsonify(service().status())
