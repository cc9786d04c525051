"""`tallyman import stock` refuses what master data does not know, SKU and location alike (issue
12, defect 12: a typo such as `DC9/X` became a new site in the dashboard, planning and the twin),
unless `--create-locations` says the new locations are meant."""

from __future__ import annotations

import contextlib
import sqlite3

import pytest
import sqlite_utils

from central.stock import importer, ledger
from tallyman.launch.cli import main as tallyman
from tests.conftest import ITEMS_CSV


@pytest.fixture
def db(tmp_path):
    """A ledger with the three test items and two DC1 bins."""
    path = tmp_path / "ledger.db"
    items = tmp_path / "items.csv"
    items.write_text(ITEMS_CSV)
    sdb = sqlite_utils.Database(ledger.connect(path))
    importer.import_items(sdb, items)
    importer.import_locations_from(sdb, ["DC1/A-01", "DC1/A-02"])
    sdb.conn.close()
    return path


def stock_file(tmp_path, *rows: str):
    path = tmp_path / "stock.csv"
    path.write_text("sku,loc,qty\n" + "".join(f"{r}\n" for r in rows))
    return path


def ledger_state(db) -> tuple[set[str], set[str], int]:
    """(locations, sites, opening-stock rows) in the ledger."""
    with contextlib.closing(sqlite3.connect(db)) as conn:
        locs = {loc for (loc,) in conn.execute("SELECT loc FROM locations")}
        sites = {site for (site,) in conn.execute("SELECT DISTINCT site FROM locations")}
        (rows,) = conn.execute("SELECT count(*) FROM movements WHERE device = 'import'").fetchone()
    return locs, sites, rows


def refused(capsys, *argv: str) -> str:
    assert tallyman(list(argv)) == 1
    err = capsys.readouterr().err
    assert err.startswith("tallyman: ") and "Traceback" not in err and err.count("\n") == 1
    return err


def test_an_unknown_location_is_refused_like_an_unknown_sku(db, tmp_path, capsys):
    csv = stock_file(tmp_path, "A1,DC1/A-01,10", "B2,DC9/X,5", "C3,DC1/A-02,1")
    err = refused(capsys, "import", "stock", str(csv), "--db", str(db))
    assert f"{csv}:3: location 'DC9/X' is not in the location master" in err
    assert "tallyman import locations" in err and "--create-locations" in err
    assert ledger_state(db) == ({"DC1/A-01", "DC1/A-02"}, {"DC1"}, 0)  # nothing written

    csv = stock_file(tmp_path, "A1,DC1/A-01,10", "Z9,DC1/A-01,5")
    err = refused(capsys, "import", "stock", str(csv), "--db", str(db))
    assert f"{csv}:3: SKU 'Z9' is not in the item master" in err
    assert "tallyman import items" in err
    assert ledger_state(db)[2] == 0


def test_the_library_call_refuses_too(db, tmp_path):
    sdb = sqlite_utils.Database(ledger.connect(db))
    try:
        with pytest.raises(importer.ImportError_, match=r":2: location 'STORE9/SHELF'"):
            importer.import_stock(sdb, stock_file(tmp_path, "A1,STORE9/SHELF,1"))
    finally:
        sdb.conn.close()
    assert "STORE9" not in ledger_state(db)[1]


def test_create_locations_registers_them(db, tmp_path, capsys):
    csv = stock_file(tmp_path, "A1,DC1/A-01,10", "B2,STORE2/SHELF,5", "C3,STORE2/SHELF,2")
    assert tallyman(["import", "stock", str(csv), "--db", str(db), "--create-locations"]) == 0
    assert "imported 3 stock rows" in capsys.readouterr().out
    locs, sites, rows = ledger_state(db)
    assert "STORE2/SHELF" in locs and sites == {"DC1", "STORE2"} and rows == 3


def test_known_locations_import_without_the_switch(db, tmp_path, capsys):
    csv = stock_file(tmp_path, "A1,DC1/A-01,10", "B2,DC1/A-02,5")
    assert tallyman(["import", "stock", str(csv), "--db", str(db)]) == 0
    assert ledger_state(db) == ({"DC1/A-01", "DC1/A-02"}, {"DC1"}, 2)
