"""Central's address is taken with or without `/api` wherever a command asks for it: `--api`,
`$TALLYMAN_API`, before the command or after it (issue 12, defect 10)."""

from __future__ import annotations

import json
import threading

import pytest
import sqlite_utils
from werkzeug.serving import make_server

from central.http.app import create_app
from central.stock import importer, ledger
from tallyman.launch.cli import main as tallyman
from tests.conftest import ITEMS_CSV
from tests.planning_fixtures import write_config
from tests.test_planning_service import Central


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A running central (planning in-process, served over real HTTP): http://HOST:PORT."""
    tmp = tmp_path_factory.mktemp("central")
    items = tmp / "items.csv"
    items.write_text(ITEMS_CSV)
    db = tmp / "ledger.db"
    sdb = sqlite_utils.Database(ledger.connect(db))
    importer.import_items(sdb, items)
    importer.import_locations_from(sdb, ["DC1/A-01"])
    sdb.conn.close()
    c = Central(db, None, write_config(tmp / "planning.toml"))
    server = make_server("127.0.0.1", 0, create_app(c.state), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        c.stop()


def status(capsys, *argv: str) -> dict:
    rc = tallyman(list(argv))
    got = capsys.readouterr()
    assert rc == 0, got.err
    return json.loads(got.out)


@pytest.mark.parametrize("suffix", ["", "/", "/api", "/api/"])
def test_plan_status_with_or_without_api(base, capsys, suffix):
    url = base + suffix
    assert status(capsys, "plan", "status", "--api", url, "--json")["ready"] is True
    assert status(capsys, "--api", url, "plan", "status", "--json")["ready"] is True
    assert status(capsys, "plan", "--api", url, "status", "--json")["ready"] is True


@pytest.mark.parametrize("suffix", ["", "/api"])
def test_the_environment_variable_with_or_without_api(base, capsys, monkeypatch, suffix):
    monkeypatch.setenv("TALLYMAN_API", base + suffix)
    assert status(capsys, "plan", "status", "--json")["ready"] is True
    assert status(capsys, "ledger", "dead-letters", "list", "--json") == []
