"""`tallyman sim`: flags, JSON shape (DESIGN.md), report files, errors."""

from __future__ import annotations

import json

from simulator import cli
from tallyman.launch import cli as tallyman_cli

KPIS = (
    "cost_per_day",
    "fill_rate",
    "cycle_service_level",
    "stockout_days",
    "lost_sales",
    "avg_on_hand",
    "turnover",
)


def test_json_has_the_design_shape(tmp_path, capsys):
    out = tmp_path / "r.json"
    code = tallyman_cli.main(
        ["sim", "examples/single_store.toml", "--replications", "5", "--json", str(out)]
    )
    assert code == 0
    doc = json.loads(out.read_text())
    for kpi in KPIS:
        v = doc["strategies"]["none"][kpi]
        assert set(v) == {"mean", "ci95"} and v["ci95"][0] <= v["mean"] <= v["ci95"][1]
    assert doc["replications"] == 5 and doc["seed"] == 1
    assert "cost/day" in capsys.readouterr().out, "the terminal table"


def test_network_example_with_workers_and_report(tmp_path):
    out, rep = tmp_path / "n.json", tmp_path / "report"
    code = cli.main(
        [
            "examples/network/network.toml",
            "-n",
            "2",
            "--days",
            "100",
            "--workers",
            "2",
            "--json",
            str(out),
            "--report",
            str(rep),
            "-q",
        ]
    )
    assert code == 0
    doc = json.loads(out.read_text())
    assert set(doc["strategies"]) == {"none", "transshipment", "rebalance", "backup_supplier"}
    assert doc["ranking"][0] == "backup_supplier"
    assert set(doc["vs_baseline"]) == {"transshipment", "rebalance", "backup_supplier"}
    worst = doc["stockouts"]["none"][0]
    assert {"sku", "site", "probability", "share_of_days", "first_day"} <= set(worst)
    for name in ("on_hand.png", "fill_rate.png", "stockout_heatmap.png", "summary.md"):
        assert (rep / name).stat().st_size > 0
    summary = (rep / "summary.md").read_text()
    assert "Loses least: `backup_supplier`" in summary and "![on_hand](on_hand.png)" in summary


def test_flags_override_the_scenario(tmp_path):
    out = tmp_path / "r.json"
    cli.main(
        [
            "examples/single_store.toml",
            "-n",
            "3",
            "--seed",
            "9",
            "--days",
            "300",
            "--strategies",
            "none",
            "--json",
            str(out),
            "-q",
        ]
    )
    doc = json.loads(out.read_text())
    assert (doc["replications"], doc["seed"], doc["days"]) == (3, 9, 300)


def test_bad_input_exits_2_with_a_reason(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[site]]\nid = "X"\nsource = "NOWHERE"\n[[sku]]\nid = "A"\ndemand = {mean = 1}\n'
    )
    assert cli.main([str(bad), "-q"]) == 2
    assert "NOWHERE" in capsys.readouterr().err
    assert cli.main([str(tmp_path / "missing.toml")]) == 2
    assert cli.main(["examples/single_store.toml", "--strategies", "teleport"]) == 2
