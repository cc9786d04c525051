"""The live twin against a stand-in for central.

FIXTURE: `FakeCentral` below is a tiny http.server that speaks the documented contract of
central's /api/stock, /api/movements and /api/lead-times with synthetic data. It is a test
fixture, not central: it exists so these tests run without the real service.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest

from simulator.engine.network import compile_network
from simulator.montecarlo import runner
from simulator.scenario import live
from simulator.scenario import loader as scenario

NOW = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)
DAYS = 28

SCENARIO = """
[run]
days = 60
warmup = 10
replications = 3
seed = 4
strategies = ["none", "backup_supplier"]

[costs]
holding = 0.1
lost_sale = 3.0

[[supplier]]
id = "S1"
lead_time = {dist = "poisson", mean = 3}
backup = "S2"

[[supplier]]
id = "S2"
lead_time = 8

[[site]]
id = "DC1"
kind = "dc"
source = "S1"

[[site]]
id = "STORE1"
source = "DC1"

[[site]]
id = "STORE2"
source = "DC1"

[[sku]]
id = "A"
demand = {dist = "poisson", mean = 1}
policy = {kind = "base_stock", S_days = 5}
unmet = "lost"

[[sku]]
id = "GONE"
demand = {dist = "poisson", mean = 1}
policy = {kind = "base_stock", S = 3}

[[disruption]]
supplier = "S1"
start = 1
days = 30

[live]
lookback_days = 28
unmet = "lost"
"""


def _movements(now: datetime) -> list[dict]:
    """STORE1/A ~ Poisson(4) a day in 1–3 movements; STORE2/A overdispersed (mean 3, sd 6);
    STORE1/B Poisson(1); FUL1 only picks (a fulfilment warehouse); STORE1 also has a pick."""
    rng = np.random.default_rng(42)
    rows = []
    start = now - timedelta(days=DAYS)

    def add(kind, site, sku, qty, day):
        ts = start + timedelta(days=day, hours=float(rng.uniform(1, 22)))
        rows.append(
            {
                "device": "D1",
                "seq": len(rows) + 1,
                "ts": ts.isoformat().replace("+00:00", "Z"),
                "type": kind,
                "sku": sku,
                "loc": f"{site}/SHELF",
                "qty": qty,
            }
        )

    for day in range(DAYS):
        q = int(rng.poisson(4))
        parts = rng.multinomial(q, [0.5, 0.3, 0.2]) if q else []
        for part in parts:
            if part:
                add("sale", "STORE1", "A", int(part), day)
        size = 3 * 3 / (6 * 6 - 3)  # mean 3, sd 6
        n2 = int(rng.negative_binomial(size, size / (size + 3)))
        if n2:
            add("sale", "STORE2", "A", n2, day)
        if (b := int(rng.poisson(1))) > 0:
            add("sale", "STORE1", "B", b, day)
        if (p := int(rng.poisson(2))) > 0:
            add("pick", "FUL1", "B", -p, day)  # signed the other way: the estimate uses |qty|
    add("pick", "STORE1", "A", 50, 3)
    for i, row in enumerate(sorted(rows, key=lambda r: r["ts"])):
        row["id"] = i + 1
    return sorted(rows, key=lambda r: r["id"])


STOCK = [
    {
        "sku": "A",
        "site": "DC1",
        "on_hand": 120,
        "reserved": 0,
        "available": 120,
        "in_transit": 0,
        "on_order": 60,
    },
    {
        "sku": "A",
        "site": "STORE1",
        "on_hand": 14,
        "reserved": 2,
        "available": 12,
        "in_transit": 5,
        "on_order": 0,
    },
    {
        "sku": "A",
        "site": "STORE2",
        "on_hand": 3,
        "reserved": 0,
        "available": 3,
        "in_transit": 0,
        "on_order": 0,
    },
    {
        "sku": "B",
        "site": "STORE1",
        "on_hand": 7,
        "reserved": 0,
        "available": 7,
        "in_transit": 0,
        "on_order": 0,
    },
    {
        "sku": "B",
        "site": "FUL1",
        "on_hand": 30,
        "reserved": 4,
        "available": 26,
        "in_transit": 0,
        "on_order": 0,
    },
]


class FakeCentral:
    """FIXTURE: a stand-in for central's HTTP API (see the module docstring)."""

    def __init__(self, now: datetime, lead_times: bool = True, page: int = 25):
        self.movements = _movements(now)
        self.lead_times = lead_times
        self.page = page
        self.pages_served = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                url = urlparse(self.path)
                q = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/api/stock" and q.get("by") == "site":
                    return self._send(200, {"rows": STOCK})
                if url.path == "/api/movements":
                    return self._send(200, outer.page_of(q))
                if url.path == "/api/lead-times" and outer.lead_times:
                    return self._send(
                        200,
                        {
                            "rows": [
                                {"supplier": "S1", "sku": None, "mean_days": 4.6, "n": 12},
                                {"supplier": "S2", "sku": "A", "mean_days": 9.0, "n": 2},
                                {"supplier": "S2", "sku": "B", "mean_days": 12.0, "n": 1},
                            ]
                        },
                    )
                return self._send(404, {"error": "not_found", "detail": url.path})

            def _send(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def page_of(self, q: dict) -> dict:
        self.pages_served += 1
        since = datetime.fromisoformat(q["since"].replace("Z", "+00:00"))
        after = int(q.get("after_id", 0))
        limit = min(int(q.get("limit", 100)), self.page)
        rows = [
            m
            for m in self.movements
            if m["type"] == q["type"]
            and m["id"] > after
            and datetime.fromisoformat(m["ts"].replace("Z", "+00:00")) >= since
        ]
        more = len(rows) > limit
        rows = rows[:limit]
        return {"rows": rows, "next_after_id": rows[-1]["id"] if more else None}

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def central():
    fake = FakeCentral(NOW)
    yield fake
    fake.close()


@pytest.fixture
def old_central():
    fake = FakeCentral(NOW, lead_times=False)
    yield fake
    fake.close()


@pytest.fixture
def sc(tmp_path):
    path = tmp_path / "live.toml"
    path.write_text(SCENARIO)
    return scenario.load(path)


def test_fetch_follows_every_page(central):
    snap = live.fetch(central.url, lookback_days=DAYS, now=NOW)
    sales = [m for m in central.movements if m["type"] == "sale"]
    assert central.pages_served > 4, "several pages of 25"
    got = sum(v.sum() for (site, _), v in snap.demand.items() if site != "FUL1")
    assert got == sum(m["qty"] for m in sales)
    assert snap.window_days == DAYS


def test_demand_is_estimated_per_pair_with_the_right_model(central):
    snap = live.fetch(central.url, lookback_days=DAYS, now=NOW)
    d = snap.demand
    store1_a = [
        m["qty"]
        for m in central.movements
        if m["loc"] == "STORE1/SHELF" and m["sku"] == "A" and m["type"] == "sale"
    ]
    assert d[("STORE1", "A")].sum() == sum(store1_a), "the pick at a selling store is ignored"
    assert live.estimate_demand(d[("STORE1", "A")]).dist == "poisson"
    est = live.estimate_demand(d[("STORE2", "A")])
    assert est.dist == "negbin" and est.sd**2 > est.mean
    assert d[("FUL1", "B")].sum() > 0, "a site without sales uses its picks"
    assert live.estimate_demand(d[("STORE1", "A")]).mean == pytest.approx(sum(store1_a) / DAYS)


def test_dispersion_test_is_calibrated_on_poisson_counts():
    rng = np.random.default_rng(0)
    p = [live.dispersion_pvalue(rng.poisson(3.0, 28)) for _ in range(400)]
    assert np.mean(np.array(p) < 0.05) == pytest.approx(0.05, abs=0.03)


def test_snapshot_becomes_the_opening_state(central, sc):
    live_sc, notes = live.apply(sc, live.fetch(central.url, lookback_days=DAYS, now=NOW))
    assert live_sc.run.warmup == 0 and live_sc.run.start_weekday == NOW.weekday()
    assert {k.id for k in live_sc.skus} == {"A", "B"}
    assert any("GONE" not in n and "left out" in n for n in notes)
    ful = next(s for s in live_sc.sites if s.id == "FUL1")
    assert ful.source == "DC1", "central-only sites hang off the first DC"
    init = live_sc.initial
    assert init.stock[("STORE1", "A")] == 12, "available = on hand − reserved"
    assert init.stock[("STORE2", "B")] == 0
    assert ("STORE1", "A", 5, 1) in init.pipeline  # in transit, lands on day ⌈1/2⌉ → 1
    assert any(p[:3] == ("DC1", "A", 60) for p in init.pipeline)
    s1 = next(s for s in live_sc.suppliers if s.id == "S1")
    assert s1.lead_time.kind == "poisson" and s1.lead_time.mean == 4.6
    s2 = next(s for s in live_sc.suppliers if s.id == "S2")
    assert s2.lead_time.mean == 10.0, "per-SKU rows averaged by count: (9·2 + 12·1)/3"
    net = compile_network(live_sc)
    i, k = net.site_ids.index("STORE1"), net.sku_ids.index("A")
    assert net.il0[i, k] == 12
    assert net.mean[i, k] == pytest.approx(
        live.estimate_demand(
            live.fetch(central.url, lookback_days=DAYS, now=NOW).demand[("STORE1", "A")]
        ).mean
    )


def test_old_central_without_lead_times_keeps_the_scenarios(old_central, sc):
    live_sc, notes = live.from_central(sc, old_central.url, now=NOW)
    assert live_sc.suppliers == sc.suppliers
    assert any("/api/lead-times" in n and "404" in n for n in notes)


def test_live_run_starts_from_central_and_applies_the_outage(central, sc):
    live_sc, _ = live.from_central(sc, central.url, now=NOW)
    res = runner.run(live_sc)
    none, backup = res.strategies["none"], res.strategies["backup_supplier"]
    assert none.on_hand[0] > 0
    assert backup.kpis["fill_rate"].mean > none.kpis["fill_rate"].mean


def test_unreachable_central_is_a_clear_error(sc):
    with pytest.raises(live.LiveError, match="/api/stock"):
        live.from_central(sc, "http://127.0.0.1:9")
