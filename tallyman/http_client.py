"""The one HTTP client: JSON requests to Tallyman's API, webhooks and supplier endpoints.

Why the standard library and not requests: the CLI and the simulator's live twin must start
fast and a handheld installs nothing it does not need; `urllib` does everything used here
(JSON bodies, bearer tokens, timeouts, a Retry-After header). One module also means one answer to
"what counts as worth retrying": connection failures, timeouts, 429 and 5xx; never other 4xx,
which say the request itself is wrong.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: Longest wait a server's Retry-After may impose on a retry loop.
MAX_RETRY_AFTER_S = 300.0


@dataclass(frozen=True)
class Response:
    """An HTTP answer; `status` None means no answer at all (refused, timed out, DNS)."""

    status: int | None
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def retryable(self) -> bool:
        """Whether trying again later can help: no answer, 429 or a server error."""
        return self.status is None or self.status == 429 or self.status >= 500

    @property
    def retry_after(self) -> float | None:
        raw = self.headers.get("Retry-After", "")
        try:
            return min(float(raw), MAX_RETRY_AFTER_S)
        except ValueError:
            return None

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def detail(self) -> str:
        """One line for a log or a person: the error, or the status and the body's start."""
        if self.status is None:
            return self.error
        text = self.body[:500].decode("utf-8", "replace")
        return f"HTTP {self.status}: {text}" if text else f"HTTP {self.status}"


def request(
    method: str,
    url: str,
    *,
    json_body: Any = None,
    data: bytes | None = None,
    token: str | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10.0,
) -> Response:
    """One request; never raises for HTTP or network failures (they come back as a Response)."""
    hdrs = {"Accept": "application/json", **(headers or {})}
    if json_body is not None:
        data = json.dumps(json_body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    if token:
        hdrs["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=data, method=method.upper(), headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return Response(r.status, r.read(), dict(r.headers.items()))
    except urllib.error.HTTPError as e:
        body = e.read() if e.fp is not None else b""
        return Response(e.code, body, dict(e.headers.items()) if e.headers else {})
    except (urllib.error.URLError, http.client.HTTPException, OSError) as e:
        # refused, reset, timed out, or a broken answer (IncompleteRead, BadStatusLine)
        reason = getattr(e, "reason", None) or f"{type(e).__name__}: {e}"
        return Response(None, error=f"cannot reach {url}: {reason}")
    except ValueError as e:  # a malformed URL
        return Response(None, error=f"bad URL {url!r}: {e}")


def backoff_delay(attempt: int, base_s: float, retry_after: float | None = None) -> float:
    """Seconds before retry number `attempt` (1-based): exponential, at least Retry-After."""
    delay = base_s * 2.0 ** (attempt - 1)
    return max(delay, retry_after) if retry_after is not None else delay
