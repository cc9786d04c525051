"""Turn one scanned frame's text into a `Scan`: an item, a pallet (SSCC) or a session label.

Why biip for GS1 and hand-written checks around it: biip knows every application identifier's
format and date rules, but a scanner on a warehouse floor needs more than "parse failed". The two
faults operators actually meet are a misread check digit and a label printed without the FNC1
separator after a variable-length field (the lot then swallows the expiry that follows). Both are
detected here and reported with a short instruction, in the codes of `DecodeError`.

Why plain text is judged by a pattern: anything that was not GS1 used to be booked as an SKU, so
a damaged read (`59012341X3457`), a `mailto:` link or a sentence moved stock. Until the edge has
the item master, a scan is an SKU only when it matches the site's `sku_pattern`; URIs never are.
The rules are in docs/scanning.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from biip import ParseError

from edge.decoding.gs1 import (
    checked_gtin,
    digital_link_scan,
    gs1_scan,
    hri_scan,
    unmistakably_gs1,
)
from edge.decoding.rcn import DEFAULT_RULES, RcnRule, parse_rules, variable_measure
from edge.decoding.scan import GS, MODES, DecodeError, Scan, label_attributes
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
_NUMERIC_AIM = {*_GTIN_AIM, "I0"}  # symbologies that cannot carry a letter

LABELS = ("LOC", "MODE", "QTY", "REF", "TO")
MAX_QTY = 1_000_000_000  # the wire contract's bound on |qty|
MAX_SKU = 64
MAX_REF = 64

#: Which plain text is an SKU, unless the site configures its own (`sku_pattern`, matched against
#: the whole text): 1–64 letters, digits and - . _ /, starting with a letter or digit; never a
#: GTIN- or SSCC-length string of digits with one or two letters in it (8, 12–14 or 18
#: characters), which is a damaged read of a numeric barcode, not an SKU.
DEFAULT_SKU_PATTERN = (
    r"(?!(?=(?:.{8}|.{12,14}|.{18})\Z)[0-9]*[A-Za-z][0-9]*(?:[A-Za-z][0-9]*)?\Z)"
    r"[A-Za-z0-9][A-Za-z0-9._/-]{0,63}"
)

_AIM_RE = re.compile(r"^\][A-Za-z][0-9A-Za-z]")
_LABEL_RE = re.compile(r"^(LOC|MODE|QTY|REF|TO)\s*:(.*)$", re.IGNORECASE | re.DOTALL)
_URI_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]{0,31}):")
_PRINTABLE = re.compile(r"^[\x20-\x7e]+$")
_LOOKALIKE = re.compile(r"^[0-9]*[A-Za-z][0-9]*(?:[A-Za-z][0-9]*)?$")


@dataclass(frozen=True)
class DecodeOptions:
    """What a site decides about its scans: which plain text is an SKU (`sku`, a compiled
    `sku_pattern`) and how in-store variable-measure numbers read (`rcn`, see
    `edge.decoding.rcn`). Build one with `decode_options`."""

    sku: re.Pattern[str] = re.compile(DEFAULT_SKU_PATTERN)
    rcn: Mapping[str, RcnRule] = field(default_factory=lambda: DEFAULT_RULES)


DEFAULTS = DecodeOptions()


def decode_options(sku_pattern: str | None = None, rcn: Iterable[str] = ()) -> DecodeOptions:
    """Options from settings: a regular expression for SKUs (None: the default) and RCN rules
    (`PREFIX=KIND[:LAYOUT[:DECIMALS[:UNIT]]]`, over the default table). ValueError names the
    setting that cannot be used."""
    try:
        sku = re.compile(sku_pattern if sku_pattern is not None else DEFAULT_SKU_PATTERN)
    except re.error as exc:
        raise ValueError(
            f"sku_pattern {sku_pattern!r} is not a regular expression: {exc}"
        ) from None
    return DecodeOptions(sku, parse_rules(rcn))


# --- entry points ---------------------------------------------------------------------------


def decode(text: str, options: DecodeOptions = DEFAULTS) -> Scan:
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
    if _URI_RE.match(text):
        scan = _uri_scan(text, symbology)  # whatever the symbology: QR and DataMatrix carry links
    elif aim in _NUMERIC_AIM and not (text.isascii() and text.isdigit()):
        raise DecodeError(
            "bad_read",
            f"{symbology} carries digits only; got {text[:24]!r}: a damaged read, scan again",
        )
    elif aim in _GTIN_AIM:
        scan = _gtin_scan(text, aim, symbology)
    elif aim in _GS1_AIM:
        scan = gs1_scan(text, symbology)
    elif aim == "C0":
        scan = _sku_scan(text, symbology, options)
    else:
        scan = _unprefixed_scan(text, symbology, options)
    return replace(_with_measure(scan, options), raw=raw)


def scan_to_json(text: str, options: DecodeOptions = DEFAULTS) -> dict[str, Any]:
    """`tallyman decode` output: the scan's fields, or {"error", "detail"}."""
    try:
        scan = decode(text, options)
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
    out: dict[str, Any] = {"kind": scan.kind, "symbology": scan.symbology, "gtin": scan.gtin}
    if scan.sku is not None:
        out["sku"] = scan.sku
    for key in ("lot", "expiry", "serial", "quantity", "sscc"):
        out[key] = getattr(scan, key)
    return {**out, **label_attributes(scan)}


def _with_measure(scan: Scan, options: DecodeOptions) -> Scan:
    """An in-store variable-measure number: the item without its measure, and the measure."""
    if scan.kind != "item" or scan.gtin is None:
        return scan
    found = variable_measure(scan.gtin, options.rcn)
    if found is None:
        return scan
    gtin, measure = found
    return replace(scan, gtin=gtin, measures=(measure, *scan.measures))


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
    if aim == "E3" and len(digits) in (15, 18):
        digits = digits[:13]  # EAN-13 with a 2- or 5-digit add-on: the add-on is not the item
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


# --- links, plain Code 128 and unprefixed text ----------------------------------------------


def _uri_scan(text: str, symbology: str | None) -> Scan:
    """A URI is a GS1 Digital Link or nothing: never an SKU."""
    scheme = text.split(":", 1)[0].lower()
    if scheme in ("http", "https"):
        return digital_link_scan(text, symbology)
    raise DecodeError(
        "unrecognised", f"a {scheme}: link, not a product code; scan the item's barcode"
    )


def _sku_scan(text: str, symbology: str | None, options: DecodeOptions) -> Scan:
    if len(text) <= MAX_SKU and _PRINTABLE.match(text) and options.sku.fullmatch(text):
        return Scan("item", symbology, sku=text)
    shown = repr(text[:24])
    if not _PRINTABLE.match(text) or any(c.isspace() for c in text):
        why = f"{shown} has spaces or control characters: not a product code"
    elif len(text) > MAX_SKU:
        why = f"{shown}… is longer than {MAX_SKU} characters: not a product code"
    elif _LOOKALIKE.match(text) and sum(c.isdigit() for c in text) >= 6:
        raise DecodeError(
            "not_an_sku", f"{shown} is digits with a letter among them: a damaged read, scan again"
        )
    elif options.sku.pattern == DEFAULT_SKU_PATTERN:
        why = f"{shown} is no GS1 code and not an SKU (letters, digits and - . _ /)"
    else:
        why = f"{shown} is no GS1 code and does not match this site's SKU pattern"
    raise DecodeError("not_an_sku", f"{why}; scan the item's barcode")


def _unprefixed_scan(text: str, symbology: str | None, options: DecodeOptions) -> Scan:
    """No (or a non-GS1) AIM identifier: tell GTINs, GS1 strings, SSCCs and SKUs apart by shape."""
    if text.startswith("("):
        return hri_scan(text, symbology)
    if GS in text:
        return gs1_scan(text, symbology)
    if text.isascii() and text.isdigit():
        return _digits_scan(text, symbology)
    if re.match(r"^(0[12]\d{14}|00\d{18})", text):
        return gs1_scan(text, symbology)  # unmistakably GS1, just sent without an AIM prefix
    try:
        return gs1_scan(text, symbology)
    except DecodeError as exc:
        if exc.code in ("bad_check_digit", "missing_separator"):
            raise
        if exc.code in ("missing_gtin", "not_an_item") and unmistakably_gs1(text):
            raise  # valid GS1 that names no stock item: say so, do not book it as an SKU
    return _sku_scan(text, symbology, options)


def _digits_scan(text: str, symbology: str | None) -> Scan:
    """Digits only: a GTIN, an SSCC or a GS1 element string, whichever they validly are."""
    n = len(text)
    if n in (8, 12, 13, 14):
        try:
            gtin = checked_gtin(text)
        except DecodeError as bad:
            raise _gs1_or(text, symbology, bad, "a GTIN") from None
        guess = {8: "EAN-8", 12: "UPC-A", 13: "UPC-A" if text[0] == "0" else "EAN-13"}
        return Scan("item", symbology or guess.get(n), gtin=gtin)
    if n == 18:
        expected = gs1_check_digit(text[:-1])
        if expected == int(text[-1]):
            return Scan("sscc", symbology, sscc=text)
        raise _gs1_or(
            text,
            symbology,
            DecodeError(
                "bad_check_digit",
                f"SSCC {text}: check digit should be {expected}, not {text[-1]}; scan again",
            ),
            "an SSCC",
        )
    try:
        return gs1_scan(text, symbology)
    except DecodeError as exc:
        if exc.code in ("bad_check_digit", "missing_separator", "missing_gtin", "not_an_item"):
            raise
        raise DecodeError(
            "unrecognised",
            f"{n} digits is neither a GTIN (8, 12, 13 or 14 digits), an SSCC (18) nor a GS1 "
            "element string",
        ) from None


def _gs1_or(text: str, symbology: str | None, bad: DecodeError, key: str) -> DecodeError:
    """Digits of GTIN or SSCC length with a wrong check digit that read as a GS1 element string
    naming no item (`17260131` is an expiry date): say what was read and what is missing.
    Anything else, or a string that only reads as a free-text field, stays the check-digit
    error."""
    if not unmistakably_gs1(text):
        return bad
    try:
        gs1_scan(text, symbology)
    except DecodeError as exc:
        if exc.code in ("missing_gtin", "not_an_item"):
            return DecodeError(exc.code, f"{exc.detail} (as {key} its check digit is wrong)")
    return bad
