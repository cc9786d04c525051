"""`tallyman` console script: a thin dispatcher onto each part's own `main(argv)`.

Why lazy imports: `tallyman decode` or `tallyman scanner` must start in milliseconds and must not
pay for Numba, Flask or matplotlib; each subcommand imports only its own module.
"""

from __future__ import annotations

import importlib
import sys

COMMANDS: dict[str, tuple[str, str]] = {
    "up": ("tallyman.up", "the whole stack locally: broker, central, an edge with a stub scanner"),
    "central": ("central.lifecycle", "ingest, ledger, stock engine, API and dashboard"),
    "edge": ("edge.main", "one device's edge service: serial reader, outbox, publisher"),
    "scanner": ("firmware_stubs.cli", "a stub barcode scanner or RFID reader on a new pty"),
    "import": ("central.stock.importer", "import items, locations or opening stock from CSV"),
    "decode": ("edge.decoding.cli", "interpret a barcode or EPC and print it as JSON"),
    "device": ("central.access.devices", "broker credentials and ACL for one handheld"),
    "token": ("central.access.tokens", "create API tokens"),
    "workflow": ("central.workflows.cli", "purchase orders, transfers, reservations, counts"),
    "sim": ("simulator.cli", "run a digital-twin scenario"),
    "plan": ("central.planning.cli", "one full planning pass over a ledger, offline"),
}


def usage() -> str:
    lines = ["usage: tallyman COMMAND [ARGS]", "", "commands:"]
    lines += [f"  {name:<9} {help_}" for name, (_, help_) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage())
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"tallyman: unknown command {name!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[name][0])
    try:
        return int(module.main(rest) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
