"""The one HTTP client never raises for a network failure or a garbled answer: both come back
as a Response without a status (no answer), which the retry rule treats as worth retrying."""

from __future__ import annotations

import socket
import threading

from tallyman import http_client
from tallyman.net import free_port


def _serve_once(reply: bytes) -> int:
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]

    def run() -> None:
        conn, _ = srv.accept()
        conn.recv(65536)
        conn.sendall(reply)
        conn.close()
        srv.close()

    threading.Thread(target=run, daemon=True).start()
    return port


def test_a_garbled_answer_is_no_answer():
    port = _serve_once(b"this is not HTTP\r\n\r\n")
    r = http_client.request("POST", f"http://127.0.0.1:{port}/hook", json_body={"x": 1}, timeout=5)
    assert r.status is None and r.retryable and "cannot reach" in r.error


def test_an_answer_cut_short_is_no_answer():
    port = _serve_once(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort")
    r = http_client.request("GET", f"http://127.0.0.1:{port}/", timeout=5)
    assert r.status is None and r.retryable


def test_a_refused_connection_is_no_answer():
    r = http_client.request("GET", f"http://127.0.0.1:{free_port()}/", timeout=5)
    assert r.status is None and "cannot reach" in r.error
