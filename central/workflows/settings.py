"""Workflow rules a site changes without a release: approval tiers, tolerances, TTLs, routing.

Stored as JSON values in `wf_settings`, read once at start-up and on every change through the
API; a key that was never set takes its default here. A change arrives as a decoded
`central.workflows.models.SettingsChange`, which refuses an unknown key or a wrong type with
the field named.
"""

from __future__ import annotations

import copy
import json
import sqlite3
from typing import TYPE_CHECKING, Any

import msgspec

from central.workflows import WorkflowError

if TYPE_CHECKING:
    from central.workflows.models import SettingsChange

DEFAULTS: dict[str, Any] = {
    # Approvals needed by PO value (in the items' cost currency); the first tier whose `up_to`
    # covers the value applies; `null` is "no limit". Per-category tiers apply on top: the PO
    # needs the stricter of the two, over every category on it.
    "po_approval_tiers": [
        {"up_to": 5000, "approvals": 0},
        {"up_to": 50000, "approvals": 1},
        {"up_to": None, "approvals": 2},
    ],
    "po_category_tiers": {},
    # A PO still waiting for approval (or approved and never sent) after this long expires.
    "po_expiry_hours": 14 * 24,
    # Receipts beyond ordered × (1 + pct/100) are over-receipts: "flag" records the excess on
    # the PO as an exception (the goods are in the ledger either way), "accept" takes it.
    "po_over_receipt_pct": 0.0,
    "po_over_receipt": "flag",
    # A line counts as complete at ordered × (1 − pct/100): the PO closes automatically.
    "po_under_receipt_pct": 0.0,
    # Approved POs go to their supplier at once (webhook if the supplier has one, else file).
    "po_auto_send": True,
    # supplier code -> {"webhook": url, "format": "json"|"csv"}
    "suppliers": {},
    "supplier_outbox_dir": None,
    "webhook_attempts": 6,
    "webhook_backoff_s": 0.5,
    "webhook_timeout_s": 5.0,
    # Reservations: default and longest TTL, and where a reservation the site cannot meet
    # goes: channel (or "*") -> ordered list of sites or "dropship:PARTNER".
    "reservation_ttl_s": 15 * 60,
    "reservation_max_ttl_s": 30 * 24 * 3600,
    "reservation_routing": {},
    # Counts whose |variance| exceeds either limit wait for an approver (null: never).
    "count_hold_units": None,
    "count_hold_value": None,
}


def load(conn: sqlite3.Connection) -> dict[str, Any]:
    out = copy.deepcopy(DEFAULTS)
    for key, value in conn.execute("SELECT key, value FROM wf_settings"):
        if key in DEFAULTS:
            out[key] = json.loads(value)
    return out


def validate(change: SettingsChange) -> dict[str, Any]:
    """The settings a decoded `SettingsChange` sets, as stored. The model refused unknown keys
    and wrong types; left here is what it cannot say: that something is set at all, and that
    every list of approval tiers ends with the open-ended one."""
    changes: dict[str, Any] = msgspec.to_builtins(change)
    if not changes:
        raise WorkflowError(400, "bad_request", "send a JSON object of settings to change")
    tiers = [changes.get("po_approval_tiers")]
    tiers += list((changes.get("po_category_tiers") or {}).values())
    for t in tiers:
        if t is not None:
            check_tiers(t)
    return changes


def check_tiers(tiers: Any) -> None:
    """A list of approval tiers as stored: also checked where tiers are used (approvals), on
    values read back from the ledger."""
    ok = isinstance(tiers, list) and tiers
    for t in tiers if ok else []:
        ok = ok and isinstance(t, dict) and isinstance(t.get("approvals"), int)
        ok = ok and (t.get("up_to") is None or isinstance(t.get("up_to"), (int, float)))
    if not ok or tiers[-1].get("up_to") is not None:
        raise WorkflowError(
            400,
            "bad_request",
            'approval tiers: a list of {"up_to": amount|null, "approvals": n}, last up_to null',
        )


def save(conn: sqlite3.Connection, changes: dict[str, Any]) -> None:
    conn.executemany(
        "INSERT INTO wf_settings (key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [(k, json.dumps(v)) for k, v in changes.items()],
    )
