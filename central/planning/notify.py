"""Where alert changes go: the site's MQTT alerts topic and configured webhooks.

MQTT: one message per site and batch of changes on `tallyman/v1/{site}/alerts`, QoS 1, **not
retained**. A retained message is the last one on a topic; the last *change* is not the state
(a handheld connecting after "A1 closed" would see only that), and a retained snapshot of every
open alert of a busy site would be republished whole on every scan. The current state is
`GET /api/alerts?site=`; the topic carries what changed, as it changes.

Webhooks: POSTed from a background thread with a timeout and retries with exponential backoff
(`tallyman.webhook`, the same sending and backoff as the supplier PO sends), so neither the
ingest nor the planning worker ever waits on a slow or dead endpoint; the queue is bounded and
drops the oldest payload (logged) when an endpoint stays down. The one thread waits between
tries itself, so a hook's Retry-After is honoured only up to 30 s or its longest backoff
(`central.planning.settings.Webhook.retry_policy`): one endpoint cannot hold the others back
for minutes.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from central.planning.core.alerts import TIER_NAMES
from central.planning.settings import Webhook
from tallyman import webhook, wire

log = logging.getLogger("tallyman.planning")

#: Payloads waiting for webhooks; beyond this the oldest is dropped.
MAX_PENDING = 10_000

Publish = Callable[[str, bytes, bool], None]


def public(record: dict) -> dict:
    """An alert change as published (the internal series number left out)."""
    return {k: v for k, v in record.items() if k != "series"}


def by_site(records: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in records:
        out.setdefault(r["site"], []).append(public(r))
    return out


def publish_mqtt(publish: Publish | None, records: list[dict]) -> None:
    """One non-retained QoS 1 message per site: `{"v": 1, "site", "changes": [...]}`."""
    if publish is None or not records:
        return
    for site, changes in by_site(records).items():
        payload = json.dumps({"v": 1, "site": site, "changes": changes}).encode()
        try:
            publish(wire.alerts_topic(site), payload, False)
        except Exception:  # the broker being away must not stop alerting; the API has it all
            log.exception("publishing alerts for %s failed", site)


def _worst(record: dict) -> int:
    return max(TIER_NAMES.index(record["tier"]), TIER_NAMES.index(record["prev_tier"]))


@dataclass
class WebhookSender:
    """Background POSTs of alert changes to every configured webhook."""

    hooks: tuple[Webhook, ...]
    sent: int = 0
    failed: int = 0
    dropped: int = 0
    _queue: queue.Queue = field(default_factory=lambda: queue.Queue(MAX_PENDING))
    _thread: threading.Thread | None = None
    _stop: threading.Event = field(default_factory=threading.Event)

    def submit(self, records: list[dict]) -> None:
        """Queue the changes for every hook whose tier filter they pass (never blocks)."""
        for hook in self.hooks:
            picked = [public(r) for r in records if _worst(r) >= hook.min_tier_code]
            if not picked:
                continue
            item = (hook, {"v": 1, "changes": picked})
            while True:
                try:
                    self._queue.put_nowait(item)
                    break
                except queue.Full:
                    try:
                        self._queue.get_nowait()
                        self.dropped += 1
                        log.warning("webhook queue full: dropped the oldest alert payload")
                    except queue.Empty:
                        pass

    def start(self) -> None:
        if self._thread is None and self.hooks:
            self._thread = threading.Thread(target=self._run, name="planning-webhooks", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def pending(self) -> int:
        return self._queue.qsize()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                hook, body = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            self.deliver(hook, body)

    def deliver(self, hook: Webhook, body: dict) -> bool:
        """POST one payload, retrying on no answer, 429 and 5xx; True when accepted. A stop
        ends the waits between retries at once."""
        outcome = webhook.post_with_retries(
            hook.url,
            body,
            hook.retry_policy,
            headers=hook.headers,
            timeout=hook.timeout_s,
            wait=self._stop.wait,
        )
        if outcome.ok:
            self.sent += 1
            return True
        self.failed += 1
        log.warning(
            "webhook %s gave up after %d attempt(s): %s", hook.url, outcome.attempt, outcome.detail
        )
        return False
