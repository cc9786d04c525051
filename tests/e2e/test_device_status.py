"""The status topic and its MQTT will: central knows when a device goes silent."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import get_json, wait_until

pytestmark = pytest.mark.e2e


def device_state(central, device):
    for d in get_json(f"{central.api}/health")["devices"]:
        if d["device"] == device:
            return d["state"]
    return None


def test_will_marks_a_killed_edge_offline(stack):
    central, add_edge = stack
    edge = add_edge("hh-1", "DC1", "--keepalive", "1")
    wait_until(lambda: device_state(central, "hh-1") == "online", 20, "online status")
    edge.kill()  # no clean disconnect: only the broker's will can tell
    wait_until(lambda: device_state(central, "hh-1") == "offline", 20, "the will: offline")
    edge.start()
    wait_until(lambda: device_state(central, "hh-1") == "online", 20, "online again")
