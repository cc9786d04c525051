"""`tallyman edge` settings: defaults < the [edge] table < TALLYMAN_EDGE_* < options."""

from __future__ import annotations

import dataclasses
import os

import pytest
from click.testing import CliRunner

from edge import main as edge_main
from edge.main import EdgeSettings, check_settings, fixed_context, parse_gln
from tallyman.config import ConfigError

REQUIRED = ["--device", "hh-01", "--site", "DC1", "--outbox", "out.db"]


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


def test_options_alone(started):
    result = invoke(
        [*REQUIRED, "--mode", "ship", "--loc", "DC1/DOCK", "--gln", "5901234123457=DC1"]
    )
    assert result.exit_code == 0, result.output
    (s,) = started
    assert (s.device, s.site, s.outbox, s.mode) == ("hh-01", "DC1", "out.db", "SHIP")
    assert s.gln == ("5901234123457=DC1",)
    assert s.broker == "mqtt://127.0.0.1:1883" and s.batch == 1000


def test_file_then_environment_then_options(started, tmp_path):
    cfg = tmp_path / "edge.toml"
    cfg.write_text(
        '[edge]\ndevice = "dock-1"\nsite = "DC1"\noutbox = "/var/lib/edge.db"\n'
        'rfid_window = 0.5\nbatch = 50\nkeepalive = 30\ngln = ["5901234123457=DC1"]\n'
        "[central]\nwhatever = 1\n"
    )
    env = {"TALLYMAN_EDGE_BATCH": "200", "TALLYMAN_EDGE_MODE": "receive"}
    result = invoke(["--config", str(cfg), "--keepalive", "5"], env=env)
    assert result.exit_code == 0, result.output
    (s,) = started
    assert (s.device, s.outbox, s.rfid_window, s.gln) == (
        "dock-1",
        "/var/lib/edge.db",
        0.5,
        ("5901234123457=DC1",),
    )
    assert s.batch == 200  # the environment over the file
    assert s.keepalive == 5  # an option over the file
    assert s.mode == "RECEIVE"
    assert s.suffix == "crlf"  # a default left alone does not hide the file's value


def test_an_option_at_its_default_value_still_wins(started, tmp_path):
    cfg = tmp_path / "edge.toml"
    cfg.write_text('[edge]\ndevice = "d"\nsite = "S"\noutbox = "o"\nbatch = 50\n')
    assert invoke(["--config", str(cfg), "--batch", "1000"]).exit_code == 0
    assert started[0].batch == 1000


def test_unknown_key_is_refused_with_file_and_key(started, tmp_path):
    cfg = tmp_path / "edge.toml"
    cfg.write_text('[edge]\ndevice = "d"\nsite = "S"\noutbox = "o"\nkeepalvie = 3\n')
    result = invoke(["--config", str(cfg)])
    assert result.exit_code == 1 and not started
    assert "keepalvie" in result.output and "edge.toml [edge]" in result.output


def test_unknown_environment_variable_is_refused(started):
    result = invoke(REQUIRED, env={"TALLYMAN_EDGE_BATCHSIZE": "5"})
    assert result.exit_code == 1 and "TALLYMAN_EDGE_BATCHSIZE" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--site", "DC1", "--outbox", "o"], "--device is required"),
        ([*REQUIRED[:2], "--site", "D/C", "--outbox", "o"], "must be ids"),
        ([*REQUIRED, "--loc", "STORE1/A"], "is not at --site DC1"),
        ([*REQUIRED, "--to-loc", "nowhere"], "--to-loc must look like SITE/BIN"),
        ([*REQUIRED, "--http", "8080"], "--http: address '8080' is not HOST:PORT"),
        ([*REQUIRED, "--broker", "http://x"], "--broker: broker URL must start with mqtt://"),
        ([*REQUIRED, "--gln", "5901234123457"], "--gln must look like GLN=SITE"),
    ],
)
def test_bad_settings_are_one_line(started, args, message):
    result = invoke(args)
    assert result.exit_code == 1 and not started
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_mode_and_suffix_from_a_file_are_checked_and_normalised():
    base = EdgeSettings(device="d", site="DC1", outbox="o")
    s = check_settings(dataclasses.replace(base, mode="ship", suffix="STX-ETX"))
    assert (s.mode, s.suffix) == ("SHIP", "stx-etx")
    with pytest.raises(ConfigError, match="--mode must be one of"):
        check_settings(dataclasses.replace(base, mode="FLY"))
    with pytest.raises(ConfigError, match="--suffix must be one of"):
        check_settings(dataclasses.replace(base, suffix="nul"))


def test_fixed_context_maps_the_mode_to_its_movement_type():
    s = EdgeSettings(device="d", site="DC1", outbox="o", loc="DC1/DOCK", mode="SHIP")
    assert fixed_context(s) == {"loc": "DC1/DOCK", "mode": "transfer_out"}
    assert fixed_context(EdgeSettings()) == {}


def test_parse_gln():
    assert parse_gln(("5901234123457=DC1", "4012345000009=STORE1")) == {
        "5901234123457": "DC1",
        "4012345000009": "STORE1",
    }
