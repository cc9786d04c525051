"""A serial device emulated on a real pseudo-terminal, with a stable by-id style link.

Why a real pty and not a mock: the edge opens it with the same pyserial call it uses for a device
on /dev/ttyACM0, so termios, unplug (EIO on read) and replug (the by-id path disappears and comes
back pointing at a new device) are exercised for real. The device classes (barcode scanner,
RFID reader) add their protocol on top of this.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import random
import select
import struct
import tempfile
import termios
import threading
import time
import tty
import uuid
from typing import Self

_TIOCPKT_FLUSHREAD = getattr(termios, "TIOCPKT_FLUSHREAD", 1)


def default_link(kind: str) -> str:
    """A fresh path shaped like /dev/serial/by-id names, in the temp directory."""
    return os.path.join(tempfile.gettempdir(), f"usb-Tallyman_{kind}_{uuid.uuid4().hex[:8]}-if00")


class PtyDevice:
    """The device end of a pty; `.path` is a stable symlink to the current /dev/pts/N."""

    #: Bytes `noise()` chooses from; devices narrow it so noise never forms a valid frame.
    noise_bytes: bytes = bytes(range(256))

    def __init__(self, link: str | None = None, kind: str = "Device", seed: int | None = None):
        self.path = link or default_link(kind)
        self._rng = random.Random(seed)
        self._lock = threading.RLock()
        self._master: int | None = None
        self._pts: str | None = None
        self._rbuf = bytearray()  # bytes the host wrote to us, not yet parsed
        self._host_seen = False
        self._packet = False
        self._flushes = 0
        self._open()

    # --- plugging --------------------------------------------------------------------------

    def _open(self) -> None:
        master, slave = os.openpty()
        # Raw: no echo of our output back to us, no CR/LF translation either way.
        tty.setraw(slave)
        pts = os.ttyname(slave)
        # Close our slave end so that the master reports HUP until a host opens the port: that
        # is how `host_connected()` knows someone is listening.
        os.close(slave)
        # Packet mode tells us when the host flushes its input queue, which pyserial does as the
        # last step of opening a port: only after that is it safe to send.
        try:
            fcntl.ioctl(master, termios.TIOCPKT, struct.pack("i", 1))
            packet = True
        except (AttributeError, OSError):
            packet = False
        with self._lock:
            self._master = master
            self._pts = pts
            self._packet = packet
            self._rbuf.clear()
            self._host_seen = False
            self._flushes = 0
        tmp = f"{self.path}.{os.getpid()}.tmp"
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        os.symlink(pts, tmp)
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

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the host --------------------------------------------------------------------------

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

    def wait_for_host(self, timeout: float = 5.0, settle: float = 1.0) -> bool:
        """Block until a host has the port open and is ready to read.

        pyserial's open() flushes the port's input queue as its last step, which would eat
        bytes sent a moment too early. Packet mode reports that flush; for hosts that never
        flush (or without packet mode) give them `settle` seconds once per connection.
        """
        deadline = time.monotonic() + timeout
        while True:
            if self.host_connected():
                if not self._host_seen:
                    until = time.monotonic() + settle
                    while not self._flushes and time.monotonic() < until:
                        self._fill(0.01)
                    self._host_seen = True
                return True
            with self._lock:
                self._host_seen = False
                self._flushes = 0
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)

    # --- bytes out -------------------------------------------------------------------------

    def write(self, data: bytes, split: int = 1) -> None:
        """Bytes onto the line; `split` > 1 sends them in that many pieces with short gaps,
        like a device whose USB packets straddle a frame."""
        if not data:
            return
        split = max(1, min(split, len(data)))
        step = -(-len(data) // split)
        for i in range(0, len(data), step):
            self._write(data[i : i + step])
            if i + step < len(data):
                time.sleep(0.02)

    def noise(self, n: int = 16) -> bytes:
        """`n` random bytes of line noise."""
        junk = bytes(self._rng.choice(self.noise_bytes) for _ in range(n))
        self._write(junk)
        return junk

    def _write(self, data: bytes) -> None:
        master = self._master
        if master is None:
            raise OSError("device is unplugged")
        view = memoryview(data)
        while view:
            n = os.write(master, view)
            view = view[n:]

    # --- bytes in --------------------------------------------------------------------------

    def _fill(self, wait: float) -> None:
        """Move what the host wrote into `_rbuf`, waiting up to `wait` seconds for it."""
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
            if master != self._master or not chunk:
                return
            if not self._packet:
                self._rbuf += chunk
            elif chunk[0] == 0:
                self._rbuf += chunk[1:]
            elif chunk[0] & _TIOCPKT_FLUSHREAD:
                self._flushes += 1
