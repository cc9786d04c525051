"""`tallyman decode TEXT` / `tallyman decode --epc HEX`: one scan or tag, interpreted.

Why a separate command: testers and support staff check a label's content without a device or
broker, with the same decoder the edge uses. A shell cannot easily pass a GS byte, so the four
characters `\\x1d` stand for it.
"""

from __future__ import annotations

from typing import Any

import click

from tallyman.console import emit, fail, json_option

GS_ESCAPES = ("\\x1d", "\\x1D", "\\X1D", "\\X1d")


def unescape_gs(text: str) -> str:
    for esc in GS_ESCAPES:
        text = text.replace(esc, "\x1d")
    return text


def interpret(text: str | None, epc: str | None) -> dict[str, Any]:
    """The decoded fields of a scan's text or a tag's EPC, or `{"error", "detail"}`."""
    if epc is not None:
        from edge.decoding.epc import decode_epc
        from edge.decoding.scan import DecodeError

        try:
            return decode_epc(epc)
        except DecodeError as exc:
            return {"error": exc.code, "detail": exc.detail}
    from edge.decoding.decoder import scan_to_json

    return scan_to_json(unescape_gs(text or ""))


@click.command()
@click.argument("text", required=False)
@click.option("--epc", metavar="HEX", help="an RFID tag's EPC (SGTIN-96, SGTIN-198, SSCC-96)")
@json_option
@click.pass_context
def command(ctx: click.Context, text: str | None, epc: str | None, as_json: bool) -> None:
    """Show what a barcode's TEXT (optionally with its AIM prefix, e.g. ]C1) or an RFID tag's
    EPC says, as the edge's decoder reads it.

    In TEXT the four characters \\x1d stand for the GS (FNC1) separator. An unusable scan exits
    with status 1 and says why (with --json, as {"error", "detail"} on stdout).
    """
    if (text is None) == (epc is None):
        raise click.UsageError("give either TEXT or --epc HEX")
    out = interpret(text, epc)
    if "error" in out and not as_json:
        fail(f"{out['error']}: {out['detail']}")
    emit(out, as_json)
    if "error" in out:
        ctx.exit(1)
