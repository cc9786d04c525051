"""A decoded scan, the labels and modes it can carry, and the error for an unusable one: what
every decoder in edge/ returns."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

GS = "\x1d"

#: The values a `MODE:` label may carry → the movement type (`tallyman.wire.TYPES`) that item
#: scans then record. One table for the decoder, which refuses any other value, and the session,
#: which switches to the type: two lists had drifted apart (`MODE:SHIP`). SHIP is the dock's
#: word for a transfer out.
MODES: dict[str, str] = {
    "RECEIVE": "receive",
    "PUTAWAY": "putaway",
    "PICK": "pick",
    "SALE": "sale",
    "RETURN": "return",
    "COUNT": "count",
    "ADJUST": "adjust",
    "SCRAP": "scrap",
    "TRANSFER_OUT": "transfer_out",
    "SHIP": "transfer_out",
    "TRANSFER_IN": "transfer_in",
}


#: Every `DecodeError` code and what the operator can do about it; the detail of each error
#: says what was read and what is missing, this says what the code means.
REASONS: dict[str, str] = {
    "bad_check_digit": "a check digit does not match (a misread): scan again or key it in",
    "missing_separator": "a variable-length field runs into the next one (FNC1 missing on the "
    "label): reprint the label",
    "invalid_gs1": "a GS1 field has the wrong length, characters or date: reprint the label",
    "missing_gtin": "GS1 data without the item's GTIN (01), e.g. a date or lot alone: scan the "
    "item's main barcode",
    "not_an_item": "a valid GS1 key that is not a stock item (a returnable asset, a document, a "
    "shipment …): scan the item",
    "bad_read": "a numeric barcode (EAN, UPC, ITF) arrived with letters: a damaged read, scan "
    "again",
    "not_an_sku": "text that is no GS1 code and does not match the site's SKU pattern: scan the "
    "item's barcode or check the pattern",
    "unrecognised": "nothing a label or an item can carry: scan again",
    "bad_label": "a LOC:, MODE:, QTY:, REF: or TO: label with a bad value: reprint the label",
    "invalid_epc": "an RFID tag whose EPC is not a valid SGTIN or SSCC",
}


class DecodeError(ValueError):
    """An unusable scan. `code` is one of `REASONS`; `detail`: one short sentence for the
    operator saying what was read and what is missing."""

    def __init__(self, code: str, detail: str):
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Measure:
    """A variable measure the label states: a GS1 AI 310n–369n (`ai` is the 4-digit AI, `value`
    the decimal it encodes, `unit` as the AI defines it) or an in-store variable-measure number
    (`ai` "rcn"; weight or price, see `edge.decoding.rcn`). `kind` names the quantity
    (net_weight, length, price …), so consumers need no table of AIs."""

    ai: str
    kind: str
    value: Decimal
    unit: str


@dataclass(frozen=True)
class Scan:
    """A decoded scan. `kind` is "item" (gtin or sku set), "sscc" (a logistic unit) or "label"
    (`label` is LOC, MODE, QTY, REF or TO and `value` its normalised text).

    The GS1 attributes are what the label says, nothing inferred: `expiry` is (17), else the date
    of (7003), else (15) best-before; `expiry_time` is (7003) as YYYY-MM-DDTHH:MM;
    `production_date` (11), `packaging_date` (13), `sell_by` (16) are ISO dates; `ship_to` is
    the (410) GLN; `measures` the variable measures (310n–369n, or an RCN's weight or price).
    """

    kind: str
    symbology: str | None = None
    gtin: str | None = None
    sku: str | None = None
    lot: str | None = None
    expiry: str | None = None
    serial: str | None = None
    quantity: int | None = None
    sscc: str | None = None
    label: str | None = None
    value: str | None = None
    raw: str = ""
    expiry_time: str | None = None
    production_date: str | None = None
    packaging_date: str | None = None
    sell_by: str | None = None
    ship_to: str | None = None
    measures: tuple[Measure, ...] = ()


#: The optional label attributes a scan may carry, by their field (and wire event) names.
LABEL_ATTRIBUTES = ("expiry_time", "production_date", "packaging_date", "sell_by", "ship_to")


def label_attributes(scan: Scan) -> dict[str, Any]:
    """The label attributes this scan carries, as the wire contract's optional event fields (and
    `tallyman decode`'s output): only those the label states."""
    out: dict[str, Any] = {
        k: getattr(scan, k) for k in LABEL_ATTRIBUTES if getattr(scan, k) is not None
    }
    if scan.measures:
        out["measures"] = [
            {"ai": m.ai, "kind": m.kind, "value": f"{m.value:f}", "unit": m.unit}
            for m in scan.measures
        ]
    return out
