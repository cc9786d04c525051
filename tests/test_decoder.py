"""decode(): GS1 symbologies, retail barcodes, session labels, and the errors operators meet."""

from __future__ import annotations

import json

import pytest

from edge.decoding.decoder import DecodeError, Scan, decode, scan_to_json
from edge.decoding.scan import MODES
from edge.session import Session
from tallyman.launch.cli import main as tallyman_cli

GS = "\x1d"
GTIN = "09501101530003"  # GS1's example GTIN


def error_of(text: str) -> DecodeError:
    with pytest.raises(DecodeError) as info:
        decode(text)
    return info.value


# --- GS1 element strings ------------------------------------------------------------------


def test_gs1_128_with_expiry_lot_serial():
    scan = decode(f"]C101{GTIN}17260131{GS}10LOT42{GS}21SER1")
    assert scan == Scan(
        "item",
        "GS1-128",
        gtin=GTIN,
        lot="LOT42",
        expiry="2026-01-31",
        serial="SER1",
        raw=f"]C101{GTIN}17260131{GS}10LOT42{GS}21SER1",
    )


def test_gs1_fixed_length_fields_need_no_separator():
    scan = decode(f"]C101{GTIN}1726013110LOT42{GS}21SER1")
    assert (scan.lot, scan.expiry, scan.serial) == ("LOT42", "2026-01-31", "SER1")


def test_gs1_count_ai_37_sets_quantity():
    scan = decode(f"]C102{GTIN}3712{GS}10L1")
    assert (scan.kind, scan.gtin, scan.quantity, scan.lot) == ("item", GTIN, 12, "L1")


def test_gs1_variable_count_ai_30():
    assert decode(f"]C101{GTIN}306").quantity == 6


def test_gs1_count_zero_is_invalid():
    assert error_of(f"]C101{GTIN}370").code == "invalid_gs1"


def test_expiry_day_00_is_last_day_of_month():
    assert decode(f"]d201{GTIN}17240200").expiry == "2024-02-29"


def test_best_before_used_when_no_expiry():
    assert decode(f"]C101{GTIN}15261231").expiry == "2026-12-31"


def test_gs1_datamatrix():
    scan = decode(f"]d201{GTIN}17260100{GS}10ABC")
    assert (scan.symbology, scan.gtin, scan.expiry, scan.lot) == (
        "GS1 DataMatrix",
        GTIN,
        "2026-01-31",
        "ABC",
    )


def test_gs1_qr():
    scan = decode(f"]Q301{GTIN}10ABC")
    assert (scan.symbology, scan.gtin, scan.lot) == ("GS1 QR", GTIN, "ABC")


def test_gs1_databar():
    assert decode(f"]e001{GTIN}").symbology == "GS1 DataBar"


def test_leading_fnc1_gs_is_ignored():
    assert decode(f"]C1{GS}01{GTIN}").gtin == GTIN


def test_sscc():
    scan = decode("]C100106141411234567897")
    assert (scan.kind, scan.sscc, scan.gtin) == ("sscc", "106141411234567897", None)


def test_sscc_with_content_and_count():
    scan = decode(f"]C100106141411234567897{GS}02{GTIN}3740")
    assert (scan.kind, scan.sscc, scan.gtin, scan.quantity) == (
        "sscc",
        "106141411234567897",
        GTIN,
        40,
    )


def test_unprefixed_gs1_raw_and_human_readable():
    assert decode(f"01{GTIN}{GS}10AB").lot == "AB"
    assert decode(f"01{GTIN}10AB").lot == "AB"
    scan = decode(f"(01){GTIN}(17)260100(10)AB")
    assert (scan.gtin, scan.expiry, scan.lot, scan.symbology) == (GTIN, "2026-01-31", "AB", None)


def test_gs1_digital_link():
    scan = decode(f"https://id.gs1.org/01/{GTIN}/10/AB")
    assert (scan.gtin, scan.lot) == (GTIN, "AB")


# --- retail symbologies -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "symbology", "gtin"),
    [
        ("]E05901234123457", "EAN-13", "05901234123457"),
        ("5901234123457", "EAN-13", "05901234123457"),
        ("]E496385074", "EAN-8", "00000096385074"),
        ("96385074", "EAN-8", "00000096385074"),
        ("]E00036000291452", "UPC-A", "00036000291452"),
        ("]E0036000291452", "UPC-A", "00036000291452"),
        ("036000291452", "UPC-A", "00036000291452"),
        ("]E001234565", "UPC-E", "00012345000065"),
        ("]I115012345678907", "ITF-14", "15012345678907"),
        ("]E3590123412345712", "EAN-13", "05901234123457"),
    ],
)
def test_retail_barcodes(text, symbology, gtin):
    scan = decode(text)
    assert (scan.kind, scan.symbology, scan.gtin) == ("item", symbology, gtin)
    assert len(scan.gtin) == 14


def test_code128_plain_is_an_sku():
    scan = decode("]C0ABC-123")
    assert (scan.kind, scan.symbology, scan.sku, scan.gtin) == ("item", "Code 128", "ABC-123", None)


def test_unprefixed_text_is_an_sku():
    assert decode("WIDGET-7").sku == "WIDGET-7"


# --- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["]E05901234123458", "5901234123458", f"]C10109501101530004{GS}10L", "(01)09501101530004"],
)
def test_bad_check_digit_says_which_digit_was_expected(text):
    err = error_of(text)
    assert err.code == "bad_check_digit"
    assert "should be" in err.detail
    assert ("should be 7" in err.detail) or ("should be 3" in err.detail)


def test_bad_sscc_check_digit():
    err = error_of("]C100106141411234567890")
    assert err.code == "bad_check_digit"
    assert "SSCC" in err.detail and "should be 7" in err.detail


def test_missing_separator_lot_swallows_expiry():
    err = error_of(f"]C101{GTIN}10LOT421726013121SER1")
    assert err.code == "missing_separator"
    assert "(10)" in err.detail and "(17)" in err.detail
    assert "'LOT42'" in err.detail


def test_missing_separator_serial_swallows_expiry():
    err = error_of(f"]C101{GTIN}{GS}211234567817250101")
    assert err.code == "missing_separator"
    assert "(21)" in err.detail


def test_missing_separator_detected_when_parse_overflows():
    # The lot runs on into the serial until the 20-character limit breaks the parse.
    err = error_of(f"]C101{GTIN}10LOT4221SER1234567890123456")
    assert err.code == "missing_separator"
    assert "(10)" in err.detail and "(21)" in err.detail


def test_missing_separator_after_a_full_length_lot():
    # biip splits the lot at its 20-character maximum; the spec still requires the FNC1.
    err = error_of(f"]C101{GTIN}10LOT12345678901234567" + "2112345")
    assert err.code == "missing_separator"
    assert "(10)" in err.detail and "(21)" in err.detail


def test_missing_separator_swallowed_gtin():
    err = error_of(f"]C110LOT7701{GTIN}")
    assert err.code == "missing_separator"
    assert "(01)" in err.detail


def test_lot_with_digits_that_are_not_an_ai_is_fine():
    assert decode(f"]C101{GTIN}10A1B2C3{GS}21X9").lot == "A1B2C3"


def test_over_long_lot():
    err = error_of(f"]C101{GTIN}10" + "A" * 25)
    assert err.code == "invalid_gs1"
    assert "longer than 20" in err.detail


def test_invalid_date():
    err = error_of(f"]C101{GTIN}17131301")
    assert err.code == "invalid_gs1"
    assert "(17)" in err.detail and "date" in err.detail


def test_invalid_gs1_wrong_length():
    err = error_of("]C14145901234123")
    assert err.code == "invalid_gs1"
    assert "13 digits" in err.detail


def test_gs1_without_identifier_says_what_is_missing():
    err = error_of("]C110LOT1")
    assert err.code == "missing_gtin"
    assert "(10) lot 'LOT1'" in err.detail and "no GTIN (01)" in err.detail


@pytest.mark.parametrize("text", ["", "   ", "\r\n", "]C0", "12345", "]E012345"])
def test_unrecognised(text):
    assert error_of(text).code == "unrecognised"


# --- labels -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "label", "value"),
    [
        ("LOC:STORE1/A-01", "LOC", "STORE1/A-01"),
        ("]C0LOC:DC1/R1/S2", "LOC", "DC1/R1/S2"),
        ("TO:DC1/DOCK", "TO", "DC1/DOCK"),
        ("MODE:RECEIVE", "MODE", "RECEIVE"),
        ("mode:pick", "MODE", "PICK"),
        ("MODE:transfer-out", "MODE", "TRANSFER_OUT"),
        ("MODE:TRANSFER_IN", "MODE", "TRANSFER_IN"),
        ("QTY:12", "QTY", "12"),
        ("QTY:007", "QTY", "7"),
        ("REF:PO-2024-001", "REF", "PO-2024-001"),
    ],
)
def test_labels(text, label, value):
    scan = decode(text)
    assert (scan.kind, scan.label, scan.value) == ("label", label, value)


@pytest.mark.parametrize(
    "text", ["QTY:abc", "QTY:0", "QTY:-3", "MODE:FLY", "LOC:nobin", "TO:", "REF:", "LOC:A B/C"]
)
def test_bad_labels(text):
    err = error_of(text)
    assert err.code == "bad_label"
    assert len(err.detail) < 140


@pytest.mark.parametrize("mode", list(MODES))
def test_every_session_mode_decodes(mode):
    """The decoder and the session read one table of modes: the session never hears of a mode
    the decoder refuses (MODE:SHIP was refused as an unknown label)."""
    scan = decode(f"MODE:{mode.lower()}")
    assert (scan.label, scan.value) == ("MODE", mode)
    session = Session(site="DC1")
    assert session.handle(scan, f"MODE:{mode}", "2026-01-01T00:00:00.000Z").ok
    assert session.mode == MODES[mode]


def test_ship_mode_records_a_transfer_out():
    session = Session(site="DC1")
    ts = "2026-01-01T00:00:00.000Z"
    for text in ("LOC:DC1/DOCK", "MODE:SHIP", "TO:STORE1/SHELF"):
        outcome = session.handle(decode(text), text, ts)
        assert outcome.ok, outcome.message
    outcome = session.handle(decode("]E05901234123457"), "]E05901234123457", ts)
    assert outcome.ok and outcome.event is not None
    assert outcome.event["type"] == "transfer_out"
    assert (outcome.event["loc"], outcome.event["to_loc"]) == ("DC1/DOCK", "STORE1/SHELF")


def test_gln_location_label():
    scan = decode("]C14145901234123457")
    assert (scan.kind, scan.label, scan.value) == ("label", "LOC", "gln:5901234123457")


def test_gln_with_extension():
    scan = decode("]C14145901234123457254BIN-7")
    assert scan.value == "gln:5901234123457/BIN-7"
    assert decode(f"(414)5901234123457(254)A{GS}").value == "gln:5901234123457/A"


def test_gln_bad_check_digit():
    err = error_of("]C14145901234123458")
    assert err.code == "bad_check_digit"
    assert "should be 7" in err.detail


# --- JSON and the CLI ---------------------------------------------------------------------


def test_scan_to_json_item():
    out = scan_to_json(f"]C101{GTIN}17260131{GS}10L1{GS}21S1")
    assert out == {
        "kind": "item",
        "symbology": "GS1-128",
        "gtin": GTIN,
        "lot": "L1",
        "expiry": "2026-01-31",
        "serial": "S1",
        "quantity": None,
        "sscc": None,
    }


def test_scan_to_json_label_and_error():
    assert scan_to_json("QTY:3") == {
        "kind": "label",
        "symbology": None,
        "label": "QTY",
        "value": "3",
    }
    out = scan_to_json("]E05901234123458")
    assert out["error"] == "bad_check_digit"
    assert "should be 7" in out["detail"]


def test_decode_cli_gs_escape(capsys):
    assert tallyman_cli(["decode", "--json", rf"]C101{GTIN}\x1d10LOT1\x1d21S"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["gtin"], out["lot"], out["serial"]) == (GTIN, "LOT1", "S")


def test_decode_cli_error_exit_1(capsys):
    assert tallyman_cli(["decode", "--json", "]E05901234123458"]) == 1
    assert json.loads(capsys.readouterr().out)["error"] == "bad_check_digit"


def test_decode_cli_epc(capsys):
    assert tallyman_cli(["decode", "--epc", "3074257BF7194E4000001A85", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out == {"scheme": "sgtin-96", "gtin": "80614141123458", "serial": "6789"}
    assert tallyman_cli(["decode", "--json", "--epc", "ZZ"]) == 1
    assert json.loads(capsys.readouterr().out)["error"] == "invalid_epc"


def test_decode_cli_table_for_people(capsys):
    assert tallyman_cli(["decode", "MODE:ship"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "label      MODE" in lines and "value      SHIP" in lines


def test_decode_cli_error_is_one_line(capsys):
    assert tallyman_cli(["decode", "]E05901234123458"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip().splitlines() == [
        "tallyman: bad_check_digit: GTIN 5901234123458: check digit should be 7, not 8; "
        "scan again or key it in"
    ]


@pytest.mark.parametrize("args", [[], ["]E05901234123457", "--epc", "30"]])
def test_decode_cli_needs_text_or_epc(capsys, args):
    assert tallyman_cli(["decode", *args]) == 2
    assert "give either TEXT or --epc HEX" in capsys.readouterr().err
