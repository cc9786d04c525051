"""`tallyman sim`: flags, the JSON document (docs/simulator.md, "Output"), report files, errors."""

from __future__ import annotations

import json
from pathlib import Path

from tallyman.launch.cli import main

KPIS = (
    "cost_per_day",
    "fill_rate",
    "cycle_service_level",
    "stockout_days",
    "lost_sales",
    "avg_on_hand",
    "turnover",
)


def test_json_has_the_documented_shape(tmp_path, capsys):
    out = tmp_path / "r.json"
    code = main(
        ["sim", "examples/single_store.toml", "--replications", "5", "--out-json", str(out)]
    )
    assert code == 0
    doc = json.loads(out.read_text())
    for kpi in KPIS:
        v = doc["strategies"]["none"][kpi]
        assert set(v) == {"mean", "ci95"} and v["ci95"][0] <= v["mean"] <= v["ci95"][1]
    assert doc["replications"] == 5 and doc["seed"] == 1
    assert "cost/day" in capsys.readouterr().out, "the terminal table"


def test_json_switch_prints_only_json_on_stdout(capsys):
    assert main(["sim", "examples/single_store.toml", "-n", "3", "--days", "300", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["replications"] == 3 and set(doc["strategies"]) == {"none"}


def test_network_example_with_workers_and_report(tmp_path):
    out, rep = tmp_path / "n.json", tmp_path / "report"
    code = main(
        [
            "sim",
            "examples/network/network.toml",
            "-n",
            "2",
            "--days",
            "100",
            "--workers",
            "2",
            "--out-json",
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


def test_flags_override_the_scenario(capsys):
    args = ["examples/single_store.toml", "-n", "3", "--seed", "9", "--days", "300"]
    assert main(["sim", *args, "--strategies", "none", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["replications"], doc["seed"], doc["days"]) == (3, 9, 300)


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert err and err[0].startswith("tallyman: ") and "Traceback" not in "\n".join(err), err
    return err[0]


def test_bad_input_is_one_line_with_a_reason(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[site]]\nid = "X"\nsource = "NOWHERE"\n[[sku]]\nid = "A"\ndemand = {mean = 1}\n'
    )
    assert main(["sim", str(bad), "-q"]) == 1
    assert "NOWHERE" in _one_error_line(capsys)
    assert main(["sim", str(tmp_path / "missing.toml")]) == 1
    assert "missing.toml: no such file" in _one_error_line(capsys)
    assert main(["sim", "examples/single_store.toml", "--strategies", "teleport"]) == 2
    line = _one_error_line(capsys)
    assert "teleport" in line and "transshipment" in line, "the known strategies are listed"
    assert main(["sim", "examples/single_store.toml", "--days", "50"]) == 1
    assert "warm-up" in _one_error_line(capsys)


def test_a_misspelt_key_stops_the_run(tmp_path, capsys):
    text = Path("examples/single_store.toml").read_text().replace("policy =", "polcy =")
    (tmp_path / "typo.toml").write_text(text)
    assert main(["sim", str(tmp_path / "typo.toml"), "-q"]) == 1
    line = _one_error_line(capsys)
    assert "typo.toml" in line and "'polcy'" in line


def test_errors_show_scenario_text_as_written(tmp_path, capsys):
    """Brackets in a message (a TOML table name, a site id) are not eaten as markup."""
    bad = tmp_path / "lanes.toml"
    bad.write_text(
        '[[supplier]]\nid = "S1"\n[[site]]\nid = "[B2]"\nsource = "S1"\n'
        '[[sku]]\nid = "A"\ndemand = {mean = 1}\n[[lane]]\nto = "[B2]"\ndays = 1\n'
    )
    assert main(["sim", str(bad)]) == 1
    assert "[[lane]] #1: missing `from`" in _one_error_line(capsys)


def test_scenario_names_print_as_written(tmp_path, capsys):
    text = Path("examples/single_store.toml").read_text().replace("[run]", '[run]\nname = "[b]ig"')
    (tmp_path / "named.toml").write_text(text)
    assert main(["sim", str(tmp_path / "named.toml"), "-n", "2", "--days", "100"]) == 0
    assert "[b]ig:" in capsys.readouterr().out
