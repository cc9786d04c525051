"""Shared fixtures: a real mosquitto on a free port with per-device ACLs, and a small catalogue."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# Binaries installed by scripts/setup (mosquitto lives in /usr/sbin on Debian).
os.environ["PATH"] = os.pathsep.join(
    [str(Path(sys.executable).parent), os.environ.get("PATH", ""), "/usr/sbin"]
)

from central.access.broker import BrokerDir  # noqa: E402
from tallyman.net import free_port

ITEMS_CSV = """sku,gtin,name,category,unit_cost,price,supplier,lead_time_days
A1,05901234123457,Widget,tools,1.5,3,S1,3
B2,4006381333931,Pen,office,0.2,1,S1,3
C3,00012345678905,Cable,tools,2.0,5,S2,7
"""
ITEMS_GTINS = [("A1", "05901234123457"), ("B2", "04006381333931"), ("C3", "00012345678905")]


@pytest.fixture
def broker(tmp_path):
    """A mosquitto of our own (tests kill and restart it), with central's credentials."""
    bdir = BrokerDir(tmp_path / "broker", port=free_port())
    central_url = bdir.init()
    proc = bdir.start()
    bdir.central_url = central_url
    bdir.proc = proc
    yield bdir
    if proc.poll() is None:
        proc.kill()
        proc.wait()


@pytest.fixture
def catalogue(tmp_path):
    """A ledger with three items and opening stock at DC1 and STORE1."""
    from central.stock import importer, ledger

    items = tmp_path / "items.csv"
    items.write_text(ITEMS_CSV)
    stock = tmp_path / "stock.csv"
    stock.write_text("sku,loc,qty\nA1,DC1/A-01,10\nB2,DC1/A-02,5\nA1,STORE1/SHELF,2\n")
    db_path = tmp_path / "ledger.db"
    import sqlite_utils

    db = sqlite_utils.Database(ledger.connect(db_path))
    importer.import_items(db, items)
    importer.import_locations_from(db, ["DC1/A-01", "DC1/A-02", "DC1/DOCK", "STORE1/SHELF"])
    importer.import_stock(db, stock)
    db.conn.close()
    return db_path
