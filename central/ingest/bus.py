"""Central's MQTT connection: movements and statuses in, acks out.

Why a persistent session (clean_session=False, fixed client id): while central restarts, the
broker queues QoS 1 movements for it, so edges rarely need to retransmit; when the broker itself
was killed, the edges' own retransmission fills the gap.
"""

from __future__ import annotations

import logging
import threading

import paho.mqtt.client as mqtt

from central.ingest.pipeline import Ingest
from tallyman import net, wire

log = logging.getLogger("tallyman.bus")


class CentralBus:
    def __init__(self, url: str, ingest: Ingest, client_id: str = "tallyman-central"):
        self.host, self.port, user, password = net.parse_broker_url(url)
        self.ingest = ingest
        self.connected = False
        self._ready = threading.Event()
        c = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=False,
            protocol=mqtt.MQTTv311,
        )
        if user:
            c.username_pw_set(user, password)
        c.max_inflight_messages_set(100)
        c.max_queued_messages_set(0)
        c.reconnect_delay_set(0.1, 2)
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.message_callback_add(wire.MOVEMENTS_SUBSCRIPTION, self._on_movements)
        c.message_callback_add(wire.STATUS_SUBSCRIPTION, self._on_status)
        self.client = c

    def start(self) -> None:
        self.client.connect_async(self.host, self.port, keepalive=10)
        self.client.loop_start()

    def wait_connected(self, timeout: float) -> bool:
        return self._ready.wait(timeout)

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=1, retain=retain)

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.error("broker refused central: %s", reason_code)
            return
        client.subscribe([(wire.MOVEMENTS_SUBSCRIPTION, 1), (wire.STATUS_SUBSCRIPTION, 1)])
        self.connected = True
        self._ready.set()
        log.info("connected to broker %s:%s", self.host, self.port)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self.connected = False
        log.warning("lost the broker (%s); reconnecting", reason_code)

    def _on_movements(self, client, userdata, msg) -> None:
        self.ingest.submit(msg.topic, msg.payload)

    def _on_status(self, client, userdata, msg) -> None:
        self.ingest.submit_status(msg.topic, msg.payload)
