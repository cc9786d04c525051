"""Central's lifecycle: where its settings come from, what starts threads, and the storage."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from central import lifecycle
from central.stock.storage import open_storage
from central.workflows.service import SWEEP_S
from tallyman.console import UserError


def test_options_win_over_the_environment_and_the_config_file(tmp_path, monkeypatch):
    cfg = tmp_path / "central.toml"
    cfg.write_text('[central]\ndb = "file.db"\nhttp = "127.0.0.1:9001"\nbroker = "mqtt://b:1"\n')
    monkeypatch.setenv("TALLYMAN_CENTRAL_HTTP", "127.0.0.1:9002")
    none = {"db": None, "broker": None, "http": None, "planning_config": None}
    s = lifecycle.settings_from(str(cfg), none)
    assert (s.db, s.http, s.broker) == ("file.db", "127.0.0.1:9002", "mqtt://b:1")
    s = lifecycle.settings_from(str(cfg), {**none, "http": "127.0.0.1:9003", "db": "x.db"})
    assert (s.db, s.http) == ("x.db", "127.0.0.1:9003")


@pytest.mark.parametrize(
    ("toml", "options", "says"),
    [
        ('[central]\nhtpp = "1"\n', {}, "unknown key 'htpp'"),
        ("", {}, "no ledger"),
        ("", {"db": "x.db", "http": "8080"}, "HOST:PORT"),
        ("", {"db": "x.db", "broker": "http://b"}, "mqtt://"),
    ],
)
def test_bad_settings_are_one_line(tmp_path, toml, options, says):
    cfg = tmp_path / "central.toml"
    cfg.write_text(toml)
    none = {"db": None, "broker": None, "http": None, "planning_config": None}
    with pytest.raises(UserError, match=says):
        lifecycle.settings_from(str(cfg), {**none, **options})


def test_loading_and_building_the_app_start_no_thread(catalogue):
    from central.http.app import create_app

    before = set(threading.enumerate())
    state = lifecycle.load_state(str(catalogue))
    create_app(state)
    assert set(threading.enumerate()) == before
    lifecycle.start(state)  # no broker: the services' threads only
    try:
        assert {t.name for t in threading.enumerate()} >= {"reservations", "workflows"}
    finally:
        lifecycle.stop(state)


def test_storage_connections(tmp_path):
    storage = open_storage(tmp_path / "ledger.db")
    assert storage.reader() is storage.reader()  # one per thread
    with pytest.raises(sqlite3.OperationalError):  # readers cannot write
        storage.reader().execute("DELETE FROM items")
    with storage.tx() as conn:
        conn.execute("INSERT INTO locations (loc, site) VALUES ('DC1/A', 'DC1')")
    seen = []
    t = threading.Thread(target=lambda: seen.append(storage.reader()))
    t.start()
    t.join()
    assert seen[0] is not storage.reader()
    assert storage.reader().execute("SELECT count(*) FROM locations").fetchone() == (1,)
    assert storage.files_dir("supplier-outbox") == str(tmp_path / "ledger-supplier-outbox")
    storage.close()
    with pytest.raises(RuntimeError):
        storage.writer()
    read_only = open_storage(tmp_path / "ledger.db", read_only=True)
    with pytest.raises(PermissionError):
        read_only.open_writer()


def test_a_port_in_use_is_one_line_and_nothing_is_left_running(catalogue):
    """The HTTP socket is bound before any thread starts: a busy port ends the run cleanly."""
    import socket
    import subprocess
    import sys

    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    try:
        done = subprocess.run(
            [sys.executable, "-m", "tallyman.launch.cli", "central", "--db", str(catalogue),
             "--http", f"127.0.0.1:{port}", "--broker", "mqtt://127.0.0.1:9"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    finally:
        busy.close()
    assert done.returncode == 1, done
    errors = [ln for ln in done.stderr.splitlines() if " central INFO " not in ln]  # log lines
    assert errors == [f"tallyman: cannot listen on 127.0.0.1:{port}: Address already in use"], done
    assert "Traceback" not in done.stderr + done.stdout


def test_the_workflow_sweeper_ends_when_its_ingest_stops(catalogue):
    from central.ingest.pipeline import Ingest
    from tests.helpers import wait_for

    state = lifecycle.load_state(str(catalogue))
    ingest = Ingest(state.storage, state.engine, state.catalog, lambda topic, payload: None)
    state.workflows.attach(ingest, None)
    state.workflows.start()  # before the ingest, as central starts them
    ingest.start()
    try:
        time.sleep(2 * SWEEP_S)  # a started service outlives ticks while its ingest runs
        assert state.workflows._sweeper.running
        ingest.stop()
        wait_for(lambda: not state.workflows._sweeper.running, 5, "the sweeper to end")
    finally:
        ingest.stop()
        lifecycle.stop(state)
