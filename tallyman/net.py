"""Addresses: `HOST:PORT`, broker URLs, free ports and waiting for a listener.

One parser for every `--http`, `--broker` and config address, so that each says the same thing
about a bad one (`--http 8080` used to mean four different things in four places).
"""

from __future__ import annotations

import socket
import time
from urllib.parse import unquote, urlsplit

DEFAULT_HOST = "127.0.0.1"
#: The broker every command talks to unless told otherwise (a local mosquitto).
DEFAULT_BROKER = "mqtt://127.0.0.1:1883"


def parse_hostport(text: str, default_host: str = DEFAULT_HOST) -> tuple[str, int]:
    """`HOST:PORT`, `:PORT` or `[v6]:PORT` → (host, port). Port 0 means "any free port"."""
    host, sep, port = text.strip().rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"address {text!r} is not HOST:PORT (e.g. 127.0.0.1:8080)")
    return host.strip("[]") or default_host, int(port)


def parse_broker_url(url: str) -> tuple[str, int, str | None, str | None]:
    """`mqtt://[user:password@]host[:port]` → (host, port, user, password)."""
    parts = urlsplit(url if "://" in url else f"mqtt://{url}")
    if parts.scheme not in ("mqtt", "tcp"):
        raise ValueError(f"broker URL must start with mqtt://, got {url!r}")
    try:
        port = parts.port or 1883
    except ValueError:
        raise ValueError(f"broker URL {url!r} has a bad port") from None
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return parts.hostname or DEFAULT_HOST, port, user, password


def free_port(host: str = DEFAULT_HOST) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def port_open(host: str, port: int, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_port(host: str, port: int, timeout: float, alive: object = None) -> None:
    """Wait until something listens on host:port. `alive`, if given, is a Popen whose early
    exit ends the wait at once (a broker that failed to start)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        poll = getattr(alive, "poll", None)
        if poll is not None and poll() is not None:
            raise RuntimeError(f"process exited with {getattr(alive, 'returncode', '?')}")
        if port_open(host, port):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout} s")
