"""REST API of planning (a Flask blueprint under /api): alerts, proposals, transfer
suggestions, slow movers, KPIs, forecasts, and running a pass.

Reads are open like the rest of /api and come from the last full pass (and, for alerts, from
the alert tables plus the live alert book). Writes need a bearer token: marking a false alarm
is for staff and planners, running a pass for planners (admin always passes); both are audited.
What each route takes and answers is declared in central.planning.models.
"""

from __future__ import annotations

import json

from flask import Blueprint, current_app, jsonify

from central.access.tokens import audit
from central.http.contract import NoteBody, endpoint
from central.http.errors import ApiError
from central.http.stock_api import reader
from central.planning.models import (
    AlertDetail,
    AlertList,
    AlertQuery,
    ForecastQuery,
    KpiQuery,
    LeadTimeQuery,
    ProposalQuery,
    SlowMoverQuery,
    SuggestionQuery,
)
from central.planning.service import PassOutcome, PlanningService
from central.planning.views import KPI_GROUPS
from central.planning.views import alert_events as _alert_events
from central.planning.views import alerts as _alerts
from central.planning.views import forecasts as _forecasts
from central.planning.views import kpis as _kpis
from central.planning.views import lead_times as _lead_times
from central.planning.views import proposals as _proposals
from central.planning.views import slow_movers as _slow_movers
from central.planning.views import transfers as _transfers

bp = Blueprint("planning", __name__, url_prefix="/api")

READY_TIMEOUT_S = 120.0
#: Writes that may change a position without a ledger movement: purchase orders (approved,
#: cancelled, closed: on order), transfer orders, reservations (reserved).


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


@bp.get("/alerts")
@endpoint(query=AlertQuery, response=AlertList, errors=(503,))
def alerts(query: AlertQuery):
    """Stock alerts, worst first (open ones with the live position)."""
    st = service().state
    rows = _alerts(
        reader(),
        None if st is None else st.book,
        site=query.site,
        sku=query.sku,
        tier=query.tier,
        status=query.status,
        limit=query.limit,
    )
    return jsonify(rows=rows, count=len(rows))


@bp.get("/alerts/<int:alert_id>")
@endpoint(response=AlertDetail, errors=(503,))
def alert(alert_id: int):
    """One alert with its history of changes."""
    st = service().state
    rows = _alerts(reader(), None if st is None else st.book, status="all", alert_id=alert_id)
    if not rows:
        raise ApiError(404, "not_found", f"no alert {alert_id}")
    row = rows[0]
    row["events"] = _alert_events(reader(), alert_id)
    return jsonify(row)


@bp.post("/alerts/<int:alert_id>/false")
@endpoint(roles=("staff", "planner"), body=NoteBody, body_required=False, errors=(409, 503))
def mark_false(alert_id: int, body: NoteBody):
    """Mark an open alert as a false alarm.

    It closes, and its SKU × site stays quiet at that tier until the condition gets worse or
    recovers."""
    note = body.note
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
@endpoint(query=ProposalQuery, errors=(503,))
def proposals(query: ProposalQuery):
    """The last pass's reorder proposals as draft purchase orders."""
    return jsonify(_proposals(outcome(), supplier=query.supplier, site=query.site))


@bp.get("/transfers/suggestions")
@endpoint(query=SuggestionQuery, errors=(503,))
def transfer_suggestions(query: SuggestionQuery):
    """Transfers of surplus to sites below safety stock."""
    rows = _transfers(outcome(), sku=query.sku, from_site=query.from_site, to_site=query.to_site)
    return jsonify(rows=rows, count=len(rows))


@bp.get("/slow-movers")
@endpoint(query=SlowMoverQuery, errors=(503,))
def slow_movers(query: SlowMoverQuery):
    """Slow movers with clearance suggestions."""
    rows = _slow_movers(outcome(), site=query.site, sku=query.sku, reason=query.reason)
    return jsonify(rows=rows, count=len(rows))


@bp.get("/kpis")
@endpoint(query=KpiQuery, errors=(503,))
def kpis(query: KpiQuery):
    """KPIs per site, category and total over `period` weeks."""
    svc = service()
    weeks = query.weeks or svc.settings.planning.kpi_weeks
    if query.period is not None:
        weeks = int(query.period.rstrip("wW"))
        if not 1 <= weeks <= 52:
            raise ApiError(400, "bad_request", "period: expected 1 to 52 weeks")
    return jsonify(
        _kpis(
            outcome(),
            reader(),
            svc.settings,
            weeks=weeks,
            groups=(query.group,) if query.group else KPI_GROUPS,
            site=query.site,
            category=query.category,
        )
    )


@bp.get("/forecasts")
@endpoint(query=ForecastQuery, errors=(503,))
def forecasts(query: ForecastQuery):
    """Model, forecast and policy figures of a SKU (at a site, or at every site)."""
    last = outcome()
    sku, site = query.sku, query.site
    if sku not in last.ix.sku_index:
        raise ApiError(404, "not_found", f"SKU {sku} is not planned (not in the item master?)")
    if site and site not in last.ix.site_index:
        raise ApiError(404, "not_found", f"site {site} has no locations in master data")
    rows = _forecasts(last, sku, site, horizon=query.horizon)
    return jsonify(rows=rows, pass_ts=last.ts)


@bp.get("/planning/lead-times")
@endpoint(query=LeadTimeQuery, errors=(503,))
def lead_times(query: LeadTimeQuery):
    """Each supplier's lead time as planning uses it: observed once there are enough orders."""
    rows = _lead_times(outcome(), query.supplier)
    return jsonify(rows=rows, count=len(rows))


@bp.post("/planning/run")
@endpoint(roles=("planner",), errors=(503,))
def run():
    """Run a full planning pass now and wait for it (passes never overlap: this may wait)."""
    svc = service()
    if not svc.wait_ready(READY_TIMEOUT_S):
        raise ApiError(503, "not_ready", "planning is still loading; retry shortly")
    result = svc.run_pass("api")
    with current_app.config["STORAGE"].tx() as conn:
        audit(conn, "planning.run", str(result.get("seq", "")), json.dumps(result)[:2000])
    return jsonify(result)


@bp.get("/planning/status")
@endpoint()
def status():
    """Planning's state, its last pass and the incremental timings."""
    return jsonify(service().status())
