"""What every `tallyman` command shares: option names, tables or JSON, errors, the API's address.

Why here, at the ground: each part (edge, central, the simulator) defines its own click commands
beside its code, like sqlite-utils puts a thin CLI over its library; they all say `--db`,
`--broker`, `--http`, `--site`, `--json`, `--api` and `--token` the same way because they take
them from here. Imports nothing of Tallyman but the ground, and nothing heavy: `tallyman --help`
must answer in well under 150 ms.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NoReturn, TypeVar

import click

from tallyman.net import DEFAULT_BROKER

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_API = "http://127.0.0.1:8080"


class UserError(click.ClickException):
    """A mistake the user can fix; printed as one line, `tallyman: ...`, exit status 1."""

    def format_message(self) -> str:
        return self.message


def fail(message: str) -> NoReturn:
    raise UserError(message)


# --- options named once ----------------------------------------------------------------------

db_option = click.option(
    "--db",
    required=True,
    metavar="PATH",
    help="central's ledger: an SQLite file (created if missing)",
)
broker_option = click.option(
    "--broker",
    default=DEFAULT_BROKER,
    show_default=True,
    metavar="URL",
    help="MQTT broker, mqtt://[USER:PASSWORD@]HOST[:PORT]",
)
site_option = click.option("--site", metavar="SITE", help="site code, e.g. DC1 or STORE1")
json_option = click.option(
    "--json", "as_json", is_flag=True, help="print JSON for programs instead of a table"
)


def api_base(url: str) -> str:
    """The API's base (`http://host:port/api`) from a URL given with or without `/api`."""
    url = url.rstrip("/")
    return url if url.endswith("/api") else f"{url}/api"


def api_options(f: F) -> F:
    """`--api` and `--token`, also taken from $TALLYMAN_API and $TALLYMAN_TOKEN, or from the
    same options given before the subcommand (`tallyman --token T workflow po list`)."""
    f = click.option(
        "--token",
        envvar="TALLYMAN_TOKEN",
        metavar="TOKEN",
        help="API bearer token (default: $TALLYMAN_TOKEN); create one with `tallyman token create`",
    )(f)
    f = click.option(
        "--api",
        envvar="TALLYMAN_API",
        metavar="URL",
        help=f"central's address, with or without /api (default: $TALLYMAN_API or {DEFAULT_API})",
    )(f)
    return f


def resolve_api(api: str | None, token: str | None) -> tuple[str, str | None]:
    """The API base and token: the command's own options, else the ones given to `tallyman`
    (or to a group, see `keep_api`); a value typed anywhere beats the environment's."""
    ctx = click.get_current_context()
    root = ctx.find_root().obj or {}
    typed_api, typed_token = (_typed(ctx, "api", api), _typed(ctx, "token", token))
    api = typed_api or root.get("api") or api or DEFAULT_API
    return api_base(api), typed_token or root.get("token") or token


def _typed(ctx: click.Context, name: str, value: str | None) -> str | None:
    from click.core import ParameterSource

    return None if ctx.get_parameter_source(name) is ParameterSource.ENVIRONMENT else value


def keep_api(ctx: click.Context, api: str | None, token: str | None) -> None:
    """For a group that takes `api_options` before its subcommand (`tallyman workflow --token T
    po list`): hand what was typed there (not the environment's) to its subcommands."""
    from click.core import ParameterSource

    root = ctx.find_root()
    root.obj = dict(root.obj or {})
    for key, value in (("api", api), ("token", token)):
        if value and ctx.get_parameter_source(key) is ParameterSource.COMMANDLINE:
            root.obj[key] = value


def api_call(api: str | None, token: str | None, method: str, path: str, body: Any = None) -> Any:
    """Call central's API and return its JSON; any failure becomes a line a person can act on."""
    from tallyman import http_client

    base, tok = resolve_api(api, token)
    # longer than central's own waits (a dead-letter retry waits up to 30 s for its group)
    r = http_client.request(method, base + path, json_body=body, token=tok, timeout=60)
    if r.status is None:
        fail(f"{r.error} (is central running? set --api or $TALLYMAN_API)")
    if r.ok:
        return r.json()
    try:
        err = r.json() or {}
    except ValueError:
        err = {}
    detail = err.get("detail") or err.get("error") if isinstance(err, dict) else None
    if r.status == 401:
        fail(
            "central refused the token: pass --token or set $TALLYMAN_TOKEN "
            "(create one with `tallyman token create --role ROLE --db LEDGER`)"
        )
    if r.status == 403:
        fail(f"not allowed with this token's role: {detail or 'forbidden'}")
    if r.status == 404:
        fail(f"not found: {detail or path}")
    fail(f"{detail or r.detail}")


# --- document numbers ------------------------------------------------------------------------

_DOC = re.compile(r"^\s*(?:([A-Za-z]+)-?)?0*(\d+)\s*$")


def doc_id(text: str, prefix: str) -> int:
    """A document's id from how a person writes it: `PO-1`, `po-000001`, `PO1` or `1`."""
    m = _DOC.match(text)
    if not m or (m.group(1) and m.group(1).upper() != prefix.upper()) or int(m.group(2)) < 1:
        fail(f"{text!r} is not a {prefix} number (e.g. {prefix}-1 or {prefix}-000001)")
    return int(m.group(2))


# --- output ----------------------------------------------------------------------------------


def emit(data: Any, as_json: bool, columns: Sequence[str] | None = None) -> None:
    """Print `data` as JSON (for programs) or as a table / key-value lines (for people)."""
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str))
        return
    if isinstance(data, Mapping):
        width = max((len(str(k)) for k in data), default=0)
        for k, v in data.items():
            click.echo(f"{k:<{width}}  {_cell(v)}")
        return
    rows = list(data or [])
    if not rows:
        click.echo("(none)")
        return
    click.echo(table(rows, columns))


def table(rows: Iterable[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    rows = list(rows)
    cols = list(columns or rows[0].keys())
    cells = [[_cell(r.get(c)) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    lines = ["  ".join(c.upper().ljust(w) for c, w in zip(cols, widths, strict=True)).rstrip()]
    for row in cells:
        lines.append("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


def _cell(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, list | dict):
        return json.dumps(v, default=str)
    return str(v)
