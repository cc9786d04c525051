"""`tallyman edge`: one device's edge service, built from its settings, started and stopped.

Why the settings are a dataclass read by `tallyman.config`: a fixed reader at a dock door is set up
once, in a file or the environment of its service unit, not by a long command line; the same
names work in all three places and a misspelt one is refused. This module imports only light
things at the top so that `tallyman edge --help` answers at once; the readers, the decoder and
the MQTT client load when the edge starts.
"""

from __future__ import annotations

import dataclasses
import logging
import signal
import sys
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click
from click.core import ParameterSource

from edge.decoding.scan import MODES
from edge.devices.framing import PRESETS
from tallyman import net, wire
from tallyman.config import ConfigError, load
from tallyman.console import broker_option, fail, site_option

if TYPE_CHECKING:
    from edge.decoding.decoder import DecodeOptions
    from edge.devices.rfid_reader import RfidDriver
    from edge.devices.serial_port import SerialReader
    from edge.service import Edge

SECTION = "edge"
ENV_PREFIX = "TALLYMAN_EDGE_"


@dataclass(frozen=True)
class EdgeSettings:
    """Everything `tallyman edge` can be told; each field is also an option (`_` → `-`), a key of
    the `[edge]` table and a `TALLYMAN_EDGE_<NAME>` variable. Empty device, site and outbox mean
    "not given": they are required, but may come from any of the three."""

    device: str = ""
    site: str = ""
    outbox: str = ""
    broker: str = net.DEFAULT_BROKER
    barcode: str | None = None
    suffix: str = "crlf"
    rfid: str | None = None
    rfid_window: float = 2.0
    rfid_min_rssi: int = -70
    loc: str | None = None
    mode: str | None = None
    to_loc: str | None = None
    operator: str | None = None
    gln: tuple[str, ...] = ()
    http: str | None = None
    batch: int = 1000
    ack_timeout: float = 3.0
    keepalive: int = 10
    sku_pattern: str | None = None
    rcn: tuple[str, ...] = ()


DEFAULTS = EdgeSettings()


def check_settings(s: EdgeSettings) -> EdgeSettings:
    """The settings with mode and suffix normalised; a ConfigError names the first bad one."""
    for name in ("device", "site", "outbox"):
        if not getattr(s, name):
            raise ConfigError(
                f"--{name} is required (or `{name}` in the [{SECTION}] table of --config, "
                f"or ${ENV_PREFIX}{name.upper()})"
            )
    if not wire.valid_id(s.device) or not wire.valid_id(s.site):
        raise ConfigError("--device and --site must be ids like hh-01, STORE1 (no '/', '+', '#')")
    for label, value in (("--loc", s.loc), ("--to-loc", s.to_loc)):
        if value is not None and not wire.valid_loc(value):
            raise ConfigError(f"{label} must look like SITE/BIN, got {value!r}")
    if s.loc is not None and wire.site_of(s.loc) != s.site:
        raise ConfigError(f"--loc {s.loc} is not at --site {s.site}")
    mode = s.mode.upper() if s.mode is not None else None
    if mode is not None and mode not in MODES:
        raise ConfigError(f"--mode must be one of {', '.join(MODES)}, got {s.mode!r}")
    suffix = s.suffix.strip().lower()
    if suffix not in PRESETS:
        raise ConfigError(f"--suffix must be one of {', '.join(PRESETS)}, got {s.suffix!r}")
    parse_gln(s.gln)
    check_ranges(s)
    options(s)
    try:
        if s.http is not None:
            net.parse_hostport(s.http)
    except ValueError as e:
        raise ConfigError(f"--http: {e}") from None
    try:
        net.parse_broker_url(s.broker)
    except ValueError as e:
        raise ConfigError(f"--broker: {e}") from None
    return dataclasses.replace(s, mode=mode, suffix=suffix)


# The numeric settings and the least each may be. The file and the environment skip click's
# types, so the ranges are checked here, once, for all three sources.
MINIMUM = {"batch": 1}
POSITIVE = ("rfid_window", "ack_timeout", "keepalive")


def check_ranges(s: EdgeSettings) -> None:
    """Refuse a value that would start an edge that cannot work (batch 0 never publishes)."""
    for name, least in MINIMUM.items():
        if getattr(s, name) < least:
            raise ConfigError(f"{setting(name)} must be at least {least}, got {getattr(s, name)!r}")
    for name in POSITIVE:
        if not getattr(s, name) > 0:
            raise ConfigError(f"{setting(name)} must be greater than 0, got {getattr(s, name)!r}")


def setting(name: str) -> str:
    """A setting named in all three places it may come from, since any of them may be wrong."""
    return f"--{name.replace('_', '-')} ({name} in [{SECTION}], ${ENV_PREFIX}{name.upper()})"


def options(s: EdgeSettings) -> DecodeOptions:
    """The decoder's options (SKU pattern, RCN layouts); a ConfigError names the bad one."""
    from edge.decoding.decoder import decode_options

    try:
        return decode_options(s.sku_pattern, s.rcn)
    except ValueError as e:
        raise ConfigError(f"--sku-pattern/--rcn: {e}") from None


def parse_gln(values: tuple[str, ...]) -> dict[str, str]:
    """`GLN=SITE` pairs → {gln: site}, for location labels that carry a GLN (AI 414)."""
    out = {}
    for v in values:
        gln, sep, site = v.partition("=")
        if not sep or not gln or not wire.valid_id(site):
            raise ConfigError(f"--gln must look like GLN=SITE (e.g. 5901234123457=DC1), got {v!r}")
        out[gln] = site
    return out


# --- building and running ---------------------------------------------------------------------


def build(s: EdgeSettings) -> Edge:
    """The edge's parts from checked settings; nothing runs until `Edge.start`."""
    from edge.delivery.outbox import Outbox
    from edge.delivery.publisher import Publisher
    from edge.service import Edge, Screen
    from edge.session import Session

    outbox = Outbox(s.outbox)
    session = Session(site=s.site, operator=s.operator, gln_sites=parse_gln(s.gln))
    session.restore(outbox.load_context())
    session.restore(fixed_context(s))
    publisher = Publisher(
        outbox,
        s.site,
        s.device,
        s.broker,
        batch_size=s.batch,
        ack_timeout=s.ack_timeout,
        keepalive=s.keepalive,
    )
    edge = Edge(outbox, session, publisher, Screen(), options=options(s))
    publisher.on_rejected = edge.on_rejected
    publisher.on_held = edge.on_held
    if s.barcode:
        edge.reader = barcode_reader(s.barcode, s.suffix, edge)
    if s.rfid:
        edge.rfid = rfid_driver(s.rfid, s, edge)
    return edge


def fixed_context(s: EdgeSettings) -> dict[str, str]:
    """A fixed reader (a dock door, a portal) has no labels to scan: its place and mode come from
    the settings, and one given there wins over the context saved before a restart."""
    given = {"loc": s.loc, "mode": MODES[s.mode] if s.mode else None, "to_loc": s.to_loc}
    return {k: v for k, v in given.items() if v is not None}


def barcode_reader(url: str, suffix: str, edge: Edge) -> SerialReader:
    from edge.devices.framing import framing_preset
    from edge.devices.serial_port import SerialReader

    prefix, end = framing_preset(suffix)
    return SerialReader(
        url,
        prefix=prefix,
        suffix=end,
        on_frame=edge.on_frame,
        on_error=edge.on_bad_frame,
        on_state=lambda state: edge.screen.show("SCANNER", state),
    )


def rfid_driver(url: str, s: EdgeSettings, edge: Edge) -> RfidDriver:
    from edge.devices.rfid_reader import RfidDriver

    return RfidDriver(
        url,
        on_tag=edge.on_tag,
        on_error=lambda reason: edge.screen.show("ERR", reason),
        on_state=lambda state: edge.screen.show("RFID", state),
        window_s=s.rfid_window,
        min_rssi=s.rfid_min_rssi,
    )


def run(s: EdgeSettings) -> None:
    """Start the edge, serve its page if asked, and stop it cleanly on SIGINT or SIGTERM."""
    logging.basicConfig(
        level=logging.INFO, format=f"%(asctime)s edge {s.device} %(levelname)s %(message)s"
    )
    edge = build(s)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    edge.start()
    if s.http:
        from edge.handheld import serve

        serve(edge, *net.parse_hostport(s.http))
    print(f"edge {s.device}@{s.site}: outbox {s.outbox}, next seq {edge.outbox.next_seq}")
    sys.stdout.flush()
    stop.wait()
    edge.stop()


# --- the command ------------------------------------------------------------------------------


def given_options(ctx: click.Context, options: dict[str, Any]) -> dict[str, Any]:
    """The options typed on the command line: only these override the file and environment."""
    return {
        name: value
        for name, value in options.items()
        if ctx.get_parameter_source(name)
        not in (None, ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP)
    }


@click.command(
    epilog="Every option is also a key of the [edge] table of --config (rfid_window for "
    "--rfid-window; gln as a list) and a variable TALLYMAN_EDGE_<KEY> "
    "(TALLYMAN_EDGE_DEVICE=hh-01); "
    "an option given here wins over both, and the environment over the file."
)
@click.option(
    "--config",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="TOML file whose [edge] table holds these settings",
)
@click.option("--device", metavar="ID", help="this device's id, e.g. hh-01 (required)")
@site_option
@click.option("--outbox", metavar="PATH", help="SQLite outbox file, created if missing (required)")
@broker_option
@click.option(
    "--barcode", metavar="URL", help="serial URL of the barcode scanner (pty path, socket://…)"
)
@click.option(
    "--suffix",
    type=click.Choice(list(PRESETS), case_sensitive=False),
    default=DEFAULTS.suffix,
    show_default=True,
    help="how the scanner ends each frame",
)
@click.option("--rfid", metavar="URL", help="serial URL of an M100-family UHF RFID reader")
@click.option(
    "--rfid-window",
    type=float,
    default=DEFAULTS.rfid_window,
    show_default=True,
    metavar="SECONDS",
    help="seconds a tag must be out of the field before it is read again",
)
@click.option(
    "--rfid-min-rssi",
    type=int,
    default=DEFAULTS.rfid_min_rssi,
    show_default=True,
    metavar="DBM",
    help="weaker tag reads are ignored",
)
@click.option("--loc", metavar="SITE/BIN", help="starting location (a fixed reader's place)")
@click.option(
    "--mode",
    type=click.Choice(list(MODES), case_sensitive=False),
    help="starting mode (a fixed reader's job)",
)
@click.option("--to-loc", metavar="SITE/BIN", help="starting destination for PUTAWAY or SHIP")
@click.option("--operator", metavar="NAME", help="operator recorded with every event")
@click.option(
    "--gln",
    multiple=True,
    metavar="GLN=SITE",
    help="the site a GLN on a location label (AI 414) stands for; repeat for more",
)
@click.option(
    "--sku-pattern",
    metavar="REGEX",
    help="what a plain SKU scan may look like (default: 1-64 letters, digits and - . _ /; "
    "URIs and damaged numeric reads are never SKUs)",
)
@click.option(
    "--rcn",
    multiple=True,
    metavar="PREFIX=KIND[:LAYOUT[:DECIMALS[:UNIT]]]",
    help="layout of an in-store variable-measure code (prefix 02, 20-29); repeat for more; "
    "see docs/scanning.md",
)
@click.option("--http", metavar="HOST:PORT", help="serve the handheld page here")
@click.option(
    "--batch",
    type=click.IntRange(min=1),
    default=DEFAULTS.batch,
    show_default=True,
    help="events per MQTT message",
)
@click.option(
    "--ack-timeout",
    type=float,
    default=DEFAULTS.ack_timeout,
    show_default=True,
    metavar="SECONDS",
    help="resend from the first unacknowledged event after this long without an ack",
)
@click.option(
    "--keepalive",
    type=int,
    default=DEFAULTS.keepalive,
    show_default=True,
    metavar="SECONDS",
    help="MQTT keepalive; the broker declares the device offline after 1.5×",
)
def command(config: str | None, **options: Any) -> None:
    """Run one device's edge: read a barcode scanner and/or an RFID reader, commit each movement
    to the outbox, and publish the outbox to central until central acknowledges it.

    --device, --site and --outbox must be set here, in the --config file or in the environment.
    Runs until SIGINT or SIGTERM.
    """
    try:
        settings = load(EdgeSettings, config, section=SECTION, env_prefix=ENV_PREFIX)
        given = given_options(click.get_current_context(), options)
        settings = check_settings(dataclasses.replace(settings, **given))
    except ConfigError as e:
        fail(str(e))
    run(settings)
