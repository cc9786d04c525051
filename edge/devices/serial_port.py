"""Read a serial scanner or RFID reader and survive it being unplugged.

Why a thread with its own reconnect loop: handheld scanners on USB-CDC vanish when the cable is
pulled or the cradle is bumped, and their device node may come back under the same
/dev/serial/by-id name seconds later. The edge must keep running and pick the scanner up again
without an operator restarting anything. `serial.serial_for_url` means the same code reads real
ports, ptys from the stubs, `loop://` and `socket://`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Protocol

import serial

from edge.devices.framing import Frame, FrameDecoder, FrameError

log = logging.getLogger(__name__)

ACK = b"\x06"
NAK = b"\x15"
MAX_REPLY = 160  # keep replies to one short line on handheld displays and in logs

UNPLUGGED = "unplugged"
RECONNECTED = "reconnected"
CONNECTED = "connected"


def _nothing(_: str) -> None:
    pass


class FrameSource(Protocol):
    """What turns a port's bytes into frames: a barcode FrameDecoder or the RFID M100Decoder."""

    discarded: int

    def feed(self, data: bytes) -> list[Frame | FrameError]: ...

    def reset(self) -> None: ...


class SerialReader:
    """A reader thread: bytes → decoder → `on_frame(text)` / `on_error(reason)`.

    The decoder is a barcode FrameDecoder unless another is given (the RFID driver passes one
    that turns M100 frames into tag reads): anything with `feed(bytes)` returning Frame and
    FrameError items, `reset()` and a `discarded` count. `on_open` runs on the reader thread each
    time the port opens (the RFID driver starts its inventory there). `on_state` hears
    "<name> connected", "<name> unplugged" and "<name> reconnected". Callbacks run on the reader
    thread; a callback that raises is logged and the reader goes on.
    """

    def __init__(
        self,
        url: str,
        prefix: bytes = b"",
        suffix: bytes = b"\r\n",
        on_frame: Callable[[str], None] = _nothing,
        on_error: Callable[[str], None] = _nothing,
        on_state: Callable[[str], None] = _nothing,
        *,
        baudrate: int = 9600,
        max_len: int = 4096,
        backoff_min: float = 0.05,
        backoff_max: float = 2.0,
        read_timeout: float = 0.1,
        decoder: FrameSource | None = None,
        on_open: Callable[[], object] | None = None,
        name: str = "scanner",
    ):
        self.url = url
        self.name = name
        self.on_open = on_open
        self.on_frame = on_frame
        self.on_error = on_error
        self.on_state = on_state
        self.baudrate = baudrate
        self.backoff_min = backoff_min
        self.backoff_max = backoff_max
        self.read_timeout = read_timeout
        self._decoder = decoder if decoder is not None else FrameDecoder(prefix, suffix, max_len)
        self._port: serial.SerialBase | None = None
        self._lock = threading.Lock()  # guards _port between the reader and write_reply
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> SerialReader:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._run, name=f"serial-reader {self.url}", daemon=True
            )
            self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._close()

    def __enter__(self) -> SerialReader:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float | None = None) -> bool:
        return self._connected.wait(timeout)

    # --- host → scanner --------------------------------------------------------------------

    def write_reply(self, ok: bool, text: str = "") -> bool:
        """ACK/NAK the last scan so a scanner in host-ACK mode beeps good or bad.

        Returns False when the scanner is not connected (the reply is dropped: a replugged
        scanner has forgotten the scan anyway and the operator rescans).
        """
        clean = "".join(c if " " <= c <= "~" else "?" for c in text)[:MAX_REPLY]
        return self.write((ACK if ok else NAK) + clean.encode("ascii") + b"\r\n")

    def write(self, data: bytes) -> bool:
        """Send bytes to the device; False when it is not connected (nothing is queued)."""
        with self._lock:
            port = self._port
            if port is None:
                return False
            try:
                port.write(data)
            except Exception as exc:  # SerialException, OSError, termios.error on a dead port
                log.debug("reply to %s failed: %s", self.url, exc)
                return False
        return True

    # --- the thread ------------------------------------------------------------------------

    def _run(self) -> None:
        backoff = self.backoff_min
        ever_connected = False
        while not self._stop.is_set():
            if self._port is None:
                try:
                    port = serial.serial_for_url(
                        self.url, baudrate=self.baudrate, timeout=self.read_timeout
                    )
                except (serial.SerialException, OSError, ValueError) as exc:
                    log.debug("open %s failed: %s", self.url, exc)
                    self._stop.wait(backoff)
                    backoff = min(backoff * 2, self.backoff_max)
                    continue
                with self._lock:
                    self._port = port
                backoff = self.backoff_min
                self._decoder.reset()
                self._connected.set()
                self._emit_state(RECONNECTED if ever_connected else CONNECTED)
                ever_connected = True
                if self.on_open is not None:
                    try:
                        self.on_open()
                    except Exception:
                        log.exception("open callback failed for %s", self.url)
            try:
                port = self._port
                data = port.read(max(1, port.in_waiting)) if port is not None else b""
            except Exception as exc:
                # SerialException/OSError when the device goes away; TypeError/AttributeError
                # when pyserial's fd vanishes under a concurrent close. All mean: reopen.
                log.debug("read %s failed: %s", self.url, exc)
                self._close()
                if not self._stop.is_set():
                    self._emit_state(UNPLUGGED)
                continue
            if data:
                self._dispatch(data)

    def _dispatch(self, data: bytes) -> None:
        before = self._decoder.discarded
        items = self._decoder.feed(data)
        if self._decoder.discarded > before:
            # Not an operator error (no scan was lost), but worth a line for whoever checks the
            # cable: a noisy line eventually garbles a scan.
            log.warning(
                "%s: ignored %d bytes of line noise or bad frames between reads",
                self.url,
                self._decoder.discarded - before,
            )
        for item in items:
            try:
                if isinstance(item, Frame):
                    self.on_frame(item.text)
                else:
                    self.on_error(item.reason)
            except Exception:
                log.exception("scan callback failed for %s", self.url)

    def _emit_state(self, state: str) -> None:
        state = f"{self.name} {state}"
        log.info("%s: %s", self.url, state)
        try:
            self.on_state(state)
        except Exception:
            log.exception("state callback failed for %s", self.url)

    def _close(self) -> None:
        with self._lock:
            port, self._port = self._port, None
        self._connected.clear()
        if port is not None:
            try:
                port.close()
            except (serial.SerialException, OSError):
                pass
