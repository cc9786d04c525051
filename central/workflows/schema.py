"""Workflow tables, beside the ledger in the same SQLite file.

Why the same file: a receipt scan, the purchase order it closes and the stock it adds must commit
together or not at all, and SQLite transactions do not span files. Why `CREATE … IF NOT EXISTS`
run from `init`: central, the CLI and the ingest may each be first to open a ledger.
"""

from __future__ import annotations

import sqlite3

SCHEMA = """
CREATE TABLE IF NOT EXISTS wf_settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS purchase_orders (
    id INTEGER PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    supplier TEXT NOT NULL,
    status TEXT NOT NULL,
    source TEXT NOT NULL,
    proposal_key TEXT UNIQUE,
    categories TEXT,
    total_value REAL NOT NULL DEFAULT 0,
    required_approvals INTEGER NOT NULL DEFAULT 0,
    revision INTEGER NOT NULL DEFAULT 1,
    note TEXT,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    submitted_at TEXT,
    approved_at TEXT,
    sent_at TEXT,
    expires_at TEXT,
    closed_at TEXT,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS purchase_orders_status ON purchase_orders(status, id);
CREATE TABLE IF NOT EXISTS po_lines (
    id INTEGER PRIMARY KEY,
    po_id INTEGER NOT NULL REFERENCES purchase_orders(id),
    line_no INTEGER NOT NULL,
    sku TEXT NOT NULL,
    item_id INTEGER NOT NULL,
    site TEXT NOT NULL,
    loc TEXT NOT NULL,
    loc_id INTEGER NOT NULL,
    qty INTEGER NOT NULL,
    unit_cost REAL NOT NULL DEFAULT 0,
    received INTEGER NOT NULL DEFAULT 0,
    over_received INTEGER NOT NULL DEFAULT 0,
    first_receipt_at TEXT,
    UNIQUE (po_id, line_no)
);
CREATE INDEX IF NOT EXISTS po_lines_po ON po_lines(po_id);
CREATE TABLE IF NOT EXISTS po_receipts (
    id INTEGER PRIMARY KEY,
    po_id INTEGER NOT NULL,
    line_id INTEGER,
    movement_id INTEGER NOT NULL UNIQUE,
    sku TEXT NOT NULL,
    site TEXT NOT NULL,
    qty INTEGER NOT NULL,
    accepted INTEGER NOT NULL,
    excess INTEGER NOT NULL,
    ts TEXT NOT NULL,
    note TEXT
);
CREATE TABLE IF NOT EXISTS po_sends (
    id INTEGER PRIMARY KEY,
    po_id INTEGER NOT NULL,
    channel TEXT NOT NULL,
    target TEXT,
    idempotency_key TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    last_status INTEGER,
    detail TEXT,
    created_at TEXT NOT NULL,
    done_at TEXT
);
CREATE INDEX IF NOT EXISTS po_sends_status ON po_sends(status, next_attempt_at);
CREATE TABLE IF NOT EXISTS lead_times (
    id INTEGER PRIMARY KEY,
    po_id INTEGER NOT NULL,
    line_id INTEGER NOT NULL UNIQUE,
    supplier TEXT NOT NULL,
    sku TEXT NOT NULL,
    site TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    received_at TEXT NOT NULL,
    days REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS approvals (
    id INTEGER PRIMARY KEY,
    doc_type TEXT NOT NULL,
    doc_id INTEGER NOT NULL,
    revision INTEGER NOT NULL DEFAULT 1,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    decision TEXT NOT NULL,
    note TEXT,
    ts TEXT NOT NULL,
    UNIQUE (doc_type, doc_id, revision, actor)
);
CREATE TABLE IF NOT EXISTS transfer_orders (
    id INTEGER PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    from_site TEXT NOT NULL,
    to_site TEXT NOT NULL,
    status TEXT NOT NULL,
    source TEXT NOT NULL,
    suggestion_key TEXT UNIQUE,
    note TEXT,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    approved_at TEXT,
    dispatched_at TEXT,
    closed_at TEXT,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS transfer_orders_status ON transfer_orders(status, id);
CREATE TABLE IF NOT EXISTS to_lines (
    id INTEGER PRIMARY KEY,
    to_id INTEGER NOT NULL REFERENCES transfer_orders(id),
    sku TEXT NOT NULL,
    item_id INTEGER NOT NULL,
    qty INTEGER NOT NULL,
    from_loc TEXT NOT NULL,
    to_loc TEXT NOT NULL,
    picked INTEGER NOT NULL DEFAULT 0,
    received INTEGER NOT NULL DEFAULT 0,
    damaged INTEGER NOT NULL DEFAULT 0,
    UNIQUE (to_id, sku)
);
CREATE TABLE IF NOT EXISTS to_scans (
    movement_id INTEGER PRIMARY KEY,
    to_id INTEGER NOT NULL,
    line_id INTEGER,
    type TEXT NOT NULL,
    qty INTEGER NOT NULL,
    ts TEXT NOT NULL,
    note TEXT
);
CREATE TABLE IF NOT EXISTS to_discrepancies (
    id INTEGER PRIMARY KEY,
    to_id INTEGER NOT NULL,
    line_id INTEGER NOT NULL,
    sku TEXT NOT NULL,
    kind TEXT NOT NULL,
    qty INTEGER NOT NULL,
    status TEXT NOT NULL,
    note TEXT,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    resolution TEXT,
    resolved_by TEXT,
    resolved_at TEXT
);
CREATE TABLE IF NOT EXISTS reservations (
    id INTEGER PRIMARY KEY,
    sku TEXT NOT NULL,
    item_id INTEGER NOT NULL,
    site TEXT,
    partner TEXT,
    requested_site TEXT NOT NULL,
    channel TEXT NOT NULL,
    qty INTEGER NOT NULL,
    picked INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    ref TEXT,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    closed_at TEXT
);
CREATE INDEX IF NOT EXISTS reservations_open ON reservations(status, expires_at);
CREATE TABLE IF NOT EXISTS reservation_allocations (
    reservation_id INTEGER NOT NULL,
    item_id INTEGER NOT NULL,
    loc_id INTEGER NOT NULL,
    qty INTEGER NOT NULL,
    PRIMARY KEY (reservation_id, loc_id)
);
CREATE TABLE IF NOT EXISTS count_records (
    id INTEGER PRIMARY KEY,
    device TEXT NOT NULL,
    seq INTEGER NOT NULL,
    site TEXT NOT NULL,
    sku TEXT NOT NULL,
    item_id INTEGER NOT NULL,
    loc TEXT NOT NULL,
    loc_id INTEGER NOT NULL,
    ts TEXT NOT NULL,
    received_at TEXT NOT NULL,
    counted INTEGER NOT NULL,
    expected INTEGER NOT NULL,
    variance INTEGER NOT NULL,
    late INTEGER NOT NULL,
    status TEXT NOT NULL,
    operator TEXT,
    decided_by TEXT,
    decided_at TEXT,
    note TEXT,
    UNIQUE (device, seq)
);
CREATE INDEX IF NOT EXISTS count_records_status ON count_records(status, id);
CREATE TABLE IF NOT EXISTS wf_outbox (
    device TEXT NOT NULL,
    seq INTEGER NOT NULL,
    site TEXT NOT NULL,
    event TEXT NOT NULL,
    purpose TEXT NOT NULL,
    doc_id INTEGER,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    movement_id INTEGER,
    PRIMARY KEY (device, seq)
);
CREATE INDEX IF NOT EXISTS wf_outbox_status ON wf_outbox(status);
CREATE TABLE IF NOT EXISTS wf_cursor (
    name TEXT PRIMARY KEY,
    movement_id INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS tasks (
    id INTEGER PRIMARY KEY,
    site TEXT NOT NULL,
    kind TEXT NOT NULL,
    ref TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    done_at TEXT,
    UNIQUE (kind, ref)
);
CREATE INDEX IF NOT EXISTS tasks_site ON tasks(site, status);
"""


def init(conn: sqlite3.Connection) -> None:
    """Create the workflow tables on this connection's database (idempotent; never call it
    inside a transaction: `executescript` commits first)."""
    conn.executescript(SCHEMA)
