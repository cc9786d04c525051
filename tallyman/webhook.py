"""POSTing JSON to a webhook with retries: one answer to "try again?" and "when?".

Central sends to two kinds of webhooks: alert changes to the endpoints in planning's settings
(a queue in memory, retried by its sender thread) and approved purchase orders to suppliers (a
durable outbox table, retried by later rounds of its sender). The queues differ because what
they carry does; how one payload is posted, which answers are worth another attempt and how long
to wait before it are the same, and are defined here once, on the one HTTP client
(`tallyman.http_client`): retry when there was no answer, on 429 and on 5xx; never on another
4xx (the request itself is wrong, and sending it again cannot help); wait
`backoff_s × 2^(attempt − 1)`, at least what the server's Retry-After asks, at most `max_delay_s`.
A policy may name its own retryable statuses instead (`retry_statuses`): supplier sends keep the
set they have always had, which also retries 408, 409 and 425 and does not retry 501 or 505.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tallyman.http_client import Response, backoff_delay, request


@dataclass(frozen=True)
class RetryPolicy:
    """How often to try one payload and how long to wait between tries."""

    #: Tries in all, the first included (1: no retry).
    attempts: int
    #: Wait before retry k (k = 1, 2, …): backoff_s × 2^(k − 1).
    backoff_s: float
    #: Longest wait before a retry, whatever the backoff or a Retry-After asks.
    max_delay_s: float = 600.0
    #: HTTP statuses worth another attempt; None for the generic rule (429 and 5xx). No answer
    #: at all is always worth another attempt.
    retry_statuses: frozenset[int] | None = None

    def retries(self, response: Response) -> bool:
        """Whether a failed `response` is worth another attempt under this policy."""
        if response.ok:
            return False
        if response.status is None or self.retry_statuses is None:
            return response.retryable
        return response.status in self.retry_statuses

    def delay_after(self, attempt: int, retry_after: float | None = None) -> float | None:
        """Seconds to wait after failed attempt number `attempt` (1-based); None when it was
        the last one allowed."""
        if attempt >= self.attempts:
            return None
        return min(backoff_delay(attempt, self.backoff_s, retry_after), self.max_delay_s)


@dataclass(frozen=True)
class Outcome:
    """One attempt at a payload and what follows from its answer."""

    response: Response
    #: The number of this attempt (1-based).
    attempt: int
    #: Seconds until the next attempt; None when there is none (accepted, refused, or the
    #: attempts are used up).
    retry_in: float | None

    @property
    def ok(self) -> bool:
        return self.response.ok

    @property
    def status(self) -> int | None:
        return self.response.status

    @property
    def detail(self) -> str:
        return self.response.detail


def post(
    url: str,
    body: Any,
    attempt: int,
    policy: RetryPolicy,
    *,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10.0,
) -> Outcome:
    """POST `body` as JSON once (attempt number `attempt`) and judge the answer."""
    # a refused connection or a garbled answer comes back as Response(None): no answer at all
    response = request("POST", url, json_body=body, headers=headers, timeout=timeout)
    retry_in = None
    if policy.retries(response):
        retry_in = policy.delay_after(attempt, response.retry_after)
    return Outcome(response, attempt, retry_in)


def post_with_retries(
    url: str,
    body: Any,
    policy: RetryPolicy,
    *,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10.0,
    wait: Callable[[float], bool | None],
) -> Outcome:
    """POST until the payload is accepted, refused or out of attempts; between attempts
    `wait(seconds)` is called, and a true answer from it (e.g. `threading.Event.wait` on a stop
    event) ends the retries early. Returns the last attempt's outcome."""
    attempt = 1
    while True:
        outcome = post(url, body, attempt, policy, headers=headers, timeout=timeout)
        if outcome.retry_in is None or wait(outcome.retry_in):
            return outcome
        attempt += 1
