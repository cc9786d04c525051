"""Ranged edge settings are checked whichever source they come from: the [edge] table and the
TALLYMAN_EDGE_* variables skip click's types, so `check_settings` holds the ranges."""

from __future__ import annotations

import dataclasses
import os

import pytest
from click.testing import CliRunner

from edge import main as edge_main
from edge.main import EdgeSettings, check_settings
from tallyman.config import ConfigError

BASE = EdgeSettings(device="hh-01", site="DC1", outbox="out.db")

BAD = [
    ("batch", "0", "must be at least 1"),
    ("batch", "-5", "must be at least 1"),
    ("keepalive", "0", "must be greater than 0"),
    ("ack_timeout", "0.0", "must be greater than 0"),
    ("ack_timeout", "-1.5", "must be greater than 0"),
    ("rfid_window", "0", "must be greater than 0"),
]


@pytest.fixture
def started(monkeypatch):
    """The settings `tallyman edge` would run with; nothing is started."""
    seen: list[EdgeSettings] = []
    monkeypatch.setattr(edge_main, "run", seen.append)
    for key in [k for k in os.environ if k.startswith("TALLYMAN_EDGE_")]:
        monkeypatch.delenv(key)
    return seen


def invoke(args, env=None):
    return CliRunner().invoke(edge_main.command, args, env=env, catch_exceptions=False)


def assert_refused(result, started, name, message):
    assert result.exit_code == 1 and not started, result.output
    assert f"TALLYMAN_EDGE_{name.upper()}" in result.output and message in result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize(("name", "value", "message"), BAD)
def test_a_bad_value_from_the_environment_is_refused(started, name, value, message):
    env = {
        "TALLYMAN_EDGE_DEVICE": "hh-01",
        "TALLYMAN_EDGE_SITE": "DC1",
        "TALLYMAN_EDGE_OUTBOX": "out.db",
        f"TALLYMAN_EDGE_{name.upper()}": value,
    }
    assert_refused(invoke([], env=env), started, name, message)


@pytest.mark.parametrize(("name", "value", "message"), BAD)
def test_a_bad_value_from_the_file_is_refused(started, tmp_path, name, value, message):
    cfg = tmp_path / "edge.toml"
    cfg.write_text(f'[edge]\ndevice = "hh-01"\nsite = "DC1"\noutbox = "o"\n{name} = {value}\n')
    assert_refused(invoke(["--config", str(cfg)]), started, name, message)


@pytest.mark.parametrize(
    ("option", "value"), [("--keepalive", "0"), ("--ack-timeout", "-1"), ("--rfid-window", "0")]
)
def test_a_bad_value_on_the_command_line_is_refused(started, option, value):
    result = invoke(["--device", "hh-01", "--site", "DC1", "--outbox", "o", option, value])
    assert result.exit_code == 1 and not started
    assert option in result.output and "must be greater than 0" in result.output


def test_the_least_good_values_pass():
    s = dataclasses.replace(BASE, batch=1, keepalive=1, ack_timeout=0.01, rfid_window=0.01)
    assert check_settings(s).batch == 1


def test_not_a_number_is_not_greater_than_zero():
    with pytest.raises(ConfigError, match="--ack-timeout"):
        check_settings(dataclasses.replace(BASE, ack_timeout=float("nan")))


def test_the_sku_pattern_reaches_the_edges_decoder(tmp_path):
    """`--sku-pattern` (any source) is what the running edge judges plain SKU scans by."""
    from edge.delivery.outbox import Outbox
    from edge.main import EdgeSettings, options
    from edge.service import Edge, Screen
    from edge.session import Session

    class NoPublisher:
        def wake(self) -> None:
            pass

    s = EdgeSettings(device="hh-01", site="DC1", outbox="x", sku_pattern=r"[A-Z]{2}\d{3}")
    e = Edge(
        Outbox(tmp_path / "hh.outbox"),
        Session(site="DC1"),
        NoPublisher(),
        Screen(),
        options=options(s),
    )
    e.scan("LOC:DC1/A-01")
    assert e.scan("AB123")[0]
    ok, why = e.scan("ABC-9")
    assert not ok and "ABC-9" in why
