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

from edge.decoder import DecodeError, decode
from edge.framing import framing_preset
from edge.outbox import Outbox
from edge.publisher import Publisher
from edge.serial_reader import SerialReader
from edge.workflow import Workflow
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
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on_frame(self, text: str) -> None:
        with self.lock:
            ok, message = self.scan(text)
        self.screen.show("OK" if ok else "ERR", message)
        if self.reader is not None:
            self.reader.write_reply(ok, message)

    def scan(self, text: str) -> tuple[bool, str]:
        try:
            decoded = decode(text)
        except DecodeError as exc:
            return False, f"{exc.code}: {exc.detail}"
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
    return edge


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="tallyman edge")
    p.add_argument("--device", required=True)
    p.add_argument("--site", required=True)
    p.add_argument("--broker", default="mqtt://127.0.0.1:1883", help="mqtt://user:pw@host:port")
    p.add_argument("--outbox", required=True, help="SQLite outbox file (created if missing)")
    p.add_argument("--barcode", help="serial URL of the barcode scanner (pty path, socket://…)")
    p.add_argument("--rfid", help="serial URL of a UHF RFID reader (not supported yet)")
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
    if args.rfid:
        p.error("--rfid: the RFID reader driver is not implemented yet")
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
    if args.http:
        from edge.handheld import serve

        serve(edge, args.http)
    print(f"edge {args.device}@{args.site}: outbox {args.outbox}, next seq {edge.outbox.next_seq}")
    sys.stdout.flush()
    stop.wait()
    if edge.reader is not None:
        edge.reader.stop()
    edge.publisher.stop()
    edge.outbox.close()
    return 0
