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


def interpret(
    text: str | None,
    epc: str | None,
    sku_pattern: str | None = None,
    rcn: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The decoded fields of a scan's text or a tag's EPC, or `{"error", "detail"}`."""
    if epc is not None:
        from edge.decoding.epc import decode_epc
        from edge.decoding.scan import DecodeError

        try:
            return decode_epc(epc)
        except DecodeError as exc:
            return {"error": exc.code, "detail": exc.detail}
    from edge.decoding.decoder import decode_options, scan_to_json

    try:
        options = decode_options(sku_pattern, rcn)
    except ValueError as exc:
        hint = "--rcn" if str(exc).startswith("RCN") else "--sku-pattern"
        raise click.BadParameter(str(exc), param_hint=hint) from None
    return scan_to_json(unescape_gs(text or ""), options)


def _readable(out: dict[str, Any]) -> dict[str, Any]:
    """Measures as "net_weight 1.250 kg (3103)" for the table a person reads."""
    if "measures" not in out:
        return out
    shown = "; ".join(
        f"{m['kind']} {m['value']} {m['unit']}".rstrip() + f" ({m['ai']})" for m in out["measures"]
    )
    return {**out, "measures": shown}


@click.command()
@click.argument("text", required=False)
@click.option("--epc", metavar="HEX", help="an RFID tag's EPC (SGTIN-96, SGTIN-198, SSCC-96)")
@click.option(
    "--sku-pattern",
    metavar="REGEX",
    help="which plain text is an SKU (the whole text must match), as the edge's --sku-pattern; "
    "default: letters, digits and - . _ / (see docs/scanning.md)",
)
@click.option(
    "--rcn",
    metavar="PREFIX=KIND[:LAYOUT[:DECIMALS[:UNIT]]]",
    multiple=True,
    help="how an in-store variable-measure number with this prefix (02, 20–29) reads, e.g. "
    "28=weight:PPPPPPCVVVVV:3:kg or 21=none; repeat for more prefixes",
)
@json_option
@click.pass_context
def command(
    ctx: click.Context,
    text: str | None,
    epc: str | None,
    sku_pattern: str | None,
    rcn: tuple[str, ...],
    as_json: bool,
) -> None:
    """Show what a barcode's TEXT (optionally with its AIM prefix, e.g. ]C1) or an RFID tag's
    EPC says, as the edge's decoder reads it.

    In TEXT the four characters \\x1d stand for the GS (FNC1) separator. An unusable scan exits
    with status 1 and says why (with --json, as {"error", "detail"} on stdout).
    """
    if (text is None) == (epc is None):
        raise click.UsageError("give either TEXT or --epc HEX")
    out = interpret(text, epc, sku_pattern, rcn)
    if "error" in out and not as_json:
        fail(f"{out['error']}: {out['detail']}")
    emit(out if as_json else _readable(out), as_json)
    if "error" in out:
        ctx.exit(1)
