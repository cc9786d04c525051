"""API tokens with roles, and the audit trail of who wrote what.

Why hashed tokens: the ledger file is copied for backups and analysis; a stolen copy must not hold
working credentials. A token is shown once, at creation, and only its SHA-256 is stored.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
import sqlite3
from collections.abc import Callable

import click
from flask import current_app, g, request

from central.http.errors import ApiError
from tallyman.console import db_option, emit, json_option
from tallyman.wire import now_ts

ROLES = ("staff", "planner", "approver", "admin")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(conn: sqlite3.Connection, role: str, name: str) -> str:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    token = f"tm_{role}_{secrets.token_urlsafe(24)}"
    conn.execute(
        "INSERT INTO tokens (name, role, token_sha256, created_at) VALUES (?, ?, ?, ?)",
        (name, role, _digest(token), now_ts()),
    )
    return token


def lookup(conn: sqlite3.Connection, token: str) -> tuple[str, str] | None:
    """(name, role) of a live token, or None."""
    row = conn.execute(
        "SELECT name, role FROM tokens WHERE token_sha256 = ? AND revoked = 0", (_digest(token),)
    ).fetchone()
    return (row[0], row[1]) if row else None


def require_role(*roles: str) -> Callable:
    """Flask view decorator: a bearer token whose role is one of `roles` (admin always passes)."""

    def wrap(view: Callable) -> Callable:
        @functools.wraps(view)
        def inner(*args, **kwargs):
            header = request.headers.get("Authorization", "")
            if not header.startswith("Bearer "):
                raise ApiError(401, "unauthorized", "send Authorization: Bearer <token>")
            who = lookup(current_app.config["READER"](), header[7:].strip())
            if who is None:
                raise ApiError(401, "unauthorized", "unknown or revoked token")
            if who[1] not in roles and who[1] != "admin":
                raise ApiError(
                    403, "forbidden", f"role {who[1]} may not do this; needs {' or '.join(roles)}"
                )
            g.actor, g.role = who
            return view(*args, **kwargs)

        return inner

    return wrap


def audit(conn: sqlite3.Connection, action: str, target: str, detail: str = "") -> None:
    conn.execute(
        "INSERT INTO audit (ts, actor, role, action, target, detail, remote_addr) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (now_ts(), g.actor, g.role, action, target, detail, request.remote_addr),
    )


ROLE_HELP = (
    "staff: reservations, transfer picking and receipt, false alarms; "
    "planner: POs, transfers, planning runs, dead-letter retries, and what staff may; "
    "approver: approves POs, transfers and counts, resolves discrepancies; "
    "admin: everything, including the workflow settings"
)


@click.group("token")
def command() -> None:
    """API tokens for people and programs: each has a role and is shown only once.

    Commands that call central take it as --token or $TALLYMAN_TOKEN.
    """


@command.command("create")
@click.option("--role", required=True, type=click.Choice(ROLES), help=ROLE_HELP)
@db_option
@click.option(
    "--name", default="", metavar="NAME", help="who uses it, shown in the audit trail "
    "(default: the role)"
)  # fmt: skip
@json_option
def create(role: str, db: str, name: str, as_json: bool) -> None:
    """Create an API token and print it (once: only its hash is kept)."""
    from central.stock.storage import open_storage

    storage = open_storage(db)
    try:
        with storage.tx() as conn:
            token = create_token(conn, role, name or role)
    finally:
        storage.close()
    if as_json:
        emit({"token": token, "role": role, "name": name or role}, True)
    else:
        click.echo(token)
