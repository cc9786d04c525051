"""The edge's RFID driver: M100 bytes → one read per tag entering the field."""

from __future__ import annotations

from edge.devices import m100
from edge.devices.framing import Frame, FrameError
from edge.devices.rfid_reader import M100Decoder, TagFilter

EPC = "3074257BF7194E4000001A85"
OTHER = "3035682EC80C0E40000003E9"


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_filter_admits_a_tag_once_while_it_stays_in_the_field():
    clock = Clock()
    f = TagFilter(window_s=2.0, min_rssi=-70, clock=clock)
    assert f.admit(EPC, -50)
    for _ in range(100):  # read every 50 ms for 5 s
        clock.t += 0.05
        assert not f.admit(EPC, -50)
    clock.t += 2.5  # gone for longer than the window, then back
    assert f.admit(EPC, -52)


def test_filter_ignores_weak_reads_and_tells_tags_apart():
    clock = Clock()
    f = TagFilter(window_s=2.0, min_rssi=-70, clock=clock)
    assert not f.admit(EPC, -71)  # the next shelf
    assert f.admit(EPC, -69)
    assert f.admit(OTHER, -40)


def test_decoder_survives_split_frames_noise_and_bad_checksums():
    clock = Clock()
    dec = M100Decoder(TagFilter(window_s=1.0, min_rssi=-70, clock=clock))
    good = m100.tag_notice(bytes.fromhex(EPC), rssi=-50)
    spoiled = good[:-2] + bytes([(good[-2] + 1) & 0xFF]) + good[-1:]
    stream = b"\x00\x13noise" + spoiled + good[:7]
    assert dec.feed(stream) == []  # a bad checksum, then half a frame
    out = dec.feed(good[7:] + m100.error_frame(m100.ERR_NO_TAG))
    assert out == [Frame(EPC, good[5:-2])]
    assert dec.discarded >= 1


def test_decoder_drops_reads_whose_gen2_crc_fails():
    dec = M100Decoder(TagFilter(clock=Clock()))
    bad_crc = m100.tag_notice(bytes.fromhex(EPC), rssi=-50, crc=0x1234)
    assert dec.feed(bad_crc) == []
    assert dec.crc_failures == 1
    assert [f.text for f in dec.feed(m100.tag_notice(bytes.fromhex(EPC), rssi=-50))] == [EPC]


def test_decoder_reports_module_errors_but_not_empty_rounds():
    dec = M100Decoder(TagFilter(clock=Clock()))
    assert dec.feed(m100.error_frame(m100.ERR_NO_TAG) * 3) == []
    out = dec.feed(m100.error_frame(0x17))
    assert len(out) == 1 and isinstance(out[0], FrameError) and "0x17" in out[0].reason
