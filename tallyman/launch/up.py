"""`tallyman up`: the whole stack on one machine — broker, central, one edge, a stub scanner.

Each part runs as its own process, exactly as it would on separate machines (the broker is a real
mosquitto with per-device logins); this process only starts them, replays the sample shift
through the stub scanner like an operator would, and prints where to look.

Settings: the defaults below, then an `[up]` table of `--config FILE`, then `TALLYMAN_UP_*`
environment variables (`TALLYMAN_UP_HTTP=127.0.0.1:9000`); an unknown key is refused.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tallyman.console import fail

if TYPE_CHECKING:
    from central.access.broker import BrokerDir
    from firmware_stubs.barcode import BarcodeScannerStub

ENV_PREFIX = "TALLYMAN_UP_"


@dataclass(frozen=True)
class UpSettings:
    """What `tallyman up` runs; the `[up]` table of its config file."""

    dir: str = "var/up"
    #: 0: a free port (the machine may already run a broker on 1883)
    broker_port: int = 0
    http: str = "127.0.0.1:8080"
    handheld_http: str = "127.0.0.1:8081"
    site: str = "DC1"
    device: str = "hh-01"
    items: int = 300
    scans: int = 400
    scan_interval: float = 0.05

    def __post_init__(self) -> None:
        from tallyman.net import parse_hostport

        parse_hostport(self.http)
        parse_hostport(self.handheld_http)
        if not 0 <= self.broker_port <= 65535:
            raise ValueError("broker_port must be 0 (any free port) to 65535")
        if self.items < 1 or self.scans < 0 or self.scan_interval < 0:
            raise ValueError("items must be at least 1, scans and scan_interval at least 0")


def load_settings(path: str | None) -> UpSettings:
    from tallyman.config import load

    return load(UpSettings, path, section="up", env_prefix=ENV_PREFIX)


@dataclass
class Stack:
    """The processes `up` started, in order; `stop` ends them newest first."""

    settings: UpSettings
    work: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    names: dict[int, str] = field(default_factory=dict)
    resources: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    @property
    def db(self) -> Path:
        return self.work / "ledger.db"

    def add(self, name: str, proc: subprocess.Popen[bytes]) -> subprocess.Popen[bytes]:
        self.procs.append(proc)
        self.names[proc.pid] = name
        return proc

    def spawn(self, args: list[str], log: Path) -> subprocess.Popen[bytes]:
        """A `tallyman …` child in its own session, so that stopping it stops its children."""
        out = self.resources.enter_context(log.open("ab"))
        cmd = [sys.executable, "-m", "tallyman.launch.cli", *args]
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        return self.add(args[0], proc)

    def all_running(self) -> bool:
        return all(proc.poll() is None for proc in self.procs)

    def stop(self) -> None:
        for proc in reversed(self.procs):
            with contextlib.suppress(ProcessLookupError):
                if proc.pid == os.getpgid(proc.pid):
                    os.killpg(proc.pid, signal.SIGTERM)
                else:
                    proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.resources.close()


# --- the steps of `up`, in order ---------------------------------------------------------------


def prepare(settings: UpSettings, fresh: bool) -> Stack:
    """The working folder (emptied with --fresh) and a ledger with the sample catalogue."""
    work = Path(settings.dir).resolve()
    if fresh and work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    stack = Stack(settings, work)
    if not stack.db.exists():
        load_sample(stack.db, work, settings.items)
    return stack


def load_sample(db: Path, work: Path, n_items: int) -> None:
    import sqlite_utils

    from central.stock import importer, ledger
    from tallyman import sample

    paths = sample.write_csvs(work / "sample", n_items)
    sdb = sqlite_utils.Database(ledger.connect(db))
    try:
        importer.import_items(sdb, paths["items"])
        importer.import_locations(sdb, paths["locations"])
        importer.import_stock(sdb, paths["stock"])
    finally:
        sdb.conn.close()


def start_broker(stack: Stack) -> tuple[BrokerDir, str, str]:
    """Mosquitto with a login for central and one for the device: (broker, central's URL,
    the device's URL)."""
    from central.access.broker import BrokerDir
    from tallyman.net import free_port

    s = stack.settings
    broker = BrokerDir(stack.work / "broker", port=s.broker_port or free_port())
    central_url = broker.init()
    device_url = broker.add_device(s.device, s.site)
    try:
        stack.add("broker", broker.start())
    except (RuntimeError, TimeoutError) as exc:
        fail(f"the broker did not start ({exc}); see {broker.path / 'mosquitto.log'}")
    return broker, central_url, device_url


def start_central(stack: Stack, broker_url: str) -> str:
    """Central on the configured address (another free port if that one is taken); returns
    the HOST:PORT it listens on once it answers."""
    from tallyman.net import parse_hostport, wait_port

    http = available(stack.settings.http)
    log = stack.work / "central.log"
    proc = stack.spawn(
        ["central", "--db", str(stack.db), "--broker", broker_url, "--http", http], log
    )
    try:
        wait_port(*parse_hostport(http), 60, proc)
    except (RuntimeError, TimeoutError) as exc:
        fail(f"central did not start ({exc}); see {log}")
    return http


def start_edge(stack: Stack, broker_url: str) -> tuple[BarcodeScannerStub, str]:
    """A stub scanner on a pty and the edge reading it; returns (scanner, handheld HOST:PORT)."""
    from firmware_stubs.barcode import BarcodeScannerStub

    s = stack.settings
    scanner = stack.resources.enter_context(BarcodeScannerStub(link=str(stack.work / "scanner")))
    handheld = available(s.handheld_http)
    args = ["edge", "--device", s.device, "--site", s.site, "--broker", broker_url]
    args += ["--outbox", str(stack.work / "outbox.db"), "--barcode", scanner.path]
    args += ["--http", handheld]
    stack.spawn(args, stack.work / "edge.log")
    return scanner, handheld


def available(hostport: str) -> str:
    """HOST:PORT itself when nothing listens there, else the same host on a free port."""
    from tallyman.net import free_port, parse_hostport, port_open

    host, port = parse_hostport(hostport)
    if port and not port_open(host, port, timeout=0.05):
        return hostport
    return f"{host}:{free_port(host)}"


def print_where(broker: BrokerDir, http: str, handheld: str, work: Path) -> None:
    click.echo(f"broker     mqtt://127.0.0.1:{broker.port} (logins in {broker.path})")
    click.echo(f"dashboard  http://{http}/")
    click.echo(f"API        http://{http}/api/stock?by=site")
    click.echo(f"handheld   http://{handheld}/")
    click.echo(f"logs       {work}/*.log")


def replay_shift(scanner: BarcodeScannerStub, settings: UpSettings) -> None:
    """The sample shift through the scanner, as an operator would scan it."""
    from tallyman import sample

    ok = bad = 0
    for text in sample.shift(settings.site, settings.scans, n_items=settings.items):
        reply = scanner.scan_and_wait(text, timeout=5)
        if reply and reply[0]:
            ok += 1
        else:
            bad += 1
            click.echo(f"  scanner: {text!r} → {reply[1] if reply else 'no answer'}")
        time.sleep(settings.scan_interval)
    click.echo(f"shift replayed: {ok} scans accepted, {bad} refused at the handheld")


def wait_drained(outbox: Path, timeout: float = 30) -> None:
    """Until central's ack covers everything the edge stored."""
    deadline = time.monotonic() + timeout
    left = -1
    while time.monotonic() < deadline:
        with contextlib.closing(sqlite3.connect(outbox)) as conn:
            left = conn.execute("SELECT count(*) FROM outbox").fetchone()[0]
        if left == 0:
            return
        time.sleep(0.2)
    click.echo(f"warning: {left} events still waiting for central's ack", err=True)


def report_health(http: str) -> None:
    from tallyman import http_client

    r = http_client.request("GET", f"http://{http}/api/health", timeout=5)
    health: Any = r.json() if r.ok else None
    if not isinstance(health, dict):
        click.echo(f"warning: central's health check failed: {r.detail}", err=True)
        return
    click.echo(
        f"central: {health['movements_applied']} movements, "
        f"{health['open_dead_letters']} open dead letters"
    )


def watch(stack: Stack) -> int:
    """Until Ctrl-C (0) or until one of the processes ends (1)."""
    click.echo("running; Ctrl-C stops everything")
    while stack.all_running():
        time.sleep(0.5)
    ended = [stack.names[p.pid] for p in stack.procs if p.poll() is not None]
    click.echo(f"stopping: {', '.join(ended)} ended (see {stack.work}/*.log)", err=True)
    return 1


# --- the command -------------------------------------------------------------------------------


@click.command("up")
@click.option(
    "--config",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="TOML file whose [up] table overrides the defaults: dir, broker_port, http, "
    f"handheld_http, site, device, items, scans, scan_interval (also as {ENV_PREFIX}<KEY>)",
)
@click.option("--fresh", is_flag=True, help="start from an empty ledger (deletes dir first)")
@click.option("--once", is_flag=True, help="exit when the shift is in the ledger")
def command(config: str | None, fresh: bool, once: bool) -> int:
    """Run the whole stack locally: broker, central, one edge, and a stub scanner that
    replays a sample shift; prints where to look."""
    settings = load_settings(config)
    stack = prepare(settings, fresh)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        broker, central_url, device_url = start_broker(stack)
        http = start_central(stack, central_url)
        scanner, handheld = start_edge(stack, device_url)
        print_where(broker, http, handheld, stack.work)
        replay_shift(scanner, settings)
        wait_drained(stack.work / "outbox.db")
        report_health(http)
        return 0 if once else watch(stack)
    except KeyboardInterrupt:
        return 0
    finally:
        stack.stop()
