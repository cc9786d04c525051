"""GS1 element strings (GS1-128, DataMatrix, QR, DataBar, HRI text, Digital Link) → `Scan`.

Why hand-written checks around biip: biip knows every application identifier's format and date
rules, but a scanner on a warehouse floor needs more than "parse failed". The two faults operators
actually meet are a misread check digit and a label printed without the FNC1 separator after a
variable-length field (the lot then swallows the expiry that follows). Both are detected here and
reported with a short instruction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from biip import ParseConfig, ParseError
from biip.gs1_application_identifiers import GS1ApplicationIdentifier
from biip.gs1_element_strings import GS1ElementString

from edge.decoding.scan import GS, DecodeError, Scan
from tallyman.wire import gs1_check_digit, gtin14, valid_gtin14

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


def gs1_scan(data: str, symbology: str | None) -> Scan:
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
                checked_gtin(v, what)
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
        day = by_ai[ai].date if ai in by_ai else None
        if day is not None:
            expiry = day.isoformat()
            break
    lot, serial = value("10"), value("21")
    if "00" in by_ai:
        return Scan(
            "sscc",
            symbology,
            sscc=value("00"),
            gtin=value("02") or value("01"),
            lot=lot,
            serial=serial,
            expiry=expiry,
            quantity=quantity,
        )
    if "01" in by_ai or "02" in by_ai:
        return Scan(
            "item",
            symbology,
            gtin=value("01") or value("02"),
            lot=lot,
            serial=serial,
            expiry=expiry,
            quantity=quantity,
        )
    if "414" in by_ai:
        gln, ext = value("414"), value("254")
        loc = f"gln:{gln}/{ext}" if ext else f"gln:{gln}"
        return Scan("label", symbology, label="LOC", value=loc)
    ais = ", ".join(f"({a})" for a in by_ai)
    raise DecodeError(
        "unrecognised", f"GS1 code without a GTIN, SSCC or location (has {ais}); scan the item"
    )


def hri_scan(text: str, symbology: str | None) -> Scan:
    """Human-readable GS1 "(01)…(17)…" — keyed in by hand or sent by scanners set to HRI output."""
    from biip.gs1_messages import GS1Message

    try:
        msg = GS1Message.parse_hri(text, config=_BIIP)
    except ParseError as exc:
        raise DecodeError("invalid_gs1", f"bad GS1 text {text[:30]!r}: {exc}") from None
    ess = list(msg.element_strings)
    _check_digits(ess)
    return _scan_from_elements(ess, symbology)


def digital_link_scan(text: str, symbology: str | None) -> Scan:
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


def checked_gtin(digits: str, what: str = "GTIN") -> str:
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
