"""`tallyman central --db PATH --broker mqtt://HOST:PORT --http HOST:PORT`."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

import waitress

from central.http.app import create_app, load_state, start_ingest


def parse_hostport(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host or "127.0.0.1", int(port)


#: GIL switch interval for central's threads (Python's default is 5 ms). Every SQLite statement
#: and fsync gives the GIL away; when the planning pass or the MQTT thread is busy, getting it
#: back takes up to this long, and the ingest thread does that a dozen times per group commit.
SWITCH_INTERVAL_S = 0.001


def main(argv: list[str]) -> int:
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    p = argparse.ArgumentParser(prog="tallyman central")
    p.add_argument("--db", required=True, help="ledger SQLite file (created if missing)")
    p.add_argument("--broker", default="mqtt://127.0.0.1:1883", help="mqtt://[user:pw@]host:port")
    p.add_argument("--http", default="127.0.0.1:8080", help="API and dashboard address")
    p.add_argument("--planning-config", help="planning TOML (policies, pass interval, webhooks)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s central %(levelname)s %(message)s")
    state = load_state(args.db, args.planning_config)
    start_ingest(state, args.broker)
    host, port = parse_hostport(args.http)
    # waitress, not werkzeug's dev server: it keeps connections alive and serves the
    # reservation load (thousands of requests a second) that werkzeug cannot.
    server = waitress.create_server(create_app(state), host=host, port=port, threads=32)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    threading.Thread(target=server.run, daemon=True).start()
    print(f"central: API on http://{host}:{server.effective_port}/api/health", flush=True)
    stop.wait()
    server.close()
    state.bus.stop()
    for part in (state.planning, state.workflows):
        if part is not None:
            part.stop()
    state.ingest.stop()
    return 0


from tallyman.console import passthrough as _passthrough  # noqa: E402

command = _passthrough(main, "central")
