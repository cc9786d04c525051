"""Turn one scanned frame's text into a `Scan`: an item, a pallet (SSCC) or a workflow label.

Why biip for GS1 and hand-written checks around it: biip knows every application identifier's
format and date rules, but a scanner on a warehouse floor needs more than "parse failed". The two
faults operators actually meet are a misread check digit and a label printed without the FNC1
separator after a variable-length field (the lot then swallows the expiry that follows). Both are
detected here and reported with a short instruction, in the codes of `DecodeError`.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from datetime import date

from biip import ParseConfig, ParseError
from biip.gs1_application_identifiers import GS1ApplicationIdentifier
from biip.gs1_element_strings import GS1ElementString

from tallyman.wire import gs1_check_digit, gtin14, valid_gtin14, valid_loc

GS = "\x1d"

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

MODES = (
    "RECEIVE",
    "PICK",
    "COUNT",
    "PUTAWAY",
    "SALE",
    "RETURN",
    "SCRAP",
    "ADJUST",
    "TRANSFER_OUT",
    "TRANSFER_IN",
)
LABELS = ("LOC", "MODE", "QTY", "REF", "TO")
MAX_QTY = 1_000_000_000  # the wire contract's bound on |qty|
MAX_SKU = 64
MAX_REF = 64

_AIM_RE = re.compile(r"^\][A-Za-z][0-9A-Za-z]")
_LABEL_RE = re.compile(r"^(LOC|MODE|QTY|REF|TO)\s*:(.*)$", re.IGNORECASE | re.DOTALL)
_PRINTABLE = re.compile(r"^[\x20-\x7e]+$")
_BIIP = ParseConfig(separator_chars=(GS,))

# Short names for the fields an operator may be told about.
_FIELD = {
    "00": "SSCC",
    "01": "GTIN",
    "02": "content GTIN",
    "10": "lot",
    "11": "production date",
    "13": "packaging date",
    "15": "best-before date",
    "16": "sell-by date",
    "17": "expiry date",
    "21": "serial",
    "30": "count",
    "37": "count",
    "254": "location extension",
    "414": "location GLN",
}
# AIs whose appearance inside a lot or serial is strong evidence of a missing separator: fixed
# length and self-checking (check digit or calendar date).
_TELLTALE = ("00", "01", "02", "11", "13", "15", "16", "17")
_DATE_AIS = ("11", "12", "13", "15", "16", "17")
# AIs seen on real shipping and retail labels, preferred when guessing where a GS was lost.
_COMMON = (*_TELLTALE, "10", "21", "30", "37", "240", "241", "254", "400", "414", "3103")


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
        scan = _gs1_scan(text, symbology)
    elif aim == "C0":
        scan = _sku_scan(text, symbology)
    else:
        scan = _unprefixed_scan(text, symbology)
    return _with_raw(scan, raw)


def scan_to_json(text: str) -> dict:
    """`tallyman decode` output: the DESIGN fields, or {"error", "detail"}."""
    try:
        scan = decode(text)
    except DecodeError as exc:
        return {"error": exc.code, "detail": exc.detail}
    return scan_dict(scan)


def scan_dict(scan: Scan) -> dict:
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
    return Scan("item", symbology, gtin=_checked_gtin(digits))


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
    return Scan("item", "UPC-E", gtin=_checked_gtin(upc_a))


def _checked_gtin(digits: str, what: str = "GTIN") -> str:
    """Validate a GTIN-8/12/13/14's check digit; return it as a GTIN-14."""
    expected = gs1_check_digit(digits[:-1])
    if int(digits[-1]) != expected:
        raise DecodeError(
            "bad_check_digit",
            f"{what} {digits}: check digit should be {expected}, not {digits[-1]}; "
            "scan again or key it in",
        )
    full = gtin14(digits[:-1])
    assert valid_gtin14(full)
    return full


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
        return _digital_link_scan(text, symbology)
    if text.startswith("("):
        return _hri_scan(text, symbology)
    if GS in text:
        return _gs1_scan(text, symbology)
    if text.isascii() and text.isdigit():
        n = len(text)
        if n in (8, 12, 13, 14):
            guess = {8: "EAN-8", 12: "UPC-A", 13: "UPC-A" if text[0] == "0" else "EAN-13"}
            return Scan("item", symbology or guess.get(n), gtin=_checked_gtin(text))
        if n == 18 and gs1_check_digit(text[:-1]) == int(text[-1]):
            return Scan("sscc", symbology, sscc=text)
        try:
            return _gs1_scan(text, symbology)
        except DecodeError as exc:
            if exc.code in ("bad_check_digit", "missing_separator"):
                raise
            raise DecodeError(
                "unrecognised",
                f"{n} digits is neither a GTIN (8, 12, 13 or 14 digits) nor a GS1 code",
            ) from None
    if re.match(r"^(0[12]\d{14}|00\d{18})", text):
        return _gs1_scan(text, symbology)  # unmistakably GS1, just sent without an AIM prefix
    try:
        scan = _gs1_scan(text, symbology)
    except DecodeError as exc:
        if exc.code in ("bad_check_digit", "missing_separator"):
            raise
        return _sku_scan(text, symbology)
    if scan.kind == "item" and scan.gtin is None:
        return _sku_scan(text, symbology)
    return scan


# --- GS1 element strings --------------------------------------------------------------------


@dataclass(frozen=True)
class _Part:
    es: GS1ElementString
    start: int
    end: int
    terminated: bool  # a GS followed it


class _SplitError(Exception):
    def __init__(self, pos: int, parts: list[_Part], reason: str):
        super().__init__(reason)
        self.pos = pos
        self.parts = parts
        self.reason = reason


def _split(data: str) -> list[_Part]:
    """GS1Message.parse, keeping where each element ends and whether a GS followed it."""
    parts: list[_Part] = []
    pos = 0
    while pos < len(data):
        try:
            es = GS1ElementString.extract(data[pos:], config=_BIIP)
        except ParseError as exc:
            raise _SplitError(pos, parts, str(exc)) from None
        end = pos + len(es.ai.ai) + len(es.value)
        nxt = end
        while nxt < len(data) and data[nxt] == GS:
            nxt += 1
        parts.append(_Part(es, pos, end, nxt > end))
        pos = nxt
    return parts


def _name(ai: str) -> str:
    return f"({ai}) {_FIELD.get(ai, '')}".rstrip()


def _gs1_scan(data: str, symbology: str | None) -> Scan:
    data = data.strip(GS)
    if not data:
        raise DecodeError("unrecognised", "the barcode carried no data; scan again")
    try:
        parts = _split(data)
    except _SplitError as err:
        raise _split_failure(data, err) from None
    ess = [p.es for p in parts]
    _check_digits(ess)
    hint = _swallowed(parts)
    if hint:
        raise DecodeError("missing_separator", hint)
    return _scan_from_elements(ess, symbology)


def _split_failure(data: str, err: _SplitError) -> DecodeError:
    rest = data[err.pos :]
    prev = err.parts[-1] if err.parts else None
    if prev is not None and prev.es.ai.separator_required and not prev.terminated:
        hint = _run_on(data, prev, {p.es.ai.ai for p in err.parts})
        if hint:
            return DecodeError("missing_separator", hint)
        limit = re.search(r"\.\.(\d+)$", prev.es.ai.format)
        if limit and len(prev.es.value) >= int(limit.group(1)):
            return DecodeError(
                "invalid_gs1",
                f"{_name(prev.es.ai.ai)} is longer than {limit.group(1)} characters, "
                "or a GS separator is missing after it",
            )
    try:
        ai = GS1ApplicationIdentifier.extract(rest)
    except ParseError:
        return DecodeError("invalid_gs1", f"unknown GS1 application identifier at {rest[:12]!r}")
    value = rest[len(ai.ai) :].split(GS, 1)[0]
    fmt = ai.format.split("+", 1)[-1]
    fixed = re.fullmatch(r"N(\d+)", fmt)
    if fixed:
        value = value[: int(fixed.group(1))]
    if ai.ai in _DATE_AIS:
        return DecodeError("invalid_gs1", f"{_name(ai.ai)} {value!r} is not a valid date (YYMMDD)")
    if fixed:
        want = f"exactly {fixed.group(1)} digits"
    elif m := re.fullmatch(r"N\.\.(\d+)", fmt):
        want = f"1 to {m.group(1)} digits"
    elif m := re.fullmatch(r"X\.\.(\d+)", fmt):
        want = f"1 to {m.group(1)} letters, digits or punctuation"
    else:
        # An unusual AI: biip's own reason is the most precise thing we can say.
        return DecodeError("invalid_gs1", f"{_name(ai.ai)}: {err.reason}")
    return DecodeError("invalid_gs1", f"{_name(ai.ai)} should be {want}, got {value[:24]!r}")


def _run_on(data: str, prev: _Part, present: set[str]) -> str | None:
    """Re-parse from each point inside the variable-length field `prev`, as if the GS were there.

    Common AIs are tried first so that "10LOT4221SER1…" reads as a lot running into (21), not
    into the rarely used (22).
    """
    first = prev.start + len(prev.es.ai.ai) + 1
    candidates: list[tuple[int, list[_Part]]] = []
    for j in range(first, prev.end):
        try:
            tail = _split(data[j:])
            _check_digits([p.es for p in tail])
        except (_SplitError, DecodeError):
            continue
        if any(p.es.ai.ai in present for p in tail):
            continue  # an AI may appear only once in a message
        candidates.append((j, tail))
    if not candidates:
        return None
    j, tail = min(candidates, key=lambda c: (c[1][0].es.ai.ai not in _COMMON, c[0]))
    ai = prev.es.ai.ai
    return (
        f"GS separator missing after {_name(ai)} {data[first - 1 : j]!r}: it runs into "
        f"({tail[0].es.ai.ai}); reprint the label with FNC1 after ({ai})"
    )


def _check_digits(ess: list[GS1ElementString]) -> None:
    for es in ess:
        ai, v = es.ai.ai, es.value
        what = {"01": "GTIN", "02": "content GTIN", "00": "SSCC", "414": "location GLN"}.get(ai)
        if what and v.isdigit():
            if ai in ("01", "02"):
                _checked_gtin(v, what)
            else:
                _check_mod10(v, what)


def _check_mod10(digits: str, what: str) -> None:
    expected = gs1_check_digit(digits[:-1])
    if int(digits[-1]) != expected:
        raise DecodeError(
            "bad_check_digit",
            f"{what} {digits}: check digit should be {expected}, not {digits[-1]}; scan again",
        )


def _swallowed(parts: list[_Part]) -> str | None:
    """Why the message probably lost a GS separator, or None.

    Besides a variable-length field running straight into the next AI, a lot or serial that
    ends in another well-formed, self-checking AI has swallowed it.

    Evidence required, to keep false alarms on legitimate lot numbers rare: the embedded AI is
    fixed-length and self-checking (a plausible calendar date or a valid check digit), none of the
    embedded AIs appears elsewhere in the message, and the embedded part parses to the end.
    """
    # The spec's own rule first: a variable-length field that is not last must end with FNC1.
    # Parsers (biip too) still split such data at the field's maximum length; we refuse it,
    # because the field may well have been longer.
    for p, nxt in zip(parts, parts[1:], strict=False):
        if p.es.ai.separator_required and not p.terminated:
            ai = p.es.ai.ai
            return (
                f"GS separator missing after {_name(ai)} {p.es.value!r}: it runs into "
                f"({nxt.es.ai.ai}); reprint the label with FNC1 after ({ai})"
            )
    present = {p.es.ai.ai for p in parts}
    this_year = date.today().year
    for p in parts:
        if not p.es.ai.separator_required:
            continue
        v = p.es.value
        for j in range(1, len(v) - 1):
            if v[j : j + 2] not in _TELLTALE:
                continue
            try:
                sub = _split(v[j:])
                _check_digits([s.es for s in sub])
            except (_SplitError, DecodeError):
                continue
            if any(s.es.ai.ai in present for s in sub):
                continue
            first = sub[0].es
            if first.ai.ai not in _TELLTALE:
                continue
            if first.date is not None and abs(first.date.year - this_year) > 20:
                continue
            ai = p.es.ai.ai
            return (
                f"GS separator missing after {_name(ai)} {v[:j]!r}: it runs into "
                f"({first.ai.ai}) {first.value}; reprint the label with FNC1 after ({ai})"
            )
    return None


def _scan_from_elements(ess: list[GS1ElementString], symbology: str | None) -> Scan:
    by_ai: dict[str, GS1ElementString] = {}
    for es in ess:
        by_ai.setdefault(es.ai.ai, es)

    def value(ai: str) -> str | None:
        return by_ai[ai].value if ai in by_ai else None

    quantity = None
    for ai in ("37", "30"):
        q = value(ai)
        if q is not None:
            if not q.isdigit() or int(q) == 0:
                raise DecodeError("invalid_gs1", f"{_name(ai)} must be a number ≥ 1, got {q!r}")
            quantity = int(q)
            break
    expiry = None
    for ai in ("17", "15"):  # no expiry printed: best-before is what stock rotation goes by
        if ai in by_ai and by_ai[ai].date is not None:
            expiry = by_ai[ai].date.isoformat()
            break
    fields = {
        "lot": value("10"),
        "serial": value("21"),
        "expiry": expiry,
        "quantity": quantity,
    }
    if "00" in by_ai:
        return Scan("sscc", symbology, sscc=value("00"), gtin=value("02") or value("01"), **fields)
    if "01" in by_ai or "02" in by_ai:
        return Scan("item", symbology, gtin=value("01") or value("02"), **fields)
    if "414" in by_ai:
        gln, ext = value("414"), value("254")
        loc = f"gln:{gln}/{ext}" if ext else f"gln:{gln}"
        return Scan("label", symbology, label="LOC", value=loc)
    ais = ", ".join(f"({a})" for a in by_ai)
    raise DecodeError(
        "unrecognised", f"GS1 code without a GTIN, SSCC or location (has {ais}); scan the item"
    )


def _hri_scan(text: str, symbology: str | None) -> Scan:
    """Human-readable GS1 "(01)…(17)…" — keyed in by hand or sent by scanners set to HRI output."""
    from biip.gs1_messages import GS1Message

    try:
        msg = GS1Message.parse_hri(text, config=_BIIP)
    except ParseError as exc:
        raise DecodeError("invalid_gs1", f"bad GS1 text {text[:30]!r}: {exc}") from None
    ess = list(msg.element_strings)
    _check_digits(ess)
    return _scan_from_elements(ess, symbology)


def _digital_link_scan(text: str, symbology: str | None) -> Scan:
    from biip.gs1_digital_link_uris import GS1DigitalLinkURI

    try:
        uri = GS1DigitalLinkURI.parse(text, config=_BIIP)
    except ParseError:
        raise DecodeError(
            "unrecognised", "a web link, not a GS1 Digital Link product code; scan the item"
        ) from None
    ess = list(uri.element_strings)
    _check_digits(ess)
    return _scan_from_elements(ess, symbology)
