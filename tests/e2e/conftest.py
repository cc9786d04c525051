"""Multi-process fixtures: central and edges as real `tallyman` processes, stub scanners on ptys.

Nothing here is mocked: the broker is mosquitto (from the parent conftest), central and each
edge run as `python -m tallyman.launch.cli …` subprocesses and are killed with SIGKILL by the tests.
"""

from __future__ import annotations

import contextlib
import json
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from central.access.broker import BrokerDir
from firmware_stubs.barcode import BarcodeScannerStub
from tallyman.net import free_port, wait_port
from tests.helpers import wait_for


def spawn(args: list[str], log: Path) -> subprocess.Popen:
    out = open(log, "ab")  # noqa: SIM115 - owned by the child
    return subprocess.Popen(
        [sys.executable, "-m", "tallyman.launch.cli", *args], stdout=out, stderr=subprocess.STDOUT
    )


def kill9(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGKILL)
    proc.wait()


def stop(proc: subprocess.Popen | None) -> None:
    """SIGTERM, then SIGKILL if the process has not exited within 10 s."""
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            kill9(proc)


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


@dataclass
class Central:
    db: Path
    broker_url: str
    tmp: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def start(self) -> None:
        args = ["central", "--db", str(self.db), "--broker", self.broker_url]
        self.proc = spawn([*args, "--http", f"127.0.0.1:{self.port}"], self.tmp / "central.log")
        wait_port("127.0.0.1", self.port, 60, self.proc)

    def kill(self) -> None:
        kill9(self.proc)

    def stop(self) -> None:
        stop(self.proc)


@dataclass
class EdgeProc:
    device: str
    site: str
    url: str
    tmp: Path
    scanner: BarcodeScannerStub
    proc: subprocess.Popen | None = None
    extra: tuple[str, ...] = ()

    @property
    def outbox(self) -> Path:
        return self.tmp / f"{self.device}.outbox"

    def start(self) -> None:
        args = ["edge", "--device", self.device, "--site", self.site, "--broker", self.url]
        args += ["--outbox", str(self.outbox), "--barcode", self.scanner.path]
        args += ["--ack-timeout", "1.0", "--batch", "200", *self.extra]
        self.proc = spawn(args, self.tmp / f"{self.device}.log")
        assert self.scanner.wait_for_host(30), f"{self.device} never opened its scanner"

    def kill(self) -> None:
        kill9(self.proc)

    def stop(self) -> None:
        stop(self.proc)

    def queue_length(self) -> int:
        with contextlib.closing(sqlite3.connect(self.outbox, timeout=10)) as conn:
            return conn.execute("SELECT count(*) FROM outbox").fetchone()[0]

    def rejections(self) -> list[tuple]:
        with contextlib.closing(sqlite3.connect(self.outbox, timeout=10)) as conn:
            return conn.execute("SELECT seq, code, detail FROM rejections").fetchall()


@pytest.fixture
def stack(broker: BrokerDir, catalogue, tmp_path):
    """central + a factory of edges, all torn down at the end."""
    central = Central(catalogue, broker.central_url, tmp_path)
    central.start()
    edges: list[EdgeProc] = []

    def add_edge(device: str, site: str, *extra: str) -> EdgeProc:
        url = broker.add_device(device, site)
        scanner = BarcodeScannerStub(link=str(tmp_path / f"scanner-{device}"))
        edge = EdgeProc(device, site, url, tmp_path, scanner, extra=extra)
        edge.start()
        edges.append(edge)
        return edge

    yield central, add_edge
    for edge in edges:
        edge.stop()
        edge.scanner.close()
    central.stop()


def restart_broker(broker: BrokerDir, down_for: float = 0.5) -> None:
    kill9(broker.proc)
    time.sleep(down_for)
    broker.proc = broker.start()


def wait_until(pred, timeout: float, what: str) -> None:
    wait_for(pred, timeout, what, every=0.1)
