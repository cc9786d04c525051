"""`tallyman ledger dead-letters list|retry`: the events the ledger refused, and their retry.

Why a dead letter is retried through central's API and not written here: the retry must run the
same validation and land through the same ingest as a handheld's event (exactly once, in order,
with its ack), which only the running central can do. Most refusals are fixed by adding master
data (`tallyman import items|locations`), then retrying.
"""

from __future__ import annotations

from urllib.parse import urlencode

import click

from tallyman import wire
from tallyman.console import UserError, api_call, api_options, emit, fail, json_option, keep_api

DEAD_LETTER_STATUSES = ("open", "resolved", "all")
DEAD_LETTER_COLUMNS = ("id", "received_at", "device", "seq", "code", "detail", "attempts")


@click.group("ledger")
@api_options
@click.pass_context
def command(ctx: click.Context, api: str | None, token: str | None) -> None:
    """The ledger of a running central: events it refused (dead letters) and their retry.

    `--api` and `--token` may be given here or on each command.
    """
    keep_api(ctx, api, token)


@command.group("dead-letters")
def dead_letters() -> None:
    """Events central refused, kept to be retried.

    Most are an unknown GTIN, SKU or location: import it, then retry.
    """


@dead_letters.command("list")
@click.option(
    "--status",
    type=click.Choice(DEAD_LETTER_STATUSES),
    default="open",
    show_default=True,
    help="open: still refused; resolved: retried into the ledger; all",
)
@click.option("--device", metavar="DEVICE", help="only this device's events")
@click.option("--code", type=click.Choice(sorted(wire.REASONS)), help="only this reason")
@click.option(
    "--limit",
    type=click.IntRange(1, 100_000),
    default=1000,
    show_default=True,
    help="at most this many, oldest first",
)
@api_options
@json_option
def list_(
    status: str,
    device: str | None,
    code: str | None,
    limit: int,
    api: str | None,
    token: str | None,
    as_json: bool,
) -> None:
    """List dead letters, with what to do about each reason."""
    query = {"status": status, "device": device, "code": code, "limit": limit}
    query_text = urlencode({k: v for k, v in query.items() if v is not None})
    rows = api_call(api, token, "GET", f"/dead-letters?{query_text}")["rows"]
    emit(rows, as_json, DEAD_LETTER_COLUMNS)
    if as_json or not rows:
        return
    codes = sorted({r["code"] for r in rows if r["code"] in wire.REASONS})
    if codes:
        click.echo("")
        for c in codes:
            click.echo(f"{c}: {wire.REASONS[c]}")
    if status != "resolved":
        click.echo("\nonce fixed: tallyman ledger dead-letters retry ID...")


@dead_letters.command("retry")
@click.argument("ids", metavar="ID...", nargs=-1, required=True, type=int)
@api_options
@json_option
def retry(ids: tuple[int, ...], api: str | None, token: str | None, as_json: bool) -> None:
    """Run dead letters through validation again (role: planner).

    Each one that now passes enters the ledger as its device sent it; the others stay open
    with their new reason.
    """
    results, failed = [], 0
    for dl_id in ids:
        try:
            got = api_call(api, token, "POST", f"/dead-letters/{dl_id}/retry", {})
        except UserError as exc:
            failed += 1
            got = {"id": dl_id, "status": "open", "error": exc.message}
            if not as_json:
                click.echo(f"{dl_id}: {exc.message}", err=True)
        else:
            if not as_json:
                click.echo(f"{dl_id}: {got.get('detail') or got['status']}")
        results.append(got)
    if as_json:
        emit(results, True)
    if failed:
        fail(f"{failed} of {len(ids)} dead letter(s) not retried")
