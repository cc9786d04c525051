"""The embedded sample: a catalogue of a few hundred SKUs over two sites and one shift of scans.

Deterministic for a seed, so a newcomer's demo and the tests see the same goods. GTINs use the
GS1 prefix 0400000 range with real check digits, so the decoder treats them like any label.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from pathlib import Path

from tallyman.wire import gtin14

CATEGORIES = ("beverages", "snacks", "household", "personal care", "frozen", "stationery")
SITES = {"DC1": ("DOCK", "A-01", "A-02", "B-01", "B-02"), "STORE1": ("BACK", "SHELF")}
WORDS = ("Oat", "Lemon", "Jasmine", "Rice", "Tea", "Soap", "Cola", "Noodle", "Pen", "Bun")


@dataclass(frozen=True)
class SampleItem:
    sku: str
    gtin: str
    name: str
    category: str
    unit_cost: float
    price: float


def items(n: int = 300, seed: int = 7) -> list[SampleItem]:
    rng = random.Random(seed)
    out = []
    for i in range(1, n + 1):
        cost = round(rng.uniform(0.4, 40.0), 2)
        out.append(
            SampleItem(
                sku=f"SKU{i:05d}",
                gtin=gtin14(f"0400000{i:05d}"),
                name=f"{rng.choice(WORDS)} {rng.choice(WORDS).lower()} {i}",
                category=CATEGORIES[i % len(CATEGORIES)],
                unit_cost=cost,
                price=round(cost * rng.uniform(1.3, 2.2), 2),
            )
        )
    return out


def locations() -> list[str]:
    return [f"{site}/{b}" for site, bins in SITES.items() for b in bins]


def write_csvs(folder: Path, n_items: int = 300, seed: int = 7) -> dict[str, Path]:
    """items.csv, locations.csv and stock.csv (opening stock) for `tallyman import`."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed + 1)
    catalogue = items(n_items, seed)
    paths = {k: folder / f"{k}.csv" for k in ("items", "locations", "stock")}
    with paths["items"].open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["sku", "gtin", "name", "category", "unit_cost", "price", "supplier"])
        for it in catalogue:
            supplier = "S1" if int(it.sku[3:]) % 3 else "S2"
            w.writerow([it.sku, it.gtin, it.name, it.category, it.unit_cost, it.price, supplier])
    with paths["locations"].open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["loc", "kind"])
        for loc in locations():
            w.writerow([loc, "bin"])
    with paths["stock"].open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["sku", "loc", "qty"])
        for it in catalogue:
            w.writerow([it.sku, f"DC1/{rng.choice(SITES['DC1'][1:])}", rng.randint(20, 200)])
            w.writerow([it.sku, "STORE1/SHELF", rng.randint(0, 30)])
    return paths


def shift(site: str = "DC1", n_scans: int = 400, seed: int = 11, n_items: int = 300) -> list[str]:
    """One shift at `site` as the scanner would send it: labels, then items, mode by mode.

    A few mistakes are on purpose (a mistyped check digit, a product central has never seen),
    so the demo shows how rejections look on the handheld and in the dead-letter list.
    """
    rng = random.Random(seed)
    catalogue = items(n_items)
    bins = SITES.get(site, ("MAIN",))
    lines = [f"LOC:{site}/{bins[0]}", "MODE:RECEIVE", "REF:PO-1001"]
    for _ in range(n_scans // 4):
        it = rng.choice(catalogue)
        lines.append(f"]C101{it.gtin}10L{rng.randint(100, 999)}\x1d30{rng.randint(1, 24)}")
    lines += ["MODE:PUTAWAY", f"TO:{site}/{bins[-1]}"]
    for _ in range(n_scans // 8):
        lines += ["QTY:2", f"]E0{rng.choice(catalogue).gtin[1:]}"]
    lines += ["REF:SO-2001", "MODE:PICK", f"LOC:{site}/{bins[1 % len(bins)]}"]
    for _ in range(n_scans // 4):
        lines.append(f"]E0{rng.choice(catalogue).gtin[1:]}")
    lines.append("]E04000000000019")  # wrong check digit: refused on the handheld
    lines.append(f"]E0{gtin14('0499999999999')[1:]}")  # unknown to central: dead-lettered
    lines += ["MODE:COUNT"]
    for _ in range(n_scans // 8):
        lines += [f"QTY:{rng.randint(1, 50)}", f"]E0{rng.choice(catalogue).gtin[1:]}"]
    return lines
