"""A decoded scan, the labels and modes it can carry, and the error for an unusable one: what
every decoder in edge/ returns."""

from __future__ import annotations

from dataclasses import dataclass

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


class DecodeError(ValueError):
    """An unusable scan. `code`: bad_check_digit, missing_separator, invalid_gs1, unrecognised,
    bad_label or invalid_epc; `detail`: one short sentence for the operator."""

    def __init__(self, code: str, detail: str):
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Scan:
    """A decoded scan. `kind` is "item" (gtin or sku set), "sscc" (a logistic unit) or "label"
    (`label` is LOC, MODE, QTY, REF or TO and `value` its normalised text)."""

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
