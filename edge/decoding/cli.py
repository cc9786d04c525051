"""`tallyman decode TEXT` / `tallyman decode --epc HEX`: one scan or tag, interpreted, as JSON.

Why a separate command: testers and support staff check a label's content without a device or
broker, with the same decoder the edge uses. A shell cannot easily pass a GS byte, so the four
characters `\\x1d` stand for it.
"""

from __future__ import annotations

import argparse
import json
import sys

from edge.decoding.decoder import DecodeError, scan_to_json

GS_ESCAPES = ("\\x1d", "\\x1D", "\\X1D", "\\X1d")


def unescape_gs(text: str) -> str:
    for esc in GS_ESCAPES:
        text = text.replace(esc, "\x1d")
    return text


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="tallyman decode",
        description="Interpret a barcode's text or an RFID tag's EPC and print it as JSON. "
        "In TEXT, the four characters \\x1d stand for the GS (FNC1) separator.",
    )
    parser.add_argument("text", nargs="?", help="scanned text, optionally with an AIM prefix")
    parser.add_argument("--epc", metavar="HEX", help="an EPC (SGTIN-96, SGTIN-198, SSCC-96)")
    args = parser.parse_args(argv)
    if (args.text is None) == (args.epc is None):
        parser.error("give either TEXT or --epc HEX")

    if args.epc is not None:
        from edge.decoding.epc import decode_epc

        try:
            out = decode_epc(args.epc)
        except DecodeError as exc:
            out = {"error": exc.code, "detail": exc.detail}
    else:
        out = scan_to_json(unescape_gs(args.text))
    print(json.dumps(out, ensure_ascii=False))
    return 1 if "error" in out else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))


from tallyman.console import passthrough as _passthrough  # noqa: E402

command = _passthrough(main, "decode")
