"""`tallyman import items|locations|stock FILE.csv --db PATH`: master data and opening stock.

Why opening stock goes into the ledger as `count` movements of the pseudo-device `import`: the
ledger stays the only source of stock, a running central picks the rows up on its next group
commit (it tails rows it did not write), and a rebuild reproduces them like any other count.
"""

from __future__ import annotations

import csv
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from central.stock import ledger
from tallyman import wire
from tallyman.console import db_option, emit, fail, json_option

if TYPE_CHECKING:
    import sqlite_utils  # imported where used: it loads pandas, which `--help` must not

IMPORT_DEVICE = "import"


class ImportError_(ValueError):
    """A CSV row that cannot be imported; the message names the line."""


def normalise_gtin(raw: str) -> str:
    """GTIN-8/12/13/14 → 14 digits, check digit verified."""
    digits = raw.strip()
    if not digits.isdigit() or len(digits) not in (8, 12, 13, 14):
        raise ValueError(f"GTIN {raw!r} must be 8, 12, 13 or 14 digits")
    g = digits.zfill(14)
    if not wire.valid_gtin14(g):
        expected = wire.gs1_check_digit(g[:-1])
        raise ValueError(f"GTIN {raw} has a wrong check digit (expected {expected})")
    return g


def _rows(path: Path, required: set[str]) -> list[tuple[int, dict[str, str]]]:
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        missing = required - set(reader.fieldnames or [])
        if missing:
            raise ImportError_(f"{path}: missing columns {', '.join(sorted(missing))}")
        return [(i + 2, row) for i, row in enumerate(reader)]


def _num(row: dict[str, str], key: str, cast: Callable[[str], float] = float) -> float | None:
    val = (row.get(key) or "").strip()
    return cast(val) if val else None


def import_items(db: sqlite_utils.Database, path: Path) -> int:
    records = []
    for line, row in _rows(path, {"sku", "gtin", "name"}):
        try:
            sku = row["sku"].strip()
            if not sku or len(sku) > 64:
                raise ValueError("sku must be 1-64 characters")
            records.append(
                {
                    "sku": sku,
                    "gtin": normalise_gtin(row["gtin"]) if row["gtin"].strip() else None,
                    "name": row["name"].strip(),
                    "category": (row.get("category") or "").strip() or None,
                    "unit_cost": _num(row, "unit_cost"),
                    "price": _num(row, "price"),
                    "supplier": (row.get("supplier") or "").strip() or None,
                    "lead_time_days": _num(row, "lead_time_days"),
                    "pack_size": _num(row, "pack_size", int),
                    "moq": _num(row, "moq", int),
                }
            )
        except ValueError as exc:
            raise ImportError_(f"{path}:{line}: {exc}") from None
    db.table("items").upsert_all(records, pk="sku", alter=False)
    return len(records)


def _ensure_locations(db: sqlite_utils.Database, locs: dict[str, str | None]) -> None:
    with db.conn:
        for loc, kind in locs.items():
            db.conn.execute(
                "INSERT INTO locations (loc, site, kind) VALUES (?, ?, ?) "
                "ON CONFLICT(loc) DO UPDATE SET kind = coalesce(excluded.kind, kind)",
                (loc, wire.site_of(loc), kind),
            )


def import_locations_from(db: sqlite_utils.Database, locs: list[str]) -> int:
    """Register locations given as `SITE/BIN` strings (used by the demo and tests)."""
    bad = [loc for loc in locs if not wire.valid_loc(loc)]
    if bad:
        raise ImportError_(f"locations must be SITE/BIN: {', '.join(bad)}")
    _ensure_locations(db, dict.fromkeys(locs))
    return len(locs)


def import_locations(db: sqlite_utils.Database, path: Path) -> int:
    locs: dict[str, str | None] = {}
    for line, row in _rows(path, {"loc"}):
        loc = row["loc"].strip()
        if not wire.valid_loc(loc):
            raise ImportError_(f"{path}:{line}: location {loc!r} must be SITE/BIN")
        locs[loc] = (row.get("kind") or "").strip() or None
    _ensure_locations(db, locs)
    return len(locs)


def import_stock(db: sqlite_utils.Database, path: Path, create_locations: bool = False) -> int:
    """Opening stock as counts. Every SKU must be in the item master and, unless
    `create_locations`, every location already imported: a typo (`DC9/X`) would otherwise
    become a site that planning, the dashboard and the twin all show."""
    conn: sqlite3.Connection = db.conn
    rows = _rows(path, {"sku", "loc", "qty"})
    items = dict(conn.execute("SELECT sku, id FROM items"))
    known_locs = {loc for (loc,) in conn.execute("SELECT loc FROM locations")}
    parsed = []
    for line, row in rows:
        sku, loc = row["sku"].strip(), row["loc"].strip()
        if sku not in items:
            raise ImportError_(
                f"{path}:{line}: SKU {sku!r} is not in the item master; "
                "import it first (`tallyman import items`)"
            )
        if not wire.valid_loc(loc):
            raise ImportError_(f"{path}:{line}: location {loc!r} must be SITE/BIN")
        if loc not in known_locs and not create_locations:
            raise ImportError_(
                f"{path}:{line}: location {loc!r} is not in the location master; "
                "import it first (`tallyman import locations`) or pass --create-locations"
            )
        try:
            qty = int(row["qty"])
            if qty < 0:
                raise ValueError
        except ValueError:
            raise ImportError_(f"{path}:{line}: qty must be a whole number ≥ 0") from None
        expiry = (row.get("expiry") or "").strip() or None
        parsed.append((sku, loc, qty, (row.get("lot") or "").strip() or None, expiry))
    _ensure_locations(db, {loc: None for _, loc, *_ in parsed if loc not in known_locs})
    loc_ids = dict(conn.execute("SELECT loc, id FROM locations"))
    now = wire.now_ts()
    code = ledger.TYPE_CODE["count"]
    conn.execute("BEGIN IMMEDIATE")
    try:
        seq = conn.execute(
            "SELECT coalesce(max(seq), 0) FROM movements WHERE device = ?", (IMPORT_DEVICE,)
        ).fetchone()[0]
        records = []
        for sku, loc, qty, lot, expiry in parsed:
            seq += 1
            site = wire.site_of(loc)
            records.append(
                [IMPORT_DEVICE, seq, site, now, now, "count", code, sku, items[sku], None, lot]
                + [expiry, None, qty, 0, loc, loc_ids[loc], None, 0, path.name, None, None]
            )
        ledger.insert_movements(conn, records)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return len(records)


KINDS = {"items": import_items, "locations": import_locations, "stock": import_stock}


@click.group("import")
def command() -> None:
    """Import master data and opening stock from CSV files (UTF-8, a header row).

    Import items first, then locations, then stock. Sample files are in examples/.
    """


def _import_command(kind: str, help_: str, create_locations: bool = False) -> None:
    def run(file: Path, db: str, as_json: bool, **extra: bool) -> None:
        import sqlite_utils

        sdb = sqlite_utils.Database(ledger.connect(db))
        try:
            n = KINDS[kind](sdb, file, **extra)
        except (ImportError_, OSError, UnicodeDecodeError, csv.Error, sqlite3.Error) as exc:
            fail(str(exc) if isinstance(exc, ImportError_) else f"{file}: {exc}")
        finally:
            sdb.conn.close()
        if as_json:
            emit({"kind": kind, "file": str(file), "imported": n}, True)
        else:
            noun = "stock rows" if kind == "stock" else kind
            click.echo(f"imported {n} {noun} from {file}")

    if create_locations:
        run = click.option(
            "--create-locations",
            is_flag=True,
            help="register locations not yet imported instead of refusing their rows",
        )(run)
    run = db_option(json_option(run))
    run = click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))(run)
    command.command(kind, help=help_)(run)


_import_command(
    "items",
    """The item master: one row per SKU; a SKU already there is updated.

    \b
    Columns (required): sku, gtin, name    (gtin: GTIN-8/12/13/14, may be empty)
    Columns (optional): category, unit_cost, price, supplier, lead_time_days,
                        pack_size, moq
    """,
)
_import_command(
    "locations",
    """Locations (bins) where stock is kept and scanned.

    \b
    Columns (required): loc     (SITE/BIN, e.g. DC1/A-01)
    Columns (optional): kind    (e.g. bin; a site with a `dc` location is a
                                 distribution centre for planning)
    """,
)
_import_command(
    "stock",
    """Opening stock: each row sets what is on hand of SKU at LOC.

    Written to the ledger as counts of the pseudo-device `import`, so a running central picks
    them up. A row whose SKU or location is not imported yet is refused (the line and the value
    named), unless --create-locations registers its location.

    \b
    Columns (required): sku, loc, qty   (sku in the item master, loc in the location
                                         master, qty a whole number >= 0)
    Columns (optional): lot, expiry     (expiry as YYYY-MM-DD)
    """,
    create_locations=True,
)
