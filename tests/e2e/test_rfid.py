"""A fixed RFID reader at the dock: real M100 stub on a pty, a real edge process, real central.

Tags in the field are read tens of times a second; each serialised item must still be received
exactly once, weak reads from the next shelf ignored, garbled frames survived, and a replugged
reader put back to work without anyone touching the edge.
"""

from __future__ import annotations

import time

import pytest
from pyepc import SGTIN

from firmware_stubs.rfid import RfidReaderStub
from tests.e2e.conftest import get_json, wait_until

pytestmark = pytest.mark.e2e


def sgtin(gtin: str, serial: int) -> str:
    """SGTIN-96 hex of a catalogue GTIN (7-digit company prefix, as in the fixture's GTINs)."""
    return SGTIN(
        company_prefix=gtin[1:8], indicator=gtin[0], item_ref=gtin[8:13], serial_number=str(serial)
    ).encode()


def dock_stock(central, sku: str) -> int:
    rows = get_json(f"{central.api}/stock?sku={sku}")["rows"]
    return sum(r["on_hand"] for r in rows if r["loc"] == "DC1/DOCK")


def test_tags_received_once_through_noise_repeats_and_a_replug(stack, tmp_path):
    central, add_edge = stack
    reader = RfidReaderStub(link=str(tmp_path / "rfid-dock"), seed=7, round_interval=0.02)
    try:
        extra = ("--rfid", reader.path, "--loc", "DC1/DOCK", "--mode", "RECEIVE")
        edge = add_edge("dock-1", "DC1", *extra, "--rfid-window", "0.5")
        wait_until(lambda: any("multi-inventory" in c for c in reader.commands), 30, "inventory")
        reader.split_frames = True
        reader.corrupt_next(5)  # bad checksums on the first notices: skipped, read next round
        for serial in (1001, 1002, 1003):
            reader.add_tag(sgtin("05901234123457", serial), rssi=-50)  # A1
        reader.add_tag(sgtin("04006381333931", 1), rssi=-85)  # B2 on the next shelf: too weak
        wait_until(lambda: dock_stock(central, "A1") == 3, 30, "three tags received")
        reader.noise(64)
        # still in the field for many more rounds than the window: no new reads
        time.sleep(1.0)
        assert dock_stock(central, "A1") == 3
        # out of the field for longer than the window, then back: read again, but the outbox
        # knows the serial was already received
        reader.clear_tags()
        time.sleep(1.0)
        reader.add_tag(sgtin("05901234123457", 1001), rssi=-48)
        log = tmp_path / "dock-1.log"
        wait_until(lambda: "already recorded" in log.read_text(), 10, "the re-read recognised")
        # unplugged and plugged back: the edge reopens it and restarts the inventory
        before = sum("multi-inventory" in c for c in reader.commands)
        reader.unplug()
        reader.replug()
        wait_until(
            lambda: sum("multi-inventory" in c for c in reader.commands) > before,
            30,
            "inventory restarted after the replug",
        )
        reader.add_tag(sgtin("05901234123457", 1004), rssi=-55)
        wait_until(lambda: dock_stock(central, "A1") == 4, 30, "the fourth tag")
        assert dock_stock(central, "B2") == 0
        movements = get_json(f"{central.api}/movements?device=dock-1&limit=100")["rows"]
        serials = sorted(m["serial"] for m in movements)
        assert serials == ["1001", "1002", "1003", "1004"]
        assert all(m["type"] == "receive" and m["loc"] == "DC1/DOCK" for m in movements)
        assert edge.rejections() == []
    finally:
        reader.close()
