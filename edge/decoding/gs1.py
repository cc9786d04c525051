"""GS1 element strings (GS1-128, DataMatrix, QR, DataBar, HRI text, Digital Link) → `Scan`.

Why hand-written checks around biip: biip knows every application identifier's format and date
rules, but a scanner on a warehouse floor needs more than "parse failed". The two faults operators
actually meet are a misread check digit and a label printed without the FNC1 separator after a
variable-length field (the lot then swallows the expiry that follows). Both are detected here and
reported with a short instruction. A message that is valid GS1 but names no stock item (a lot
alone, a returnable asset) is refused with what was read and what is missing, never as "not
GS1". The label's attributes are carried as printed (docs/scanning.md): variable measures
310n–369n as decimals with their unit, dates 11/13/16/17/7003, the ship-to GLN 410.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

from biip import ParseConfig, ParseError
from biip.gs1_application_identifiers import GS1ApplicationIdentifier
from biip.gs1_element_strings import GS1ElementString

from edge.decoding.scan import GS, DecodeError, Measure, Scan
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
    "410": "ship-to GLN",
    "414": "location GLN",
    "7003": "expiry date and time",
    "8003": "GRAI",
    "8004": "GIAI",
    "8006": "ITIP",
    "8010": "CPID",
    "8013": "GMN",
    "8017": "GSRN",
    "8018": "GSRN",
    "253": "GDTI",
    "255": "GCN",
    "401": "GINC",
    "402": "GSIN",
    "415": "invoicing GLN",
    "417": "party GLN",
}
# AIs whose appearance inside a lot or serial is strong evidence of a missing separator: fixed
# length and self-checking (check digit or calendar date).
_TELLTALE = ("00", "01", "02", "11", "13", "15", "16", "17")
_DATE_AIS = ("11", "12", "13", "15", "16", "17")
# AIs seen on real shipping and retail labels, preferred when guessing where a GS was lost.
_COMMON = (*_TELLTALE, "10", "21", "30", "37", "240", "241", "254", "400", "414", "3103")

#: GS1 keys with a mod-10 check digit: AI → (how many leading digits it covers, the key's name).
_CHECKED: dict[str, tuple[int, str]] = {
    "00": (18, "SSCC"),
    "253": (13, "GDTI"),
    "255": (13, "GCN"),
    "402": (17, "GSIN"),
    **{ai: (13, _FIELD.get(ai, "GLN")) for ai in ("410", "411", "412", "413", "414")},
    **{ai: (13, _FIELD.get(ai, "GLN")) for ai in ("415", "416", "417")},
    "8003": (14, "GRAI"),
    "8017": (18, "GSRN"),
    "8018": (18, "GSRN"),
}
_GTINS = {"01": "GTIN", "02": "content GTIN", "8006": "GTIN of the piece"}

#: GS1 keys that identify something other than a stock item: AI → what it is.
_NOT_ITEMS = {
    "8003": "a returnable asset (crate, pallet, keg)",
    "8004": "an individual asset",
    "8006": "one piece of a multi-part item",
    "8010": "a component or part",
    "8013": "a model number",
    "8017": "a service relation",
    "8018": "a service relation",
    "253": "a document",
    "255": "a coupon",
    "401": "a consignment",
    "402": "a shipment",
    "415": "an invoicing party",
    "417": "a party",
}

#: Variable measures, AI 310n–369n (n = decimals): the first three digits → (kind, unit).
#: GS1 General Specifications §3.6.2–3.6.7; "logistic_…" are the (33nn–36nn) logistic measures.
MEASURES: dict[str, tuple[str, str]] = {
    "310": ("net_weight", "kg"),
    "311": ("length", "m"),
    "312": ("width", "m"),
    "313": ("height", "m"),
    "314": ("area", "m2"),
    "315": ("net_volume", "l"),
    "316": ("net_volume", "m3"),
    "320": ("net_weight", "lb"),
    "321": ("length", "in"),
    "322": ("length", "ft"),
    "323": ("length", "yd"),
    "324": ("width", "in"),
    "325": ("width", "ft"),
    "326": ("width", "yd"),
    "327": ("height", "in"),
    "328": ("height", "ft"),
    "329": ("height", "yd"),
    "330": ("gross_weight", "kg"),
    "331": ("logistic_length", "m"),
    "332": ("logistic_width", "m"),
    "333": ("logistic_height", "m"),
    "334": ("logistic_area", "m2"),
    "335": ("logistic_volume", "l"),
    "336": ("logistic_volume", "m3"),
    "337": ("weight_per_area", "kg/m2"),
    "340": ("gross_weight", "lb"),
    "341": ("logistic_length", "in"),
    "342": ("logistic_length", "ft"),
    "343": ("logistic_length", "yd"),
    "344": ("logistic_width", "in"),
    "345": ("logistic_width", "ft"),
    "346": ("logistic_width", "yd"),
    "347": ("logistic_height", "in"),
    "348": ("logistic_height", "ft"),
    "349": ("logistic_height", "yd"),
    "350": ("area", "in2"),
    "351": ("area", "ft2"),
    "352": ("area", "yd2"),
    "353": ("logistic_area", "in2"),
    "354": ("logistic_area", "ft2"),
    "355": ("logistic_area", "yd2"),
    "356": ("net_weight", "troy_oz"),
    "357": ("net_weight_or_volume", "oz"),
    "360": ("net_volume", "qt"),
    "361": ("net_volume", "gal_us"),
    "362": ("logistic_volume", "qt"),
    "363": ("logistic_volume", "gal_us"),
    "364": ("net_volume", "in3"),
    "365": ("net_volume", "ft3"),
    "366": ("net_volume", "yd3"),
    "367": ("logistic_volume", "in3"),
    "368": ("logistic_volume", "ft3"),
    "369": ("logistic_volume", "yd3"),
}


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
    """A field as people read it: "(17) expiry date", "(3103) net weight", "(8003) GRAI"."""
    if ai in _FIELD:
        return f"({ai}) {_FIELD[ai]}"
    if len(ai) == 4 and ai[:3] in MEASURES:
        return f"({ai}) {MEASURES[ai[:3]][0].replace('_', ' ')}"
    try:
        described = GS1ApplicationIdentifier.extract(ai).description
    except ParseError:
        return f"({ai})"
    return f"({ai}) {described.split(' to identify')[0]}"


def describe(ess: list[GS1ElementString]) -> str:
    """What a message says, shortly: "(17) expiry date 2026-01-31, (10) lot 'L1'"."""
    shown = []
    for es in ess:
        ai, v = es.ai.ai, es.value
        if es.datetime is not None and ai == "7003":
            text = f"{es.datetime:%Y-%m-%d %H:%M}"
        elif es.date is not None:
            text = es.date.isoformat()
        elif ai[:3] in MEASURES and len(ai) == 4:
            text = f"{_measure(es).value} {MEASURES[ai[:3]][1]}"
        else:
            text = v if v.isdigit() else repr(v[:20])
        shown.append(f"{_name(ai)} {text}")
    return ", ".join(shown)


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


def unmistakably_gs1(text: str) -> bool:
    """Text (with letters, without an AIM prefix) that reads wholly as GS1 and starts with a
    fixed-length numeric field, e.g. (8003) GRAI or (17) a date: too structured to be an SKU.
    An SKU such as "10ABC" also parses, as (10) lot "ABC", but starts with a free-text field."""
    try:
        parts = _split(text)
    except _SplitError:
        return False
    first = parts[0].es.ai.format.split("+")[1]
    return re.match(r"N\d+(\[|$)", first) is not None


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
        if err.parts:
            return DecodeError(
                "invalid_gs1",
                f"read {describe([p.es for p in err.parts])}, then no GS1 application "
                f"identifier at {rest[:12]!r}",
            )
        return DecodeError("invalid_gs1", f"unknown GS1 application identifier at {rest[:12]!r}")
    return _field_error(ai, rest[len(ai.ai) :].split(GS, 1)[0], err.reason)


def _field_error(ai: GS1ApplicationIdentifier, value: str, reason: str) -> DecodeError:
    """Why `value` is not a valid (ai) field, in the operator's words."""
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
        return DecodeError("invalid_gs1", f"{_name(ai.ai)}: {reason}")
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
    """Every GS1 key's check digit (GTINs, SSCC, GLNs, GRAI, GSRN …): biip only records them."""
    for es in ess:
        ai, v = es.ai.ai, es.value
        if ai in _GTINS and v[:14].isdigit():
            checked_gtin(v[:14], _GTINS[ai])
        elif ai in _CHECKED:
            n, what = _CHECKED[ai]
            if v[:n].isdigit() and len(v) >= n:
                _check_mod10(v[:n], what)


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


def _measure(es: GS1ElementString) -> Measure:
    kind, unit = MEASURES[es.ai.ai[:3]]
    return Measure(es.ai.ai, kind, Decimal(es.value).scaleb(-int(es.ai.ai[3])), unit)


def _scan_from_elements(ess: list[GS1ElementString], symbology: str | None) -> Scan:
    by_ai: dict[str, GS1ElementString] = {}
    for es in ess:
        by_ai.setdefault(es.ai.ai, es)

    def value(ai: str) -> str | None:
        return by_ai[ai].value if ai in by_ai else None

    def day(ai: str) -> str | None:
        d = by_ai[ai].date if ai in by_ai else None
        return d.isoformat() if d is not None else None

    quantity = None
    for ai in ("37", "30"):
        q = value(ai)
        if q is not None:
            if not q.isdigit() or int(q) == 0:
                raise DecodeError("invalid_gs1", f"{_name(ai)} must be a number ≥ 1, got {q!r}")
            quantity = int(q)
            break
    expiry_at = by_ai["7003"].datetime if "7003" in by_ai else None
    # No expiry date printed: the date of (7003), else best-before, is what stock rotation
    # goes by.
    expiry = day("17") or (expiry_at.date().isoformat() if expiry_at else None) or day("15")
    attrs: dict[str, Any] = {
        "lot": value("10"),
        "serial": value("21"),
        "expiry": expiry,
        "quantity": quantity,
        "expiry_time": f"{expiry_at:%Y-%m-%dT%H:%M}" if expiry_at else None,
        "production_date": day("11"),
        "packaging_date": day("13"),
        "sell_by": day("16"),
        "ship_to": value("410"),
        "measures": tuple(
            _measure(es) for es in ess if len(es.ai.ai) == 4 and es.ai.ai[:3] in MEASURES
        ),
    }
    if "00" in by_ai:
        gtin = value("02") or value("01")
        return Scan("sscc", symbology, sscc=value("00"), gtin=gtin, **attrs)
    if "01" in by_ai or "02" in by_ai:
        gtin = value("01") or value("02")
        return Scan("item", symbology, gtin=gtin, **attrs)
    if "414" in by_ai:
        gln, ext = value("414"), value("254")
        loc = f"gln:{gln}/{ext}" if ext else f"gln:{gln}"
        return Scan("label", symbology, label="LOC", value=loc)
    read = describe(ess)
    for ai, what in _NOT_ITEMS.items():
        if ai in by_ai:
            raise DecodeError(
                "not_an_item",
                f"read {read}: {what}, not a stock item; scan the item's GTIN",
            )
    raise DecodeError(
        "missing_gtin",
        f"read {read}, but no GTIN (01) or SSCC (00); scan the item's main barcode",
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


#: GS1 Digital Link's primary keys → the key qualifiers its path may carry, in the order the
#: standard's grammar (and biip) wants them.
_DL_KEYS: dict[str, tuple[str, ...]] = {
    "01": ("22", "10", "21", "235"),
    "8006": ("22", "10", "21"),
    "8010": ("8011",),
    "414": ("254", "7040"),
    "415": ("8020",),
    "417": ("7040",),
    "8004": ("7040",),
    "8017": ("8019",),
    "8018": ("8019",),
    **{key: () for key in ("8013", "255", "00", "253", "401", "402", "8003")},
}
#: The short names of the first versions of the standard (`/gtin/…/lot/…`), which resolvers
#: still accept.
_DL_NAMES = {
    "gtin": "01",
    "itip": "8006",
    "cpv": "22",
    "lot": "10",
    "ser": "21",
    "tpx": "235",
    "sscc": "00",
    "gln": "414",
    "glnx": "254",
    "payTo": "415",
    "partyGln": "417",
    "gsrnp": "8017",
    "gsrn": "8018",
    "srin": "8019",
    "gcn": "255",
    "gdti": "253",
    "ginc": "401",
    "gsin": "402",
    "grai": "8003",
    "giai": "8004",
    "cpid": "8010",
    "cpsn": "8011",
    "gmn": "8013",
    "refNo": "8020",
}


def _link_path(text: str) -> tuple[list[str], list[tuple[str, str]]] | None:
    """(the path's prefix segments, its (AI, value) pairs from the primary key on), or None when
    the path holds no primary key followed by pairs."""
    segs = urlsplit(text).path.split("/")
    start = next((i for i, s in enumerate(segs) if _DL_NAMES.get(s, s) in _DL_KEYS), None)
    if start is None or (len(segs) - start) % 2:
        return None
    keys = [_DL_NAMES.get(k, k) for k in segs[start::2]]
    return segs[:start], list(zip(keys, segs[start + 1 :: 2], strict=True))


def _canonical_link(text: str) -> str:
    """The URI with short key names made numeric and the path's qualifiers in canonical order.

    Labels in the field print qualifiers in any order (/01/…/21/…/10/…); the standard's grammar
    fixes one, and biip follows it strictly. Reordering changes nothing the label says.
    """
    found = _link_path(text)
    if found is None:
        return text  # not a Digital Link path: biip says what is wrong
    prefix, pairs = found
    order = _DL_KEYS[pairs[0][0]]
    quals = sorted(pairs[1:], key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order))
    path = "/".join([*prefix, *(x for kv in (pairs[0], *quals) for x in kv)])
    return urlunsplit(urlsplit(text)._replace(path=path))


def digital_link_scan(text: str, symbology: str | None) -> Scan:
    """A GS1 Digital Link URI (https://…/01/…): its primary key, qualifiers and query AIs."""
    from biip.gs1_digital_link_uris import GS1DigitalLinkURI

    try:
        uri = GS1DigitalLinkURI.parse(_canonical_link(text), config=_BIIP)
    except ParseError as exc:
        reason = str(exc)
        if reason.startswith(("Expected a primary identifier", "Expected URI")):
            raise DecodeError(
                "unrecognised", "a web link, not a GS1 Digital Link product code; scan the item"
            ) from None
        raise _link_error(text, reason) from None
    ess = list(uri.element_strings)
    _check_digits(ess)
    return _scan_from_elements(ess, symbology)


def _link_error(text: str, reason: str) -> DecodeError:
    """What is wrong with a Digital Link biip refused, said the way element-string errors are."""
    found = _link_path(text)
    pairs = found[1] if found is not None else []
    if pairs:
        key, seen = pairs[0][0], set()
        for q, _ in pairs[1:]:
            if q in seen:
                return DecodeError("invalid_gs1", f"{_name(q)} appears twice in the link")
            seen.add(q)
            if q not in _DL_KEYS[key]:
                return DecodeError(
                    "invalid_gs1",
                    f"{_name(q)} cannot follow {_name(key)} in a link's path (only in its "
                    f"query, ?{q}=…)",
                )
    for key, value in [*pairs, *parse_qsl(urlsplit(text).query)]:
        try:
            ai = GS1ApplicationIdentifier.extract(key)
        except ParseError:
            continue
        if ai.ai != key:
            continue
        try:
            GS1ElementString.parse(f"{key}{unquote(value)}", config=_BIIP)
        except ParseError as exc:
            return _field_error(ai, unquote(value), str(exc))
    return DecodeError("invalid_gs1", f"GS1 Digital Link: {reason}")


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
