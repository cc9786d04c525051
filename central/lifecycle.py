"""Central's lifecycle: the one place that opens, starts and stops its parts; `tallyman central`.

Start: the storage is opened once; the stock engine is rebuilt from the ledger (the ledger is the
truth, memory a cache of it); the workflow and planning services are built over both (workflows
load `reserved` and `on_order` from their own tables), and the workflows' hooks are wired to
planning's callbacks (workflows may not import planning): a PO, transfer or reservation that
changes a position re-checks its alerts at once, a refused reservation counts as unfilled demand.
Nothing runs yet: `load_state` starts no thread, and neither does building the Flask app
(`central.http.app.create_app`). `start` then, with a broker, builds the ingest and the MQTT
bus and attaches the workflows and planning to them (workflows before planning: their receipts
update `on_order` before planning sees a batch); it starts the workflow threads (reservation
desk, supplier sender, sweeper), then planning's, and the ingest's and the bus's last, so no
message comes in before the services that react to it run. Without a broker it starts the
services alone (an API over a ledger). `stop` ends the bus first (no new messages), then
planning, then the workflows, and the ingest last of the threads (the workflows submit their
movements through it, so it outlives them); it closes the storage after them all. `tallyman
central` binds its HTTP socket first, then does all of it around a waitress server.

Why the heavy imports sit inside the functions: `tallyman central --help` must answer without
loading Numba, NumPy or Flask.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING

import click

from tallyman import config, net
from tallyman.console import fail

if TYPE_CHECKING:
    from central.http.app import CentralState

DEFAULT_BROKER = net.DEFAULT_BROKER
DEFAULT_HTTP = "127.0.0.1:8080"

#: GIL switch interval for central's threads (Python's default is 5 ms). Every SQLite statement
#: and fsync gives the GIL away; when the planning pass or the MQTT thread is busy, getting it
#: back takes up to this long, and the ingest thread does that a dozen times per group commit.
SWITCH_INTERVAL_S = 0.001
#: waitress worker threads: enough for the reservation load (thousands of requests a second).
HTTP_THREADS = 32


@dataclass(frozen=True)
class CentralSettings:
    """What `tallyman central` runs with: the `[central]` table of `--config`, then
    $TALLYMAN_CENTRAL_DB, _BROKER, _HTTP and _PLANNING_CONFIG, then the options given."""

    db: str | None = None
    broker: str = DEFAULT_BROKER
    http: str = DEFAULT_HTTP
    planning_config: str | None = None


# --- the parts ----------------------------------------------------------------------------------


def load_state(db_path: str, planning_config: str | None = None) -> CentralState:
    """Open the storage, rebuild the engine from the ledger and build the services (no thread
    is started). `planning_config`: the planning TOML file (None: defaults)."""
    import logging
    import time

    from central.http.app import CentralState
    from central.planning.service import PlanningService
    from central.planning.settings import load_settings
    from central.stock.catalog import Catalog
    from central.stock.engine import StockEngine
    from central.stock.storage import open_storage
    from central.workflows.freeze import Freezes
    from central.workflows.service import WorkflowService

    planning_settings = load_settings(planning_config)
    storage = open_storage(db_path)
    conn = storage.reader()
    catalog = Catalog().load(conn)
    engine = StockEngine()
    t0 = time.perf_counter()
    n = engine.rebuild(conn, catalog.max_item_id, catalog.max_loc_id)
    logging.getLogger("tallyman.central").info(
        "engine rebuilt from %d movements in %.2f s", n, time.perf_counter() - t0
    )
    # the promotion freezes are planning's settings; every transfer obeys them (workflows)
    freezes = Freezes(
        planning_settings.planning.transfers.freeze, planning_settings.central.dc_sites
    )
    workflows = WorkflowService(storage, engine, catalog, freezes)
    planning = PlanningService(storage, engine, catalog, planning_settings, workflows)
    workflows.on_positions_changed = planning.positions_changed
    workflows.on_reservation_refused = planning.reservation_refused
    return CentralState(
        db_path=str(db_path),
        storage=storage,
        engine=engine,
        catalog=catalog,
        workflows=workflows,
        planning=planning,
    )


def start(state: CentralState, broker_url: str | None = None) -> None:
    """Start central's threads: the ingest and the bus when there is a broker, the workflows'
    and planning's always (see the module docstring for the order)."""
    from central.ingest.bus import CentralBus
    from central.ingest.pipeline import Ingest

    if broker_url is not None:
        # the ingest publishes acks through the bus, which is built over the ingest
        ingest = Ingest(
            state.storage, state.engine, state.catalog, lambda topic, ack: bus.publish(topic, ack)
        )
        bus = CentralBus(broker_url, ingest)
        state.ingest, state.bus = ingest, bus
        state.workflows.attach(ingest, bus.publish)
        state.planning.attach(ingest, bus.publish)
    state.workflows.start()
    state.planning.start()
    if state.ingest is not None and state.bus is not None:
        state.ingest.start()
        state.bus.start()


def stop(state: CentralState) -> None:
    """Stop every thread `start` started (the bus, planning, the workflows, then the ingest:
    see the module docstring), then close the storage. Safe on a state never started."""
    if state.bus is not None:
        state.bus.stop()
    state.planning.stop()
    state.workflows.stop()
    if state.ingest is not None:
        state.ingest.stop()
    state.storage.close()


def serve(settings: CentralSettings) -> None:
    """Run central until SIGINT or SIGTERM: the parts, their threads and the HTTP server."""
    import logging
    import signal
    import sys
    import threading

    import waitress

    from central.http.app import create_app

    assert settings.db is not None
    host, port = net.parse_hostport(settings.http)
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s central %(levelname)s %(message)s")
    try:
        state = load_state(settings.db, settings.planning_config)
    except sqlite3.Error as exc:
        fail(f"cannot open the ledger {settings.db}: {exc}")
    # The socket is bound before any thread starts: a port already in use is one line and a
    # clean exit, not an ingest and a bus left running behind a server that never came up.
    try:
        try:
            # waitress, not werkzeug's dev server: it keeps connections alive and serves the
            # reservation load (thousands of requests a second) that werkzeug cannot.
            server = waitress.create_server(
                create_app(state), host=host, port=port, threads=HTTP_THREADS
            )
        except OSError as exc:
            fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
        try:
            start(state, settings.broker)
        except BaseException:
            server.close()
            raise
    except BaseException:
        stop(state)
        raise
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    threading.Thread(target=server.run, name="http", daemon=True).start()
    print(f"central: API on http://{host}:{server.effective_port}/api/health", flush=True)
    stopping.wait()
    server.close()
    stop(state)


# --- `tallyman central` -------------------------------------------------------------------------


def settings_from(config_file: str | None, options: dict[str, str | None]) -> CentralSettings:
    """The settings of one run: file, then environment, then the options given (which win)."""
    try:
        settings = config.load(
            CentralSettings, config_file, section="central", env_prefix="TALLYMAN_CENTRAL_"
        )
    except config.ConfigError as exc:
        fail(str(exc))
    given = {name: value for name, value in options.items() if value is not None}
    settings = dataclasses.replace(settings, **given)
    if not settings.db:
        fail(
            "no ledger: pass --db PATH, set db in the [central] table of --config, "
            "or set $TALLYMAN_CENTRAL_DB"
        )
    try:
        net.parse_hostport(settings.http)
        net.parse_broker_url(settings.broker)
    except ValueError as exc:
        fail(str(exc))
    if settings.planning_config is not None:
        from central.planning.settings import load_settings

        try:
            load_settings(settings.planning_config)
        except (OSError, ValueError) as exc:
            fail(f"planning config: {exc}")
    return settings


@click.command(
    help="Run central: the MQTT ingest into the ledger, the stock engine, workflows, planning, "
    "and the API and dashboard over HTTP, until stopped (Ctrl-C or SIGTERM)."
)
@click.option(
    "--db", metavar="PATH", help="central's ledger: an SQLite file (created if missing); required"
)
@click.option(
    "--broker",
    metavar="URL",
    help=f"MQTT broker, mqtt://[USER:PASSWORD@]HOST[:PORT] (default: {DEFAULT_BROKER})",
)
@click.option(
    "--http",
    metavar="HOST:PORT",
    help=f"address of the API and the dashboard (default: {DEFAULT_HTTP})",
)
@click.option(
    "--planning-config",
    metavar="FILE",
    help="planning TOML: policies, pass interval, webhooks (default: built-in defaults)",
)
@click.option(
    "--config",
    "config_file",
    metavar="FILE",
    help="TOML file whose [central] table sets db, broker, http and planning_config; "
    "$TALLYMAN_CENTRAL_DB, _BROKER, _HTTP and _PLANNING_CONFIG override it, and the "
    "options given here override both",
)
def command(
    db: str | None,
    broker: str | None,
    http: str | None,
    planning_config: str | None,
    config_file: str | None,
) -> None:
    options = {"db": db, "broker": broker, "http": http, "planning_config": planning_config}
    serve(settings_from(config_file, options))
