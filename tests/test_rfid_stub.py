"""The M100-family RFID stub: protocol bytes as the module's manual gives them."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import serial

from edge.decoding.epc import decode_epc
from edge.devices import m100 as rfid
from edge.devices.m100 import FrameParser, parse_tag_notice
from firmware_stubs.rfid import RfidReaderStub

EPC = "3074257BF7194E4000001A85"  # SGTIN-96, GTIN 80614141123458 serial 6789


def test_command_bytes_match_the_manual():
    assert rfid.single_inventory() == bytes.fromhex("BB00220000227E")
    assert rfid.stop_inventory() == bytes.fromhex("BB00280000287E")
    assert rfid.multi_inventory(10000) == bytes.fromhex("BB00270003222710837E")
    assert rfid.error_frame(rfid.ERR_NO_TAG) == bytes.fromhex("BB01FF000115167E")


def test_tag_notice_matches_a_real_m100_capture():
    # From the module's manual: RSSI C9, PC 3400 (6 words, user-memory bit set), 12-byte EPC,
    # CRC 3A76, checksum EF.
    real = bytes.fromhex("BB 02 22 00 11 C9 3400 30751FEB705C5904E3D50D70 3A76 EF 7E")
    epc = bytes.fromhex("30751FEB705C5904E3D50D70")
    assert rfid.tag_notice(epc, rssi=-55, pc=0x3400) == real
    assert parse_tag_notice(real[5:-2]) == {
        "rssi": -55,
        "pc": 0x3400,
        "epc": epc.hex().upper(),
        "crc_ok": True,
    }


def test_gen2_crc_check_value():
    assert rfid.crc16_gen2(b"123456789") == 0xD64E


def test_parse_tag_notice_round_trip():
    frame = FrameParser().feed(rfid.tag_notice(bytes.fromhex(EPC), rssi=-61))[0]
    tag = parse_tag_notice(frame.params)
    assert tag == {"rssi": -61, "pc": 0x3000, "epc": EPC, "crc_ok": True}
    assert decode_epc(tag["epc"])["gtin"] == "80614141123458"


def test_parser_survives_noise_splits_and_bad_checksums():
    good = rfid.tag_notice(bytes.fromhex(EPC), rssi=-50)
    bad = good[:-2] + bytes([(good[-2] + 1) & 0xFF]) + good[-1:]
    stream = b"\x00\x13" + bad + b"\xff" + good + good
    parser = FrameParser()
    frames = []
    for i in range(0, len(stream), 5):
        frames += parser.feed(stream[i : i + 5])
    assert len(frames) == 2
    assert parser.bad >= 1
    assert "checksum" in parser.last_error


@pytest.fixture
def reader(tmp_path):
    stub = RfidReaderStub(str(tmp_path / "m100"), seed=1, round_interval=0.01)
    port = serial.serial_for_url(stub.path, timeout=0.5)
    yield stub, port
    port.close()
    stub.close()


def read_frames(port, parser: FrameParser, n: int, timeout: float = 2.0) -> list:
    frames: list = []
    deadline = time.monotonic() + timeout
    while len(frames) < n and time.monotonic() < deadline:
        frames += parser.feed(port.read(port.in_waiting or 1))
    return frames


def test_single_inventory_no_tag_then_tag(reader):
    stub, port = reader
    parser = FrameParser()
    port.write(rfid.single_inventory())
    (f,) = read_frames(port, parser, 1)
    assert (f.ftype, f.cmd, f.params) == (rfid.TYPE_RESPONSE, rfid.CMD_ERROR, b"\x15")
    stub.add_tag(EPC, rssi=-48)
    port.write(rfid.single_inventory())
    (f,) = read_frames(port, parser, 1)
    tag = parse_tag_notice(f.params)
    assert (f.ftype, tag["epc"], tag["crc_ok"]) == (rfid.TYPE_NOTICE, EPC, True)
    assert -51 <= tag["rssi"] <= -45
    assert stub.commands == ["single-inventory", "single-inventory"]


def test_multi_inventory_repeats_tags_until_count(reader):
    stub, port = reader
    stub.add_tag(EPC)
    stub.add_tag("3114257BF4499602D2000000", rssi=-70)
    parser = FrameParser()
    port.write(rfid.multi_inventory(3))
    frames = read_frames(port, parser, 6)
    assert len(frames) == 6
    epcs = sorted(parse_tag_notice(f.params)["epc"] for f in frames)
    assert epcs == sorted([EPC] * 3 + ["3114257BF4499602D2000000"] * 3)
    assert read_frames(port, parser, 1, timeout=0.2) == []  # the count is exhausted


def test_stop_ends_a_running_inventory(reader):
    stub, port = reader
    stub.add_tag(EPC)
    parser = FrameParser()
    port.write(rfid.multi_inventory(0xFFFF))
    assert len(read_frames(port, parser, 3)) >= 3
    port.write(rfid.stop_inventory())
    deadline = time.monotonic() + 2
    stopped = False
    while time.monotonic() < deadline and not stopped:
        for f in read_frames(port, parser, 1, timeout=0.5):
            stopped = stopped or (f.cmd == rfid.CMD_STOP and f.ftype == rfid.TYPE_RESPONSE)
    assert stopped
    assert not stub.inventory_running
    port.reset_input_buffer()
    time.sleep(0.1)
    assert port.in_waiting == 0


def test_unsupported_command_and_info(reader):
    _, port = reader
    parser = FrameParser()
    port.write(rfid.build_frame(rfid.TYPE_COMMAND, 0x99, b"\x01"))
    (f,) = read_frames(port, parser, 1)
    assert f.params == bytes([rfid.ERR_COMMAND])
    port.write(rfid.build_frame(rfid.TYPE_COMMAND, rfid.CMD_INFO, b"\x00"))
    (f,) = read_frames(port, parser, 1)
    assert f.params.startswith(b"\x00M100")


def test_bad_checksum_split_frames_and_noise(reader):
    stub, port = reader
    stub.add_tag(EPC)
    stub.corrupt_next(1)
    stub.split_frames = True
    parser = FrameParser()
    port.write(rfid.single_inventory())
    assert read_frames(port, parser, 1, timeout=0.5) == []
    assert parser.bad == 1
    stub.noise(30)
    port.write(rfid.single_inventory())
    (f,) = read_frames(port, parser, 1)
    assert parse_tag_notice(f.params)["epc"] == EPC


def test_unplug_and_replug(reader):
    stub, port = reader
    stub.add_tag(EPC)
    stub.unplug()
    with pytest.raises(serial.SerialException):
        for _ in range(3):
            port.read(1)
    stub.replug()
    port2 = serial.serial_for_url(stub.path, timeout=0.5)
    try:
        port2.write(rfid.single_inventory())
        (f,) = read_frames(port2, FrameParser(), 1)
        assert parse_tag_notice(f.params)["epc"] == EPC
    finally:
        port2.close()


def test_rfid_cli(tmp_path):
    link = tmp_path / "cli-m100"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tallyman.launch.cli", "scanner", "rfid", "--link", str(link)]
        + ["--linger", "0.5"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    try:
        assert proc.stdout.readline().strip() == str(link)
        proc.stdin.write(f"{EPC} -40\n")
        proc.stdin.flush()
        port = serial.serial_for_url(str(link), timeout=0.5)
        try:
            parser = FrameParser()
            frames: list = []
            deadline = time.monotonic() + 3
            while not frames and time.monotonic() < deadline:
                port.write(rfid.single_inventory())
                frames = [
                    f for f in read_frames(port, parser, 1, 0.5) if f.ftype == rfid.TYPE_NOTICE
                ]
            assert parse_tag_notice(frames[0].params)["epc"] == EPC
        finally:
            port.close()
        proc.stdin.close()
        assert proc.wait(timeout=10) == 0
        assert "CMD single-inventory" in proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
