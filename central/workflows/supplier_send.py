"""Sending an approved PO to its supplier: a CSV/JSON file, or a webhook POST with retries.

Why an outbox table and a sender thread: a webhook can be down for minutes; the approval that
triggers the send must not wait for it, and a restart must not forget it. Each send is a
`po_sends` row; the sender retries it with exponential backoff (honouring Retry-After) until the
supplier answers 2xx, an answer outside `RETRYABLE` says retrying cannot help, or the attempts
run out — the same posting and backoff as planning's alert webhooks (`tallyman.webhook`), with
the set of answers worth another try that supplier sends have always used (408, 409 and 425 are
retried too; 501 and 505 are not). Every attempt carries the same `Idempotency-Key` (PO number +
revision), so a supplier that saw an attempt whose answer we lost does not book the order twice.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from central.stock.storage import Storage
from central.workflows import WorkflowError, states
from central.workflows.reservations import ts_after
from tallyman import webhook, wire
from tallyman.periodic import Periodic

log = logging.getLogger("tallyman.workflows")

CSV_COLUMNS = (
    "po",
    "line",
    "sku",
    "gtin",
    "name",
    "qty",
    "unit_cost",
    "ship_to_site",
    "ship_to_loc",
)
#: HTTP answers after which trying again may succeed (no answer at all is always retried).
RETRYABLE = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


def idempotency_key(po: dict) -> str:
    return f"{po['number']}-r{po['revision']}"


def document(conn: sqlite3.Connection, po: dict) -> dict:
    """The PO as the supplier sees it (JSON body of the webhook, content of the JSON file)."""
    lines = []
    for line_no, sku, gtin, name, qty, cost, site, loc in conn.execute(
        "SELECT l.line_no, l.sku, i.gtin, i.name, l.qty, l.unit_cost, l.site, l.loc "
        "FROM po_lines l JOIN items i ON i.id = l.item_id WHERE l.po_id = ? ORDER BY l.line_no",
        (po["id"],),
    ):
        lines.append(
            {
                "line": line_no,
                "sku": sku,
                "gtin": gtin,
                "name": name,
                "qty": qty,
                "unit_cost": cost,
                "ship_to_site": site,
                "ship_to_loc": loc,
            }
        )
    return {
        "type": "purchase_order",
        "po": po["number"],
        "revision": po["revision"],
        "idempotency_key": idempotency_key(po),
        "supplier": po["supplier"],
        "approved_at": po["approved_at"],
        "total_value": po["total_value"],
        "note": po["note"],
        "lines": lines,
    }


def to_csv(doc: dict) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for line in doc["lines"]:
        w.writerow([doc["po"], *(line[c] for c in CSV_COLUMNS[1:])])
    return out.getvalue()


def queue(conn: sqlite3.Connection, po: dict, channel: str, target: str) -> int:
    """Add a send to the outbox (the caller's transaction); the sender thread does the rest."""
    if channel not in ("webhook", "file"):
        raise WorkflowError(400, "bad_request", "channel must be webhook or file")
    if not states.PURCHASE_ORDER.allowed(po["status"], "send"):
        raise WorkflowError(
            409, "invalid_transition", f"a purchase order in state {po['status']} cannot send"
        )
    now = wire.now_ts()
    cur = conn.execute(
        "INSERT INTO po_sends (po_id, channel, target, idempotency_key, status, next_attempt_at, "
        "created_at) VALUES (?, ?, ?, ?, 'pending', ?, ?)",
        (po["id"], channel, target, idempotency_key(po), now, now),
    )
    return cur.lastrowid


def default_target(settings: dict, supplier: str, default_dir: str) -> tuple[str, str]:
    """(channel, target): the supplier's webhook if it has one, else a file in the outbox dir."""
    conf = settings["suppliers"].get(supplier) or {}
    if conf.get("webhook"):
        return "webhook", conf["webhook"]
    return "file", file_dir(settings, default_dir)


def file_dir(settings: dict, default_dir: str) -> str:
    """The configured outbox folder, else `default_dir` (beside the ledger, see
    Storage.files_dir)."""
    return settings["supplier_outbox_dir"] or default_dir


class Sender:
    """The thread that works through `po_sends` (see the module docstring)."""

    def __init__(
        self,
        storage: Storage,
        settings: dict,
        tx: Callable[[], Any],
    ):
        self.storage, self.settings, self.tx = storage, settings, tx
        self._timer = Periodic(0.2, self._drain, "supplier-send")

    def start(self) -> None:
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop(join_s=10)

    def wake(self) -> None:
        """A send was queued: try now rather than at the next tick."""
        self._timer.wake()

    def _drain(self) -> None:
        """Every due send, one after the other, until none is due or central stops."""
        while not self._timer.stopping and self.run_once():
            pass

    def run_once(self) -> bool:
        """Attempt the next due send; False when none is due."""
        conn = self.storage.writer()
        due = conn.execute(
            "SELECT s.id, s.po_id, s.channel, s.target, s.idempotency_key, s.attempts "
            "FROM po_sends s WHERE s.status = 'pending' AND s.next_attempt_at <= ? "
            "ORDER BY s.next_attempt_at, s.id LIMIT 1",
            (wire.now_ts(),),
        ).fetchone()
        if due is None:
            return False
        send_id, po_id, channel, target, key, attempts = due
        from central.workflows import purchase_orders  # a cycle at import time otherwise

        po = purchase_orders.find(conn, po_id)
        if not states.PURCHASE_ORDER.allowed(po["status"], "send"):
            self._finish(send_id, po_id, "cancelled", None, f"the PO is {po['status']}", channel)
            return True
        doc = document(conn, po)
        if channel == "file":
            try:
                paths = write_files(target, doc)
            except OSError as exc:
                retry_in = self.retry_policy().delay_after(attempts + 1)
                self._failed_attempt(send_id, attempts + 1, None, f"cannot write: {exc}", retry_in)
                return True
            self._finish(send_id, po_id, "done", None, ", ".join(paths), channel)
            return True
        outcome = webhook.post(
            target,
            doc,
            attempts + 1,
            self.retry_policy(),
            headers={"Idempotency-Key": key, "User-Agent": "tallyman-central"},
            timeout=self.settings["webhook_timeout_s"],
        )
        detail = outcome.detail[:500]
        if outcome.ok:
            self._finish(send_id, po_id, "done", outcome.status, detail, channel)
        else:
            self._failed_attempt(send_id, outcome.attempt, outcome.status, detail, outcome.retry_in)
        return True

    def retry_policy(self) -> webhook.RetryPolicy:
        """From the workflow settings of the moment (an admin may change them meanwhile)."""
        return webhook.RetryPolicy(
            self.settings["webhook_attempts"],
            self.settings["webhook_backoff_s"],
            retry_statuses=RETRYABLE,
        )

    def _failed_attempt(self, send_id, attempt, status, detail, retry_in) -> None:
        """Record failed attempt number `attempt`: due again in `retry_in` seconds, or failed
        for good when there is no next attempt (refused, or the attempts are used up)."""
        if retry_in is None:
            with self.storage.tx() as conn:
                conn.execute(
                    "UPDATE po_sends SET status = 'failed', attempts = ?, last_status = ?, "
                    "detail = ?, done_at = ? WHERE id = ?",
                    (attempt, status, detail, wire.now_ts(), send_id),
                )
            log.error("PO send %d failed after %d attempt(s): %s", send_id, attempt, detail)
            return
        with self.storage.tx() as conn:
            conn.execute(
                "UPDATE po_sends SET attempts = ?, last_status = ?, detail = ?, "
                "next_attempt_at = ? WHERE id = ?",
                (attempt, status, detail, ts_after(retry_in), send_id),
            )

    def _finish(self, send_id, po_id, status, http_status, detail, channel) -> None:
        from central.workflows import purchase_orders

        with self.tx() as (conn, _undo):
            conn.execute(
                "UPDATE po_sends SET status = ?, attempts = attempts + 1, last_status = ?, "
                "detail = ?, done_at = ? WHERE id = ?",
                (status, http_status, detail, wire.now_ts(), send_id),
            )
            if status == "done" and purchase_orders.mark_sent(conn, po_id, channel):
                number = purchase_orders.number(po_id)
                conn.execute(
                    "INSERT INTO audit (ts, actor, role, action, target, detail, remote_addr) "
                    "VALUES (?, 'system', 'system', 'po.sent', ?, ?, NULL)",
                    (wire.now_ts(), number, f"{channel}: {detail}"[:500]),
                )


def write_files(folder: str, doc: dict) -> list[str]:
    """`PO-000001.json` and `.csv`, each written to a temporary name and renamed: a supplier's
    pick-up job never sees half a file."""
    Path(folder).mkdir(parents=True, exist_ok=True)
    out = []
    for suffix, text in ((".json", json.dumps(doc, indent=1)), (".csv", to_csv(doc))):
        path = Path(folder) / f"{doc['po']}{suffix}"
        tmp = path.with_suffix(suffix + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        out.append(str(path))
    return out
