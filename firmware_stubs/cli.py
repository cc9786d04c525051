"""`tallyman scanner barcode|rfid`: a stub device on a new pty, driven from stdin.

Why stdin lines: a tester (or a script) types what the scanner "sees", one barcode per line, and
watches the host's ACK/NAK replies come back on stdout, with `!` lines to make the device
misbehave. The first stdout line is the device path, so a script can start the stub and hand
the path to `tallyman edge --barcode`.
"""

from __future__ import annotations

import argparse
import re
import sys
import threading
import time
from collections.abc import Callable

from firmware_stubs.barcode import BarcodeScannerStub

HELP_LINES = """\
Each stdin line is one scan; the four characters \\x1d stand for GS. Control lines:
  !noise N         N bytes of line noise
  !split N TEXT    TEXT as one scan sent in N pieces
  !raw TEXT        bytes with \\xNN escapes, sent as they are (no prefix/suffix/AIM)
  !unplug          pull the cable: the device path disappears
  !replug          plug it back in (same path, new pty)
  !sleep SECONDS   pause
host replies are printed as `ACK text` / `NAK reason`."""


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


class _Printer:
    def __init__(self) -> None:
        self.lock = threading.Lock()

    def out(self, line: str) -> None:
        with self.lock:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()

    def err(self, line: str) -> None:
        with self.lock:
            sys.stderr.write(line + "\n")
            sys.stderr.flush()


def barcode_main(argv: list[str]) -> int:
    from edge.devices.framing import PRESETS

    parser = argparse.ArgumentParser(
        prog="tallyman scanner barcode",
        description="A serial barcode scanner on a new pty. " + HELP_LINES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--link", help="stable path to create for the device (like by-id)")
    parser.add_argument("--prefix", help="frame prefix: none, stx, or text (\\xNN escapes)")
    parser.add_argument("--suffix", choices=sorted(PRESETS), default="crlf")
    parser.add_argument("--no-aim", action="store_true", help="send no AIM symbology prefix")
    parser.add_argument(
        "--linger",
        type=float,
        default=2.0,
        help="seconds to wait for outstanding host replies after stdin ends (default 2)",
    )
    args = parser.parse_args(argv)

    preset_prefix, suffix = PRESETS[args.suffix]
    prefix = _prefix(args.prefix)
    if prefix is None:
        prefix = preset_prefix
    stub = BarcodeScannerStub(args.link, prefix=prefix, suffix=suffix, aim=not args.no_aim)
    p = _Printer()
    p.out(stub.path)

    stop = threading.Event()
    counts = {"sent": 0, "replies": 0}

    def replies() -> None:
        while not stop.is_set():
            for ok, text in stub.read_replies(0.2):
                counts["replies"] += 1
                p.out(f"{'ACK' if ok else 'NAK'} {text}".rstrip())

    printer = threading.Thread(target=replies, name="replies", daemon=True)
    printer.start()

    def send(text: str, split: int = 1) -> None:
        if not stub.plugged:
            p.err("scanner is unplugged: scan dropped (send !replug first)")
            return
        if not stub.host_connected():
            p.err(f"waiting for a host to open {stub.path} …")
        # Even with the port open, the host may not have flushed its input yet (pyserial does
        # that last in open()): wait_for_host waits for that flush once per connection.
        while stub.plugged and not stub.wait_for_host(1.0):
            pass
        stub.scan(text, split)
        counts["sent"] += 1

    def settle() -> None:
        """Wait (up to --linger seconds) until the host has answered every scan sent."""
        deadline = time.monotonic() + args.linger
        while counts["replies"] < counts["sent"] and time.monotonic() < deadline:
            time.sleep(0.02)
        counts["replies"] = counts["sent"] = 0

    try:
        for raw_line in sys.stdin:
            line = raw_line.rstrip("\r\n")
            if not line.strip():
                continue
            if line.startswith("!"):
                _control(line, stub, send, settle, p)
            else:
                send(_escapes(line))
        settle()
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        printer.join(1.0)
        stub.close()
    return 0


def _control(
    line: str,
    stub: BarcodeScannerStub,
    send: Callable[[str, int], None],
    settle: Callable[[], None],
    p: _Printer,
) -> None:
    cmd, _, rest = line[1:].partition(" ")
    cmd = cmd.lower()
    try:
        if cmd == "noise":
            if stub.plugged:
                stub.noise(int(rest or 16))
        elif cmd == "split":
            n, _, text = rest.partition(" ")
            send(_escapes(text), int(n))
        elif cmd == "raw":
            if stub.plugged:
                stub.write(_escapes(rest).encode("latin-1", "replace"))
        elif cmd == "unplug":
            settle()  # let scans already sent reach the host, as the tester surely meant
            stub.unplug()
            p.err("unplugged")
        elif cmd == "replug":
            stub.replug()
            p.err(f"replugged: {stub.path} -> {stub.pts}")
        elif cmd == "sleep":
            time.sleep(float(rest or 1))
        else:
            p.err(f"unknown control line {line!r}\n{HELP_LINES}")
    except ValueError:
        p.err(f"bad control line {line!r}\n{HELP_LINES}")


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: tallyman scanner barcode|rfid [OPTIONS]   (--help after the kind for more)")
        return 0 if argv else 2
    kind, rest = argv[0], argv[1:]
    if kind == "barcode":
        return barcode_main(rest)
    if kind == "rfid":
        from firmware_stubs.rfid import main as rfid_main

        return rfid_main(rest)
    print(f"tallyman scanner: unknown device {kind!r}; use barcode or rfid", file=sys.stderr)
    return 2


from tallyman.console import passthrough as _passthrough  # noqa: E402

command = _passthrough(main, "scanner")
