"""Tasks for a site's handhelds (pick for a transfer, receive a transfer, pick a reservation).

Why one retained message per site holding the whole open list, rather than one message per
task: a handheld that was off when a task was published gets the current list the moment it
subscribes, a task that is done disappears from it, and replaying the topic can never resurrect
a finished task. The `tasks` table is the truth; the message is rebuilt from it after every
change and published only after the change commits.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Callable

from tallyman import wire

log = logging.getLogger("tallyman.workflows")

Publish = Callable[[str, bytes, bool], None]


def open_task(conn: sqlite3.Connection, site: str, kind: str, ref: str, payload: dict) -> None:
    conn.execute(
        "INSERT INTO tasks (site, kind, ref, payload, status, created_at) "
        "VALUES (?, ?, ?, ?, 'open', ?) ON CONFLICT(kind, ref) DO UPDATE SET "
        "site = excluded.site, payload = excluded.payload, status = 'open', done_at = NULL",
        (site, kind, ref, json.dumps(payload), wire.now_ts()),
    )
    TaskBoard.touched(site)


def close_task(conn: sqlite3.Connection, kind: str, ref: str) -> None:
    found = conn.execute(
        "SELECT site FROM tasks WHERE kind = ? AND ref = ? AND status = 'open'", (kind, ref)
    ).fetchone()
    if found:
        conn.execute(
            "UPDATE tasks SET status = 'done', done_at = ? WHERE kind = ? AND ref = ?",
            (wire.now_ts(), kind, ref),
        )
        TaskBoard.touched(found[0])


def site_tasks(conn: sqlite3.Connection, site: str, status: str = "open") -> list[dict]:
    return [
        {"id": i, "kind": k, "ref": r, "status": s, "created_at": c, **json.loads(p)}
        for i, k, r, p, s, c in conn.execute(
            "SELECT id, kind, ref, payload, status, created_at FROM tasks "
            "WHERE site = ? AND status = ? ORDER BY id",
            (site, status),
        )
    ]


class TaskBoard:
    """Collects the sites a transaction touched; `flush` publishes their lists after COMMIT."""

    _local = threading.local()

    def __init__(self, publish: Publish | None = None):
        self.publish = publish

    @classmethod
    def touched(cls, site: str) -> None:
        sites = getattr(cls._local, "sites", None)
        if sites is None:
            sites = cls._local.sites = set()
        sites.add(site)

    @classmethod
    def discard(cls) -> None:
        cls._local.sites = set()

    def flush(self, conn: sqlite3.Connection) -> None:
        sites = getattr(self._local, "sites", None) or set()
        self._local.sites = set()
        for site in sorted(sites):
            self.publish_site(conn, site)

    def publish_site(self, conn: sqlite3.Connection, site: str) -> None:
        if self.publish is None:
            return
        body = {"v": 1, "site": site, "ts": wire.now_ts(), "tasks": site_tasks(conn, site)}
        try:
            self.publish(wire.tasks_topic(site), json.dumps(body).encode(), True)
        except Exception:  # the table keeps the truth; the next change republishes
            log.exception("could not publish the task list of %s", site)

    def publish_all(self, conn: sqlite3.Connection) -> None:
        for (site,) in conn.execute("SELECT DISTINCT site FROM tasks").fetchall():
            self.publish_site(conn, site)
