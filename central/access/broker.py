"""The mosquitto broker Tallyman runs: config, per-device credentials and ACLs, the process.

Why per-device ACLs: a handheld may publish movements and status only under its own
`tallyman/v1/{site}/{device}/…` topics and read only its own acks and its site's alerts and
tasks, so a stolen or misconfigured device cannot write stock for another site or device.
Passwords are hashed by mosquitto's own `mosquitto_passwd`.
"""

from __future__ import annotations

import getpass
import json
import os
import secrets
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tallyman import wire
from tallyman.net import wait_port

CENTRAL_USER = "central"


def mosquitto_binary() -> str:
    found = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(found).exists():
        raise FileNotFoundError("mosquitto is not installed; run scripts/setup")
    return found


@dataclass
class BrokerDir:
    """A folder with mosquitto.conf, passwd, acl, devices.json and the persistence file."""

    path: Path
    port: int = 1883
    host: str = "127.0.0.1"

    def __post_init__(self) -> None:
        self.path = Path(self.path).resolve()

    @classmethod
    def open(cls, path: Path, port: int | None = None) -> BrokerDir:
        """The folder at `path` keeping the listener its mosquitto.conf already has, unless
        `port` is given.

        Why: whoever created the folder chose the port (`tallyman up` takes a free one); adding
        a device rewrites the config, and must not move a running broker's listener to 1883.
        """
        broker = cls(path)
        listener = broker.listener()
        if listener is not None:
            broker.port, broker.host = listener
        if port is not None:
            broker.port = port
        return broker

    def listener(self) -> tuple[int, str] | None:
        """(port, host) of the listener in the folder's mosquitto.conf; None without one."""
        conf = self.path / "mosquitto.conf"
        if not conf.exists():
            return None
        for line in conf.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[0] == "listener" and parts[1].isdigit():
                return int(parts[1]), parts[2] if len(parts) > 2 else self.host
        return None

    @property
    def devices_file(self) -> Path:
        return self.path / "devices.json"

    def devices(self) -> dict[str, str]:
        if not self.devices_file.exists():
            return {}
        return json.loads(self.devices_file.read_text())

    def init(self) -> str:
        """Create the folder and central's credentials; returns central's broker URL."""
        self.path.mkdir(parents=True, exist_ok=True)
        (self.path / "passwd").touch(mode=0o600)
        creds = self.path / "central.secret"
        if not creds.exists():
            creds.write_text(self._set_password(CENTRAL_USER))
            creds.chmod(0o600)
        if not self.devices_file.exists():
            self.devices_file.write_text("{}")
        self.write_config()
        return self.url(CENTRAL_USER, creds.read_text().strip())

    def url(self, user: str, password: str) -> str:
        return f"mqtt://{user}:{password}@{self.host}:{self.port}"

    def _set_password(self, user: str) -> str:
        password = secrets.token_urlsafe(18)
        subprocess.run(
            [shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd", "-b"]
            + [str(self.path / "passwd"), user, password],
            check=True,
            capture_output=True,
        )
        return password

    def add_device(self, device: str, site: str) -> str:
        """Register (or re-key) a device; returns its broker URL with a fresh password."""
        if not wire.valid_id(device) or not wire.valid_id(site):
            raise ValueError("device and site must be ids like hh-01, STORE1")
        if device == CENTRAL_USER:
            raise ValueError(f"{CENTRAL_USER!r} is reserved")
        devices = self.devices()
        devices[device] = site
        self.devices_file.write_text(json.dumps(devices, indent=1, sort_keys=True))
        password = self._set_password(device)
        self.write_config()
        self.reload()
        return self.url(device, password)

    def acl(self) -> str:
        lines = [f"user {CENTRAL_USER}", f"topic readwrite {wire.PREFIX}/#", ""]
        for device, site in sorted(self.devices().items()):
            lines += [
                f"user {device}",
                f"topic write {wire.movements_topic(site, device)}",
                f"topic readwrite {wire.status_topic(site, device)}",
                f"topic read {wire.ack_topic(site, device)}",
                f"topic read {wire.alerts_topic(site)}",
                f"topic read {wire.tasks_topic(site)}",
                "",
            ]
        return "\n".join(lines)

    def write_config(self) -> Path:
        (self.path / "acl").write_text(self.acl())
        conf = self.path / "mosquitto.conf"
        conf.write_text(
            "\n".join(
                [
                    # mosquitto started as root drops to user "mosquitto", which could not
                    # read this folder: stay the user that owns it.
                    f"user {getpass.getuser()}",
                    f"listener {self.port} {self.host}",
                    "allow_anonymous false",
                    f"password_file {self.path / 'passwd'}",
                    f"acl_file {self.path / 'acl'}",
                    "persistence true",
                    f"persistence_location {self.path}/",
                    "autosave_interval 1",
                    "max_queued_messages 100000",
                    "max_inflight_messages 100",
                    f"max_packet_size {wire.MAX_PAYLOAD_BYTES * 4}",
                    f"pid_file {self.path / 'mosquitto.pid'}",
                    "log_dest stderr",
                    "log_type error",
                    "log_type warning",
                    "",
                ]
            )
        )
        return conf

    def reload(self) -> None:
        """Make a running broker re-read passwords and ACLs (SIGHUP)."""
        pid_file = self.path / "mosquitto.pid"
        if pid_file.exists():
            try:
                os.kill(int(pid_file.read_text().strip()), signal.SIGHUP)
            except (ProcessLookupError, ValueError, PermissionError):
                pass

    def start(self, log_path: Path | None = None) -> subprocess.Popen:
        conf = self.write_config()
        out = open(log_path or self.path / "mosquitto.log", "ab")  # noqa: SIM115
        proc = subprocess.Popen([mosquitto_binary(), "-c", str(conf)], stdout=out, stderr=out)
        wait_port(self.host, self.port, 10, proc)
        return proc
