"""Read a UHF RFID reader (M100 family): keep an inventory running, report each tag once.

Why a filter between the reader and the session: a reader reports every tag in its field on
every inventory round, tens of times a second, with an RSSI that wanders, and picks up tags on
the next shelf at the edge of its range. A tag becomes one read when it enters the field (above
`min_rssi`), and again only after it has been out of the field for `window_s`. The outbox's own
de-duplication of serialised items (GTIN + serial per movement type) then makes sure a tag that
leaves and comes back is not counted twice either.

Why re-issue the inventory: a multiple inventory runs for at most 65,535 rounds, and a replugged
or power-cycled module forgets it; the driver starts one whenever the port opens and again every
`REISSUE_S` seconds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from edge.devices.framing import Frame, FrameError
from edge.devices.m100 import (
    CMD_ERROR,
    CMD_INVENTORY,
    ERR_NO_TAG,
    TYPE_NOTICE,
    TYPE_RESPONSE,
    FrameParser,
    multi_inventory,
    parse_tag_notice,
    stop_inventory,
)
from edge.devices.serial_port import SerialReader
from tallyman.periodic import Periodic

log = logging.getLogger(__name__)

REISSUE_S = 30.0
MAX_ROUNDS = 0xFFFF
#: M100 modules talk at 115200 baud 8N1 out of the box.
BAUDRATE = 115_200


@dataclass
class TagFilter:
    """Admit a tag when it enters the field; stay quiet while it stays (see module docstring)."""

    window_s: float = 2.0
    min_rssi: int = -70
    clock: Callable[[], float] = time.monotonic
    _last_seen: dict[str, float] = field(default_factory=dict)

    def admit(self, epc: str, rssi: int) -> bool:
        if rssi < self.min_rssi:
            return False  # too weak: a neighbouring shelf, or a tag passing at the edge of range
        now = self.clock()
        last = self._last_seen.get(epc)
        self._last_seen[epc] = now
        if len(self._last_seen) > 50_000:  # a long shift through a busy portal: forget the gone
            self._last_seen = {e: t for e, t in self._last_seen.items() if now - t <= self.window_s}
        return last is None or now - last > self.window_s


class M100Decoder:
    """Bytes from an M100 reader → a Frame (text = EPC hex) per tag the filter admits.

    Garbled frames (bad checksum, missing end byte) and tag reads whose Gen2 CRC fails are
    dropped and counted in `discarded`: the tag is read again on the next round, so nothing is
    lost, but a rising count means a bad cable. "No tag" errors are the reader's idle chatter.
    Other errors from the module come back as FrameError for the screen.
    """

    def __init__(self, tag_filter: TagFilter):
        self.filter = tag_filter
        self.discarded = 0
        self.crc_failures = 0
        self._parser = FrameParser()

    def reset(self) -> None:
        self._parser = FrameParser()

    def feed(self, data: bytes) -> list[Frame | FrameError]:
        out: list[Frame | FrameError] = []
        bad_before = self._parser.bad
        for f in self._parser.feed(data):
            if f.ftype == TYPE_NOTICE and f.cmd == CMD_INVENTORY:
                try:
                    tag = parse_tag_notice(f.params)
                except ValueError as exc:
                    log.debug("unusable tag notice: %s", exc)
                    self.discarded += 1
                    continue
                if not tag["crc_ok"]:
                    self.crc_failures += 1
                    self.discarded += 1
                    continue
                if self.filter.admit(tag["epc"], tag["rssi"]):
                    out.append(Frame(tag["epc"], f.params))
            elif f.ftype == TYPE_RESPONSE and f.cmd == CMD_ERROR:
                code = f.params[0] if f.params else -1
                if code != ERR_NO_TAG:
                    out.append(FrameError(f"RFID reader error 0x{code:02X}", f.params))
        self.discarded += self._parser.bad - bad_before
        return out


class RfidDriver:
    """An M100 reader on a serial URL: `on_tag(epc_hex)` for each tag entering the field."""

    def __init__(
        self,
        url: str,
        on_tag: Callable[[str], None],
        on_error: Callable[[str], None],
        on_state: Callable[[str], None],
        *,
        window_s: float = 2.0,
        min_rssi: int = -70,
        reissue_s: float = REISSUE_S,
    ):
        self.decoder = M100Decoder(TagFilter(window_s, min_rssi))
        self.reissue_s = reissue_s
        self.reader = SerialReader(
            url,
            on_frame=on_tag,
            on_error=on_error,
            on_state=on_state,
            decoder=self.decoder,
            on_open=self.start_inventory,
            baudrate=BAUDRATE,
            name="RFID reader",
        )
        self._keeper = Periodic(reissue_s, self._keep, "rfid-inventory")

    def start_inventory(self) -> bool:
        return self.reader.write(multi_inventory(MAX_ROUNDS))

    def start(self) -> RfidDriver:
        self.reader.start()
        self._keeper.start()
        return self

    def stop(self) -> None:
        self._keeper.stop(join_s=2.0)
        self.reader.write(stop_inventory())
        self.reader.stop()

    def _keep(self) -> None:
        if self.reader.connected:
            self.start_inventory()
