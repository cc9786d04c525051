"""Publishes the outbox to central in batches and retransmits whatever central has not acked.

Why the outbox and not paho's queue: paho keeps unsent QoS 1 messages in memory, which a crash or
a kill loses. Here paho only ever carries copies; the outbox row is deleted when central's ack
(published after its ledger commit) covers the seq. On reconnect, or when acks stall for
`ack_timeout`, publishing restarts from the first unacknowledged seq and central drops the
duplicates on (device, seq).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from edge.delivery.outbox import Outbox
from tallyman import net, wire

log = logging.getLogger("tallyman.publisher")


class Publisher:
    def __init__(
        self,
        outbox: Outbox,
        site: str,
        device: str,
        broker_url: str,
        *,
        batch_size: int = 1000,
        window: int = 20_000,
        ack_timeout: float = 3.0,
        status_interval: float = 5.0,
        keepalive: int = 10,
        on_rejected: Callable[[list[dict[str, Any]]], None] | None = None,
        on_held: Callable[[list[dict[str, Any]]], None] | None = None,
    ):
        self.outbox, self.site, self.device = outbox, site, device
        self.batch_size, self.window, self.ack_timeout = batch_size, window, ack_timeout
        self.status_interval = status_interval
        self.keepalive = keepalive
        self.on_rejected = on_rejected
        #: told of counts central holds for an approver: acked (in the ledger), not an error
        self.on_held = on_held
        self.host, self.port, user, password = net.parse_broker_url(broker_url)
        self.acked = outbox.acked_upto
        self.sent = self.acked
        self.connected = False
        self.published_messages = 0
        self._acks: queue.Queue[tuple[int, list[dict[str, Any]], list[dict[str, Any]]]] = (
            queue.Queue()
        )
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._resend = threading.Event()
        self._last_progress = time.monotonic()
        self._last_status = 0.0
        self._topic = wire.movements_topic(site, device)
        self._status_topic = wire.status_topic(site, device)
        self._prefix = (
            f'{{"v":{wire.VERSION},"device":"{device}","site":"{site}","events":['
        ).encode()
        c = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"edge-{site}-{device}",
            clean_session=True,
            protocol=mqtt.MQTTv311,
        )
        if user:
            c.username_pw_set(user, password)
        c.will_set(self._status_topic, wire.encode_status("offline", -1), qos=1, retain=True)
        c.max_inflight_messages_set(50)
        c.reconnect_delay_set(0.1, 2)  # type: ignore[arg-type]  # paho says int; takes seconds
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.message_callback_add(wire.ack_topic(site, device), self._on_ack)
        self.client = c
        self._thread = threading.Thread(target=self._pump, name="publisher", daemon=True)

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        self.client.connect_async(self.host, self.port, keepalive=self.keepalive)
        self.client.loop_start()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=5)
        if self.connected:
            info = self.client.publish(
                self._status_topic, self._status("offline"), qos=1, retain=True
            )
            info.wait_for_publish(timeout=2)
        self.client.disconnect()
        self.client.loop_stop()

    def wake(self) -> None:
        """A new event is in the outbox: publish now rather than at the next tick."""
        self._wake.set()

    # --- paho callbacks (network thread) --------------------------------------------------

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason_code.is_failure:
            log.error("broker refused %s: %s", self.device, reason_code)
            return
        client.subscribe(wire.ack_topic(self.site, self.device), qos=1)
        self.connected = True
        self._resend.set()
        self._last_status = 0.0
        self._wake.set()
        log.info("connected to broker %s:%s", self.host, self.port)

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.DisconnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        self.connected = False
        log.warning("lost the broker (%s); events stay in the outbox", reason_code)

    def _on_ack(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            self._acks.put(wire.decode_ack(msg.payload))
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("ignored a malformed ack: %s", exc)
            return
        self._wake.set()

    # --- the pump thread: all outbox access -----------------------------------------------

    def _status(self, state: str) -> bytes:
        return wire.encode_status(
            state, self.outbox.queue_length(), device=self.device, site=self.site, acked=self.acked
        )

    def _pump(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(0.05)
            self._wake.clear()
            try:
                self._drain_acks()
                if self.connected:
                    self._publish_pending()
                    self._maybe_status()
            except Exception:  # keep publishing whatever a single round hit
                log.exception("publisher round failed; retrying")
                time.sleep(0.5)

    def _drain_acks(self) -> None:
        while True:
            try:
                upto, rejected, held = self._acks.get_nowait()
            except queue.Empty:
                return
            if upto < self.acked and not rejected and not held:
                continue
            self.outbox.ack(upto, rejected, wire.now_ts())
            if upto > self.acked:
                self.acked = upto
                self._last_progress = time.monotonic()
            if rejected and self.on_rejected:
                self.on_rejected(rejected)
            if held and self.on_held:
                self.on_held(held)

    def _publish_pending(self) -> None:
        now = time.monotonic()
        if self._resend.is_set():
            self._resend.clear()
            self.sent = self.acked
            self._last_progress = now
        elif self.sent > self.acked and now - self._last_progress > self.ack_timeout:
            log.info("no ack for %.1f s: resending from seq %d", self.ack_timeout, self.acked + 1)
            self.sent = self.acked
            self._last_progress = now
        if self.sent <= self.acked:
            self._last_progress = now
        while self.sent - self.acked < self.window and not self._stop.is_set():
            rows = self.outbox.pending(self.sent, self.batch_size)
            if not rows:
                return
            payload = self._prefix + ",".join(ev for _, ev in rows).encode() + b"]}"
            info = self.client.publish(self._topic, payload, qos=1)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                return  # disconnected under us: resend from acked on reconnect
            self.sent = rows[-1][0]
            self.published_messages += 1

    def _maybe_status(self) -> None:
        now = time.monotonic()
        if now - self._last_status >= self.status_interval:
            self._last_status = now
            self.client.publish(self._status_topic, self._status("online"), qos=1, retain=True)
