"""`tallyman up`: the whole stack on one machine — broker, central, one edge, a stub scanner.

Each part runs as its own process, exactly as it would on separate machines (the broker is a real
mosquitto with per-device logins); this process only starts them, replays the sample shift
through the stub scanner like an operator would, and prints where to look.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

from central.access.broker import BrokerDir
from tallyman import sample
from tallyman.net import free_port, wait_port

DEFAULTS = {
    "dir": "var/up",
    "broker_port": 0,  # 0: a free port (the machine may already run a broker on 1883)
    "http": "127.0.0.1:8080",
    "handheld_http": "127.0.0.1:8081",
    "site": "DC1",
    "device": "hh-01",
    "items": 300,
    "scans": 400,
    "scan_interval": 0.05,
}


def load_config(path: str | None) -> dict:
    cfg = dict(DEFAULTS)
    if path:
        with open(path, "rb") as f:
            cfg.update(tomllib.load(f).get("up", {}))
    return cfg


def _port_free(hostport: str) -> str:
    host, _, port = hostport.rpartition(":")
    try:
        wait_port(host, int(port), 0.05)
    except TimeoutError:
        return hostport
    return f"{host}:{free_port()}"


def _spawn(args: list[str], log: Path) -> subprocess.Popen:
    out = open(log, "ab")  # noqa: SIM115 - handed to the child
    cmd = [sys.executable, "-m", "tallyman.launch.cli", *args]
    return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="tallyman up")
    p.add_argument("--config", help="TOML file with an [up] table overriding the defaults")
    p.add_argument("--fresh", action="store_true", help="start from an empty ledger")
    p.add_argument("--once", action="store_true", help="exit when the shift is in the ledger")
    args = p.parse_args(argv)
    cfg = load_config(args.config)
    work = Path(cfg["dir"]).resolve()
    if args.fresh and work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    db = work / "ledger.db"
    procs: list[subprocess.Popen] = []

    def shutdown(*_: object) -> None:
        for proc in reversed(procs):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        if not db.exists():
            _load_sample(db, work, cfg)
        broker = BrokerDir(work / "broker", port=cfg["broker_port"] or free_port())
        central_url = broker.init()
        device_url = broker.add_device(cfg["device"], cfg["site"])
        procs.append(broker.start())
        http = _port_free(cfg["http"])
        procs.append(
            _spawn(
                ["central", "--db", str(db), "--broker", central_url, "--http", http],
                work / "central.log",
            )
        )
        host, _, port = http.rpartition(":")
        wait_port(host, int(port), 60, procs[-1])

        from firmware_stubs.barcode import BarcodeScannerStub

        scanner = BarcodeScannerStub(link=str(work / "scanner"))
        handheld = _port_free(cfg["handheld_http"])
        edge_args = ["edge", "--device", cfg["device"], "--site", cfg["site"]]
        edge_args += ["--broker", device_url, "--outbox", str(work / "outbox.db")]
        edge_args += ["--barcode", scanner.path, "--http", handheld]
        procs.append(_spawn(edge_args, work / "edge.log"))
        print(f"broker     mqtt://127.0.0.1:{broker.port} (logins in {broker.path})")
        print(f"dashboard  http://{http}/")
        print(f"API        http://{http}/api/stock?by=site")
        print(f"handheld   http://{handheld}/")
        print(f"logs       {work}/*.log", flush=True)
        ok = bad = 0
        lines = sample.shift(cfg["site"], cfg["scans"], n_items=cfg["items"])
        for text in lines:
            reply = scanner.scan_and_wait(text, timeout=5)
            if reply and reply[0]:
                ok += 1
            else:
                bad += 1
                print(f"  scanner: {text!r} → {reply[1] if reply else 'no answer'}")
            time.sleep(cfg["scan_interval"])
        print(f"shift replayed: {ok} scans accepted, {bad} refused at the handheld", flush=True)
        _wait_drained(f"http://{http}", cfg["device"], work / "outbox.db")
        health = _get(f"http://{http}/api/health")
        print(
            f"central: {health['movements_applied']} movements, "
            f"{health['open_dead_letters']} open dead letters"
        )
        if args.once:
            return 0
        print("running; Ctrl-C stops everything", flush=True)
        while all(proc.poll() is None for proc in procs):
            time.sleep(0.5)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        shutdown()


def _load_sample(db: Path, work: Path, cfg: dict) -> None:
    import sqlite_utils

    from central.stock import importer, ledger

    paths = sample.write_csvs(work / "sample", cfg["items"])
    sdb = sqlite_utils.Database(ledger.connect(db))
    importer.import_items(sdb, paths["items"])
    importer.import_locations(sdb, paths["locations"])
    importer.import_stock(sdb, paths["stock"])
    sdb.conn.close()


def _wait_drained(api: str, device: str, outbox: Path, timeout: float = 30) -> None:
    """Until central's ack covers everything the edge stored."""
    import sqlite3

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.closing(sqlite3.connect(outbox)) as conn:
            left = conn.execute("SELECT count(*) FROM outbox").fetchone()[0]
        if left == 0:
            return
        time.sleep(0.2)
    print(f"warning: {left} events still waiting for central's ack", file=sys.stderr)


from tallyman.console import passthrough as _passthrough  # noqa: E402

command = _passthrough(main, "up")
