"""Scenario files: TOML and CSV reading, derived lanes, policy levels, and error messages."""

from __future__ import annotations

import numpy as np
import pytest

from simulator import strategies
from simulator.engine import policies
from simulator.engine.network import compile_network
from simulator.scenario import loader as scenario
from simulator.scenario.loader import ScenarioError
from tallyman.config import ConfigError


def _doc(**over) -> dict:
    doc = {
        "supplier": [{"id": "S1", "lead_time": 2}],
        "site": [{"id": "STORE1", "source": "S1"}],
        "sku": [
            {
                "id": "A",
                "demand": {"dist": "poisson", "mean": 6},
                "policy": {"kind": "base_stock", "S": 8},
            }
        ],
    }
    doc.update(over)
    return doc


def test_design_md_example_loads_with_its_defaults():
    sc = scenario.load("examples/single_store.toml")
    assert sc.run.days == 2000 and sc.run.warmup == 50 and sc.run.strategies == ("none",)
    assert sc.costs.backorder == 4.0
    assert sc.skus[0].policy.kind == "base_stock" and sc.skus[0].policy.get("S") == 8
    assert sc.run.name == "single_store"


def test_network_example_reads_its_csv_files():
    sc = scenario.load("examples/network/network.toml")
    net = compile_network(sc)
    assert net.n_sites == 21 and net.n_skus == 200
    assert sorted({s.kind for s in sc.sites}) == ["dc", "store"]
    dc = net.site_ids.index("DC1")
    assert list(net.children) == [dc] and len(net.children[dc]) == 20
    assert {k.demand.dist for k in sc.skus} == {"poisson", "negbin", "normal"}
    assert all(len(k.demand.weekly) == 7 for k in sc.skus)
    # every store has a backup lane via S2 only for supplier-sourced sites: the DC
    assert net.backup_lane[dc] >= 0 and (net.backup_lane[net.children[dc]] == -1).all()
    # DC demand rate is the sum of its stores'
    assert np.allclose(net.rate[dc], net.rate[net.children[dc]].sum(axis=0))


def test_days_of_cover_levels_use_each_sites_demand():
    doc = _doc(
        site=[{"id": "A", "source": "S1"}, {"id": "B", "source": "S1", "demand_scale": 2.5}],
        sku=[
            {
                "id": "X",
                "demand": {"dist": "poisson", "mean": 4},
                "policy": {"kind": "sS", "s_days": 2, "S_days": 5},
            }
        ],
    )
    net = compile_network(scenario.parse(doc))
    assert net.pol[policies.P_S, :, 0].tolist() == [8, 20]
    assert net.pol[policies.P_BIG_S, :, 0].tolist() == [20, 50]


def test_lateral_lanes_from_coordinates_and_nearest_neighbours():
    doc = _doc(
        network={"km_per_day": 50},
        site=[
            {"id": "A", "source": "S1", "x": 0, "y": 0},
            {"id": "B", "source": "S1", "x": 120, "y": 0},
            {"id": "C", "source": "S1", "x": 30, "y": 40},
        ],
    )
    net = compile_network(scenario.parse(doc))
    assert net.neighbors[0, :2].tolist() == [2, 1]
    lane = net.lanes[net.lateral_lane[0, 1]]
    assert lane.days.mean == 3.0  # ceil(120 / 50)


def test_explicit_lane_overrides_the_derived_one():
    doc = _doc(
        lane=[
            {
                "from": "S1",
                "to": "STORE1",
                "days": {"dist": "poisson", "mean": 4},
                "cost": 0.3,
                "port": "P",
            }
        ]
    )
    net = compile_network(scenario.parse(doc))
    lane = net.lanes[net.primary_lane[0]]
    assert lane.days.kind == "poisson" and lane.cost == 0.3 and lane.port == "P"


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"site": [{"id": "X", "source": "NOPE"}]}, "no supplier or site"),
        ({"sku": [{"id": "A", "demand": {"dist": "negbin", "mean": 5, "sd": 2}}]}, "sd² > mean"),
        ({"sku": [{"id": "A", "demand": {"dist": "normal", "mean": 5}}]}, "needs `sd`"),
        (
            {"sku": [{"id": "A", "demand": {"mean": 1}, "policy": {"kind": "sS", "s": 5}}]},
            "exactly one of `S` or `S_days`",
        ),
        (
            {"sku": [{"id": "A", "demand": {"mean": 1}, "policy": {"kind": "sS", "s": 5, "S": 3}}]},
            "S must exceed s",
        ),
        ({"sku": [{"id": "A", "demand": {"mean": 1}, "policy": {"kind": "magic"}}]}, "kind"),
        ({"run": {"strategies": ["teleport"]}}, "unknown strategy 'teleport'"),
        ({"strategy": {"transshipment": {"trigger": 2}}}, "does not take trigger"),
        ({"strategy": {"teleport": {}}}, "no such strategy"),
        ({"run": {"days": 10, "warmup": 10}}, "warmup"),
        ({"supplier": [{"id": "S1"}, {"id": "S1"}]}, "duplicate supplier"),
        ({"disruption": [{"supplier": "S9", "start": 1, "days": 2}]}, "unknown supplier"),
        ({"disruption": [{"port": "P", "start": 1, "days": 2}]}, "no [[lane]] goes through"),
        ({"disruption": [{"supplier": "S1", "port": "P"}]}, "exactly one of"),
        (
            {
                "site": [
                    {"id": "D", "source": "E", "kind": "dc"},
                    {"id": "E", "source": "D", "kind": "dc"},
                ]
            },
            "source from each other",
        ),
    ],
)
def test_errors_say_what_and_where(over, message):
    with pytest.raises(ScenarioError, match=message.replace("[", r"\[").replace("*", r"\*")):
        strategies.check(scenario.parse(_doc(**over)))


def test_a_misspelt_key_is_refused_with_the_key_and_the_file(tmp_path):
    """`polcy =` for `policy =` used to leave the SKU on the default policy without a word."""
    path = tmp_path / "typo.toml"
    path.write_text(
        '[[supplier]]\nid = "S1"\n[[site]]\nid = "T"\nsource = "S1"\n'
        '[[sku]]\nid = "A"\ndemand = {mean = 1}\npolcy = {kind = "base_stock", S = 4}\n'
    )
    with pytest.raises(ConfigError) as err:
        scenario.load(path)
    msg = str(err.value)
    assert str(path) in msg and "[[sku]] #1 (A)" in msg and "'polcy'" in msg
    assert "policy" in msg, "the valid keys are listed"


@pytest.mark.parametrize(
    ("over", "where", "key"),
    [
        ({"run": {"day": 10}}, "[run]", "day"),
        ({"costs": {"holdng": 1}}, "[costs]", "holdng"),
        ({"network": {"dc_day": 1}}, "[network]", "dc_day"),
        ({"suppliers_csv": "x.csv"}, "top level", "suppliers_csv"),
        ({"supplier": [{"id": "S1", "lead": 2}]}, "[[supplier]] #1 (S1)", "lead"),
        ({"site": [{"id": "T", "source": "S1", "scale": 2}]}, "[[site]] #1 (T)", "scale"),
        (
            {"sku": [{"id": "A", "demand": {"mean": 1, "std": 2}}]},
            "[[sku]] #1 (A): `demand`",
            "std",
        ),
        (
            {"sku": [{"id": "A", "demand": {"mean": 1}, "promotions": [{"start": 1, "day": 2}]}]},
            "`promotions`",
            "day",
        ),
        (
            {"supplier": [{"id": "S1", "lead_time": {"dist": "poisson", "mu": 3}}]},
            "`lead_time`",
            "mu",
        ),
        ({"lane": [{"from": "S1", "to": "T", "days": 1, "dayz": 2}]}, "[[lane]] #1", "dayz"),
        ({"disruption": [{"supplier": "S1", "start": 1, "dys": 3}]}, "[[disruption]] #1", "dys"),
        (
            {"disruption": [{"supplier": "S1", "markov": {"alpha": 0.1, "beta": 0.2, "g": 1}}]},
            "`markov`",
            "g",
        ),
        ({"live": {"lookback": 7}}, "[live]", "lookback"),
        ({"defaults": {"site": {"kind": "store", "sclae": 1}}}, "[defaults.site]", "sclae"),
        ({"defaults": {"store": {}}}, "[defaults]", "store"),
    ],
)
def test_every_table_refuses_unknown_keys(over, where, key):
    with pytest.raises(ConfigError) as err:
        scenario.parse(_doc(**over))
    assert where in str(err.value) and repr(key) in str(err.value)


def test_csv_columns_are_checked_like_keys(tmp_path):
    (tmp_path / "skus.csv").write_text("id,demand.mean,polcy.kind\nA,1,base_stock\n")
    (tmp_path / "s.toml").write_text(
        'skus = "skus.csv"\n[[supplier]]\nid = "S1"\n[[site]]\nid = "T"\nsource = "S1"\n'
    )
    with pytest.raises(ScenarioError, match=r"s.toml: skus.csv:2: unknown key 'polcy'"):
        scenario.load(tmp_path / "s.toml")


def test_csv_cells_are_typed_and_nested(tmp_path):
    (tmp_path / "skus.csv").write_text(
        "id,demand.dist,demand.mean,demand.sd,demand.weekly,policy.kind,policy.S_days,unmet\n"
        "A,negbin,2.5,3,1;1;1;1;1.2;1.5;0.8,base_stock,4,lost\n"
        "B,poisson,1,,,base_stock,3,\n"
    )
    (tmp_path / "s.toml").write_text(
        'skus = "skus.csv"\n[[supplier]]\nid = "S1"\n[[site]]\nid = "T"\nsource = "S1"\n'
    )
    sc = scenario.load(tmp_path / "s.toml")
    a, b = sc.skus
    assert a.demand.dist == "negbin" and a.demand.sd == 3 and a.demand.weekly[5] == 1.5
    assert a.unmet == "lost" and b.unmet == "backorder" and b.demand.sd is None


def test_csv_errors_name_file_and_line(tmp_path):
    (tmp_path / "sites.csv").write_text("id,source\nT1,S1\nT2,\n")
    (tmp_path / "s.toml").write_text(
        'sites = "sites.csv"\n[[supplier]]\nid = "S1"\n[[sku]]\nid = "A"\ndemand = {mean = 1}\n'
    )
    with pytest.raises(ScenarioError, match=r"sites.csv:3: missing `source`"):
        scenario.load(tmp_path / "s.toml")
