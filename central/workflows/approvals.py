"""Who must approve what: tiers by amount and category, distinct approvers, no self-approval.

Why approvals are rows and not a counter: "two distinct approvers" is a property of *who*
approved, so each decision is stored with its actor under a unique key (document, revision,
actor); the same person approving twice is refused by the database itself, not only by code.
"""

from __future__ import annotations

import sqlite3

from central.workflows import WorkflowError
from central.workflows.db import Actor
from central.workflows.settings import check_tiers
from tallyman import wire


def _tier(tiers: list[dict], amount: float) -> int:
    check_tiers(tiers)
    for t in tiers:
        if t["up_to"] is None or amount <= t["up_to"]:
            return int(t["approvals"])
    return int(tiers[-1]["approvals"])


def required(amount: float, categories: list[str], settings: dict) -> int:
    """Approvals a document of this amount needs: the stricter of the amount tiers and the
    tiers of any of its categories."""
    n = _tier(settings["po_approval_tiers"], amount)
    for category in categories:
        tiers = settings["po_category_tiers"].get(category)
        if tiers:
            n = max(n, _tier(tiers, amount))
    return n


def record(
    conn: sqlite3.Connection,
    doc_type: str,
    doc_id: int,
    revision: int,
    actor: Actor,
    decision: str,
    note: str | None,
    creator: str,
) -> int:
    """Store one decision; returns how many distinct approvals the document now has."""
    if actor.name == creator:
        raise WorkflowError(
            403, "forbidden", f"{actor.name} created this {doc_type} and cannot also decide on it"
        )
    try:
        conn.execute(
            "INSERT INTO approvals (doc_type, doc_id, revision, actor, role, decision, note, ts) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (doc_type, doc_id, revision, actor.name, actor.role, decision, note, wire.now_ts()),
        )
    except sqlite3.IntegrityError:
        raise WorkflowError(
            409, "already_decided", f"{actor.name} has already decided on this {doc_type}"
        ) from None
    return count(conn, doc_type, doc_id, revision)


def count(conn: sqlite3.Connection, doc_type: str, doc_id: int, revision: int) -> int:
    return conn.execute(
        "SELECT count(DISTINCT actor) FROM approvals WHERE doc_type = ? AND doc_id = ? "
        "AND revision = ? AND decision = 'approve'",
        (doc_type, doc_id, revision),
    ).fetchone()[0]


def listing(conn: sqlite3.Connection, doc_type: str, doc_id: int) -> list[dict]:
    return [
        {"actor": a, "role": r, "decision": d, "note": n, "ts": t, "revision": rev}
        for a, r, d, n, t, rev in conn.execute(
            "SELECT actor, role, decision, note, ts, revision FROM approvals "
            "WHERE doc_type = ? AND doc_id = ? ORDER BY id",
            (doc_type, doc_id),
        )
    ]
