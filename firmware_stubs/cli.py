"""`tallyman scanner barcode|rfid`: a stub device on a new pty, driven from stdin.

Why stdin lines: a tester (or a script) types what the device "sees", one barcode or tag per
line, and watches the host's replies or commands come back on stdout, with `!` lines to make the
device misbehave. The first stdout line is the device path, so a script can start the stub and
hand the path to `tallyman edge --barcode` or `--rfid`. The device emulators themselves
(`firmware_stubs.barcode`, `firmware_stubs.rfid`) load only when a command runs.
"""

from __future__ import annotations

import re
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

import click

from edge.devices.framing import PRESETS

if TYPE_CHECKING:
    from firmware_stubs.barcode import BarcodeScannerStub
    from firmware_stubs.rfid import RfidReaderStub

BARCODE_LINES = """\
Each stdin line is one scan; the four characters \\x1d stand for GS. Control lines:

\b
  !noise N         N bytes of line noise
  !split N TEXT    TEXT as one scan sent in N pieces
  !raw TEXT        bytes with \\xNN escapes, sent as they are (no prefix/suffix/AIM)
  !unplug          pull the cable: the device path disappears
  !replug          plug it back in (same path, new pty)
  !sleep SECONDS   pause

Host replies are printed as `ACK text` / `NAK reason`."""

RFID_LINES = """\
Each stdin line puts a tag in the field: EPC_HEX [RSSI_DBM]
(e.g. 3074257BF7194E4000001A85 -48). Control lines:

\b
  !remove EPC_HEX  take a tag out of the field
  !clear           empty the field
  !badcs [N]       spoil the checksum of the next N tag notices
  !split on|off    send each frame in two pieces
  !noise N         N bytes of line noise
  !unplug          pull the cable: the device path disappears
  !replug          plug it back in (same path, new pty)
  !sleep SECONDS   pause

Host commands are printed as `CMD name …`. Runs until killed (or stdin ends and --linger
passes)."""

LINK_HELP = "stable path to create for the device (like /dev/serial/by-id)"


def _escapes(text: str) -> str:
    """`\\x1d` (and any other `\\xNN`) → the character it names; the rest stays as typed."""
    return re.sub(r"\\x([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), text)


def _prefix(value: str | None) -> bytes | None:
    if value is None:
        return None
    named = {"none": b"", "": b"", "stx": b"\x02"}
    if value.lower() in named:
        return named[value.lower()]
    return _escapes(value).encode("latin-1")


def _lines(stream: TextIO) -> Iterator[str]:
    """Stdin's non-blank lines without their line ends."""
    for raw in stream:
        line = raw.rstrip("\r\n")
        if line.strip():
            yield line


def _plain(help_text: str) -> str:
    """Control-line help for an error message: without click's no-rewrap markers."""
    return help_text.replace("\b\n", "")


class _Printer:
    """Whole lines to stdout or stderr from several threads, never interleaved."""

    def __init__(self) -> None:
        self.lock = threading.Lock()

    def out(self, line: str) -> None:
        self._write(sys.stdout, line)

    def err(self, line: str) -> None:
        self._write(sys.stderr, line)

    def _write(self, stream: TextIO, line: str) -> None:
        with self.lock:
            stream.write(line + "\n")
            stream.flush()


@click.group()
def command() -> None:
    """A stub barcode scanner or UHF RFID reader on a new pty, driven from stdin.

    The first line printed is the device's path, for `tallyman edge --barcode` or `--rfid`.
    """


# --- the barcode scanner ------------------------------------------------------------------------


@dataclass
class _ScanFeed:
    """Sends stdin's scans to the stub and counts the host's replies, so that the end of stdin
    (or an `!unplug`) can wait until the host has answered every scan already sent."""

    stub: BarcodeScannerStub
    p: _Printer
    linger: float
    sent: int = 0
    replies: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def print_replies(self) -> None:
        """The reply thread: the host's ACK/NAK lines to stdout until `stop`."""
        while not self.stop.is_set():
            for ok, text in self.stub.read_replies(0.2):
                self.replies += 1
                self.p.out(f"{'ACK' if ok else 'NAK'} {text}".rstrip())

    def send(self, text: str, split: int = 1) -> None:
        stub = self.stub
        if not stub.plugged:
            self.p.err("scanner is unplugged: scan dropped (send !replug first)")
            return
        if not stub.host_connected():
            self.p.err(f"waiting for a host to open {stub.path} …")
        # Even with the port open, the host may not have flushed its input yet (pyserial does
        # that last in open()): wait_for_host waits for that flush once per connection.
        while stub.plugged and not stub.wait_for_host(1.0):
            pass
        stub.scan(text, split)
        self.sent += 1

    def settle(self) -> None:
        """Wait (up to `linger` seconds) until the host has answered every scan sent."""
        deadline = time.monotonic() + self.linger
        while self.replies < self.sent and time.monotonic() < deadline:
            time.sleep(0.02)
        self.replies = self.sent = 0

    def control(self, line: str) -> None:
        """One `!` line; a bad one is reported on stderr and the stub carries on."""
        cmd, _, rest = line[1:].partition(" ")
        cmd = cmd.lower()
        stub = self.stub
        try:
            if cmd == "noise":
                if stub.plugged:
                    stub.noise(int(rest or 16))
            elif cmd == "split":
                n, _, text = rest.partition(" ")
                self.send(_escapes(text), int(n))
            elif cmd == "raw":
                if stub.plugged:
                    stub.write(_escapes(rest).encode("latin-1", "replace"))
            elif cmd == "unplug":
                self.settle()  # let scans already sent reach the host, as the tester surely meant
                stub.unplug()
                self.p.err("unplugged")
            elif cmd == "replug":
                stub.replug()
                self.p.err(f"replugged: {stub.path} -> {stub.pts}")
            elif cmd == "sleep":
                time.sleep(float(rest or 1))
            else:
                self.p.err(f"unknown control line {line!r}\n{_plain(BARCODE_LINES)}")
        except ValueError:
            self.p.err(f"bad control line {line!r}\n{_plain(BARCODE_LINES)}")


@command.command(help="A serial barcode scanner on a new pty.\n\n" + BARCODE_LINES)
@click.option("--link", metavar="PATH", help=LINK_HELP)
@click.option(
    "--prefix",
    metavar="PREFIX",
    help="frame prefix: none, stx, or text with \\xNN escapes (default: the suffix's own)",
)
@click.option(
    "--suffix",
    type=click.Choice(sorted(PRESETS)),
    default="crlf",
    show_default=True,
    help="how each frame ends",
)
@click.option("--no-aim", is_flag=True, help="send no AIM symbology prefix")
@click.option(
    "--linger",
    type=float,
    default=2.0,
    show_default=True,
    metavar="SECONDS",
    help="how long to wait for outstanding host replies after stdin ends",
)
def barcode(link: str | None, prefix: str | None, suffix: str, no_aim: bool, linger: float) -> None:
    from firmware_stubs.barcode import BarcodeScannerStub

    preset_prefix, end = PRESETS[suffix]
    frame_prefix = _prefix(prefix)
    if frame_prefix is None:
        frame_prefix = preset_prefix
    stub = BarcodeScannerStub(link, prefix=frame_prefix, suffix=end, aim=not no_aim)
    p = _Printer()
    p.out(stub.path)
    feed = _ScanFeed(stub, p, linger)
    printer = threading.Thread(target=feed.print_replies, name="replies", daemon=True)
    printer.start()
    try:
        for line in _lines(sys.stdin):
            if line.startswith("!"):
                feed.control(line)
            else:
                feed.send(_escapes(line))
        feed.settle()
    except KeyboardInterrupt:
        pass
    finally:
        feed.stop.set()
        printer.join(1.0)
        stub.close()


# --- the RFID reader ----------------------------------------------------------------------------


@command.command(help="An M100-family UHF RFID reader on a new pty.\n\n" + RFID_LINES)
@click.option("--link", metavar="PATH", help=LINK_HELP)
@click.option(
    "--interval",
    type=float,
    default=0.02,
    show_default=True,
    metavar="SECONDS",
    help="seconds per inventory round",
)
@click.option(
    "--linger",
    type=float,
    metavar="SECONDS",
    help="exit this many seconds after stdin ends (default: keep running until killed)",
)
def rfid(link: str | None, interval: float, linger: float | None) -> None:
    from firmware_stubs.rfid import RfidReaderStub

    p = _Printer()
    stub = RfidReaderStub(link, round_interval=interval, on_command=lambda c: p.out(f"CMD {c}"))
    p.out(stub.path)
    try:
        for line in _lines(sys.stdin):
            try:
                _rfid_line(line.strip(), stub, p)
            except ValueError as exc:
                p.err(f"bad line {line!r}: {exc}\n{_plain(RFID_LINES)}")
        if linger is None:
            threading.Event().wait()
        else:
            time.sleep(linger)
    except KeyboardInterrupt:
        pass
    finally:
        stub.close()


def _rfid_line(line: str, stub: RfidReaderStub, p: _Printer) -> None:
    if not line.startswith("!"):
        parts = line.split()
        if len(parts) > 2 or not re.fullmatch(r"[0-9A-Fa-f]+", parts[0]):
            raise ValueError("expected EPC_HEX [RSSI_DBM]")
        stub.add_tag(parts[0], int(parts[1]) if len(parts) == 2 else -55)
        return
    cmd, _, rest = line[1:].partition(" ")
    cmd, rest = cmd.lower(), rest.strip()
    if cmd == "remove":
        stub.remove_tag(rest)
    elif cmd == "clear":
        stub.clear_tags()
    elif cmd == "badcs":
        stub.corrupt_next(int(rest or 1))
    elif cmd == "split":
        stub.split_frames = rest.lower() in ("on", "1", "yes", "")
    elif cmd == "noise":
        if stub.plugged:
            stub.noise(int(rest or 16))
    elif cmd == "unplug":
        stub.unplug()
        p.err("unplugged")
    elif cmd == "replug":
        stub.replug()
        p.err(f"replugged: {stub.path} -> {stub.pts}")
    elif cmd == "sleep":
        time.sleep(float(rest or 1))
    else:
        raise ValueError("unknown control line")
