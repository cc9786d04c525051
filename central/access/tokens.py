"""API tokens with roles, and the audit trail of who wrote what.

Why hashed tokens: the ledger file is copied for backups and analysis; a stolen copy must not hold
working credentials. A token is shown once, at creation, and only its SHA-256 is stored.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import secrets
import sqlite3
from collections.abc import Callable

from flask import current_app, g, request

from central.http.errors import ApiError
from central.stock import ledger
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


def main(argv: list[str]) -> int:
    """`tallyman token create --role ROLE --db PATH [--name NAME]`."""
    p = argparse.ArgumentParser(prog="tallyman token")
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("create", help="create an API token (printed once)")
    c.add_argument("--role", required=True, choices=ROLES)
    c.add_argument("--db", required=True)
    c.add_argument("--name", default="")
    args = p.parse_args(argv)
    conn = ledger.connect(args.db)
    print(create_token(conn, args.role, args.name or args.role))
    return 0


from tallyman.console import passthrough as _passthrough  # noqa: E402

command = _passthrough(main, "token")
