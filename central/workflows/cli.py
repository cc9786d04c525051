"""`tallyman workflow …`: purchase orders, transfers, reservations, counts, settings, tasks.

Why through the HTTP API and not the ledger file: reservations and on-order quantities live in
the running central's engine, and every write must pass the same role checks and land in the
same audit trail as the dashboard's. Each command prints a table (or one line for an action);
`--json` prints the API's JSON for programs.

Why the choices below are written out here rather than imported from the state machines: those
modules pull in Flask and NumPy, and `tallyman workflow --help` must answer at once; a test
checks that both lists agree.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import IO, Any, TypeVar
from urllib.parse import urlencode

import click

from tallyman.console import (
    api_call,
    api_options,
    doc_id,
    emit,
    fail,
    json_option,
    keep_api,
    table,
)

F = TypeVar("F", bound=Callable[..., Any])

PO_STATUSES = (
    "draft",
    "pending_approval",
    "approved",
    "sent",
    "partially_received",
    "closed",
    "rejected",
    "cancelled",
    "expired",
)
TO_STATUSES = (
    "proposed",
    "approved",
    "picking",
    "in_transit",
    "receiving",
    "closed",
    "discrepancy",
    "rejected",
    "cancelled",
)
RESERVATION_STATUSES = ("active", "picking", "fulfilled", "cancelled", "expired")
COUNT_STATUSES = ("pending", "approved", "rejected", "applied", "superseded")
CHANNELS = ("store", "group_buy", "online", "dropship")
RESOLUTIONS = ("write_off", "found", "claim", "accept")
FULFIL_AS = ("sale", "pick", "handheld")
SEND_CHANNELS = ("webhook", "file")

LINE_FORMAT = "SKU:QTY"
PO_LINE_HELP = (
    "a line as SKU:QTY, e.g. A1:40 (repeat for more lines); "
    "it is delivered to --site, or to SITE for a line written SKU:QTY@SITE"
)
TRANSFER_LINE_HELP = (
    "a line as SKU:QTY, e.g. A1:4 (repeat for more lines); "
    "it goes from the --from site to the --to site"
)
OVERRIDE_REQUEST_HELP = (
    "propose it although a promotion freeze covers a line: only an approver who overrides "
    "the freeze (transfer approve --override-freeze) can then approve it"
)

PO_COLUMNS = ("number", "supplier", "status", "source", "total_value", "created_at")
TO_COLUMNS = ("number", "from_site", "to_site", "status", "source", "created_at")
RES_COLUMNS = ("id", "sku", "site", "channel", "qty", "picked", "status", "expires_at")
COUNT_COLUMNS = ("id", "site", "loc", "sku", "counted", "expected", "variance", "status", "ts")
TASK_COLUMNS = ("id", "kind", "ref", "created_at", "scan")


# --- shared pieces ---------------------------------------------------------------------------


def parse_line(
    spec: str, default_site: str | None = None, with_site: bool = True
) -> dict[str, Any]:
    """One document line from the command line: `SKU:QTY`, or `SKU:QTY@SITE` on a PO.

    One format for every document: a transfer's sites are the order's (--from, --to), a PO's
    the --site given once or the line's own @SITE."""
    head, at, site = spec.partition("@")
    parts = head.split(":")
    sku, qty = (parts[0].strip(), parts[1].strip()) if len(parts) == 2 else ("", "")
    if not sku or not qty.isdigit() or int(qty) <= 0:
        example = "A1:40@DC1" if with_site else "A1:40"
        if len(parts) == 3 and with_site:  # the old SKU:SITE:QTY
            example = f"{parts[0]}:{parts[2]}@{parts[1]}"
        fail(f"--line {spec!r}: write {LINE_FORMAT} with a whole quantity above 0 (e.g. {example})")
    line: dict[str, Any] = {"sku": sku, "qty": int(qty)}
    if not with_site:
        if at:
            fail(f"--line {spec!r}: a transfer's lines take their sites from --from and --to")
        return line
    line["site"] = site.strip() if at else default_site
    if not line["site"]:
        fail(f"--line {spec!r}: say where it goes with --site SITE or as SKU:QTY@SITE")
    return line


def read_json(fh: IO[str]) -> Any:
    try:
        return json.load(fh)
    except ValueError as exc:
        fail(f"{fh.name}: not valid JSON ({exc})")


#: How a document's rows read best (the API's JSON has its keys sorted); other keys follow.
ROW_COLUMNS = {
    "lines": ("line_no", "sku", "site", "qty", "received", "from_loc", "loc", "to_loc", "picked"),
    "allocations": ("loc", "qty"),
    "discrepancies": ("id", "sku", "kind", "qty", "status", "resolution"),
    "scans": ("movement_id", "ts", "type", "qty"),
    "sends": ("id", "channel", "status", "attempts", "target"),
}
HEAD_FIELDS = ("number", "id", "status")


def show(doc: Mapping[str, Any], as_json: bool) -> None:
    """A document: its fields as `key value` lines, then each list of rows (lines, scans,
    approvals…) as a table under its name."""
    if as_json:
        emit(doc, True)
        return
    head = {k: doc[k] for k in HEAD_FIELDS if k in doc}
    emit({**head, **{k: v for k, v in doc.items() if not _is_rows(v)}}, False)
    for key, value in doc.items():
        if _is_rows(value):
            click.echo(f"\n{key.upper()}")
            click.echo(table(value, _columns(value, ROW_COLUMNS.get(key, ()))))


def _columns(rows: list[dict[str, Any]], first: Sequence[str]) -> list[str]:
    keys = list(dict.fromkeys(k for r in rows for k in r))
    return [k for k in first if k in keys] + [k for k in keys if k not in first]


def _is_rows(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, dict) for v in value) and bool(value)


def done(doc: Mapping[str, Any], as_json: bool, what: str = "") -> None:
    """After an action: the document's number (or `what` and its id) and its state now."""
    if as_json:
        emit(doc, True)
        return
    name = doc.get("number") or f"{what}{doc.get('id')}"
    click.echo(f"{name}: {doc.get('status', 'done')}")


def listing(
    api: str | None,
    token: str | None,
    path: str,
    filters: Mapping[str, Any],
    as_json: bool,
    columns: Sequence[str],
) -> None:
    query = urlencode({k: v for k, v in filters.items() if v})
    got = api_call(api, token, "GET", path + (f"?{query}" if query else ""))
    emit(got["rows"], as_json, columns)


def note_option(f: F) -> F:
    return click.option("--note", metavar="TEXT", help="a note kept in the audit trail")(f)


def override_freeze_option(help_: str) -> Callable[[F], F]:
    return click.option("--override-freeze", is_flag=True, help=help_)


def _choice(values: Iterable[str]) -> click.Choice[str]:
    return click.Choice(tuple(values))


@click.group("workflow")
@api_options
@click.pass_context
def command(ctx: click.Context, api: str | None, token: str | None) -> None:
    """Purchase orders, transfers, reservations, counts, settings and tasks, through the API of
    a running central (`--api`, `--token` here or on each command)."""
    keep_api(ctx, api, token)


# --- purchase orders -------------------------------------------------------------------------


@command.group("po")
def po() -> None:
    """Purchase orders: create, approve, send, close.

    A PO number is accepted as written on the order (PO-000001), short (PO-1) or as its id (1).
    """


@po.command("list")
@click.option("--status", type=_choice(PO_STATUSES), help="only POs in this state")
@click.option("--supplier", metavar="SUPPLIER", help="only this supplier's POs")
@click.option("--source", type=click.Choice(("manual", "proposal")), help="how they were made")
@api_options
@json_option
def po_list(
    status: str | None,
    supplier: str | None,
    source: str | None,
    api: str | None,
    token: str | None,
    as_json: bool,
) -> None:
    """List purchase orders, newest first."""
    filters = {"status": status, "supplier": supplier, "source": source}
    listing(api, token, "/purchase-orders", filters, as_json, PO_COLUMNS)


@po.command("show")
@click.argument("ref", metavar="PO")
@api_options
@json_option
def po_show(ref: str, api: str | None, token: str | None, as_json: bool) -> None:
    """One PO with its lines, approvals, sends and receipts."""
    show(api_call(api, token, "GET", f"/purchase-orders/{doc_id(ref, 'PO')}"), as_json)


def _po_action(action: str, help_: str, roles: str) -> None:
    @po.command(action, help=f"{help_} (role: {roles}).")
    @click.argument("ref", metavar="PO")
    @note_option
    @api_options
    @json_option
    def run(ref: str, note: str | None, api: str | None, token: str | None, as_json: bool) -> None:
        body = {"note": note} if note else {}
        path = f"/purchase-orders/{doc_id(ref, 'PO')}/{action}"
        done(api_call(api, token, "POST", path, body), as_json)


_po_action("submit", "Submit a draft PO for approval", "planner")
_po_action("approve", "Approve a PO waiting for approval", "approver")
_po_action("reject", "Reject a PO waiting for approval", "approver")
_po_action("cancel", "Cancel a PO that is not received yet", "planner")
_po_action("close", "Close a sent or partly received PO", "planner")


@po.command("send")
@click.argument("ref", metavar="PO")
@click.option(
    "--channel",
    type=_choice(SEND_CHANNELS),
    help="webhook: to the supplier's webhook; file: a document in the supplier outbox folder "
    "(default: the webhook if the supplier has one, else file)",
)
@note_option
@api_options
@json_option
def po_send(
    ref: str,
    channel: str | None,
    note: str | None,
    api: str | None,
    token: str | None,
    as_json: bool,
) -> None:
    """Send an approved PO to its supplier (role: planner)."""
    body: dict[str, Any] = {"note": note} if note else {}
    if channel:
        body["channel"] = channel
    done(api_call(api, token, "POST", f"/purchase-orders/{doc_id(ref, 'PO')}/send", body), as_json)


@po.command("create")
@click.option("--supplier", required=True, metavar="SUPPLIER", help="the supplier's code")
@click.option("--site", metavar="SITE", help="where the lines are delivered, e.g. DC1")
@click.option("--line", "lines", multiple=True, required=True, metavar="SKU:QTY", help=PO_LINE_HELP)
@click.option("--submit", is_flag=True, help="submit it for approval at once")
@api_options
@json_option
def po_create(
    supplier: str,
    site: str | None,
    lines: tuple[str, ...],
    submit: bool,
    api: str | None,
    token: str | None,
    as_json: bool,
) -> None:
    """Create a draft PO by hand (role: planner).

    \b
    e.g. tallyman workflow po create --supplier S1 --site DC1 --line A1:40 --line B2:12
    """
    body = {"supplier": supplier, "lines": [parse_line(s, site) for s in lines], "submit": submit}
    show(api_call(api, token, "POST", "/purchase-orders", body), as_json)


@po.command("from-proposal")
@click.argument("file", type=click.File("r"))
@click.option("--submit", is_flag=True, help="submit it for approval at once")
@api_options
@json_option
def po_from_proposal(
    file: IO[str], submit: bool, api: str | None, token: str | None, as_json: bool
) -> None:
    """Create a PO from one of planning's proposals (role: planner).

    FILE is one proposal as JSON (an entry of `tallyman plan proposals --json`: key, supplier,
    lines of sku/site/qty), or - for standard input. The same proposal twice makes one PO.
    """
    data = read_json(file)
    if isinstance(data, dict) and "supplier" not in data and "proposals" in data:
        if len(data["proposals"]) != 1:  # the whole `plan proposals --json` output
            fail(f"{file.name} holds {len(data['proposals'])} proposals; save one of them")
        data = data["proposals"][0]
    if not isinstance(data, dict):
        fail(f"{file.name}: expected one proposal, a JSON object with supplier and lines")
    show(
        api_call(api, token, "POST", "/purchase-orders/from-proposal", {**data, "submit": submit}),
        as_json,
    )


# --- transfers -------------------------------------------------------------------------------


@command.group("transfer")
def transfer() -> None:
    """Transfers between sites: propose, approve, ship, receive.

    A transfer number is accepted as written (TO-000001), short (TO-1) or as its id (1).
    """


@transfer.command("list")
@click.option("--status", type=_choice(TO_STATUSES), help="only transfers in this state")
@click.option("--from", "from_site", metavar="SITE", help="only transfers from this site")
@click.option("--to", "to_site", metavar="SITE", help="only transfers to this site")
@api_options
@json_option
def to_list(
    status: str | None,
    from_site: str | None,
    to_site: str | None,
    api: str | None,
    token: str | None,
    as_json: bool,
) -> None:
    """List transfer orders, newest first."""
    filters = {"status": status, "from_site": from_site, "to_site": to_site}
    listing(api, token, "/transfers", filters, as_json, TO_COLUMNS)


@transfer.command("show")
@click.argument("ref", metavar="TO")
@api_options
@json_option
def to_show(ref: str, api: str | None, token: str | None, as_json: bool) -> None:
    """One transfer with its lines, scans and discrepancies."""
    show(api_call(api, token, "GET", f"/transfers/{doc_id(ref, 'TO')}"), as_json)


def _to_action(action: str, help_: str, roles: str) -> None:
    @transfer.command(action, help=f"{help_} (role: {roles}).")
    @click.argument("ref", metavar="TO")
    @note_option
    @api_options
    @json_option
    def run(ref: str, note: str | None, api: str | None, token: str | None, as_json: bool) -> None:
        body = {"note": note} if note else {}
        path = f"/transfers/{doc_id(ref, 'TO')}/{action}"
        done(api_call(api, token, "POST", path, body), as_json)


@transfer.command("approve")
@click.argument("ref", metavar="TO")
@note_option
@override_freeze_option(
    "approve although a promotion freeze covers a line (audited with the note: say why)"
)
@api_options
@json_option
def to_approve(
    ref: str,
    note: str | None,
    override_freeze: bool,
    api: str | None,
    token: str | None,
    as_json: bool,
) -> None:
    """Approve a proposed transfer: the source site gets a pick task (role: approver)."""
    body: dict[str, Any] = {"note": note} if note else {}
    if override_freeze:
        body["override_freeze"] = True
    path = f"/transfers/{doc_id(ref, 'TO')}/approve"
    done(api_call(api, token, "POST", path, body), as_json)


_to_action("reject", "Reject a proposed transfer", "approver")
_to_action("cancel", "Cancel a transfer that has not been picked", "planner")
_to_action("dispatch", "Ship what has been picked so far", "staff or planner")
_to_action(
    "complete", "End the receipt early; what is short becomes discrepancies", "staff or planner"
)


@transfer.command("create")
@click.option("--from", "from_site", required=True, metavar="SITE", help="the site that sends")
@click.option("--to", "to_site", required=True, metavar="SITE", help="the site that receives")
@click.option(
    "--line", "lines", multiple=True, required=True, metavar="SKU:QTY", help=TRANSFER_LINE_HELP
)
@override_freeze_option(OVERRIDE_REQUEST_HELP)
@api_options
@json_option
def to_create(
    from_site: str,
    to_site: str,
    lines: tuple[str, ...],
    override_freeze: bool,
    api: str | None,
    token: str | None,
    as_json: bool,
) -> None:
    """Propose a transfer order (role: planner).

    \b
    e.g. tallyman workflow transfer create --from DC1 --to STORE1 --line A1:4
    """
    body: dict[str, Any] = {
        "from_site": from_site,
        "to_site": to_site,
        "lines": [parse_line(s, with_site=False) for s in lines],
    }
    if override_freeze:
        body["override_freeze"] = True
    show(api_call(api, token, "POST", "/transfers", body), as_json)


@transfer.command("from-suggestions")
@click.argument("file", type=click.File("r"))
@override_freeze_option(OVERRIDE_REQUEST_HELP)
@api_options
@json_option
def to_from_suggestions(
    file: IO[str], override_freeze: bool, api: str | None, token: str | None, as_json: bool
) -> None:
    """Propose transfers from planning's suggestions, one per lane (role: planner).

    FILE is the JSON list `tallyman plan suggestions --json` prints (sku, from_site, to_site,
    qty), or - for standard input.
    """
    data = read_json(file)
    if isinstance(data, dict) and "rows" in data:
        data = data["rows"]
    body: dict[str, Any] = {"suggestions": data}
    if override_freeze:
        body["override_freeze"] = True
    got = api_call(api, token, "POST", "/transfers/from-suggestions", body)
    if as_json:
        emit(got, True)
        return
    emit(got["rows"], False, TO_COLUMNS)
    click.echo(f"{got['created']} created")


@transfer.command("resolve")
@click.argument("ref", metavar="TO")
@click.argument("discrepancy", type=int)
@click.option(
    "--resolution",
    required=True,
    type=_choice(RESOLUTIONS),
    help="a short leaves nothing in transit: found brings the units in at the destination; "
    "write_off, claim or accept book them as lost (scrap at the destination); over and "
    "damaged change no stock (say why with --note)",
)
@note_option
@api_options
@json_option
def to_resolve(
    ref: str,
    discrepancy: int,
    resolution: str,
    note: str | None,
    api: str | None,
    token: str | None,
    as_json: bool,
) -> None:
    """Resolve discrepancy DISCREPANCY (its id in `transfer show`) of a transfer (role: planner
    or approver)."""
    body = {"resolution": resolution, "note": note}
    path = f"/transfers/{doc_id(ref, 'TO')}/discrepancies/{discrepancy}/resolve"
    done(api_call(api, token, "POST", path, body), as_json)


# --- reservations ----------------------------------------------------------------------------


@command.group("reservation")
def reservation() -> None:
    """Reservations for a sales channel (never oversold).

    A reservation is accepted as RES-7 or 7.
    """


@reservation.command("list")
@click.option(
    "--status", type=_choice(RESERVATION_STATUSES), help="only reservations in this state"
)
@click.option("--site", metavar="SITE", help="only this site's reservations")
@click.option("--sku", metavar="SKU", help="only this SKU's reservations")
@click.option("--channel", type=_choice(CHANNELS), help="only this channel's reservations")
@api_options
@json_option
def res_list(
    status: str | None,
    site: str | None,
    sku: str | None,
    channel: str | None,
    api: str | None,
    token: str | None,
    as_json: bool,
) -> None:
    """List reservations, newest first."""
    filters = {"status": status, "site": site, "sku": sku, "channel": channel}
    listing(api, token, "/reservations", filters, as_json, RES_COLUMNS)


@reservation.command("show")
@click.argument("ref", metavar="RES")
@api_options
@json_option
def res_show(ref: str, api: str | None, token: str | None, as_json: bool) -> None:
    """One reservation with its bin allocations."""
    show(api_call(api, token, "GET", f"/reservations/{doc_id(ref, 'RES')}"), as_json)


@reservation.command("create")
@click.option("--sku", required=True, metavar="SKU", help="what to reserve")
@click.option("--site", required=True, metavar="SITE", help="where it is reserved, e.g. STORE1")
@click.option("--qty", required=True, type=click.IntRange(min=1), help="how many units")
@click.option("--channel", required=True, type=_choice(CHANNELS), help="the sales channel")
@click.option(
    "--ttl",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="expire after this many seconds (default: reservation_ttl_s of the workflow settings)",
)
@api_options
@json_option
def res_create(
    sku: str,
    site: str,
    qty: int,
    channel: str,
    ttl: float | None,
    api: str | None,
    token: str | None,
    as_json: bool,
) -> None:
    """Reserve stock (role: staff or planner); refused when the site's available is short."""
    body: dict[str, Any] = {"sku": sku, "site": site, "qty": qty, "channel": channel}
    if ttl:
        body["ttl_s"] = ttl
    show(api_call(api, token, "POST", "/reservations", body), as_json)


@reservation.command("fulfil")
@click.argument("ref", metavar="RES")
@click.option(
    "--as",
    "how",
    default="sale",
    show_default=True,
    type=_choice(FULFIL_AS),
    help="sale or pick: central records the movement; handheld: a pick task for the site",
)
@api_options
@json_option
def res_fulfil(ref: str, how: str, api: str | None, token: str | None, as_json: bool) -> None:
    """Fulfil a reservation (role: staff or planner)."""
    path = f"/reservations/{doc_id(ref, 'RES')}/fulfil"
    done(api_call(api, token, "POST", path, {"as": how}), as_json, "RES-")


@reservation.command("cancel")
@click.argument("ref", metavar="RES")
@api_options
@json_option
def res_cancel(ref: str, api: str | None, token: str | None, as_json: bool) -> None:
    """Cancel a reservation: its stock is available again (role: staff or planner)."""
    path = f"/reservations/{doc_id(ref, 'RES')}/cancel"
    done(api_call(api, token, "POST", path, {}), as_json, "RES-")


# --- counts ----------------------------------------------------------------------------------


@command.group("count")
def count() -> None:
    """Counts held for an approver (a large variance)."""


@count.command("list")
@click.option(
    "--status",
    default="pending",
    show_default=True,
    type=_choice((*COUNT_STATUSES, "all")),
    help="only counts in this state (pending: waiting for an approver)",
)
@api_options
@json_option
def count_list(status: str, api: str | None, token: str | None, as_json: bool) -> None:
    """List counts, newest first."""
    filters = {"status": None if status == "all" else status}
    listing(api, token, "/counts", filters, as_json, COUNT_COLUMNS)


@count.command("show")
@click.argument("record", type=int)
@api_options
@json_option
def count_show(record: int, api: str | None, token: str | None, as_json: bool) -> None:
    """One count: what was counted, what was expected, who decided."""
    show(api_call(api, token, "GET", f"/counts/{record}"), as_json)


def _count_action(action: str, help_: str) -> None:
    @count.command(action, help=f"{help_} (role: approver).")
    @click.argument("record", type=int)
    @note_option
    @api_options
    @json_option
    def run(
        record: int, note: str | None, api: str | None, token: str | None, as_json: bool
    ) -> None:
        body = {"note": note} if note else {}
        done(api_call(api, token, "POST", f"/counts/{record}/{action}", body), as_json, "count ")


_count_action("approve", "Apply held count RECORD as of its scan time")
_count_action("reject", "Drop held count RECORD (the operator recounts)")


# --- settings and tasks ----------------------------------------------------------------------


@command.group("settings")
def settings() -> None:
    """Approval tiers, tolerances, TTLs, routing."""


@settings.command("show")
@api_options
@json_option
def settings_show(api: str | None, token: str | None, as_json: bool) -> None:
    """Show the workflow settings."""
    emit(api_call(api, token, "GET", "/workflow-settings"), as_json)


@settings.command("set")
@click.argument("pairs", nargs=-1, required=True, metavar="KEY=VALUE...")
@api_options
@json_option
def settings_set(pairs: tuple[str, ...], api: str | None, token: str | None, as_json: bool) -> None:
    """Change workflow settings (role: admin).

    VALUE is read as JSON when it is JSON (5, false, [1, 2], {"a": 1}), else as text.

    \b
    e.g. tallyman workflow settings set count_hold_units=10 po_auto_send=false
    """
    changes: dict[str, Any] = {}
    for pair in pairs:
        key, eq, value = pair.partition("=")
        if not eq or not key:
            fail(f"{pair!r}: write KEY=VALUE, e.g. count_hold_units=10")
        try:
            changes[key] = json.loads(value)
        except ValueError:
            changes[key] = value
    emit(api_call(api, token, "PUT", "/workflow-settings", changes), as_json)


@command.command("tasks")
@click.option("--site", required=True, metavar="SITE", help="the site whose handhelds do them")
@api_options
@json_option
def tasks(site: str, api: str | None, token: str | None, as_json: bool) -> None:
    """Open handheld tasks of a site, with what to scan."""
    got = api_call(api, token, "GET", f"/tasks?{urlencode({'site': site})}")
    emit(got["tasks"], as_json, TASK_COLUMNS)
