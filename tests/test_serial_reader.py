"""SerialReader against the barcode stub on real ptys: the same path a USB scanner takes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from edge.decoding.decoder import DecodeError, decode
from edge.devices.framing import framing_preset
from edge.devices.serial_port import SerialReader
from firmware_stubs.barcode import BarcodeScannerStub

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX ptys")


class Host:
    """The edge's side: records frames, errors and states; ACKs decodable scans."""

    def __init__(self, reply: bool = True):
        self.frames: list[str] = []
        self.errors: list[str] = []
        self.states: list[str] = []
        self.reply = reply
        self.ignore_next = 0
        self.reader: SerialReader | None = None
        self.cond = threading.Condition()

    def on_frame(self, text: str) -> None:
        with self.cond:
            self.frames.append(text)
            self.cond.notify_all()
        if self.ignore_next:
            self.ignore_next -= 1
            return
        if self.reply and self.reader is not None:
            try:
                scan = decode(text)
                self.reader.write_reply(True, f"OK {scan.gtin or scan.sku or scan.value}")
            except DecodeError as exc:
                self.reader.write_reply(False, exc.detail)

    def on_error(self, reason: str) -> None:
        with self.cond:
            self.errors.append(reason)
            self.cond.notify_all()

    def on_state(self, state: str) -> None:
        with self.cond:
            self.states.append(state)
            self.cond.notify_all()

    def wait(self, predicate, timeout: float = 3.0) -> bool:
        with self.cond:
            return self.cond.wait_for(predicate, timeout)


@pytest.fixture
def stub(tmp_path):
    s = BarcodeScannerStub(str(tmp_path / "usb-scanner-if00"), seed=7)
    yield s
    s.close()


def start_reader(url: str, host: Host, **kw) -> SerialReader:
    reader = SerialReader(
        url,
        on_frame=host.on_frame,
        on_error=host.on_error,
        on_state=host.on_state,
        **kw,
    )
    host.reader = reader
    return reader.start()


@pytest.fixture
def connected(stub):
    host = Host()
    reader = start_reader(stub.path, host)
    assert stub.wait_for_host(3.0)
    yield stub, host, reader
    reader.stop()


def test_scan_arrives_and_ack_goes_back(connected):
    stub, host, _ = connected
    assert stub.scan_and_wait("5901234123457") == (True, "OK 05901234123457")
    assert host.frames == ["]E05901234123457"]
    assert host.states == ["scanner connected"]


def test_nak_reply_for_a_bad_scan(connected):
    stub, _, _ = connected
    ok, text = stub.scan_and_wait("5901234123458")
    assert not ok
    assert "should be 7" in text


def test_split_frames_and_gs_survive(connected):
    stub, host, _ = connected
    stub.scan("0109501101530003\x1d10LOT42\x1d21SER1", split=7)
    assert host.wait(lambda: host.frames)
    assert host.frames == ["]C10109501101530003\x1d10LOT42\x1d21SER1"]
    assert stub.read_replies(2.0) == [(True, "OK 09501101530003")]


def test_noise_between_frames_is_ignored(connected):
    stub, host, _ = connected
    stub.noise(40)
    stub.scan("A-1")
    stub.noise(5)
    stub.scan("B-2", split=2)
    assert host.wait(lambda: len(host.frames) == 2)
    assert host.frames == ["]C0A-1", "]C0B-2"]
    assert host.errors == []


def test_noise_is_logged_for_whoever_checks_the_cable(connected, caplog):
    stub, host, _ = connected
    with caplog.at_level("WARNING", logger="edge.devices.serial_port"):
        stub.noise(10)
        stub.scan("A-1")
        assert host.wait(lambda: host.frames)
    assert "line noise" in caplog.text


def test_garbled_frame_reported_not_raised(connected):
    stub, host, _ = connected
    stub.write(b"AB\x07CD\r\n")
    stub.scan("A-1")
    assert host.wait(lambda: host.frames and host.errors)
    assert host.errors == ["garbled frame: control byte 0x07 at 2; rescan"]
    assert host.frames == ["]C0A-1"]


def test_unplug_replug_recovers(connected):
    stub, host, _ = connected
    assert stub.scan_and_wait("A-1") == (True, "OK A-1")
    stub.unplug()
    assert not os.path.lexists(stub.path)
    assert host.wait(lambda: "scanner unplugged" in host.states)
    time.sleep(0.2)  # the reader retries against a missing path meanwhile
    stub.replug()
    assert os.path.realpath(stub.path) == stub.pts  # the stable link follows the new device
    assert host.wait(lambda: "scanner reconnected" in host.states)
    assert stub.scan_and_wait("B-2") == (True, "OK B-2")
    assert host.states == ["scanner connected", "scanner unplugged", "scanner reconnected"]
    assert host.frames == ["]C0A-1", "]C0B-2"]


def test_unplug_twice_in_a_row(connected):
    stub, host, _ = connected
    for i in range(2):
        stub.unplug()
        assert host.wait(lambda n=i: host.states.count("scanner unplugged") == n + 1)
        stub.replug()
        assert host.wait(lambda n=i: host.states.count("scanner reconnected") == n + 1)
    assert stub.scan_and_wait("C-3") == (True, "OK C-3")


def test_scanner_resends_when_host_does_not_answer(connected):
    stub, host, _ = connected
    host.ignore_next = 1  # the first copy gets no reply, like a lost ACK
    assert stub.scan_and_wait("A-1", timeout=0.5, retries=2) == (True, "OK A-1")
    assert host.frames == ["]C0A-1", "]C0A-1"]  # the host must tolerate the duplicate


def test_scan_and_wait_gives_up():
    with BarcodeScannerStub() as stub:
        host = Host(reply=False)
        reader = start_reader(stub.path, host)
        try:
            assert stub.scan_and_wait("A-1", timeout=0.2, retries=1) is None
            assert host.wait(lambda: len(host.frames) == 2)
        finally:
            reader.stop()
    assert not os.path.lexists(stub.path)


def test_reader_started_before_the_scanner_exists(tmp_path):
    link = str(tmp_path / "later")
    host = Host()
    reader = start_reader(link, host)
    try:
        time.sleep(0.2)
        assert not reader.connected
        with BarcodeScannerStub(link) as stub:
            assert reader.wait_connected(3.0)
            assert stub.scan_and_wait("A-1") == (True, "OK A-1")
        assert host.states[0] == "scanner connected"
    finally:
        reader.stop()


def test_stop_is_prompt_while_unplugged(stub):
    host = Host()
    reader = start_reader(stub.path, host, backoff_max=2.0)
    assert stub.wait_for_host(3.0)
    stub.unplug()
    assert host.wait(lambda: "scanner unplugged" in host.states)
    time.sleep(0.8)  # backoff has grown
    t0 = time.monotonic()
    reader.stop()
    assert time.monotonic() - t0 < 0.5
    assert not reader.connected
    assert reader.write_reply(True, "nobody listening") is False


def test_stx_etx_framing(tmp_path):
    prefix, suffix = framing_preset("stx-etx")
    with BarcodeScannerStub(str(tmp_path / "stx"), prefix=prefix, suffix=suffix) as stub:
        host = Host()
        reader = start_reader(stub.path, host, prefix=prefix, suffix=suffix)
        try:
            assert stub.wait_for_host(3.0)
            stub.write(b"\r\n\xff")  # junk outside STX…ETX
            assert stub.scan_and_wait("5901234123457") == (True, "OK 05901234123457")
            assert host.errors == []
        finally:
            reader.stop()


def test_no_aim_stub_and_decoder_still_agree(tmp_path):
    with BarcodeScannerStub(str(tmp_path / "noaim"), aim=False) as stub:
        host = Host()
        reader = start_reader(stub.path, host)
        try:
            assert stub.wait_for_host(3.0)
            assert stub.scan_and_wait("]E05901234123457") == (True, "OK 05901234123457")
            assert host.frames == ["5901234123457"]
        finally:
            reader.stop()


def test_socket_url_works_too():
    """serial_for_url: the same reader reads a scanner behind a serial-to-TCP bridge."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    host = Host()
    reader = start_reader(f"socket://127.0.0.1:{port}", host)
    try:
        conn, _ = server.accept()
        assert reader.wait_connected(3.0)  # pyserial discards input that arrives during open()
        time.sleep(0.05)
        conn.sendall(b"]C0A-1\r\n")
        assert host.wait(lambda: host.frames == ["]C0A-1"])
        conn.settimeout(2.0)
        assert conn.recv(100) == b"\x06OK A-1\r\n"
        conn.close()
    finally:
        reader.stop()
        server.close()


def test_scanner_cli_round_trip(tmp_path):
    """`tallyman scanner barcode`: path on the first line, scans from stdin, replies on stdout."""
    link = tmp_path / "cli-scanner"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tallyman.launch.cli", "scanner", "barcode", "--link", str(link)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    try:
        assert proc.stdout.readline().strip() == str(link)
        host = Host()
        reader = start_reader(str(link), host)
        try:
            proc.stdin.write(
                "5901234123457\n"
                "!noise 8\n"
                "!split 3 0109501101530003\\x1d10L1\n"
                "MODE:FLY\n"
                "!unplug\n"
                "!replug\n"
                "QTY:2\n"
            )
            proc.stdin.close()
            assert proc.wait(timeout=15) == 0
            out = proc.stdout.read()
        finally:
            reader.stop()
    finally:
        if proc.poll() is None:
            proc.kill()
    lines = out.splitlines()
    assert lines[0] == "ACK OK 05901234123457"
    assert lines[1] == "ACK OK 09501101530003"
    assert lines[2].startswith("NAK unknown mode 'FLY'")
    assert lines[3] == "ACK OK 2"
    assert host.frames[:2] == ["]E05901234123457", "]C10109501101530003\x1d10L1"]
    assert "scanner reconnected" in host.states
    assert not link.exists()
