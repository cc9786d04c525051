"""Regenerate sites.csv and skus.csv of the network example (fixed seed, so the files are
reproducible): `python examples/network/generate.py`.

20 stores scattered over a 120 km square around one DC; store sizes log-normal around 1. 200
SKUs: slow movers with Poisson demand, lumpy ones with negative-binomial, fast movers normal;
a retail weekly profile; store policies in days of cover (base-stock, (s,S) or (r,Q)), lost
sales, holding cost ~25%/year of a unit cost, lost-sale cost the unit margin.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
WEEKLY = "0.85;0.85;0.9;0.95;1.15;1.35;0.95"


def sites(rng: np.random.Generator) -> list[dict]:
    rows = [{"id": "DC1", "kind": "dc", "source": "S1", "x": 60, "y": 60, "holding_factor": 0.5}]
    for i in range(1, 21):
        rows.append(
            {
                "id": f"STORE{i:02d}",
                "kind": "store",
                "source": "DC1",
                "x": round(float(rng.uniform(0, 120)), 1),
                "y": round(float(rng.uniform(0, 120)), 1),
                "demand_scale": round(float(np.exp(rng.normal(0, 0.35))), 2),
                "holding_factor": 1,
            }
        )
    return rows


def skus(rng: np.random.Generator) -> list[dict]:
    rows = []
    for k in range(1, 201):
        kind = rng.choice(["slow", "lumpy", "fast"], p=[0.6, 0.25, 0.15])
        unit_cost = round(float(np.exp(rng.normal(2.0, 0.8))), 2)
        row = {"id": f"SKU{k:03d}", "demand.weekly": WEEKLY}
        if kind == "slow":
            mean = round(float(np.exp(rng.normal(0.2, 0.6))), 2)
            row |= {"demand.dist": "poisson", "demand.mean": mean}
        elif kind == "lumpy":
            mean = round(float(np.exp(rng.normal(0.5, 0.5))), 2)
            row |= {
                "demand.dist": "negbin",
                "demand.mean": mean,
                "demand.sd": round(float(np.sqrt(mean + mean * mean)), 2),
            }
        else:
            mean = round(float(rng.uniform(8, 25)), 1)
            row |= {"demand.dist": "normal", "demand.mean": mean, "demand.sd": round(0.4 * mean, 1)}
        policy = rng.choice(["base_stock", "sS", "rQ"], p=[0.6, 0.25, 0.15])
        if policy == "base_stock":
            row |= {"policy.kind": "base_stock", "policy.S_days": 4}
        elif policy == "sS":
            row |= {"policy.kind": "sS", "policy.s_days": 3, "policy.S_days": 7}
        else:
            row |= {"policy.kind": "rQ", "policy.r_days": 3, "policy.Q_days": 4}
        row |= {
            "unmet": "lost",
            "holding": round(unit_cost * 0.25 / 365, 4),
            "lost_sale": round(unit_cost * 0.6, 2),
        }
        rows.append(row)
    return rows


def write(path: Path, rows: list[dict]) -> None:
    cols = list(dict.fromkeys(c for r in rows for c in r))
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=cols)
        w.writeheader()
        w.writerows(rows)


if __name__ == "__main__":
    rng = np.random.default_rng(20240601)
    write(HERE / "sites.csv", sites(rng))
    write(HERE / "skus.csv", skus(rng))
