"""One device's edge at work: frame or tag → decoder → session → outbox → publisher, and a screen.

The operator's "OK" (the scanner's good-read beep, an ACK on the serial line) is sent only after
the event is committed to the outbox; every refusal goes back as a NAK with its reason, is shown
on the screen (stdout and the handheld page) and the service carries on. `edge.main` builds this
from the settings and starts and stops it.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from edge.decoding.decoder import DEFAULTS as DECODE_DEFAULTS
from edge.decoding.decoder import DecodeOptions, decode
from edge.decoding.epc import decode_epc
from edge.decoding.scan import DecodeError, Scan
from edge.delivery.outbox import Outbox
from edge.delivery.publisher import Publisher
from edge.devices.rfid_reader import RfidDriver
from edge.devices.serial_port import SerialReader
from edge.session import Session
from tallyman import wire


@dataclass
class Screen:
    """What the handheld shows: the latest lines, newest last; also echoed to stdout."""

    lines: deque[dict[str, str]] = field(default_factory=lambda: deque(maxlen=200))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def show(self, level: str, text: str) -> None:
        line = f"{level} {text}"
        with self.lock:
            self.lines.append({"ts": wire.now_ts(), "level": level, "text": text})
        print(line, flush=True)


@dataclass
class Edge:
    """The parts of one device's edge and what happens to each frame, tag and ack between them.

    Callbacks arrive on the reader threads and the publisher's thread; `lock` keeps one scan's
    session change and outbox write together.
    """

    outbox: Outbox
    session: Session
    publisher: Publisher
    screen: Screen
    reader: SerialReader | None = None
    rfid: RfidDriver | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: what counts as a plain SKU and how in-store variable-measure codes are laid out
    options: DecodeOptions = DECODE_DEFAULTS

    def on_frame(self, text: str) -> None:
        with self.lock:
            ok, message = self.scan(text)
        self.screen.show("OK" if ok else "ERR", message)
        if self.reader is not None:
            self.reader.write_reply(ok, message)

    def on_tag(self, epc_hex: str) -> None:
        """A tag entered the RFID reader's field (already filtered by RSSI and time window)."""
        with self.lock:
            ok, message = self.tag(epc_hex)
        self.screen.show("OK" if ok else "ERR", f"RFID {message}")

    def scan(self, text: str) -> tuple[bool, str]:
        try:
            decoded = decode(text, self.options)
        except DecodeError as exc:
            return False, f"{exc.code}: {exc.detail}"
        return self._record(decoded, text)

    def tag(self, epc_hex: str) -> tuple[bool, str]:
        """An EPC as a scan: an SGTIN is a serialised item, an SSCC a pallet label."""
        try:
            epc = decode_epc(epc_hex)
        except DecodeError as exc:
            return False, f"{epc_hex}: {exc.code}: {exc.detail}"
        raw = f"epc:{epc_hex}"
        if "sscc" in epc:
            return self._record(Scan("sscc", "epc", sscc=epc["sscc"], raw=raw), raw)
        item = Scan("item", "epc", gtin=epc["gtin"], serial=epc["serial"], raw=raw)
        return self._record(item, raw)

    def _record(self, decoded: Scan, text: str) -> tuple[bool, str]:
        before = self.session.context()
        outcome = self.session.handle(decoded, text, wire.now_ts())
        if outcome.event is None:
            if self.session.context() != before:
                self.outbox.save_context(self.session.context())
            return outcome.ok, outcome.message
        seq, new = self.outbox.append(outcome.event)
        if self.session.context() != before:  # a QTY: label applies to one item only
            self.outbox.save_context(self.session.context())
        self.publisher.wake()
        if not new:  # a serial's last transition again: refused, the operator hears why
            ev = outcome.event
            return False, f"already recorded as #{seq}: {ev['type']} of serial {ev['serial']} again"
        return True, f"#{seq} {outcome.message}"

    def on_bad_frame(self, reason: str) -> None:
        self.screen.show("ERR", reason)
        if self.reader is not None:
            self.reader.write_reply(False, reason)

    def on_rejected(self, rejected: list[dict[str, Any]]) -> None:
        for r in rejected:
            self.screen.show("REJECTED", f"#{r['seq']} {r.get('code')}: {r.get('detail', '')}")

    def on_held(self, held: list[dict[str, Any]]) -> None:
        """Counts central keeps but holds for an approver: the scan's OK was not the last word."""
        for h in held:
            self.screen.show("HELD", f"#{h['seq']} {h.get('detail', '')}")

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        self.publisher.start()
        if self.reader is not None:
            self.reader.start()
        if self.rfid is not None:
            self.rfid.start()

    def stop(self) -> None:
        """Readers first (no new scans), then the publisher, then the outbox they both use."""
        if self.reader is not None:
            self.reader.stop()
        if self.rfid is not None:
            self.rfid.stop()
        self.publisher.stop()
        self.outbox.close()
