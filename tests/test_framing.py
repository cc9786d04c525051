"""FrameDecoder: what real serial reads look like — split, merged, noisy, misconfigured."""

from __future__ import annotations

import random

import pytest

from edge.devices.framing import Frame, FrameDecoder, FrameError, framing_preset


def texts(items: list) -> list[str]:
    return [i.text for i in items if isinstance(i, Frame)]


def errors(items: list) -> list[str]:
    return [i.reason for i in items if isinstance(i, FrameError)]


def test_one_frame_crlf():
    out = FrameDecoder().feed(b"]E05901234123457\r\n")
    assert out == [Frame("]E05901234123457", b"]E05901234123457")]


def test_frame_split_byte_by_byte_including_the_suffix():
    dec = FrameDecoder()
    out = []
    for b in b"ABC-1\r\nXYZ\r":
        out += dec.feed(bytes([b]))
    assert texts(out) == ["ABC-1"]
    assert texts(dec.feed(b"\n")) == ["XYZ"]


def test_several_frames_in_one_read():
    out = FrameDecoder().feed(b"A1\r\nB2\r\n]C0C3\r\n")
    assert texts(out) == ["A1", "B2", "]C0C3"]


def test_gs_is_data_not_garbage():
    out = FrameDecoder().feed(b"]C10109501101530003\x1d10LOT\r\n")
    assert texts(out) == ["]C10109501101530003\x1d10LOT"]


def test_leading_noise_is_dropped_and_counted():
    dec = FrameDecoder()
    out = dec.feed(b"\x00\xff\x81\x07A1\r\n")
    assert texts(out) == ["A1"]
    assert errors(out) == []
    assert dec.discarded == 4


def test_noise_alone_between_frames_produces_nothing():
    dec = FrameDecoder()
    out = dec.feed(b"A1\r\n\x00\x00\xfe") + dec.feed(b"\x13\x11B2\r\n")
    assert texts(out) == ["A1", "B2"]
    assert errors(out) == []


def test_control_byte_inside_a_frame_is_a_garbled_frame():
    out = FrameDecoder().feed(b"ABCDE\x07FG\r\nOK\r\n")
    assert errors(out) == ["garbled frame: control byte 0x07 at 5; rescan"]
    assert texts(out) == ["OK"]


def test_non_ascii_inside_a_frame_is_garbled():
    out = FrameDecoder().feed(b"AB\xe9C\r\n")
    assert errors(out) == ["garbled frame: non-ASCII byte 0xE9 at 2; rescan"]


def test_empty_frames_are_ignored():
    assert FrameDecoder().feed(b"\r\n\r\n\r\n") == []


def test_over_long_frame_reported_once_then_resynchronises():
    dec = FrameDecoder(max_len=32)
    out = dec.feed(b"X" * 20) + dec.feed(b"X" * 20) + dec.feed(b"X" * 500)
    assert len(errors(out)) == 1
    assert "longer than 32 bytes" in errors(out)[0]
    assert "suffix setting" in errors(out)[0]
    out = dec.feed(b"tail\r\nA1\r\n")
    assert texts(out) == ["A1"]
    assert errors(out) == []


def test_over_long_frame_in_a_single_read():
    out = FrameDecoder(max_len=8).feed(b"0123456789\r\nA1\r\n")
    assert len(errors(out)) == 1
    assert texts(out) == ["A1"]


def test_stx_etx_with_noise_and_crlf_between_frames():
    prefix, suffix = framing_preset("stx-etx")
    dec = FrameDecoder(prefix, suffix)
    out = dec.feed(b"junk\x02A1\x03\r\n\xff\x02]C0B2") + dec.feed(b"\x03")
    assert texts(out) == ["A1", "]C0B2"]
    assert errors(out) == []


def test_stx_restart_reports_the_cut_frame():
    dec = FrameDecoder(*framing_preset("stx-etx"))
    out = dec.feed(b"\x02HALF\x02WHOLE\x03")
    assert texts(out) == ["WHOLE"]
    assert len(errors(out)) == 1
    assert errors(out)[0].startswith("incomplete frame")


def test_printable_prefix_drops_bytes_before_it():
    dec = FrameDecoder(prefix=b"#", suffix=b"\r")
    out = dec.feed(b"garbage#A1\rmore#B2\r")
    assert texts(out) == ["A1", "B2"]


def test_cr_setting_with_crlf_scanner_still_works():
    dec = FrameDecoder(*framing_preset("cr"))
    assert texts(dec.feed(b"A1\r\nB2\r\n")) == ["A1", "B2"]


def test_lf_setting_with_crlf_scanner_still_works():
    dec = FrameDecoder(*framing_preset("lf"))
    assert texts(dec.feed(b"A1\r\nB2\r\n")) == ["A1", "B2"]


def test_tab_suffix():
    dec = FrameDecoder(*framing_preset("tab"))
    assert texts(dec.feed(b"A1\tB2\t")) == ["A1", "B2"]


def test_presets_and_unknown_name():
    assert framing_preset("CRLF") == (b"", b"\r\n")
    assert framing_preset("stx-etx") == (b"\x02", b"\x03")
    with pytest.raises(ValueError, match="unknown framing"):
        framing_preset("semicolon")


def test_reset_forgets_a_partial_frame():
    dec = FrameDecoder()
    dec.feed(b"HALF-A-SC")
    dec.reset()
    assert texts(dec.feed(b"A1\r\n")) == ["A1"]


@pytest.mark.parametrize("preset", ["crlf", "cr", "lf", "tab", "stx-etx"])
def test_random_bytes_never_raise_and_good_frames_survive(preset):
    rng = random.Random(preset)
    prefix, suffix = framing_preset(preset)
    dec = FrameDecoder(prefix, suffix, max_len=64)
    for _ in range(200):
        dec.feed(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40))))
    # After any amount of garbage, two clean frames in a row get the second one through.
    out = dec.feed(prefix + b"SYNC" + suffix + prefix + b"A1" + suffix)
    assert texts(out)[-1] == "A1"
