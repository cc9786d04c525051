"""Scanning says what a label says, nothing more and nothing less (issue 12): Digital Links behind
any symbology identifier and in any qualifier order, plain text accepted as an SKU only by the
site's pattern, variable measures, GS1 dates and ship-to carried to the movement, and errors
that say what was read and what is missing.

Public vectors: GS1's example GTIN 09501101530003, the GS1 Digital Link examples and the RCN
examples of GS1 Member Organisations as collected in biip's test suite (tests/test_parse.py,
tests/test_gs1_digital_link_uris.py, tests/rcn/test_rules.py of jodal/biip).
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from edge.decoding.decoder import DecodeError, decode, scan_to_json
from edge.session import Session
from tallyman import wire
from tallyman.launch.cli import main as tallyman_cli

GS = "\x1d"
GTIN = "09501101530003"
TS = "2026-01-01T00:00:00.000Z"


def error_of(text: str, options=None) -> DecodeError:
    with pytest.raises(DecodeError) as info:
        decode(text) if options is None else decode(text, options)
    return info.value


def options(**kwargs):
    from edge.decoding.decoder import decode_options

    return decode_options(**kwargs)


# --- 1. Digital Links ---------------------------------------------------------------------


@pytest.mark.parametrize("aim", ["]Q3", "]Q1", "]d1", "]d2", "]C0", ""])
def test_a_digital_link_behind_any_symbology_identifier(aim):
    scan = decode(f"{aim}https://id.gs1.org/01/{GTIN}/10/AB/21/S1")
    assert (scan.kind, scan.gtin, scan.lot, scan.serial) == ("item", GTIN, "AB", "S1")


@pytest.mark.parametrize(
    "path",
    [
        f"/01/{GTIN}/21/S1/10/AB",
        f"/01/{GTIN}/10/AB/21/S1",
        f"/01/{GTIN}/21/S1/22/V2/10/AB",
        f"/gtin/{GTIN}/ser/S1/lot/AB",  # the first versions' short names
    ],
)
def test_digital_link_qualifiers_in_any_order(path):
    scan = decode(f"]Q3https://brand.example.com/p{path}")
    assert (scan.gtin, scan.lot, scan.serial) == (GTIN, "AB", "S1")


def test_digital_link_query_attributes():
    scan = decode(f"]Q3https://id.gs1.org/01/{GTIN}/21/S1/10/AB?17=260131&3103=001250&foo=1")
    assert (scan.lot, scan.serial, scan.expiry) == ("AB", "S1", "2026-01-31")
    assert scan_to_json(f"https://id.gs1.org/01/{GTIN}?3103=001250")["measures"] == [
        {"ai": "3103", "kind": "net_weight", "value": "1.250", "unit": "kg"}
    ]


@pytest.mark.parametrize(
    ("uri", "want"),
    [
        # biip's own vectors (tests/test_gs1_digital_link_uris.py)
        ("https://example.com/foo/01/614141123452", ("item", "00614141123452", None, None)),
        (
            "https://id.gs1.org/00/106141412345678908?02=00614141123452&37=25&10=ABC123",
            ("sscc", "00614141123452", "106141412345678908", 25),
        ),
        # refused by biip for the order of its qualifiers, accepted here
        (
            "https://id.gs1.org/01/614141123452/10/ABC123/22/123456789",
            ("item", "00614141123452", None, None),
        ),
        (
            "https://id.gs1.org/01/01234567890128/21/12345XYZ/10/ABC123",
            ("item", "01234567890128", None, None),
        ),
    ],
)
def test_public_digital_link_examples(uri, want):
    scan = decode(uri)
    assert (scan.kind, scan.gtin, scan.sscc, scan.quantity) == want


@pytest.mark.parametrize(
    ("uri", "code", "words"),
    [
        (f"https://id.gs1.org/01/{GTIN}/21/S1/21/S2", "invalid_gs1", "(21) serial appears twice"),
        ("https://id.gs1.org/00/106141412345678908/10/ABC", "invalid_gs1", "cannot follow (00)"),
        (f"https://id.gs1.org/01/{GTIN}?17=261301", "invalid_gs1", "(17) expiry date"),
        ("https://id.gs1.org/01/09501101530004", "bad_check_digit", "should be 3"),
        ("http://example.com/foo/123", "unrecognised", "not a GS1 Digital Link"),
    ],
)
def test_digital_link_errors_say_what_is_wrong(uri, code, words):
    err = error_of(f"]Q3{uri}")
    assert err.code == code and words in err.detail, err.detail


# --- 2. plain text is an SKU only by the site's pattern -----------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("mailto:alice@example.com", "unrecognised"),
        ("]Q1mailto:alice@example.com", "unrecognised"),
        ("tel:+4712345678", "unrecognised"),
        ("https://example.com/menu", "unrecognised"),
        ("59012341X3457", "not_an_sku"),  # a damaged EAN-13 read
        ("0950110153000X", "not_an_sku"),
        ("]A0590123412X457", "not_an_sku"),
        ("hello world", "not_an_sku"),
        ("]C0WIDGET 7", "not_an_sku"),
        ("]E0590123412X457", "bad_read"),
        ("]I11501234567890X", "bad_read"),
        ("]I0123A56", "bad_read"),
    ],
)
def test_text_that_is_no_product_code_is_refused(text, code):
    err = error_of(text)
    assert err.code == code, err.detail
    assert "scan" in err.detail  # a hint the operator can act on


@pytest.mark.parametrize("text", ["WIDGET-7", "ABC-123", "]C0ABC-123", "sku_4.2/b", "10ABC"])
def test_the_default_pattern_accepts_skus(text):
    assert decode(text).sku == text.removeprefix("]C0")


def test_a_site_pattern_decides_which_text_is_an_sku():
    site = options(sku_pattern=r"A\d{7}")
    assert decode("A1234567", site).sku == "A1234567"  # refused by the default pattern
    assert error_of("A1234567").code == "not_an_sku"
    err = error_of("WIDGET-7", site)
    assert err.code == "not_an_sku" and "this site's SKU pattern" in err.detail
    assert error_of("mailto:x@y.z", options(sku_pattern=".*")).code == "unrecognised"


def test_a_bad_sku_pattern_or_rcn_rule_is_refused_by_name():
    with pytest.raises(ValueError, match="sku_pattern"):
        options(sku_pattern="(")
    for bad in ("2=weight", "28=kilos", "28=weight:PPPVVV", "30=price", "28=weight:PPPPPPCVVVVV:7"):
        with pytest.raises(ValueError, match="RCN rule"):
            options(rcn=[bad])


# --- 3. measures, dates, ship-to ----------------------------------------------------------


@pytest.mark.parametrize(
    ("ai_value", "kind", "value", "unit"),
    [
        ("3103001250", "net_weight", "1.250", "kg"),
        ("3202012345", "net_weight", "123.45", "lb"),
        ("3111000250", "length", "25.0", "m"),
        ("3151001500", "net_volume", "150.0", "l"),
        ("3160000002", "net_volume", "2", "m3"),
        ("3301012000", "gross_weight", "1200.0", "kg"),
        ("3612000150", "net_volume", "1.50", "gal_us"),
        ("3695000001", "logistic_volume", "0.00001", "yd3"),
    ],
)
def test_variable_measure_ais_keep_ai_decimal_and_unit(ai_value, kind, value, unit):
    scan = decode(f"]C101{GTIN}{ai_value}")
    (m,) = scan.measures
    assert (m.ai, m.kind, m.value, m.unit) == (ai_value[:4], kind, Decimal(value), unit)
    assert str(m.value) == value  # the decimals the AI states, none dropped or added


def test_gs1_dates_expiry_time_and_ship_to():
    scan = decode(f"]C101{GTIN}11250101132501021625010370032601311230{GS}10L1")
    assert (scan.production_date, scan.packaging_date, scan.sell_by) == (
        "2025-01-01",
        "2025-01-02",
        "2025-01-03",
    )
    assert (scan.expiry_time, scan.expiry, scan.lot) == ("2026-01-31T12:30", "2026-01-31", "L1")
    pallet = decode(f"]C100106141411234567897{GS}4105901234123457")
    assert (pallet.kind, pallet.ship_to) == ("sscc", "5901234123457")
    assert error_of(f"]C100106141411234567897{GS}4105901234123458").code == "bad_check_digit"


def test_expiry_date_wins_over_the_date_of_7003():
    scan = decode(f"]C101{GTIN}17260228{GS}70032601311230")
    assert (scan.expiry, scan.expiry_time) == ("2026-02-28", "2026-01-31T12:30")


def test_a_plain_gtin_carries_nothing_more():
    out = scan_to_json("]E05901234123457")
    assert set(out) == {"kind", "symbology", "gtin", "lot", "expiry", "serial", "quantity", "sscc"}
    assert decode("]C1010400638133393130000003").measures == ()  # company RCN 04: opaque


def test_in_store_variable_measure_default_layout():
    # The US random-weight UPC-A: prefix 2, item 01234, price 012.34 (default: 02 is a price).
    scan = decode("]E0201234012344")
    assert scan.gtin == "00201234000006"  # the item, as item masters list it
    assert [(m.ai, m.kind, m.value) for m in scan.measures] == [("rcn", "price", Decimal("12.34"))]
    # 25–29 weigh, in kg with 3 decimals
    scan = decode("]E02812345015001")
    assert scan.gtin == "02812345000007"
    assert [(m.kind, m.value, m.unit) for m in scan.measures] == [
        ("net_weight", Decimal("1.500"), "kg")
    ]


@pytest.mark.parametrize(
    ("rule", "rcn", "item", "value", "unit"),
    [
        # biip tests/rcn/test_rules.py, with the layouts of the Member Organisations it cites
        ("23=weight:PPPPPPPPVVVV:3", "2388060112344", "02388060100006", "1.234", "kg"),
        ("24=weight:PPPPPPPPVVVV:2", "2488060112341", "02488060100003", "12.34", "kg"),
        ("26=weight:PPPPPPVVVVVV:3", "2623570001505", "02623570000003", "0.150", "kg"),
        ("28=weight:PPPPPPCVVVVV:3", "2811111068708", "02811110000006", "6.870", "kg"),
        ("21=price:PPPPPPVVVVVV:2:DKK", "2135040039753", "02135040000005", "39.75", "DKK"),
        ("20=price:PPPPPPPCVVVV:2:GBP", "2011122912346", "02011122000005", "12.34", "GBP"),
    ],
)
def test_rcn_layouts_of_member_organisations(rule, rcn, item, value, unit):
    scan = decode(rcn, options(rcn=[rule]))
    assert scan.gtin == item  # biip's Rcn.without_variable_measure() gives the same
    (m,) = scan.measures
    kind = "net_weight" if "=weight" in rule else "price"
    assert (m.ai, m.kind, m.value, m.unit) == ("rcn", kind, Decimal(value), unit)


def test_rcn_measure_verifier_digit_is_checked():
    err = error_of("2011122812349", options(rcn=["20=price:PPPPPPPCVVVV:2"]))
    assert err.code == "bad_check_digit" and "should be 9, not 8" in err.detail


def test_an_rcn_prefix_can_be_an_opaque_item_number():
    scan = decode("2135040039753", options(rcn=["21=none"]))
    assert (scan.gtin, scan.measures) == ("02135040039753", ())


def test_label_attributes_reach_the_movement_and_the_wire_accepts_them():
    text = f"]C101{GTIN}3103001250{GS}10L1{GS}11250101{GS}70032601311230"
    session = Session(site="DC1", loc="DC1/A-01")
    outcome = session.handle(decode(text), text, TS)
    assert outcome.ok and outcome.event is not None
    ev = {"seq": 1, **outcome.event}
    assert ev["measures"] == [{"ai": "3103", "kind": "net_weight", "value": "1.250", "unit": "kg"}]
    assert (ev["production_date"], ev["expiry_time"]) == ("2025-01-01", "2026-01-31T12:30")
    assert wire.validate_event(json.loads(json.dumps(ev)), "DC1") == ev
    rcn = session.handle(decode("]E02812345015001"), "]E02812345015001", TS).event
    assert rcn is not None and rcn["measures"][0]["kind"] == "net_weight"
    plain = session.handle(decode("]E05901234123457"), "]E05901234123457", TS).event
    assert plain is not None and not wire._LABEL_KEYS & set(plain)


@pytest.mark.parametrize(
    "extra",
    [
        {"measures": []},
        {"measures": [{"ai": "3103", "kind": "net_weight", "value": "1,25", "unit": "kg"}]},
        {"measures": [{"ai": "3103", "kind": "net_weight", "value": 1.25, "unit": "kg"}]},
        {"measures": [{"ai": "9999", "kind": "net_weight", "value": "1", "unit": "kg"}]},
        {"measures": [{"ai": "3103", "value": "1", "unit": "kg"}]},
        {"sell_by": "2025-1-3"},
        {"expiry_time": "2026-01-31 12:30"},
        {"ship_to": "5901234123458"},
    ],
)
def test_the_wire_refuses_malformed_label_attributes(extra):
    ev = {"seq": 1, "ts": TS, "type": "receive", "gtin": GTIN, "qty": 1, "loc": "DC1/A", **extra}
    with pytest.raises(wire.WireError) as info:
        wire.validate_event(ev, "DC1")
    assert info.value.code == "invalid_event"


def test_decode_cli_shows_measures_and_takes_site_rules(capsys):
    assert tallyman_cli(["decode", "--rcn", "23=weight:PPPPPPPPVVVV:3", "2388060112344"]) == 0
    assert "measures   net_weight 1.234 kg (rcn)" in capsys.readouterr().out.splitlines()
    assert tallyman_cli(["decode", "--json", "--sku-pattern", r"A\d{7}", "A1234567"]) == 0
    assert json.loads(capsys.readouterr().out)["sku"] == "A1234567"
    assert tallyman_cli(["decode", "--sku-pattern", "(", "X"]) == 2
    assert "--sku-pattern" in capsys.readouterr().err


# --- 4. errors say what was read and what is missing --------------------------------------


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("15210527", "(15) best-before date 2021-05-27"),  # biip's vector: 8 digits, no GTIN
        ("17260131", "(17) expiry date 2026-01-31"),
        ("17260131102345", "(17) expiry date 2026-01-31, (10) lot 2345"),  # 14 digits
        ("]C110LOT1", "(10) lot 'LOT1'"),
        ("1726013110ABC", "(17) expiry date 2026-01-31, (10) lot 'ABC'"),
    ],
)
def test_gs1_without_a_gtin_says_what_was_read_and_what_is_missing(text, read):
    err = error_of(text)
    assert err.code == "missing_gtin", err.detail
    assert read in err.detail and "no GTIN (01)" in err.detail


@pytest.mark.parametrize(
    "text",
    [
        "800309501101530003ABC",
        "80030950110153000312",
        "]C18003095011015300031234",
        "(8003)09501101530003ABC",
        "https://id.gs1.org/8003/09501101530003ABC",
    ],
)
def test_a_returnable_asset_is_valid_gs1_but_not_a_stock_item(text):
    err = error_of(text)
    assert err.code == "not_an_item", err.detail
    assert "(8003) GRAI" in err.detail and "returnable asset" in err.detail
    assert "not a GS1 code" not in err.detail


def test_a_grai_with_a_wrong_check_digit():
    err = error_of("]C18003095011015300041234")
    assert err.code == "bad_check_digit" and "GRAI" in err.detail and "should be 3" in err.detail


@pytest.mark.parametrize("text", ["12345670", "10123456", "5901234123458", "106141411234567890"])
def test_a_misread_gtin_or_sscc_stays_a_check_digit_error(text):
    if text == "12345670":
        assert decode(text).gtin == "00000012345670"  # valid EAN-8 wins over (12) due date
        return
    assert error_of(text).code == "bad_check_digit"
