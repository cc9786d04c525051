"""tallyman.net: the one parser for HOST:PORT and broker URLs, and waiting for a listener."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from tallyman.net import free_port, parse_broker_url, parse_hostport, port_open, wait_port


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:8080", ("127.0.0.1", 8080)),
        ("0.0.0.0:0", ("0.0.0.0", 0)),
        (":9000", ("127.0.0.1", 9000)),
        (" localhost:80 ", ("localhost", 80)),
        ("[::1]:8080", ("::1", 8080)),
    ],
)
def test_parse_hostport(text, expected):
    assert parse_hostport(text) == expected


@pytest.mark.parametrize("text", ["8080", "host", "host:", "host:http", "host:70000", "host:-1"])
def test_parse_hostport_refuses(text):
    with pytest.raises(ValueError, match="is not HOST:PORT"):
        parse_hostport(text)


def test_parse_hostport_default_host():
    assert parse_hostport(":1", default_host="0.0.0.0") == ("0.0.0.0", 1)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mqtt://127.0.0.1:1883", ("127.0.0.1", 1883, None, None)),
        ("mqtt://hh-01:p%40ss@broker:1884", ("broker", 1884, "hh-01", "p@ss")),
        ("tcp://broker", ("broker", 1883, None, None)),
        ("broker:1999", ("broker", 1999, None, None)),
    ],
)
def test_parse_broker_url(url, expected):
    assert parse_broker_url(url) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [("http://broker", "must start with mqtt://"), ("mqtt://broker:99999", "bad port")],
)
def test_parse_broker_url_refuses(url, message):
    with pytest.raises(ValueError, match=message):
        parse_broker_url(url)


def test_port_open_and_wait_port():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert port_open("127.0.0.1", port)
        wait_port("127.0.0.1", port, timeout=1)
    port = free_port()
    assert not port_open("127.0.0.1", port)
    with pytest.raises(TimeoutError, match=f"nothing listens on 127.0.0.1:{port}"):
        wait_port("127.0.0.1", port, timeout=0.2)


def test_wait_port_gives_up_when_the_process_exits():
    proc = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    proc.wait()
    with pytest.raises(RuntimeError, match="exited with 3"):
        wait_port("127.0.0.1", free_port(), timeout=10, alive=proc)
