"""The handheld scan session: labels set the context, item scans become movement events.

Pure state and no I/O: the edge feeds it decoded scans and stores the events it returns. The
context follows what operators do on a real handheld: scan the bin (`LOC:`), the mode (`MODE:`),
optionally a quantity (`QTY:`, for the next item only), a document (`REF:`) and a destination
(`TO:`), then items. In COUNT mode an item scan records the counted total for that item at the
bin (with `QTY:` or a GS1 count AI), because a count sets the quantity rather than adding to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from edge.decoding.scan import MODES, Scan, label_attributes
from tallyman import wire


@dataclass
class Outcome:
    """What the operator is told (`ok`, `message`) and the movement to store, if any."""

    ok: bool
    message: str
    event: dict[str, Any] | None = None


@dataclass
class Session:
    """One device's scan context, carried from label to label and saved across restarts."""

    site: str
    operator: str | None = None
    gln_sites: dict[str, str] = field(default_factory=dict)
    loc: str | None = None
    mode: str = "receive"
    qty: int | None = None
    ref: str | None = None
    to_loc: str | None = None

    CONTEXT = ("loc", "mode", "qty", "ref", "to_loc")

    def context(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.CONTEXT}

    def restore(self, context: dict[str, Any]) -> None:
        for k in self.CONTEXT:
            if k in context:
                setattr(self, k, context[k])
        if self.loc is not None and wire.site_of(self.loc) != self.site:
            self.loc = None  # the device was moved to another site

    def handle(self, scan: Scan, raw: str, ts: str) -> Outcome:
        if scan.kind == "label":
            return self._label(scan.label or "", scan.value or "")
        if scan.kind == "sscc":
            return Outcome(False, f"pallet label SSCC {scan.sscc}: scan the items on the pallet")
        return self._item(scan, raw, ts)

    def _label(self, label: str, value: str) -> Outcome:
        if label == "LOC":
            loc = self._resolve_loc(value)
            if isinstance(loc, Outcome):
                return loc
            self.loc = loc
            return Outcome(True, f"location {loc}")
        if label == "TO":
            if not wire.valid_loc(value):
                return Outcome(False, f"destination {value!r} must look like SITE/BIN")
            self.to_loc = value
            return Outcome(True, f"destination {value}")
        if label == "MODE":
            mode = MODES.get(value.upper())
            if mode is None:
                return Outcome(False, f"unknown mode {value}; use one of {', '.join(MODES)}")
            self.mode, self.qty, self.to_loc = mode, None, None
            return Outcome(True, f"mode {value.upper()}")
        if label == "QTY":
            self.qty = int(value)
            return Outcome(True, f"quantity {self.qty} for the next item")
        if label == "REF":
            self.ref = value or None
            return Outcome(True, f"document {value}" if value else "document cleared")
        return Outcome(False, f"unknown label {label}")

    def _resolve_loc(self, value: str) -> str | Outcome:
        if value.startswith("gln:"):
            gln, _, ext = value[4:].partition("/")
            site = self.gln_sites.get(gln)
            if site is None:
                return Outcome(False, f"GLN {gln} is not a site this device knows")
            value = f"{site}/{ext or 'MAIN'}"
        if not wire.valid_loc(value):
            return Outcome(False, f"location {value!r} must look like SITE/BIN")
        if wire.site_of(value) != self.site:
            return Outcome(False, f"location {value} is not at this device's site {self.site}")
        return value

    def _item(self, scan: Scan, raw: str, ts: str) -> Outcome:
        if self.loc is None:
            return Outcome(False, "scan a location label (LOC:) first")
        if self.mode == "putaway" and self.to_loc is None:
            return Outcome(False, "putaway: scan the destination label (TO:) first")
        qty = scan.quantity if scan.quantity is not None else (self.qty or 1)
        event = {
            "ts": ts,
            "type": self.mode,
            "gtin": scan.gtin,
            "sku": scan.sku,
            "lot": scan.lot,
            "expiry": scan.expiry,
            "serial": scan.serial,
            **label_attributes(scan),
            "qty": qty,
            "loc": self.loc,
            "to_loc": self.to_loc if self.mode in ("putaway", "transfer_out") else None,
            "ref": self.ref,
            "operator": self.operator,
            "raw": raw[:512],
        }
        self.qty = None
        event = {k: v for k, v in event.items() if v is not None}
        what = scan.gtin or scan.sku
        return Outcome(True, f"{self.mode} {qty} × {what} at {self.loc}", event)
