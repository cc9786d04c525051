"""The Flask app over central's parts: the stock API, workflows, planning and the dashboard.

Why the app only builds: starting threads is `central.lifecycle`'s job, so that building an app
(a test client, a second server on the same parts) never starts a second desk or pass thread,
and what runs is decided in one place. `CentralState` is what the app serves; the lifecycle
fills it in and the views reach it as `current_app.config["STATE"]`.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask

from central.http import errors
from central.http.dashboard import bp as dashboard_bp
from central.http.stock_api import bp as api_bp
from central.ingest.bus import CentralBus
from central.ingest.pipeline import Ingest
from central.planning import api as api_planning
from central.planning.service import PlanningService
from central.stock.catalog import Catalog
from central.stock.engine import StockEngine
from central.stock.storage import Storage
from central.workflows import api as api_workflows
from central.workflows.service import WorkflowService


@dataclass
class CentralState:
    """Central's parts, opened by `central.lifecycle.load_state`; the ingest and the bus are
    there once `central.lifecycle.start` was given a broker."""

    #: The ledger central was started on, as given (for people and tests: services use storage).
    db_path: str
    storage: Storage
    engine: StockEngine
    catalog: Catalog
    workflows: WorkflowService
    planning: PlanningService
    ingest: Ingest | None = None
    bus: CentralBus | None = None


def create_app(state: CentralState) -> Flask:
    """The WSGI app over `state` (its services are started by the lifecycle, not here)."""
    app = Flask("tallyman.central")
    app.config.update(
        STATE=state, STORAGE=state.storage, READER=state.storage.reader, JSON_SORT_KEYS=False
    )
    errors.install(app)
    app.register_blueprint(api_bp)
    api_workflows.install(app)  # blueprint + reservation fast path
    app.register_blueprint(api_planning.bp)
    app.register_blueprint(dashboard_bp)
    return app
