"""A supplier's webhook endpoint on loopback: fails the first N posts of each idempotency key
(optionally with a Retry-After), records every one and when it came."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Supplier:
    def __init__(self, fail_first: int = 0, fail_status: int = 503, retry_after: str | None = None):
        self.fail_first, self.fail_status = fail_first, fail_status
        self.retry_after = retry_after  # the Retry-After header of the failures, if any
        self.posts: list[tuple[int, str, dict]] = []  # (answered status, idempotency key, body)
        self.times: list[float] = []  # time.monotonic() of each post
        self.booked: dict[str, dict] = {}  # what the supplier booked, by idempotency key
        supplier = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                key = self.headers.get("Idempotency-Key", "")
                status = 200
                if len([p for p in supplier.posts if p[1] == key]) < supplier.fail_first:
                    status = supplier.fail_status
                else:
                    supplier.booked.setdefault(key, body)
                supplier.posts.append((status, key, body))
                supplier.times.append(time.monotonic())
                self.send_response(status)
                if status != 200 and supplier.retry_after is not None:
                    self.send_header("Retry-After", supplier.retry_after)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/orders"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
