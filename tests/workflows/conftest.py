"""Fixtures for workflow tests: a real central (ledger, engine, ingest, mosquitto) in-process,
tokens for every role, and a helper that feeds handheld events through the real ingest."""

from __future__ import annotations

import contextlib
import gc
import itertools
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from central.access import tokens as auth
from central.http.app import create_app
from central.lifecycle import load_state, start, stop
from central.stock import ledger
from tallyman import wire
from tests.helpers import wait_for


@dataclass
class Central:
    state: object
    client: object
    tokens: dict[str, str]
    _seqs: dict[str, itertools.count] = field(default_factory=dict)

    def call(self, method: str, path: str, who: str | None = None, json=None, status=None):
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        r = self.client.open(f"/api{path}", method=method, headers=headers, json=json)
        if status is not None:
            assert r.status_code == status, (method, path, r.status_code, r.get_json())
        return r

    def get(self, path: str):
        r = self.client.get(f"/api{path}")
        assert r.status_code == 200, (path, r.get_json())
        return r.get_json()

    def feed(self, site: str, device: str, events: list[dict]) -> list[int]:
        """Send handheld events through the ingest queue; wait until they are committed and the
        workflows have seen them. Returns the seqs used."""
        counter = self._seqs.setdefault(device, itertools.count(1))
        evs = []
        for ev in events:
            e = {"ts": wire.now_ts(), **ev}
            e.setdefault("seq", next(counter))
            evs.append(e)
        ing = self.state.ingest
        ing.submit(wire.movements_topic(site, device), wire.encode_movements(site, device, evs))
        conn = sqlite3.connect(self.state.db_path)
        try:
            for e in evs:
                wait_for(
                    lambda e=e: conn.execute(
                        "SELECT 1 FROM movements WHERE device = ? AND seq = ? UNION "
                        "SELECT 1 FROM dead_letters WHERE device = ? AND seq = ?",
                        (device, e["seq"], device, e["seq"]),
                    ).fetchone(),
                    what=f"{device} #{e['seq']} in the ledger",
                )
        finally:
            conn.close()
        self.settle()
        return [e["seq"] for e in evs]

    def settle(self) -> None:
        """Wait until central's own movements landed and the workflows scanned the ledger."""
        wf = self.state.workflows

        def done() -> bool:
            conn = self.state.storage.reader()
            pending = conn.execute(
                "SELECT count(*) FROM wf_outbox WHERE status = 'pending'"
            ).fetchone()[0]
            scanned = wf.scanned_upto
            return pending == 0 and scanned >= self.state.ingest.last_id and wf.ingest.queue.empty()

        wait_for(done, what="workflows to settle")
        wf.catch_up()

    def stock(self, sku: str, site: str | None = None, loc: str | None = None) -> dict:
        params = (
            f"?sku={sku}"
            + (f"&loc={loc}" if loc else "")
            + (f"&site={site}&by=site" if site and not loc else "")
        )
        rows = self.get(f"/stock{params}")["rows"]
        return (
            rows[0]
            if rows
            else {"on_hand": 0, "reserved": 0, "available": 0, "in_transit": 0, "on_order": 0}
        )


@contextlib.contextmanager
def running_central(broker, catalogue, planning_config: str | None = None) -> Iterator[Central]:
    """Central over the catalogue's ledger with tokens for every role (`planning_config`: the
    planning TOML it runs with, as `tallyman central --planning-config`)."""
    conn = ledger.connect(catalogue)
    tokens = {
        "staff": auth.create_token(conn, "staff", "sam"),
        "staff2": auth.create_token(conn, "staff", "sue"),
        "planner": auth.create_token(conn, "planner", "pat"),
        "approver": auth.create_token(conn, "approver", "ann"),
        "approver2": auth.create_token(conn, "approver", "abe"),
        "admin": auth.create_token(conn, "admin", "ada"),
    }
    conn.close()
    state = load_state(str(catalogue), planning_config)
    start(state, broker.central_url)
    assert state.bus.wait_connected(10)
    app = create_app(state)
    central = Central(state, app.test_client(), tokens)
    try:
        yield central
    finally:
        stop(state)
        central.state = central.client = None
        del state, app
        gc.collect()  # services hold reference cycles: free their connections now, not later


@pytest.fixture
def central(broker, catalogue):
    with running_central(broker, catalogue) as c:
        yield c
