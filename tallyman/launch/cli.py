"""The `tallyman` command: one click group whose subcommands load only when they are run.

Why lazy: `tallyman decode` and `tallyman --help` must answer in milliseconds and must not pay
for Numba, Flask, SciPy or matplotlib. Each part keeps its click command beside its own code
(`central/lifecycle.py`, `edge/main.py`, `simulator/cli.py`, ...); this group knows them only by
name, so the help listing below never imports them.
"""

from __future__ import annotations

import importlib
import os
import sys

import click

from tallyman.config import ConfigError
from tallyman.console import DEFAULT_API

#: name → ("module:attribute" of a click command, one-line help shown by `tallyman --help`)
COMMANDS: dict[str, tuple[str, str]] = {
    "up": ("tallyman.launch.up:command", "run the whole stack locally: broker, central, an edge"),
    "central": ("central.lifecycle:command", "run central: ingest, ledger, API and dashboard"),
    "edge": ("edge.main:command", "run one device's edge: serial reader, outbox, publisher"),
    "scanner": ("firmware_stubs.cli:command", "a stub barcode scanner or RFID reader on a pty"),
    "import": ("central.stock.importer:command", "import items, locations or stock from CSV"),
    "decode": ("edge.decoding.cli:command", "show what a barcode or an EPC says"),
    "device": ("central.access.devices:command", "broker logins and topic rights of devices"),
    "token": ("central.access.tokens:command", "API tokens for people and programs"),
    "workflow": (
        "central.workflows.cli:command",
        "purchase orders, transfers, reservations, counts",
    ),
    "plan": (
        "central.planning.cli:command",
        "planning: a pass offline; alerts, proposals, transfer suggestions",
    ),
    "ledger": ("central.stock.cli:command", "events central refused (dead letters) and retry"),
    "sim": ("simulator.cli:command", "run a digital-twin scenario (SimPy, Monte Carlo)"),
}


class LazyGroup(click.Group):
    """A group that imports a subcommand's module only when that subcommand runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in COMMANDS:
            module, _, attr = COMMANDS[name][0].partition(":")
            cmd = getattr(importlib.import_module(module), attr)
            if not isinstance(cmd, click.Command):
                raise TypeError(f"{COMMANDS[name][0]} is not a click command")
            return cmd
        return super().get_command(ctx, name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx) if name in COMMANDS]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(
    None, "--version", package_name="tallyman", prog_name="tallyman", message="%(prog)s %(version)s"
)
@click.option(
    "--api",
    envvar="TALLYMAN_API",
    metavar="URL",
    help=f"central's address for commands that call it (default: $TALLYMAN_API or {DEFAULT_API})",
)
@click.option(
    "--token",
    envvar="TALLYMAN_TOKEN",
    metavar="TOKEN",
    help="API bearer token for commands that call central (default: $TALLYMAN_TOKEN)",
)
@click.pass_context
def cli(ctx: click.Context, api: str | None, token: str | None) -> None:
    """Tallyman: real-time stock for warehouses and stores.

    Scan at the edge, an exactly-once ledger at central, planning, and a digital twin.
    `tallyman COMMAND --help` tells more about each command.
    """
    ctx.obj = {"api": api, "token": token}


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; errors print one line (no traceback) and give a non-zero status."""
    args = sys.argv[1:] if argv is None else argv
    try:
        rv = cli.main(args=args, prog_name="tallyman", standalone_mode=False)
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.ClickException as e:
        click.echo(f"tallyman: {e.format_message()}", err=True)
        if isinstance(e, click.UsageError) and e.ctx is not None:
            click.echo(f"(see `{e.ctx.command_path} --help`)", err=True)
        return e.exit_code
    except click.Abort:
        click.echo("tallyman: aborted", err=True)
        return 130
    except KeyboardInterrupt:
        return 130
    except (ConfigError, FileNotFoundError, PermissionError, IsADirectoryError) as e:
        click.echo(f"tallyman: {e}", err=True)
        return 1
    except Exception as e:  # noqa: BLE001 - a person sees one line; TALLYMAN_DEBUG=1 for more
        if os.environ.get("TALLYMAN_DEBUG"):
            raise
        click.echo(f"tallyman: internal error: {type(e).__name__}: {e}", err=True)
        click.echo("(run again with TALLYMAN_DEBUG=1 to see where)", err=True)
        return 1
    return int(rv or 0) if isinstance(rv, int) else 0


if __name__ == "__main__":
    sys.exit(main())
