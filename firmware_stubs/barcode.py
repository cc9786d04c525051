"""A barcode scanner in serial/USB-CDC mode, emulated on a real pseudo-terminal.

Why a real pty and not a mock: the edge's SerialReader opens it with the same pyserial call it
uses for a scanner on /dev/ttyACM0, so framing, termios, unplug (EIO on read) and replug (the
by-id path disappears and comes back pointing at a new device) are exercised for real.

The stub behaves like a scanner, including the bad parts: AIM symbology prefixes, configurable
prefix/suffix, frames split over several USB packets, line noise, unplugging, and — in host
ACK/NAK mode — re-sending a scan the host did not acknowledge in time.
"""

from __future__ import annotations

import contextlib
import os
import random
import select
import tempfile
import threading
import time
import tty
import uuid

from tallyman.wire import gs1_check_digit

ACK = 0x06
NAK = 0x15
GS = "\x1d"

# Bytes a noisy line produces that cannot be mistaken for framing or data.
_NOISE = bytes(b for b in range(256) if (b < 0x20 or b >= 0x7F) and b not in b"\r\n\t\x02\x03\x1d")


def aim_for(text: str) -> str:
    """The AIM symbology identifier a scanner would put in front of this data.

    Tests and testers write the data as it is in the barcode; which symbology carries it is
    inferred from its shape: EAN/UPC lengths, ITF-14, GS1 element strings, else Code 128.
    """
    if text.isascii() and text.isdigit():
        if len(text) in (12, 13):
            return "]E0"
        if len(text) == 8:
            return "]E4"
        if len(text) == 14:
            return "]I1"
    if GS in text or _looks_gs1(text):
        return "]C1"
    return "]C0"


def _looks_gs1(text: str) -> bool:
    """A GTIN or SSCC element string at the start, with a valid check digit."""
    for ai, n in (("01", 14), ("02", 14), ("00", 18), ("414", 13)):
        body = text[len(ai) : len(ai) + n]
        if text.startswith(ai) and len(body) == n and body.isdigit():
            return gs1_check_digit(body[:-1]) == int(body[-1])
    return False


def hri_to_gs1(text: str) -> str:
    """'(01)…(10)…' as printed under a label → the element string the barcode encodes."""
    if not text.startswith("("):
        return text
    try:
        from biip.gs1_messages import GS1Message

        return GS1Message.parse_hri(text).value
    except Exception:  # not HRI after all: send it as typed
        return text


def _default_link() -> str:
    return os.path.join(
        tempfile.gettempdir(), f"usb-Tallyman_Barcode_Stub_{uuid.uuid4().hex[:8]}-if00"
    )


class BarcodeScannerStub:
    """A scanner on a pty; `.path` is a stable symlink to the current /dev/pts/N."""

    def __init__(
        self,
        link: str | None = None,
        prefix: bytes = b"",
        suffix: bytes = b"\r\n",
        aim: bool = True,
        seed: int | None = None,
    ):
        self.path = link or _default_link()
        self.prefix = prefix
        self.suffix = suffix
        self.aim = aim
        self._rng = random.Random(seed)
        self._lock = threading.RLock()
        self._master: int | None = None
        self._pts: str | None = None
        self._rbuf = bytearray()
        self._host_seen = False
        self._open()

    # --- the device ------------------------------------------------------------------------

    def _open(self) -> None:
        master, slave = os.openpty()
        # Raw: no echo of scans back to us, no CR→LF translation of the host's replies.
        tty.setraw(slave)
        self._pts = os.ttyname(slave)
        # Close our slave end so that the master reports HUP until a host opens the port: that
        # is how `host_connected()` knows someone is listening.
        os.close(slave)
        with self._lock:
            self._master = master
            self._rbuf.clear()
            self._host_seen = False
        tmp = f"{self.path}.{os.getpid()}.tmp"
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        os.symlink(self._pts, tmp)
        os.replace(tmp, self.path)

    @property
    def pts(self) -> str | None:
        """The current /dev/pts/N behind the link (None while unplugged)."""
        return self._pts if self._master is not None else None

    @property
    def plugged(self) -> bool:
        return self._master is not None

    def unplug(self) -> None:
        """Like pulling the USB cable: the device node and its by-id link vanish."""
        with self._lock:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)
            if self._master is not None:
                os.close(self._master)
            self._master = None
            self._rbuf.clear()

    def replug(self) -> None:
        """A new pty (a new /dev/pts/N, like a new ttyACM number), same link path."""
        with self._lock:
            if self._master is not None:
                self.unplug()
            self._open()

    def close(self) -> None:
        self.unplug()

    def __enter__(self) -> BarcodeScannerStub:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def host_connected(self) -> bool:
        """True while some process (the edge) has the port open."""
        master = self._master
        if master is None:
            return False
        poller = select.poll()
        poller.register(master, select.POLLIN | select.POLLHUP)
        try:
            events = poller.poll(0)
        except OSError:
            return False
        return not any(ev & select.POLLHUP for _, ev in events)

    def wait_for_host(self, timeout: float = 5.0, settle: float = 0.1) -> bool:
        """Block until a host has the port open. Sleeps `settle` after a fresh open, because
        pyserial flushes the input buffer right after opening and would eat an early scan."""
        deadline = time.monotonic() + timeout
        while True:
            if self.host_connected():
                if not self._host_seen:
                    time.sleep(settle)
                    self._host_seen = True
                return True
            self._host_seen = False
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)

    # --- scanner → host --------------------------------------------------------------------

    def frame(self, text: str) -> bytes:
        """The bytes a scanner sends for one barcode with this data."""
        data = hri_to_gs1(text)
        if self.aim:
            if not data.startswith("]"):
                data = aim_for(data) + data
        elif data.startswith("]") and len(data) >= 3:
            data = data[3:]
        return self.prefix + data.encode("latin-1", "replace") + self.suffix

    def scan(self, text: str, split: int = 1) -> None:
        """Send one scan; `split` > 1 sends it in that many pieces, like slow USB packets."""
        self.write(self.frame(text), split)

    def write(self, data: bytes, split: int = 1) -> None:
        """Raw bytes onto the line (for tests that need a malformed frame)."""
        split = max(1, min(split, len(data)))
        step = -(-len(data) // split)
        for i in range(0, len(data), step):
            self._write(data[i : i + step])
            if i + step < len(data):
                time.sleep(0.02)

    def noise(self, n: int = 16) -> bytes:
        """`n` random bytes of line noise (never CR, LF, TAB, STX, ETX or GS)."""
        junk = bytes(self._rng.choice(_NOISE) for _ in range(n))
        self._write(junk)
        return junk

    def _write(self, data: bytes) -> None:
        master = self._master
        if master is None:
            raise OSError("scanner is unplugged")
        view = memoryview(data)
        while view:
            n = os.write(master, view)
            view = view[n:]

    # --- host → scanner --------------------------------------------------------------------

    def read_replies(self, timeout: float = 1.0) -> list[tuple[bool, str]]:
        """Host ACK/NAK replies: waits up to `timeout` for one, returns all complete ones."""
        deadline = time.monotonic() + timeout
        while True:
            replies = self._parse_replies()
            if replies:
                return replies
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            self._fill(min(remaining, 0.05))

    def drain(self) -> list[tuple[bool, str]]:
        """Replies already waiting, without blocking."""
        for _ in range(64):
            before = len(self._rbuf)
            self._fill(0)
            if len(self._rbuf) == before:
                break
        return self._parse_replies()

    def _fill(self, wait: float) -> None:
        master = self._master
        if master is None:
            time.sleep(wait)
            return
        try:
            ready, _, _ = select.select([master], [], [], wait)
            if not ready:
                return
            chunk = os.read(master, 4096)
        except OSError:
            # EIO: no host has the port open (or we were unplugged meanwhile); don't spin.
            time.sleep(wait)
            return
        with self._lock:
            if master == self._master:
                self._rbuf += chunk

    def _parse_replies(self) -> list[tuple[bool, str]]:
        out: list[tuple[bool, str]] = []
        with self._lock:
            buf = self._rbuf
            while True:
                start = next((i for i, b in enumerate(buf) if b in (ACK, NAK)), -1)
                if start < 0:
                    buf.clear()  # nothing but stray bytes
                    break
                del buf[:start]
                end = buf.find(b"\r\n")
                if end < 0:
                    break
                ok = buf[0] == ACK
                text = bytes(buf[1:end]).decode("ascii", "replace")
                del buf[: end + 2]
                out.append((ok, text))
        return out

    def scan_and_wait(
        self, text: str, timeout: float = 2.0, retries: int = 2, split: int = 1
    ) -> tuple[bool, str] | None:
        """Send a scan and wait for the host's ACK/NAK, re-sending it up to `retries` times on
        silence, as a scanner in host-ACK mode does. None when the host never answered.

        A re-sent frame may reach the host twice (when only the reply was late): hosts must
        tolerate duplicates, and this is how tests check that they do.
        """
        self.drain()  # forget replies to earlier scans
        for _ in range(retries + 1):
            if not self.wait_for_host(timeout):
                continue
            self.scan(text, split)
            replies = self.read_replies(timeout)
            if replies:
                return replies[0]
        return None
