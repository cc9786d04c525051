"""A barcode scanner in serial/USB-CDC mode, emulated on a real pseudo-terminal (see pty.py).

The stub behaves like a scanner, including the bad parts: AIM symbology prefixes, configurable
prefix/suffix, frames split over several USB packets, line noise, unplugging, and — in host
ACK/NAK mode — re-sending a scan the host did not acknowledge in time.
"""

from __future__ import annotations

import time

from firmware_stubs.pty import PtyDevice
from tallyman.wire import gs1_check_digit

ACK = 0x06
NAK = 0x15
GS = "\x1d"

# Line noise that cannot be mistaken for framing or data: never CR, LF, TAB, STX, ETX or GS.
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


class BarcodeScannerStub(PtyDevice):
    """A scanner on a pty; `.path` is a stable symlink to the current /dev/pts/N."""

    noise_bytes = _NOISE

    def __init__(
        self,
        link: str | None = None,
        prefix: bytes = b"",
        suffix: bytes = b"\r\n",
        aim: bool = True,
        seed: int | None = None,
    ):
        self.prefix = prefix
        self.suffix = suffix
        self.aim = aim
        super().__init__(link, "Barcode_Stub", seed)

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
