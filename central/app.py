"""Assemble central: ledger → engine → ingest → bus, and the Flask app over them."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from flask import Flask

from central import errors, ledger
from central.api import bp as api_bp
from central.api import reader
from central.bus import CentralBus
from central.catalog import Catalog
from central.dashboard import bp as dashboard_bp
from central.engine import StockEngine
from central.ingest import Ingest

log = logging.getLogger("tallyman.central")


@dataclass
class CentralState:
    db_path: str
    engine: StockEngine
    catalog: Catalog
    ingest: Ingest | None = None
    bus: CentralBus | None = None


def load_state(db_path: str) -> CentralState:
    """Rebuild the engine from the ledger: the ledger is the truth, memory is a cache of it."""
    conn = ledger.connect(db_path)
    catalog = Catalog().load(conn)
    engine = StockEngine()
    t0 = time.perf_counter()
    n = engine.rebuild(conn, catalog.max_item_id, catalog.max_loc_id)
    log.info("engine rebuilt from %d movements in %.2f s", n, time.perf_counter() - t0)
    conn.close()
    return CentralState(db_path=db_path, engine=engine, catalog=catalog)


def start_ingest(state: CentralState, broker_url: str) -> None:
    bus_holder: list[CentralBus] = []
    state.ingest = Ingest(
        state.db_path, state.engine, state.catalog, lambda t, p: bus_holder[0].publish(t, p)
    )
    state.bus = CentralBus(broker_url, state.ingest)
    bus_holder.append(state.bus)
    state.ingest.start()
    state.bus.start()


def create_app(state: CentralState) -> Flask:
    app = Flask("tallyman.central")
    app.config.update(STATE=state, DB_PATH=state.db_path, READER=reader, JSON_SORT_KEYS=False)
    errors.install(app)
    app.register_blueprint(api_bp)
    app.register_blueprint(dashboard_bp)
    return app
