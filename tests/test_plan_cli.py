"""`tallyman plan alerts|alert|false-alarm|proposals|suggestions|status` against a running
central's API (planning in-process, served over real HTTP)."""

from __future__ import annotations

import json
import threading

import pytest
from werkzeug.serving import make_server

from central.http.app import create_app
from central.planning import cli as plan_cli
from central.planning.core.alerts import TIER_NAMES
from central.planning.views import ALERT_STATUSES
from tallyman.launch.cli import main as tallyman
from tests.planning_fixtures import seed_sales, write_config
from tests.test_planning_service import Central


@pytest.fixture
def api(catalogue, tmp_path):
    """A central whose first pass finds A1 red at STORE1 (12 on hand, safety stock 20), a draft
    PO for it and a transfer of DC1's 10 A1 to STORE1."""
    seed_sales(catalogue, "A1", "STORE1/SHELF", per_day=10, days=56, on_hand=12)
    c = Central(catalogue, None, write_config(tmp_path / "p.toml", lanes=True, drafts=False))
    server = make_server("127.0.0.1", 0, create_app(c.state), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield c, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        c.stop()


def out_of(capsys, *argv: str) -> str:
    rc = tallyman(list(argv))
    got = capsys.readouterr()
    assert rc == 0, got.err
    return got.out


def test_alerts_proposals_and_suggestions_without_curl(api, capsys, tmp_path):
    c, url = api
    c.post("/planning/run", "planner")
    lines = out_of(capsys, "--api", url, "plan", "alerts").splitlines()
    assert lines[0].split()[:4] == ["ID", "TIER", "SKU", "SITE"]
    assert lines[1].split()[1:4] == ["red", "A1", "STORE1"]
    (alert,) = json.loads(out_of(capsys, "plan", "alerts", "--tier", "red", "--api", url, "--json"))
    assert "EVENTS" in out_of(capsys, "plan", "alert", str(alert["id"]), "--api", url)
    assert out_of(capsys, "plan", "alerts", "--tier", "yellow", "--api", url).strip() == "(none)"

    table = out_of(capsys, "plan", "proposals", "--api", url)
    assert table.splitlines()[1].split()[1:3] == ["S1", "1"]  # supplier, one line
    doc = json.loads(out_of(capsys, "plan", "proposals", "--api", url, "--json"))
    (proposal,) = doc["proposals"]
    assert proposal["lines"][0]["sku"] == "A1"
    assert proposal["lines"][0]["basis"]["safety_stock"] == 20  # the numbers it came from
    lines = table.split("\nLINES (")[1].splitlines()
    assert lines[1].split()[:3] == ["SUPPLIER", "SKU", "SITE"]
    assert lines[2].split()[:9] == ["S1", "A1", "STORE1", "624", "10", "0", "3", "20", "22"]
    assert "A1 @ STORE1: position 22 (on hand 12 + transfers in 10) ≤ reorder point 60" in table
    suggested = out_of(capsys, "plan", "suggestions", "--api", url)
    assert suggested.splitlines()[1].split()[-2:] == ["48", "10"]  # need, surplus
    assert "A1 DC1 → STORE1: STORE1: alert position 12 < safety stock 20" in suggested
    leads = out_of(capsys, "plan", "lead-times", "--api", url).splitlines()
    assert [ln.split()[:4] for ln in leads[1:]] == [["S1", "3", "0", "master"],
                                                     ["S2", "7", "0", "master"]]  # fmt: skip

    (s,) = json.loads(out_of(capsys, "plan", "suggestions", "--api", url, "--json"))
    assert (s["sku"], s["from_site"], s["to_site"], s["qty"]) == ("A1", "DC1", "STORE1", 10)
    # what `plan … --json` prints, `workflow … from-…` takes
    path = tmp_path / "s.json"
    path.write_text(out_of(capsys, "plan", "suggestions", "--api", url, "--json"))
    planner = c.tokens["planner"]
    out = out_of(capsys, "--api", url, "--token", planner, "workflow", "transfer",
                 "from-suggestions", str(path))  # fmt: skip
    assert "TO-000001" in out and "1 created" in out
    path.write_text(json.dumps(proposal))
    out = out_of(capsys, "--api", url, "--token", planner, "workflow", "po", "from-proposal",
                 str(path))  # fmt: skip
    assert "PO-000001" in out

    staff = c.tokens["staff"]
    out = out_of(capsys, "plan", "--api", url, "--token", staff, "false-alarm", str(alert["id"]),
                 "--note", "shelf recounted")  # fmt: skip
    assert "false alarm" in out
    assert out_of(capsys, "plan", "alerts", "--api", url).strip() == "(none)"
    assert "ready" in out_of(capsys, "plan", "status", "--api", url)


def test_errors_a_person_can_act_on(api, capsys, monkeypatch):
    c, url = api
    monkeypatch.delenv("TALLYMAN_TOKEN", raising=False)
    assert tallyman(["plan", "false-alarm", "1", "--api", url]) == 1
    err = capsys.readouterr().err
    assert "--token" in err and "Authorization" not in err
    assert tallyman(["plan", "alert", "999", "--api", url]) == 1
    assert "no alert 999" in capsys.readouterr().err
    assert tallyman(["plan", "alerts", "--tier", "purple", "--api", url]) == 2
    assert "yellow" in capsys.readouterr().err


def test_choices_match_planning():
    assert TIER_NAMES[1:] == plan_cli.TIERS
    assert plan_cli.ALERT_STATUSES == ALERT_STATUSES
