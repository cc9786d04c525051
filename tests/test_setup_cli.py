"""The commands that set up a ledger and a broker: `tallyman import`, `token`, `device`."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from pathlib import Path

from central.access import tokens
from tallyman.launch.cli import main as tallyman

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run(capsys, *argv: str) -> str:
    rc = tallyman(list(argv))
    got = capsys.readouterr()
    assert rc == 0, got.err
    return got.out


def refused(capsys, *argv: str, status: int = 1) -> str:
    assert tallyman(list(argv)) == status
    err = capsys.readouterr().err
    assert err.startswith("tallyman: ") and "Traceback" not in err
    return err


def test_the_example_csvs_import(tmp_path, capsys):
    db = str(tmp_path / "ledger.db")
    for kind, noun in (("items", "items"), ("locations", "locations"), ("stock", "stock rows")):
        out = run(capsys, "import", kind, str(EXAMPLES / f"{kind}.csv"), "--db", db)
        assert out.startswith("imported ") and f" {noun} from " in out
    with contextlib.closing(sqlite3.connect(db)) as conn:
        assert conn.execute("SELECT count(*) FROM items").fetchone()[0] == 5
        kinds = dict(conn.execute("SELECT loc, kind FROM locations"))
        on_hand = dict(
            conn.execute(
                "SELECT sku || '@' || loc, qty FROM movements WHERE device = 'import' "
                "AND type = 'count'"
            )
        )
    assert kinds["DC1/A-01"] == "dc" and kinds["STORE1/BACK"] == "bin"
    assert on_hand["A1@DC1/A-01"] == 120 and on_hand["D4@STORE1/BACK"] == 48
    got = json.loads(run(capsys, "import", "items", str(EXAMPLES / "items.csv"), "--db", db,
                         "--json"))  # fmt: skip
    assert got == {"kind": "items", "file": str(EXAMPLES / "items.csv"), "imported": 5}


def test_import_mistakes_name_the_line(tmp_path, capsys):
    db = str(tmp_path / "ledger.db")
    bad = tmp_path / "bad.csv"
    bad.write_text("sku,gtin,name\nA1,5901234123450,Hammer\n")
    err = refused(capsys, "import", "items", str(bad), "--db", db)
    assert f"{bad}:2:" in err and "check digit" in err
    bad.write_text("sku,qty\nA1,3\n")
    assert "missing columns loc" in refused(capsys, "import", "stock", str(bad), "--db", db)
    err = refused(capsys, "import", "stock", str(tmp_path / "nope.csv"), "--db", db, status=2)
    assert "does not exist" in err


def test_token_create(tmp_path, capsys):
    db = str(tmp_path / "ledger.db")
    token = run(capsys, "token", "create", "--role", "planner", "--db", db).strip()
    got = json.loads(run(capsys, "token", "create", "--role", "staff", "--name", "sam", "--db", db,
                         "--json"))  # fmt: skip
    with contextlib.closing(sqlite3.connect(db)) as conn:
        assert tokens.lookup(conn, token) == ("planner", "planner")
        assert tokens.lookup(conn, got["token"]) == ("sam", "staff")
    err = refused(capsys, "token", "create", "--role", "boss", "--db", db, status=2)
    assert all(role in err for role in tokens.ROLES)


def test_device_add_and_list(tmp_path, capsys):
    broker_dir = str(tmp_path / "broker")
    out = run(capsys, "device", "add", "hh-01", "--site", "DC1", "--broker-dir", broker_dir)
    assert "mqtt://hh-01:" in out and "@127.0.0.1:1883" in out
    got = json.loads(run(capsys, "device", "add", "hh-02", "--site", "STORE1", "--port", "1999",
                         "--broker-dir", broker_dir, "--json"))  # fmt: skip
    assert got["device"] == "hh-02" and got["broker_url"].endswith("@127.0.0.1:1999")
    lines = run(capsys, "device", "list", "--broker-dir", broker_dir).splitlines()
    assert [line.split() for line in lines] == [["DEVICE", "SITE"], ["hh-01", "DC1"],
                                                ["hh-02", "STORE1"]]  # fmt: skip
    err = refused(capsys, "device", "add", "hh/03", "--site", "DC1", "--broker-dir", broker_dir)
    assert "ids like hh-01" in err
