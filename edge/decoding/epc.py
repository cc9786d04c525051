"""EPC Gen2 tag decoding (SGTIN-96, SGTIN-198, SSCC-96) to GTIN + serial or SSCC.

Why pyepc underneath and checks around it: pyepc implements the TDS partition tables, but it takes
the hex at face value — any length, any character — and never checks that a decoded field fits its
digit count. RFID readers hand over exactly such raw bytes (a word-padded EPC bank, lowercase hex,
a corrupted read), so length, characters and the decoded result are validated here and every
failure becomes one `DecodeError("invalid_epc", …)`.
"""

from __future__ import annotations

import re

from edge.decoding.scan import DecodeError
from tallyman.wire import gs1_check_digit, valid_gtin14

#: EPC header byte → (scheme, bits). TDS 1.13 §14.2.
HEADERS: dict[str, tuple[str, int]] = {
    "30": ("sgtin-96", 96),
    "36": ("sgtin-198", 198),
    "31": ("sscc-96", 96),
}

_HEX = re.compile(r"^[0-9A-F]+$")
_SERIAL = re.compile(r"^[\x21-\x7e]{1,20}$")  # TDS: up to 20 characters of GS1 AI encodable set 82


def decode_epc(epc_hex: str) -> dict[str, str]:
    """`{"scheme", "gtin", "serial"}` for SGTINs, `{"scheme", "sscc"}` for SSCC-96."""
    hexstr = re.sub(r"[\s:-]", "", epc_hex).upper()
    if hexstr.startswith("0X"):
        hexstr = hexstr[2:]
    if not hexstr or not _HEX.match(hexstr):
        raise DecodeError("invalid_epc", f"EPC must be hexadecimal, got {epc_hex[:40]!r}")
    header = hexstr[:2]
    if header not in HEADERS:
        raise DecodeError(
            "invalid_epc",
            f"EPC header {header} is not SGTIN-96 (30), SGTIN-198 (36) or SSCC-96 (31)",
        )
    scheme, bits = HEADERS[header]
    need = (bits + 3) // 4
    # A tag's EPC bank holds whole 16-bit words: SGTIN-198 arrives as 13 words (52 hex digits).
    words = (bits + 15) // 16 * 4
    if len(hexstr) not in (need, words):
        raise DecodeError(
            "invalid_epc",
            f"{scheme.upper()} is {need} hex digits, got {len(hexstr)}; incomplete read?",
        )
    hexstr = hexstr[:need]

    import pyepc  # deferred: it pulls in requests, which `tallyman decode TEXT` never needs
    from pyepc.exceptions import DecodingError

    try:
        epc = pyepc.decode(hexstr)
    except (DecodingError, ValueError, AssertionError) as exc:
        reason = "invalid partition value" if "Company Prefix" in str(exc) else str(exc)
        raise DecodeError("invalid_epc", f"{scheme.upper()}: {reason}") from None

    if scheme == "sscc-96":
        sscc = epc.sscc
        if len(sscc) != 18 or not sscc.isdigit() or gs1_check_digit(sscc[:-1]) != int(sscc[-1]):
            raise DecodeError("invalid_epc", f"SSCC-96: fields overflow their partition ({sscc})")
        return {"scheme": scheme, "sscc": sscc}
    gtin = epc.gtin
    if not valid_gtin14(gtin):
        raise DecodeError("invalid_epc", f"{scheme.upper()}: fields overflow their partition")
    serial = epc.serial_number
    if not serial or not _SERIAL.match(serial):
        raise DecodeError("invalid_epc", f"{scheme.upper()}: serial {serial!r} is not valid text")
    return {"scheme": scheme, "gtin": gtin, "serial": serial}
