"""EPC decoding against the GS1 EPC Tag Data Standard's examples and hand-packed bit strings."""

from __future__ import annotations

import pytest

from edge.decoding.decoder import DecodeError
from edge.decoding.epc import decode_epc

# TDS 1.13 §14.5.1.1 / §E.3: urn:epc:tag:sgtin-96:3.0614141.812345.6789
SGTIN96 = "3074257BF7194E4000001A85"
# pyepc/TDS example: urn:epc:tag:sscc-96:0.0614141.1234567890
SSCC96 = "3114257BF4499602D2000000"

# SGTIN partition table (TDS 1.13 Table 14-2): partition → (company prefix bits, digits)
_SGTIN_PARTITIONS = {0: (40, 12), 1: (37, 11), 2: (34, 10), 3: (30, 9), 4: (27, 8), 5: (24, 7)}


def pack(header: int, filt: int, partition: int, cp: int, item: int, serial_bits: str) -> str:
    """An independent bit packer, so the test does not trust the library under test."""
    cp_bits, _ = _SGTIN_PARTITIONS[partition]
    bits = (
        f"{header:08b}{filt:03b}{partition:03b}{cp:0{cp_bits}b}{item:0{44 - cp_bits}b}{serial_bits}"
    )
    bits += "0" * (-len(bits) % 4)
    return f"{int(bits, 2):0{len(bits) // 4}X}"


def sgtin198(serial: str, filt: int = 3) -> str:
    chars = "".join(f"{ord(c):07b}" for c in serial).ljust(140, "0")
    return pack(0x36, filt, 5, 614141, 812345, chars)


def test_tds_sgtin96_example():
    assert decode_epc(SGTIN96) == {"scheme": "sgtin-96", "gtin": "80614141123458", "serial": "6789"}


def test_packer_reproduces_the_tds_example():
    assert pack(0x30, 3, 5, 614141, 812345, f"{6789:038b}") == SGTIN96


def test_sgtin96_other_partition():
    # Partition 3: 9-digit company prefix 012345678; indicator 0 + item ref 123 → 0012345678123
    # plus check digit 8.
    out = decode_epc(pack(0x30, 1, 3, 12345678, 123, f"{42:038b}"))
    assert out == {"scheme": "sgtin-96", "gtin": "00123456781238", "serial": "42"}


def test_sgtin198_alphanumeric_serial():
    assert decode_epc(sgtin198("6789AB")) == {
        "scheme": "sgtin-198",
        "gtin": "80614141123458",
        "serial": "6789AB",
    }


def test_sgtin198_word_padded_as_read_from_a_tag():
    hexstr = sgtin198("X-1/2")
    assert len(hexstr) == 50
    assert decode_epc(hexstr + "00")["serial"] == "X-1/2"


def test_sscc96():
    assert decode_epc(SSCC96) == {"scheme": "sscc-96", "sscc": "106141412345678908"}


def test_lowercase_and_spaces_accepted():
    assert decode_epc("30 74 25 7b f7 19 4e 40 00 00 1a 85")["serial"] == "6789"


@pytest.mark.parametrize(
    ("hexstr", "words"),
    [
        ("", "hexadecimal"),
        ("3074257BF7194E4000001A8Z", "hexadecimal"),
        ("3074257BF7194E4000001A8", "24 hex digits"),
        ("E2801160600002054B2B1C43", "header E2"),
        ("307C257BF7194E4000001A85", "partition"),  # partition 7 does not exist
    ],
)
def test_invalid(hexstr, words):
    with pytest.raises(DecodeError) as info:
        decode_epc(hexstr)
    assert info.value.code == "invalid_epc"
    assert words in info.value.detail


def test_item_reference_overflowing_its_partition_is_rejected():
    # Partition 5 gives the item reference 20 bits but only 6 digits: 999999 + 1 overflows.
    with pytest.raises(DecodeError, match="overflow"):
        decode_epc(pack(0x30, 1, 5, 614141, 1_000_000, f"{1:038b}"))
