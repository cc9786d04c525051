"""`tallyman device add|list`: broker logins and topic rights of handhelds and fixed readers.

Why each device has its own login: the broker's ACL then lets a device write only its own
movements topic and read only its own acks and its site's alerts and tasks, so a stolen handheld
cannot speak for another. The password is shown once, inside the device's broker URL.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import click

from tallyman.console import emit, fail, json_option

broker_dir_option = click.option(
    "--broker-dir",
    default="var/broker",
    show_default=True,
    metavar="DIR",
    help="the broker's config folder (mosquitto.conf, passwd, acl, devices.json)",
)


@click.group("device")
def command() -> None:
    """Broker logins and topic rights of devices (handhelds, dock readers)."""


@command.command("add")
@click.argument("device")
@click.option("--site", required=True, metavar="SITE", help="the device's site, e.g. DC1")
@broker_dir_option
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    metavar="PORT",
    help="a new port for the broker's listener, written into its config and the device's URL "
    "(default: keep the folder's listener; 1883 for a new folder)",
)
@json_option
def add(device: str, site: str, broker_dir: str, port: int | None, as_json: bool) -> None:
    """Create or re-key DEVICE's broker login and ACL (an id like hh-01).

    Prints its broker URL with a fresh password, once: give it to the edge as --broker.
    A running broker reloads its logins at once (a new --port needs a restart).
    """
    from central.access.broker import BrokerDir

    broker = BrokerDir.open(Path(broker_dir), port=port)
    try:
        broker.init()
        url = broker.add_device(device, site)
    except ValueError as exc:
        fail(str(exc))
    except FileNotFoundError as exc:
        fail(f"{exc.filename or exc}: not found (is mosquitto installed? scripts/setup does it)")
    except subprocess.CalledProcessError as exc:
        fail(f"mosquitto_passwd failed: {(exc.stderr or b'').decode(errors='replace').strip()}")
    if as_json:
        emit({"device": device, "site": site, "broker_url": url}, True)
    else:
        click.echo(f"device {device} at {site}; its broker URL (shown once):\n{url}")


@command.command("list")
@broker_dir_option
@json_option
def list_(broker_dir: str, as_json: bool) -> None:
    """Registered devices and their sites."""
    from central.access.broker import BrokerDir

    devices = BrokerDir(Path(broker_dir)).devices()
    rows = [{"device": d, "site": s} for d, s in sorted(devices.items())]
    emit(rows, as_json, ("device", "site"))
