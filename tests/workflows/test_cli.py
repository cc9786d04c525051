"""`tallyman workflow …` against a running central's API."""

from __future__ import annotations

import json
import threading

import pytest
from werkzeug.serving import make_server

from central.http.app import create_app
from tallyman.launch import cli


@pytest.fixture
def api(central):
    server = make_server("127.0.0.1", 0, create_app(central.state), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield central, f"http://127.0.0.1:{server.server_port}/api"
    server.shutdown()
    server.server_close()


def run(capsys, api_url, token, *argv):
    assert cli.main(["workflow", "--api", api_url, "--token", token, *argv]) == 0
    return json.loads(capsys.readouterr().out)


def test_po_and_reservation_from_the_command_line(api, capsys, tmp_path):
    c, url = api
    po = run(
        capsys,
        url,
        c.tokens["planner"],
        "po",
        "create",
        "--supplier",
        "S1",
        "--line",
        "A1:DC1:10000",
        "--submit",
    )
    assert po["status"] == "pending_approval"
    with pytest.raises(SystemExit, match="forbidden"):
        run(capsys, url, c.tokens["planner"], "po", "approve", po["number"])
    got = run(capsys, url, c.tokens["approver"], "po", "approve", po["number"], "--note", "ok")
    assert got["status"] == "approved"
    proposal = tmp_path / "p.json"
    proposal.write_text(
        json.dumps(
            {"key": "k1", "supplier": "S2", "lines": [{"sku": "C3", "site": "DC1", "qty": 5.0}]}
        )
    )
    got = run(capsys, url, c.tokens["planner"], "po", "from-proposal", str(proposal))
    assert got["source"] == "proposal" and got["status"] == "draft"
    res = run(
        capsys,
        url,
        c.tokens["staff"],
        "reservation",
        "create",
        "--sku",
        "A1",
        "--site",
        "DC1",
        "--qty",
        "2",
        "--channel",
        "online",
    )
    assert res["status"] == "active"
    assert (
        run(capsys, url, c.tokens["staff"], "reservation", "cancel", str(res["id"]))["status"]
        == "cancelled"
    )
    run(capsys, url, c.tokens["admin"], "settings", "set", "count_hold_units=5")
    assert run(capsys, url, c.tokens["admin"], "settings", "show")["count_hold_units"] == 5
    with pytest.raises(SystemExit, match="insufficient_stock"):
        run(
            capsys,
            url,
            c.tokens["staff"],
            "reservation",
            "create",
            "--sku",
            "A1",
            "--site",
            "DC1",
            "--qty",
            "99",
            "--channel",
            "store",
        )
