"""Turn one scanned frame's text into a `Scan`: an item, a pallet (SSCC) or a session label.

Why biip for GS1 and hand-written checks around it: biip knows every application identifier's
format and date rules, but a scanner on a warehouse floor needs more than "parse failed". The two
faults operators actually meet are a misread check digit and a label printed without the FNC1
separator after a variable-length field (the lot then swallows the expiry that follows). Both are
detected here and reported with a short instruction, in the codes of `DecodeError`.
"""

from __future__ import annotations

import re
from dataclasses import asdict, replace
from typing import Any

from biip import ParseError

from edge.decoding.gs1 import checked_gtin, digital_link_scan, gs1_scan, hri_scan
from edge.decoding.scan import GS, MODES, DecodeError, Scan
from tallyman.wire import gs1_check_digit, valid_loc

#: AIM symbology identifiers (ISO/IEC 15424) → the name shown to people.
SYMBOLOGIES: dict[str, str] = {
    "E0": "EAN-13",
    "E3": "EAN-13",
    "E4": "EAN-8",
    "C0": "Code 128",
    "C1": "GS1-128",
    "e0": "GS1 DataBar",
    "d1": "DataMatrix",
    "d2": "GS1 DataMatrix",
    "Q1": "QR",
    "Q3": "GS1 QR",
    "I0": "ITF",
    "I1": "ITF-14",
    "A0": "Code 39",
    "J1": "GS1 DotCode",
    "L0": "PDF417",
}
_GS1_AIM = {"C1", "e0", "d2", "Q3", "J1"}  # data is GS1 element strings
_GTIN_AIM = {"E0", "E3", "E4", "I1"}  # data is a bare GTIN

LABELS = ("LOC", "MODE", "QTY", "REF", "TO")
MAX_QTY = 1_000_000_000  # the wire contract's bound on |qty|
MAX_SKU = 64
MAX_REF = 64

_AIM_RE = re.compile(r"^\][A-Za-z][0-9A-Za-z]")
_LABEL_RE = re.compile(r"^(LOC|MODE|QTY|REF|TO)\s*:(.*)$", re.IGNORECASE | re.DOTALL)
_PRINTABLE = re.compile(r"^[\x20-\x7e]+$")


# --- entry points ---------------------------------------------------------------------------


def decode(text: str) -> Scan:
    """Interpret one scan; raises DecodeError with an operator-facing detail when unusable."""
    raw = text
    text = text.strip(" \t\r\n" + GS)  # a leading GS is FNC1-in-first-position; harmless
    if not text:
        raise DecodeError("unrecognised", "empty scan; scan again")
    aim = None
    if _AIM_RE.match(text):
        aim, text = text[1:3], text[3:].strip(" \t\r\n" + GS)
    symbology = SYMBOLOGIES.get(aim) if aim else None
    if not text:
        raise DecodeError("unrecognised", "the barcode carried no data; scan again")
    if aim not in _GTIN_AIM:
        m = _LABEL_RE.match(text)
        if m:
            label, value = _label(m.group(1).upper(), m.group(2))
            return Scan("label", symbology, label=label, value=value, raw=raw)
    if aim in _GTIN_AIM:
        scan = _gtin_scan(text, aim, symbology)
    elif aim in _GS1_AIM:
        scan = gs1_scan(text, symbology)
    elif aim == "C0":
        scan = _sku_scan(text, symbology)
    else:
        scan = _unprefixed_scan(text, symbology)
    return _with_raw(scan, raw)


def scan_to_json(text: str) -> dict[str, Any]:
    """`tallyman decode` output: the scan's fields, or {"error", "detail"}."""
    try:
        scan = decode(text)
    except DecodeError as exc:
        return {"error": exc.code, "detail": exc.detail}
    return scan_dict(scan)


def scan_dict(scan: Scan) -> dict[str, Any]:
    if scan.kind == "label":
        return {
            "kind": "label",
            "symbology": scan.symbology,
            "label": scan.label,
            "value": scan.value,
        }
    out = {k: v for k, v in asdict(scan).items() if k not in ("label", "value", "raw")}
    if out["sku"] is None:
        del out["sku"]
    return out


def _with_raw(scan: Scan, raw: str) -> Scan:
    return replace(scan, raw=raw)


# --- labels ---------------------------------------------------------------------------------


def _label(label: str, value: str) -> tuple[str, str]:
    value = value.strip()
    if label in ("LOC", "TO"):
        if not valid_loc(value):
            raise DecodeError(
                "bad_label",
                f"{label} label needs SITE/BIN, e.g. {label}:STORE1/A-01; got {value!r}",
            )
        return label, value
    if label == "MODE":
        mode = re.sub(r"[\s-]+", "_", value.upper())
        if mode not in MODES:
            raise DecodeError("bad_label", f"unknown mode {value!r}; use one of {', '.join(MODES)}")
        return label, mode
    if label == "QTY":
        if not value.isascii() or not value.isdigit() or not 0 < int(value) <= MAX_QTY:
            raise DecodeError("bad_label", f"QTY label needs a whole number ≥ 1; got {value!r}")
        return label, str(int(value))
    # REF
    if not value or len(value) > MAX_REF or not _PRINTABLE.match(value):
        raise DecodeError(
            "bad_label", f"REF label needs 1–{MAX_REF} printable characters; got {value!r}"
        )
    return label, value


# --- GTIN-only symbologies (EAN/UPC, ITF-14) ------------------------------------------------


def _gtin_scan(text: str, aim: str, symbology: str | None) -> Scan:
    digits = text
    if aim == "E3" and digits.isdigit() and len(digits) in (15, 18):
        digits = digits[:13]  # EAN-13 with a 2- or 5-digit add-on: the add-on is not the item
    if not digits.isascii() or not digits.isdigit():
        raise DecodeError("unrecognised", f"{symbology} should be digits only; got {text!r}")
    if aim == "E0" and len(digits) == 8:
        return _upce_scan(digits)
    expected = {"E0": (12, 13), "E3": (13,), "E4": (8,), "I1": (14,)}[aim]
    if len(digits) not in expected:
        want = " or ".join(str(n) for n in expected)
        raise DecodeError(
            "unrecognised", f"{symbology} needs {want} digits, got {len(digits)}; scan again"
        )
    if aim == "E0" and (len(digits) == 12 or digits.startswith("0")):
        symbology = "UPC-A"  # a UPC-A is an EAN-13 starting with 0; scanners send either form
    return Scan("item", symbology, gtin=checked_gtin(digits))


def _upce_scan(digits: str) -> Scan:
    from biip.upc import Upc

    try:
        upc_a = Upc.parse(digits).as_upc_a()
    except ParseError as exc:
        if "check digit" in str(exc).lower():
            expected = re.search(r"Expected (\d)", str(exc))
            raise DecodeError(
                "bad_check_digit",
                f"UPC-E {digits}: check digit should be "
                f"{expected.group(1) if expected else '?'}, not {digits[-1]}; scan again",
            ) from None
        raise DecodeError("unrecognised", f"UPC-E {digits}: {exc}") from None
    return Scan("item", "UPC-E", gtin=checked_gtin(upc_a))


# --- plain Code 128 and unprefixed text -----------------------------------------------------


def _sku_scan(text: str, symbology: str | None) -> Scan:
    if len(text) > MAX_SKU or not _PRINTABLE.match(text):
        raise DecodeError(
            "unrecognised",
            f"not a product code: {text[:24]!r} (SKUs are 1–{MAX_SKU} printable characters)",
        )
    return Scan("item", symbology, sku=text)


def _unprefixed_scan(text: str, symbology: str | None) -> Scan:
    """No (or a non-GS1) AIM identifier: tell GTINs, GS1 strings, SSCCs and SKUs apart by shape."""
    if text.lower().startswith(("http://", "https://")):
        return digital_link_scan(text, symbology)
    if text.startswith("("):
        return hri_scan(text, symbology)
    if GS in text:
        return gs1_scan(text, symbology)
    if text.isascii() and text.isdigit():
        n = len(text)
        if n in (8, 12, 13, 14):
            guess = {8: "EAN-8", 12: "UPC-A", 13: "UPC-A" if text[0] == "0" else "EAN-13"}
            return Scan("item", symbology or guess.get(n), gtin=checked_gtin(text))
        if n == 18 and gs1_check_digit(text[:-1]) == int(text[-1]):
            return Scan("sscc", symbology, sscc=text)
        try:
            return gs1_scan(text, symbology)
        except DecodeError as exc:
            if exc.code in ("bad_check_digit", "missing_separator"):
                raise
            raise DecodeError(
                "unrecognised",
                f"{n} digits is neither a GTIN (8, 12, 13 or 14 digits) nor a GS1 code",
            ) from None
    if re.match(r"^(0[12]\d{14}|00\d{18})", text):
        return gs1_scan(text, symbology)  # unmistakably GS1, just sent without an AIM prefix
    try:
        scan = gs1_scan(text, symbology)
    except DecodeError as exc:
        if exc.code in ("bad_check_digit", "missing_separator"):
            raise
        return _sku_scan(text, symbology)
    if scan.kind == "item" and scan.gtin is None:
        return _sku_scan(text, symbology)
    return scan
