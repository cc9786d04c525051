"""One replication of a 50-site × 1,000-SKU × 365-day network with a 30-day supplier outage,
against a plain SimPy model with one process per SKU × site, in the same run.

    .venv/bin/python scripts/bench/bench_sim_network.py [--runs 5] [--baseline-runs 3]
                                                        [--e2e-runs 5] [--keep DIR]

Two ratios against the same plain-model time:
  in-process   one replication inside this process (kernels loaded, network compiled);
               target ≤ 2 s and ≥ 25×.
  end to end   `tallyman sim network.toml -n 1 --strategies none --json` as a user runs it,
               in a subprocess: interpreter start, imports, reading the scenario (TOML + CSV),
               compiling the network, loading the cached kernels, the replication, the JSON and
               the exit; target ≥ 30×. One untimed run first, so that a cold Numba cache is
               compiled once, as on the first run after an install; the timed runs' fill rate
               must equal the in-process one (same replication, same numbers).
The plain model runs a tenth of the work (100 SKUs instead of 1,000: the same sites, days and
per-pair logic) and its time is scaled ×10, since its cost is linear in the number of processes.
The three are measured in interleaved rounds, so that other work on the machine weighs on all
of them alike; medians, wall time (the targets) and CPU time (steadier on a busy machine).
`--keep DIR` leaves the scenario files there, to run `tallyman sim DIR/network.toml` by hand.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import simpy

from simulator.engine.network import compile_network
from simulator.engine.twin import BASELINE, run_replication
from simulator.scenario import loader as scenario

N_STORES, N_DCS, DAYS, OUTAGE = 48, 2, 365, (120, 30)


def network_doc(n_skus: int, seed: int = 11) -> dict:
    rng = np.random.default_rng(seed)
    sites = [{"id": f"DC{d}", "kind": "dc", "source": "S1"} for d in range(N_DCS)]
    sites += [
        {
            "id": f"ST{i:02d}",
            "source": f"DC{i % N_DCS}",
            "x": float(rng.uniform(0, 300)),
            "y": float(rng.uniform(0, 300)),
            "demand_scale": float(np.exp(rng.normal(0, 0.4))),
        }
        for i in range(N_STORES)
    ]
    skus = []
    for k in range(n_skus):
        mean = float(np.exp(rng.normal(0.0, 0.9)))
        kind = k % 10
        demand = {"dist": "poisson", "mean": mean}
        if kind == 8:
            demand = {"dist": "negbin", "mean": mean, "sd": float(np.sqrt(mean + mean**2))}
        elif kind == 9:
            demand = {"dist": "normal", "mean": 10 * mean + 5, "sd": 3 * mean + 1.5}
        policy = (
            {"kind": "base_stock", "S_days": 4}
            if kind < 6
            else {"kind": "sS", "s_days": 3, "S_days": 7}
            if kind < 8
            else {"kind": "rQ", "r_days": 3, "Q_days": 4}
        )
        skus.append({"id": f"K{k:04d}", "demand": demand, "policy": policy, "unmet": "lost"})
    return {
        "run": {"days": DAYS, "warmup": 30, "replications": 1, "seed": 1},
        "costs": {"holding": 0.02, "lost_sale": 5.0, "order": 0.5, "transfer": 0.2},
        "network": {"dc_days": 1, "km_per_day": 150},
        "supplier": [
            {"id": "S1", "lead_time": {"dist": "poisson", "mean": 5}, "backup": "S2"},
            {"id": "S2", "lead_time": 10, "unit_cost": 0.6},
        ],
        "site": sites,
        "sku": skus,
        "disruption": [{"supplier": "S1", "start": OUTAGE[0], "days": OUTAGE[1]}],
    }


def write_scenario(doc: dict, folder: Path) -> Path:
    """`doc` as a scenario a user would write: network.toml, with sites.csv and skus.csv."""
    folder.mkdir(parents=True, exist_ok=True)
    for key, table in (("sites", "site"), ("skus", "sku")):
        rows = [_flat(r) for r in doc[table]]
        cols = list(dict.fromkeys(c for r in rows for c in r))
        with open(folder / f"{key}.csv", "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=cols)
            writer.writeheader()
            writer.writerows(rows)
    lines = ['sites = "sites.csv"', 'skus = "skus.csv"']
    for table in ("run", "costs", "network"):
        lines += [f"[{table}]", *(f"{k} = {_toml(v)}" for k, v in doc[table].items())]
    for table in ("supplier", "disruption"):
        for row in doc[table]:
            lines += [f"[[{table}]]", *(f"{k} = {_toml(v)}" for k, v in row.items())]
    path = folder / "network.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _flat(row: dict, prefix: str = "") -> dict:
    """A CSV row: nested keys joined with dots, as the scenario loader reads them."""
    out = {}
    for k, v in row.items():
        out.update(_flat(v, f"{prefix}{k}.") if isinstance(v, dict) else {prefix + k: v})
    return out


def _toml(v) -> str:
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k} = {_toml(x)}" for k, x in v.items()) + "}"
    return json.dumps(v)  # numbers, strings and lists are written alike


# --- the plain SimPy model -----------------------------------------------------------------


def plain_simpy(doc: dict, seed: int = 1) -> float:
    """One SimPy process per SKU × site, each doing its own receive / order / demand / costs
    every day; DC pairs serve their stores' orders from stock; the supplier goes down for the
    outage. The obvious SimPy model, for timing only."""
    env = simpy.Environment()
    rng = np.random.default_rng(seed)
    sites, skus = doc["site"], doc["sku"]
    down = {"S1": False}
    state = {}
    cost = [0.0]

    def pair(site: dict, sku: dict, dc_key):
        key = (site["id"], sku["id"])
        is_dc = site.get("kind") == "dc"
        mean = 0.0 if is_dc else sku["demand"]["mean"] * site.get("demand_scale", 1.0)
        if is_dc:
            mean_dc = sum(
                sku["demand"]["mean"] * s.get("demand_scale", 1.0)
                for s in sites
                if s.get("source") == site["id"]
            )
            level = int(np.ceil(mean_dc * 8))
        else:
            level = int(np.ceil(mean * 4))
        st = state[key] = {"on_hand": level, "pipe": 0, "due": {}}
        for day in range(DAYS):
            yield env.timeout(1) if day else env.timeout(0)
            st["on_hand"] += st["due"].pop(day, 0)
            ip = st["on_hand"] + st["pipe"]
            q = max(level - ip, 0)
            if q:
                if is_dc:
                    if not down["S1"]:
                        st["pipe"] += q
                        st["due"][day + int(rng.poisson(5))] = st["due"].get(day, 0) + q
                else:
                    dc = state[dc_key]
                    ship = min(q, dc["on_hand"])
                    dc["on_hand"] -= ship
                    if ship:
                        st["pipe"] += ship
                        st["due"][day + 1] = st["due"].get(day + 1, 0) + ship
            if not is_dc:
                d = int(rng.poisson(mean))
                sold = min(d, st["on_hand"])
                st["on_hand"] -= sold
                cost[0] += 5.0 * (d - sold)
            cost[0] += 0.02 * st["on_hand"]

    def outage():
        yield env.timeout(OUTAGE[0])
        down["S1"] = True
        yield env.timeout(OUTAGE[1])
        down["S1"] = False

    for site in sites:  # DCs first, so their state exists when stores start
        for sku in skus:
            dc_key = (site["source"], sku["id"])
            env.process(pair(site, sku, dc_key))
    env.process(outage())
    env.run()
    return cost[0]


class Timer:
    """Wall and CPU seconds of the measured runs (CPU: this process's, or its children's)."""

    def __init__(self, children: bool = False):
        self.children = children
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def _cpu(self) -> float:
        if self.children:
            r = resource.getrusage(resource.RUSAGE_CHILDREN)
            return r.ru_utime + r.ru_stime
        return time.process_time()

    def __enter__(self) -> Timer:
        self._w0, self._c0 = time.perf_counter(), self._cpu()
        return self

    def __exit__(self, *exc) -> None:
        self.wall.append(time.perf_counter() - self._w0)
        self.cpu.append(self._cpu() - self._c0)

    def median(self) -> tuple[float, float]:
        return statistics.median(self.wall), statistics.median(self.cpu)

    def runs(self) -> str:
        return ", ".join(f"{x:.2f}" for x in self.wall)


def at_least_one(text: str) -> int:
    """A count of timed runs: each median needs one run at least."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {n}")
    return n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=at_least_one, default=5, help="in-process replications timed")
    ap.add_argument("--baseline-runs", type=at_least_one, default=3, help="plain SimPy runs timed")
    ap.add_argument(
        "--e2e-runs", type=at_least_one, default=5, help="`tallyman sim` subprocesses timed"
    )
    ap.add_argument("--keep", metavar="DIR", help="write the scenario files here and keep them")
    args = ap.parse_args()

    tmp = tempfile.TemporaryDirectory()
    path = write_scenario(network_doc(1000), Path(args.keep or tmp.name))
    tallyman = Path(sys.executable).with_name("tallyman")
    cmd = [str(tallyman), "sim", str(path), "-n", "1", "--strategies", "none", "--json"]
    subprocess.run(cmd, check=True, capture_output=True)  # a cold Numba cache compiles here
    t0 = time.perf_counter()
    net = compile_network(scenario.load(path))
    compile_s = time.perf_counter() - t0
    run_replication(net, BASELINE, 99)  # warm: load cached kernels
    small = network_doc(100)

    # Interleaved rounds, so that other work on the machine weighs on all three alike.
    e2e, ours, base = Timer(children=True), Timer(), Timer()
    for r in range(max(args.e2e_runs, args.runs, args.baseline_runs)):
        if r < args.e2e_runs:
            with e2e:
                done = subprocess.run(cmd, check=True, capture_output=True, text=True)
            e2e_doc = json.loads(done.stdout)
        if r < args.runs:
            with ours:
                result = run_replication(net, BASELINE, r)
            if r == 0:
                first = result
        if r < args.baseline_runs:
            with base:
                plain_simpy(small, seed=r)
    tmp.cleanup()

    same = e2e_doc["strategies"]["none"]["fill_rate"]["mean"] == first.kpis["fill_rate"]
    (ours_w, ours_c), (e2e_w, e2e_c), (base_w, base_c) = ours.median(), e2e.median(), base.median()
    plain_w, plain_c = 10 * base_w, 10 * base_c
    print(
        f"network: {net.n_sites} sites × {net.n_skus} SKUs = {net.n_sites * net.n_skus} pairs × "
        f"{DAYS} days, S1 down days {OUTAGE[0]}–{OUTAGE[0] + OUTAGE[1] - 1}"
    )
    print(f"scenario load + compile (once per run of many replications): {compile_s:.2f} s")
    print(
        f"ours, one replication in-process: median {ours_w:.3f} s wall, {ours_c:.3f} s CPU over "
        f"{args.runs} (runs: {ours.runs()}); fill rate {first.kpis['fill_rate']:.4f}"
    )
    print(f"ours, end to end: {' '.join(['tallyman', *cmd[1:]])}")
    print(
        f"  process start included: median {e2e_w:.3f} s wall, {e2e_c:.3f} s CPU over "
        f"{args.e2e_runs} (runs: {e2e.runs()}); same replication as in-process: "
        f"{'yes' if same else 'NO'}"
    )
    print(
        f"plain SimPy, one process per pair, 1/10 of the work ({len(small['sku'])} SKUs): "
        f"median {base_w:.2f} s wall, {base_c:.2f} s CPU over {args.baseline_runs} "
        f"(runs: {base.runs()}); scaled ×10: {plain_w:.1f} s wall"
    )
    print(
        f"speed-up in-process: {plain_w / ours_w:.0f}× (target ≥ 25×; "
        f"budget {'met' if ours_w <= 2.0 else 'MISSED'}, ≤ 2 s)   "
        f"end to end: {plain_w / e2e_w:.1f}× (target ≥ 30×)"
    )
    print(
        f"by CPU time (steadier on a busy machine): in-process {plain_c / ours_c:.0f}×, "
        f"end to end {plain_c / e2e_c:.1f}×"
    )


if __name__ == "__main__":
    main()
