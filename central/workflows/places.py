"""Where documents put stock: a line's site and bin, checked against master data."""

from __future__ import annotations

import sqlite3

from central.workflows import WorkflowError
from tallyman import wire

#: Bins a document uses when a line names only a site, in order of preference.
RECEIVING_BINS = ("DOCK", "RECEIVING", "INBOUND")


def resolve(conn: sqlite3.Connection, site: str, loc: str | None) -> tuple[str, int]:
    """(loc, loc_id) of a document line: its own bin, else the site's dock, else its first bin."""
    if not wire.valid_id(site):
        raise WorkflowError(400, "bad_request", f"site {site!r} is not a site id")
    if loc is not None:
        if not wire.valid_loc(loc) or wire.site_of(loc) != site:
            raise WorkflowError(400, "bad_request", f"loc {loc!r} must be a bin at {site}")
        found = conn.execute("SELECT id FROM locations WHERE loc = ?", (loc,)).fetchone()
        if found is None:
            raise WorkflowError(404, "unknown_location", f"location {loc} is not in master data")
        return loc, found[0]
    bins = conn.execute(
        "SELECT loc, id FROM locations WHERE site = ? ORDER BY id", (site,)
    ).fetchall()
    if not bins:
        raise WorkflowError(404, "unknown_site", f"site {site} has no locations in master data")
    by_bin = {name.split("/", 1)[1].upper(): (name, i) for name, i in bins}
    for preferred in RECEIVING_BINS:
        if preferred in by_bin:
            return by_bin[preferred]
    return bins[0][0], bins[0][1]


def whole(value: object, what: str) -> int:
    """A positive whole quantity (planning sends floats like 12.0)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise WorkflowError(400, "bad_request", f"{what} must be a number")
    if value != int(value) or value <= 0 or value > 1_000_000_000:
        raise WorkflowError(400, "bad_request", f"{what} must be a positive whole number")
    return int(value)
