"""Assemble central: ledger → engine → ingest → bus, and the Flask app over them."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from flask import Flask

from central.http import errors
from central.http.dashboard import bp as dashboard_bp
from central.http.stock_api import bp as api_bp
from central.http.stock_api import reader
from central.ingest.bus import CentralBus
from central.ingest.pipeline import Ingest
from central.planning import api as api_planning
from central.planning.service import PlanningService
from central.planning.settings import load_settings
from central.stock import ledger
from central.stock.catalog import Catalog
from central.stock.engine import StockEngine
from central.workflows import api as api_workflows
from central.workflows.service import WorkflowService

log = logging.getLogger("tallyman.central")


@dataclass
class CentralState:
    db_path: str
    engine: StockEngine
    catalog: Catalog
    ingest: Ingest | None = None
    bus: CentralBus | None = None
    workflows: Any = None  # central.workflows.service.WorkflowService
    planning: PlanningService | None = None


def load_state(db_path: str, planning_config: str | None = None) -> CentralState:
    """Rebuild the engine from the ledger: the ledger is the truth, memory is a cache of it.
    `planning_config`: the planning TOML file (None: defaults)."""
    conn = ledger.connect(db_path)
    catalog = Catalog().load(conn)
    engine = StockEngine()
    t0 = time.perf_counter()
    n = engine.rebuild(conn, catalog.max_item_id, catalog.max_loc_id)
    log.info("engine rebuilt from %d movements in %.2f s", n, time.perf_counter() - t0)
    conn.close()
    workflows = WorkflowService(db_path, engine, catalog)  # reserved and on_order from its tables
    planning = PlanningService(db_path, engine, catalog, load_settings(planning_config), workflows)
    return CentralState(
        db_path=db_path, engine=engine, catalog=catalog, workflows=workflows, planning=planning
    )


def start_ingest(state: CentralState, broker_url: str) -> None:
    bus_holder: list[CentralBus] = []
    state.ingest = Ingest(
        state.db_path, state.engine, state.catalog, lambda t, p: bus_holder[0].publish(t, p)
    )
    state.bus = CentralBus(broker_url, state.ingest)
    bus_holder.append(state.bus)
    if state.workflows is not None:
        state.workflows.attach(
            state.ingest, lambda t, p, retain=False: state.bus.publish(t, p, retain)
        )
        state.workflows.start()
    if state.planning is not None:  # after workflows: their receipts update on_order first
        state.planning.attach(
            state.ingest, lambda t, p, retain=False: state.bus.publish(t, p, retain)
        )
        state.planning.start()
    state.ingest.start()
    state.bus.start()


def create_app(state: CentralState) -> Flask:
    app = Flask("tallyman.central")
    app.config.update(STATE=state, DB_PATH=state.db_path, READER=reader, JSON_SORT_KEYS=False)
    errors.install(app)
    app.register_blueprint(api_bp)
    api_workflows.install(app)  # blueprint + reservation fast path
    if state.workflows is not None:
        state.workflows.start()
    app.register_blueprint(api_planning.bp)
    if state.planning is not None:
        state.planning.start()
    app.register_blueprint(dashboard_bp)
    return app
