"""Split a barcode scanner's serial byte stream into frames, one scan per frame.

Why a pure, incremental splitter: a serial read returns whatever bytes happen to be there — half a
frame, three frames, or line noise from a cable being plugged in. Keeping the byte logic free of
I/O lets it be tested exhaustively and reused for every port type pyserial opens.

Malformed input never raises: it comes back as a `FrameError` with a reason a person can act on,
so one garbled read costs one scan, not the reader thread.
"""

from __future__ import annotations

from dataclasses import dataclass

GS = 0x1D
STX = b"\x02"
ETX = b"\x03"

#: Scanner suffix settings as their manuals name them → (prefix, suffix).
PRESETS: dict[str, tuple[bytes, bytes]] = {
    "crlf": (b"", b"\r\n"),
    "cr": (b"", b"\r"),
    "lf": (b"", b"\n"),
    "tab": (b"", b"\t"),
    "stx-etx": (STX, ETX),
}

_SUFFIX_NAMES = {v[1]: k for k, v in PRESETS.items()}


@dataclass(frozen=True)
class Frame:
    """One scan's data, prefix and suffix removed; `text` is ASCII (GS kept as '\\x1d')."""

    text: str
    raw: bytes


@dataclass(frozen=True)
class FrameError:
    """Bytes that could not be a scan; `reason` is meant for the operator's screen and the log."""

    reason: str
    raw: bytes = b""


def framing_preset(name: str) -> tuple[bytes, bytes]:
    """(prefix, suffix) for a suffix setting name such as "crlf" or "stx-etx"."""
    try:
        return PRESETS[name.strip().lower()]
    except KeyError:
        raise ValueError(f"unknown framing {name!r}; choose one of {', '.join(PRESETS)}") from None


def _noise(b: int) -> bool:
    """Line noise is anything that cannot start a scan: control bytes (GS aside) and non-ASCII."""
    return (b < 0x20 and b != GS) or b >= 0x7F


def _printable_name(suffix: bytes) -> str:
    return _SUFFIX_NAMES.get(suffix, repr(suffix)).upper()


class FrameDecoder:
    """Incremental `[prefix]<data><suffix>` splitter; feed it bytes, get frames and errors back.

    Resynchronisation rules, chosen to lose as few good scans as possible:
    - without a prefix, non-printable bytes before a frame's first printable byte are line noise
      and are dropped silently (counted in `discarded`);
    - with a prefix, every byte outside prefix…suffix is noise;
    - a control-byte prefix (STX) seen again before the suffix means the previous frame was cut
      short: it is reported and the new frame starts there;
    - a frame longer than `max_len` is reported once and skipped up to the next suffix.
    """

    def __init__(self, prefix: bytes = b"", suffix: bytes = b"\r\n", max_len: int = 4096):
        if not suffix:
            raise ValueError("a suffix is required: without one frames cannot be told apart")
        self.prefix = prefix
        self.suffix = suffix
        self.max_len = max_len
        self.discarded = 0
        self._buf = bytearray()
        self._in_frame = not prefix
        self._skipping = False
        # Only a control-byte prefix is unambiguous enough to restart a frame mid-way.
        self._prefix_restarts = bool(prefix) and all(b < 0x20 for b in prefix)

    def reset(self) -> None:
        """Forget a partial frame (after the port was closed, its tail will never come)."""
        self._buf.clear()
        self._in_frame = not self.prefix
        self._skipping = False

    def feed(self, data: bytes) -> list[Frame | FrameError]:
        self._buf += data
        out: list[Frame | FrameError] = []
        while True:
            if not self._in_frame and not self._seek_prefix():
                return out
            end = self._buf.find(self.suffix)
            if self._prefix_restarts and self._restarted(end, out):
                continue
            if end < 0:
                self._await_suffix(out)
                return out
            body = bytes(self._buf[:end])
            del self._buf[: end + len(self.suffix)]
            self._in_frame = not self.prefix
            if self._skipping:
                self._skipping = False
                continue
            item = self._frame(body)
            if item is not None:
                out.append(item)

    def _seek_prefix(self) -> bool:
        """Drop the noise before the next prefix and the prefix itself; False if none came yet."""
        i = self._buf.find(self.prefix)
        if i < 0:
            # Keep a possible partial prefix at the end; the rest is noise.
            keep = len(self.prefix) - 1
            drop = max(0, len(self._buf) - keep)
            self.discarded += drop
            del self._buf[:drop]
            return False
        self.discarded += i
        del self._buf[: i + len(self.prefix)]
        self._in_frame = True
        return True

    def _restarted(self, end: int, out: list[Frame | FrameError]) -> bool:
        """Whether a new frame's prefix came before this frame's suffix (at `end`, -1 if none):
        the frame so far is reported as cut short and the new one starts after that prefix."""
        restart = self._buf.find(self.prefix)
        if not (restart >= 0 and (end < 0 or restart < end)):
            return False
        cut = bytes(self._buf[:restart])
        del self._buf[: restart + len(self.prefix)]
        if self._skipping:
            self._skipping = False
        elif cut.strip():
            out.append(
                FrameError(
                    f"incomplete frame: no {_printable_name(self.suffix)} before the "
                    "next frame started; rescan",
                    cut,
                )
            )
        return True

    def _await_suffix(self, out: list[Frame | FrameError]) -> None:
        """No suffix yet: a frame grown past `max_len` is reported once, then skipped."""
        if not self._skipping and len(self._buf) > self.max_len:
            out.append(
                FrameError(
                    f"frame longer than {self.max_len} bytes without a "
                    f"{_printable_name(self.suffix)} suffix; check the scanner's suffix "
                    "setting",
                    bytes(self._buf[:64]),
                )
            )
            self._skipping = True
        if self._skipping:
            # Keep only what could be the start of the suffix.
            keep = len(self.suffix) - 1
            self.discarded += max(0, len(self._buf) - keep)
            del self._buf[: max(0, len(self._buf) - keep)]

    def _frame(self, body: bytes) -> Frame | FrameError | None:
        start = 0
        if not self.prefix:
            while start < len(body) and _noise(body[start]):
                start += 1
            self.discarded += start
        data = body[start:]
        # A CR LF scanner read with an LF or CR setting leaves the other half behind.
        data = data.rstrip(b"\r\n")
        if not data:
            return None
        if len(data) > self.max_len:
            return FrameError(
                f"frame longer than {self.max_len} bytes; check the scanner's suffix setting",
                data[:64],
            )
        for pos, b in enumerate(data):
            if b < 0x20 and b != GS or b == 0x7F:
                return FrameError(f"garbled frame: control byte 0x{b:02X} at {pos}; rescan", data)
            if b > 0x7F:
                return FrameError(f"garbled frame: non-ASCII byte 0x{b:02X} at {pos}; rescan", data)
        return Frame(data.decode("ascii"), data)
