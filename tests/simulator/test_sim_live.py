"""The live twin against a stand-in for central.

FIXTURE: `FakeCentral` below is a tiny http.server that speaks the documented contract of
central's /api/stock, /api/movements, /api/lead-times (the item master's) and
/api/lead-times/observed with synthetic data. It is a test fixture, not central: it exists so
these tests run without the real service.
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
from simulator.scenario import distributions, live
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


#: Observed per supplier × SKU: S1 has 12 receipts (enough), S2 only 3 (the master's stands).
OBSERVED = [
    {"supplier": "S1", "sku": "A", "n": 8, "mean_days": 6.2, "min_days": 4.1, "max_days": 9.0},
    {"supplier": "S1", "sku": "B", "n": 4, "mean_days": 5.0, "min_days": 3.5, "max_days": 7.2},
    {"supplier": "S2", "sku": "A", "n": 3, "mean_days": 20.0, "min_days": 18.0, "max_days": 22.0},
]


class FakeCentral:
    """FIXTURE: a stand-in for central's HTTP API (see the module docstring). `observed` are
    the rows of /api/lead-times/observed (None: a 404, as from a central without it)."""

    def __init__(
        self,
        now: datetime,
        lead_times: bool = True,
        page: int = 25,
        observed: list[dict] | None = OBSERVED,
    ):
        self.movements = _movements(now)
        self.lead_times = lead_times
        self.observed = observed
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
                if url.path == "/api/lead-times/observed" and outer.observed is not None:
                    return self._send(200, {"rows": outer.observed})
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
    fake = FakeCentral(NOW, lead_times=False, observed=None)
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
    s2 = next(s for s in live_sc.suppliers if s.id == "S2")
    assert s2.lead_time.mean == 10.0, "master per-SKU rows averaged by count: (9·2 + 12·1)/3"
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


def _supplier(sc, sid):
    return next(s for s in sc.suppliers if s.id == sid)


def test_twin_starts_from_the_observed_lead_times_not_the_masters(central, sc):
    """Issue 12, defect 8: S1's master says 4.6 days; central observed 12 receipts averaging
    (8·6.2 + 4·5.0)/12 = 5.8 days between 3.5 and 9.0. S2 has 3 receipts: the master's stands."""
    live_sc, notes = live.from_central(sc, central.url, now=NOW)
    lt = _supplier(live_sc, "S1").lead_time
    assert lt.kind == "choice", "a distribution over whole days, not the master's Poisson(4.6)"
    mean, var = distributions.moments(lt)
    assert mean == pytest.approx(5.8, abs=1e-6)
    assert min(lt.values) == 3 and max(lt.values) == 9 and var > 1.0
    assert any("S1" in n and "12 receipt" in n for n in notes)
    s2 = _supplier(live_sc, "S2").lead_time
    assert (s2.kind, s2.mean) == ("fixed", 10.0), "3 receipts are too few: the master's mean"
    assert any("S2" in n and "3 observed receipt(s), fewer than 5" in n for n in notes)
    net = compile_network(live_sc)
    dc = net.primary_lane[net.site_ids.index("DC1")]
    assert net.lanes[dc].days == lt, "the DC's inbound lane draws from the observed distribution"


def test_the_threshold_is_a_live_setting(central, tmp_path):
    path = tmp_path / "live.toml"
    path.write_text(SCENARIO + "min_lead_time_obs = 13\n")
    live_sc, _ = live.from_central(scenario.load(path), central.url, now=NOW)
    lt = _supplier(live_sc, "S1").lead_time
    assert (lt.kind, lt.mean) == ("poisson", 4.6), "12 receipts < 13: the master's mean"


def test_observed_lead_times_per_site_become_that_sites_lane(sc):
    rows = [
        {"supplier": "S1", "sku": "A", "site": "DC1", "n": 6, "mean_days": 7.4,
         "sd_days": 1.2, "min_days": 5.5, "max_days": 9.8},
        {"supplier": "S1", "sku": "B", "site": "FUL1", "n": 9, "mean_days": 3.0,
         "sd_days": 0.5, "min_days": 2.2, "max_days": 4.0},
        {"supplier": "S2", "sku": "A", "site": "DC1", "n": 2, "mean_days": 11.0,
         "sd_days": 1.0, "min_days": 10.3, "max_days": 11.7},
    ]  # fmt: skip
    fake = FakeCentral(NOW, observed=rows)
    try:
        live_sc, notes = live.from_central(sc, fake.url, now=NOW)
    finally:
        fake.close()
    lanes = {(ln.src, ln.dst): ln for ln in live_sc.lanes}
    assert set(lanes) == {("S1", "DC1")}, "FUL1 is not S1's to deliver; S2 has 2 receipts"
    mean, var = distributions.moments(lanes[("S1", "DC1")].days)
    assert mean == pytest.approx(7.4, abs=1e-6) and var == pytest.approx(1.44, abs=1e-6)
    s1 = distributions.moments(_supplier(live_sc, "S1").lead_time)
    # pooled over sites: 15 receipts, mean (6·7.4 + 9·3.0)/15, variance within + between rows
    pooled = (5 * 1.44 + 8 * 0.25 + 6 * (7.4 - 4.76) ** 2 + 9 * (3.0 - 4.76) ** 2) / 14
    assert s1 == pytest.approx((4.76, pooled), abs=1e-6)
    assert any(p[:3] == ("DC1", "A", 60) and p[3] == 7 for p in live_sc.initial.pipeline), (
        "DC1's open order lands after its own observed lead time"
    )
    assert any(n.startswith("lane S1->DC1: observed lead time over 6") for n in notes)


def test_fit_days_keeps_what_central_reports():
    lt = distributions.fit_days(4.6, 3.2, 7.9, 1.0)
    assert (min(lt.values), max(lt.values)) == (3, 8) and sum(lt.probs) == pytest.approx(1)
    assert distributions.moments(lt) == pytest.approx((4.6, 1.0), abs=1e-9)
    assert distributions.fit_days(4.6, 3.2, 7.9).kind == "choice"
    assert distributions.moments(distributions.fit_days(4.6, 3.2, 7.9))[0] == pytest.approx(4.6)
    assert distributions.fit_days(5.0, 5.0, 5.0) == distributions.LeadTime("fixed", 5.0)
    two = distributions.fit_days(4.6, 3, 7, 0.01)  # less spread than whole days allow
    assert (two.values, two.probs) == ((4, 5), pytest.approx((0.4, 0.6)))
    ends = distributions.fit_days(4.6, 3, 7, 50.0)  # more than the range allows
    assert ends.values == (3, 7) and distributions.moments(ends)[0] == pytest.approx(4.6)


def test_central_url_with_or_without_api(central):
    plain = live.fetch(central.url, lookback_days=DAYS, now=NOW)
    for url in (f"{central.url}/api", f"{central.url}/api/", f"{central.url}/"):
        snap = live.fetch(url, lookback_days=DAYS, now=NOW)
        assert snap.stock == plain.stock and snap.observed_lead_times == OBSERVED


def test_sim_from_central_takes_the_api_address_too(central, tmp_path, capsys):
    from tallyman.launch.cli import main

    path = tmp_path / "live.toml"
    path.write_text(SCENARIO)
    argv = ["sim", str(path), "--from-central", f"{central.url}/api", "-n", "2", "--json"]
    assert main(argv) == 0
    notes = json.loads(capsys.readouterr().out)["notes"]
    assert any(n.startswith("supplier S1: observed lead time over 12 receipt(s)") for n in notes)
