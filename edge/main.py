"""`tallyman edge`: one device's edge service, reader → decoder → workflow → outbox → publisher.

The operator's "OK" (the scanner's good-read beep, an ACK on the serial line) is sent only after
the event is committed to the outbox; every refusal goes back as a NAK with its reason, is shown
on the screen (stdout and the handheld page) and the service carries on.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections import deque
from dataclasses import dataclass, field

from edge.decoding.decoder import DecodeError, decode
from edge.decoding.epc import decode_epc
from edge.decoding.scan import Scan
from edge.delivery.outbox import Outbox
from edge.delivery.publisher import Publisher
from edge.devices.framing import framing_preset
from edge.devices.rfid_reader import RfidDriver
from edge.devices.serial_port import SerialReader
from edge.session import MODES, Workflow
from tallyman import wire

log = logging.getLogger("tallyman.edge")


@dataclass
class Screen:
    """What the handheld shows: the latest lines, newest last; also echoed to stdout."""

    lines: deque = field(default_factory=lambda: deque(maxlen=200))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def show(self, level: str, text: str) -> None:
        line = f"{level} {text}"
        with self.lock:
            self.lines.append({"ts": wire.now_ts(), "level": level, "text": text})
        print(line, flush=True)


@dataclass
class Edge:
    outbox: Outbox
    workflow: Workflow
    publisher: Publisher
    screen: Screen
    reader: SerialReader | None = None
    rfid: RfidDriver | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

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
            decoded = decode(text)
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
        before = self.workflow.context()
        outcome = self.workflow.handle(decoded, text, wire.now_ts())
        if outcome.event is None:
            if self.workflow.context() != before:
                self.outbox.save_context(self.workflow.context())
            return outcome.ok, outcome.message
        seq, new = self.outbox.append(outcome.event)
        if self.workflow.context() != before:  # a QTY: label applies to one item only
            self.outbox.save_context(self.workflow.context())
        self.publisher.wake()
        if not new:
            return True, f"already recorded as #{seq}"
        return True, f"#{seq} {outcome.message}"

    def on_bad_frame(self, reason: str) -> None:
        self.screen.show("ERR", reason)
        if self.reader is not None:
            self.reader.write_reply(False, reason)

    def on_rejected(self, rejected: list[dict]) -> None:
        for r in rejected:
            self.screen.show("REJECTED", f"#{r['seq']} {r.get('code')}: {r.get('detail', '')}")


def parse_gln(values: list[str]) -> dict[str, str]:
    out = {}
    for v in values:
        gln, _, site = v.partition("=")
        out[gln] = site
    return out


def build(args: argparse.Namespace) -> Edge:
    screen = Screen()
    outbox = Outbox(args.outbox)
    workflow = Workflow(site=args.site, operator=args.operator, gln_sites=parse_gln(args.gln))
    workflow.restore(outbox.load_context())
    # a fixed reader (a dock door, a portal) has no labels to scan: its place and mode come from
    # the command line, and a flag given there wins over the context saved before a restart
    flags = {"loc": args.loc, "mode": args.mode, "to_loc": args.to_loc}
    workflow.restore({k: v for k, v in flags.items() if v is not None})
    edge_holder: list[Edge] = []
    publisher = Publisher(
        outbox,
        args.site,
        args.device,
        args.broker,
        batch_size=args.batch,
        ack_timeout=args.ack_timeout,
        keepalive=args.keepalive,
        on_rejected=lambda r: edge_holder[0].on_rejected(r),
    )
    edge = Edge(outbox, workflow, publisher, screen)
    edge_holder.append(edge)
    if args.barcode:
        prefix, suffix = framing_preset(args.suffix)
        edge.reader = SerialReader(
            args.barcode,
            prefix=prefix,
            suffix=suffix,
            on_frame=edge.on_frame,
            on_error=edge.on_bad_frame,
            on_state=lambda s: screen.show("SCANNER", s),
        )
    if args.rfid:
        edge.rfid = RfidDriver(
            args.rfid,
            on_tag=edge.on_tag,
            on_error=lambda reason: screen.show("ERR", reason),
            on_state=lambda s: screen.show("RFID", s),
            window_s=args.rfid_window,
            min_rssi=args.rfid_min_rssi,
        )
    return edge


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="tallyman edge")
    p.add_argument("--device", required=True)
    p.add_argument("--site", required=True)
    p.add_argument("--broker", default="mqtt://127.0.0.1:1883", help="mqtt://user:pw@host:port")
    p.add_argument("--outbox", required=True, help="SQLite outbox file (created if missing)")
    p.add_argument("--barcode", help="serial URL of the barcode scanner (pty path, socket://…)")
    p.add_argument("--rfid", help="serial URL of an M100-family UHF RFID reader")
    p.add_argument(
        "--rfid-window",
        type=float,
        default=2.0,
        help="seconds a tag must be out of the field before it is read again",
    )
    p.add_argument("--rfid-min-rssi", type=int, default=-70, help="dBm; weaker reads are ignored")
    p.add_argument("--loc", help="starting location SITE/BIN (a fixed reader's place)")
    p.add_argument("--mode", help="starting mode, e.g. RECEIVE (a fixed reader's job)")
    p.add_argument("--to-loc", help="starting destination SITE/BIN for PUTAWAY/SHIP")
    p.add_argument("--suffix", default="crlf", help="scanner frame suffix: crlf|cr|lf|tab|stx-etx")
    p.add_argument("--http", help="HOST:PORT for the handheld page")
    p.add_argument("--operator")
    p.add_argument("--gln", action="append", default=[], help="GLN=SITE for AI 414 labels")
    p.add_argument("--batch", type=int, default=1000, help="events per MQTT message")
    p.add_argument("--ack-timeout", type=float, default=3.0)
    p.add_argument(
        "--keepalive",
        type=int,
        default=10,
        help="seconds; the broker declares us offline after 1.5×",
    )
    args = p.parse_args(argv)
    if not wire.valid_id(args.device) or not wire.valid_id(args.site):
        p.error("--device and --site must be ids like hh-01, STORE1 (no '/', '+', '#')")
    for label, value in (("--loc", args.loc), ("--to-loc", args.to_loc)):
        if value is not None and not wire.valid_loc(value):
            p.error(f"{label} must look like SITE/BIN, got {value!r}")
    if args.loc is not None and wire.site_of(args.loc) != args.site:
        p.error(f"--loc {args.loc} is not at --site {args.site}")
    if args.mode is not None:
        if args.mode.upper() not in MODES:
            p.error(f"--mode must be one of {', '.join(MODES)}")
        args.mode = MODES[args.mode.upper()]
    logging.basicConfig(
        level=logging.INFO, format=f"%(asctime)s edge {args.device} %(levelname)s %(message)s"
    )
    edge = build(args)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    edge.publisher.start()
    if edge.reader is not None:
        edge.reader.start()
    if edge.rfid is not None:
        edge.rfid.start()
    if args.http:
        from edge.handheld import serve

        serve(edge, args.http)
    print(f"edge {args.device}@{args.site}: outbox {args.outbox}, next seq {edge.outbox.next_seq}")
    sys.stdout.flush()
    stop.wait()
    if edge.reader is not None:
        edge.reader.stop()
    if edge.rfid is not None:
        edge.rfid.stop()
    edge.publisher.stop()
    edge.outbox.close()
    return 0


from tallyman.console import passthrough as _passthrough  # noqa: E402

command = _passthrough(main, "edge")
