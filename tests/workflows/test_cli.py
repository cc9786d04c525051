"""`tallyman workflow …` against a running central's API."""

from __future__ import annotations

import json
import re
import threading

import pytest
from werkzeug.serving import make_server

from central.http.app import create_app
from central.workflows import cli as wf_cli
from central.workflows import reservations, states, transfers
from tallyman.launch import cli


@pytest.fixture
def api(central):
    server = make_server("127.0.0.1", 0, create_app(central.state), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield central, f"http://127.0.0.1:{server.server_port}/api"
    server.shutdown()
    server.server_close()


def run(capsys, api_url, token, *argv):
    """The command's JSON output (it must succeed)."""
    rc = cli.main(["workflow", *argv, "--api", api_url, "--token", token, "--json"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    return json.loads(out.out)


def refused(capsys, *argv) -> str:
    """The one line a refused command prints (it must fail, without a traceback)."""
    assert cli.main(list(argv)) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.startswith("tallyman: ")
    return err


def test_po_and_reservation_from_the_command_line(api, capsys, tmp_path):
    c, url = api
    planner, approver, staff = c.tokens["planner"], c.tokens["approver"], c.tokens["staff"]
    po = run(capsys, url, planner, "po", "create", "--supplier", "S1", "--site", "DC1",
             "--line", "A1:10000", "--submit")  # fmt: skip
    assert po["status"] == "pending_approval"
    assert [(x["sku"], x["site"], x["qty"]) for x in po["lines"]] == [("A1", "DC1", 10000)]
    short = f"PO-{po['id']}"  # as a person types it, not PO-000001
    err = refused(capsys, "workflow", "po", "approve", short, "--api", url, "--token", planner)
    assert "not allowed" in err and "needs approver" in err
    got = run(capsys, url, approver, "po", "approve", short, "--note", "ok")
    assert got["status"] == "approved"
    proposal = tmp_path / "p.json"
    proposal.write_text(
        json.dumps(
            {"key": "k1", "supplier": "S2", "lines": [{"sku": "C3", "site": "DC1", "qty": 5.0}]}
        )
    )
    got = run(capsys, url, planner, "po", "from-proposal", str(proposal))
    assert got["source"] == "proposal" and got["status"] == "draft"
    res = run(capsys, url, staff, "reservation", "create", "--sku", "A1", "--site", "DC1",
              "--qty", "2", "--channel", "online")  # fmt: skip
    assert res["status"] == "active"
    got = run(capsys, url, staff, "reservation", "cancel", f"RES-{res['id']}")
    assert got["status"] == "cancelled"
    run(capsys, url, c.tokens["admin"], "settings", "set", "count_hold_units=5")
    assert run(capsys, url, c.tokens["admin"], "settings", "show")["count_hold_units"] == 5
    err = refused(capsys, "workflow", "reservation", "create", "--sku", "A1", "--site", "DC1",
                  "--qty", "99", "--channel", "store", "--api", url, "--token", staff)  # fmt: skip
    assert re.search(r"available \d+ of A1 at DC1, asked 99", err), err


def test_tables_by_default_and_the_token_anywhere(api, capsys, monkeypatch):
    c, url = api
    planner = c.tokens["planner"]
    line = ["--supplier", "S1", "--line", "A1:7@DC1"]
    # --api/--token before the group, on the group, or from the environment
    assert cli.main(["--api", url, "--token", planner, "workflow", "po", "create", *line]) == 0
    assert cli.main(["workflow", "--api", url, "--token", planner, "po", "create", *line]) == 0
    capsys.readouterr()
    monkeypatch.setenv("TALLYMAN_API", url)
    monkeypatch.setenv("TALLYMAN_TOKEN", "not-a-token")
    err = refused(capsys, "workflow", "po", "create", *line)
    assert "--token" in err and "TALLYMAN_TOKEN" in err and "Bearer" not in err
    # a token typed on the command line beats the environment's
    assert cli.main(["--token", planner, "workflow", "po", "create", *line]) == 0
    capsys.readouterr()
    monkeypatch.setenv("TALLYMAN_TOKEN", planner)
    assert cli.main(["workflow", "po", "list", "--status", "draft"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["NUMBER", "SUPPLIER", "STATUS", "SOURCE", "TOTAL_VALUE", "CREATED_AT"]
    assert len(out) == 1 + 3 and out[1].startswith("PO-000003")
    assert cli.main(["workflow", "po", "show", "po-3"]) == 0
    out = capsys.readouterr().out
    assert "number" in out and "PO-000003" in out and "\nLINES\n" in out
    to = ["workflow", "transfer", "create", "--from", "DC1", "--to", "STORE1", "--line", "A1:3"]
    assert cli.main(to) == 0
    assert "TO-000001" in capsys.readouterr().out
    assert cli.main(["workflow", "transfer", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["number"] == "TO-000001"


def test_mistakes_are_explained(api, capsys):
    c, url = api
    opts = ["--api", url, "--token", c.tokens["planner"]]
    err = refused(capsys, "workflow", "po", "create", "--supplier", "S1", "--line", "A1:DC1:4",
                  *opts)  # fmt: skip
    assert "SKU:QTY" in err and "e.g. A1:4@DC1" in err  # the old SKU:SITE:QTY, rewritten
    err = refused(capsys, "workflow", "po", "create", "--supplier", "S1", "--line", "A1:4", *opts)
    assert "--site" in err
    err = refused(capsys, "workflow", "transfer", "create", "--from", "DC1", "--to", "STORE1",
                  "--line", "A1:4@DC1", *opts)  # fmt: skip
    assert "--from" in err
    assert "TO-1" in refused(capsys, "workflow", "transfer", "show", "PO-1", *opts)
    assert "not found" in refused(capsys, "workflow", "po", "show", "PO-99", *opts)
    err = refused(capsys, "workflow", "po", "list", "--api", "http://127.0.0.1:1")
    assert "is central running?" in err


def test_dead_letters_listed_and_retried(api, capsys, tmp_path):
    """An event for an SKU central does not know waits as a dead letter; once the item is
    imported, `tallyman ledger dead-letters retry` puts it into the ledger."""
    c, url = api
    c.feed("DC1", "hh-9", [{"type": "receive", "sku": "Z9", "qty": 3, "loc": "DC1/A-01"}])
    assert cli.main(["ledger", "--api", url, "dead-letters", "list"]) == 0
    out = capsys.readouterr().out
    assert "unknown_sku" in out and "hh-9" in out and "tallyman import items" in out
    assert cli.main(["ledger", "dead-letters", "list", "--api", url, "--json"]) == 0
    (dl,) = json.loads(capsys.readouterr().out)
    planner = c.tokens["planner"]
    retry = ["ledger", "dead-letters", "retry", str(dl["id"]), "--api", url, "--token", planner]
    assert cli.main(retry) == 1  # still unknown
    assert "still rejected" in capsys.readouterr().err
    items = tmp_path / "items.csv"
    items.write_text("sku,gtin,name\nZ9,,Zed\n")
    assert cli.main(["import", "items", str(items), "--db", str(c.state.db_path)]) == 0
    assert cli.main(retry) == 0
    assert f"{dl['id']}: resolved" in capsys.readouterr().out
    assert c.stock("Z9", loc="DC1/A-01")["on_hand"] == 3
    assert cli.main(["ledger", "dead-letters", "list", "--api", url]) == 0
    assert capsys.readouterr().out.strip() == "(none)"


def test_choices_match_the_workflows():
    """The CLI writes its choices out (for a fast --help); they must be the workflows' own."""
    assert set(wf_cli.PO_STATUSES) == set(states.PURCHASE_ORDER.states)
    assert set(wf_cli.TO_STATUSES) == set(states.TRANSFER_ORDER.states)
    assert set(wf_cli.RESERVATION_STATUSES) == set(states.RESERVATION.states)
    assert set(wf_cli.COUNT_STATUSES) == set(states.COUNT_REVIEW.states) | set(
        states.COUNT_REVIEW.final
    )
    assert wf_cli.CHANNELS == reservations.CHANNELS
    assert wf_cli.RESOLUTIONS == transfers.RESOLUTIONS


def test_help_lists_the_choices(capsys):
    assert cli.main(["workflow", "reservation", "create", "--help"]) == 0
    out = capsys.readouterr().out
    assert all(ch in out for ch in wf_cli.CHANNELS) and "TALLYMAN_TOKEN" in out
    assert cli.main(["workflow", "transfer", "resolve", "--help"]) == 0
    out = capsys.readouterr().out
    assert all(r in out for r in wf_cli.RESOLUTIONS)


def test_freeze_refused_and_overridden_from_the_command_line(api, capsys):
    from central.planning.core.config import FreezeRule
    from central.workflows.freeze import Freezes

    c, url = api
    c.state.workflows.freezes = Freezes([FreezeRule("promo", scope="all", skus=("A1",))])
    planner = ["--api", url, "--token", c.tokens["planner"]]
    create = ["workflow", "transfer", "create", "--from", "DC1", "--to", "STORE1", "--line", "A1:2"]
    err = refused(capsys, *create, *planner)
    assert "A1 may not leave DC1 for STORE1: frozen by rule 'promo'" in err
    to = run(capsys, url, c.tokens["planner"], *create[1:], "--override-freeze")
    approver = ["--api", url, "--token", c.tokens["approver"]]
    assert "frozen" in refused(capsys, "workflow", "transfer", "approve", to["number"], *approver)
    got = run(capsys, url, c.tokens["approver"], "transfer", "approve", to["number"],
              "--override-freeze", "--note", "store opening")  # fmt: skip
    assert got["status"] == "approved"
