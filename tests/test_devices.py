"""`tallyman device add` keeps the broker's listener: whoever created the folder chose the port
(issue 12, defect 9: `tallyman up` takes a free port, and adding a device moved it to 1883)."""

from __future__ import annotations

import json
import threading

import paho.mqtt.client as mqtt

from central.access.broker import BrokerDir
from tallyman import net
from tallyman.launch.cli import main as tallyman


def add(capsys, broker_dir, device: str, *extra: str) -> str:
    """The device's broker URL, as `tallyman device add --json` prints it."""
    argv = ["device", "add", device, "--site", "DC1", "--broker-dir", str(broker_dir), "--json"]
    assert tallyman([*argv, *extra]) == 0
    return json.loads(capsys.readouterr().out)["broker_url"]


def logs_in(url: str) -> bool:
    """Whether the broker at `url` accepts its user and password (CONNACK success)."""
    host, port, user, password = net.parse_broker_url(url)
    answered, accepted = threading.Event(), []

    def on_connect(client, userdata, flags, reason_code, properties):
        accepted.append(not reason_code.is_failure)
        answered.set()

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-{user}")
    client.username_pw_set(user, password)
    client.on_connect = on_connect
    try:
        client.connect(host, port, keepalive=5)
    except OSError:
        return False
    client.loop_start()
    try:
        return answered.wait(5) and accepted == [True]
    finally:
        client.disconnect()
        client.loop_stop()


def test_adding_a_device_keeps_the_running_brokers_port(broker, capsys):
    assert broker.port != 1883  # the shared fixture's broker, on a free port
    url = add(capsys, broker.path, "hh-07")
    assert url.endswith(f"@127.0.0.1:{broker.port}")
    assert BrokerDir(broker.path).listener() == (broker.port, "127.0.0.1")
    assert logs_in(url), "the new device cannot log in to the running broker"


def test_an_explicit_port_moves_the_listener_and_later_adds_keep_it(tmp_path, capsys):
    folder = tmp_path / "broker"
    BrokerDir(folder, port=18999).init()
    assert add(capsys, folder, "hh-01", "--port", "19001").endswith("@127.0.0.1:19001")
    assert BrokerDir(folder).listener() == (19001, "127.0.0.1")
    assert add(capsys, folder, "hh-02").endswith("@127.0.0.1:19001")


def test_a_new_folder_listens_on_1883(tmp_path, capsys):
    assert add(capsys, tmp_path / "new", "hh-01").endswith("@127.0.0.1:1883")
    assert BrokerDir(tmp_path / "new").listener() == (1883, "127.0.0.1")
