"""A decoded scan and the error for an unusable one: what every decoder in edge/ returns."""

from __future__ import annotations

from dataclasses import dataclass

GS = "\x1d"


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
