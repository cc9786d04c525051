"""Results for people and programs: the terminal table and the `--json` document.

The JSON shape is `{"strategies": {NAME: {KPI: {"mean", "ci95"}}}}` (docs/simulator.md,
"Output"), plus context keys beside it (run settings, paired differences against the baseline, a
cost ranking, the SKU × site pairs most likely to run out and when). The table is drawn with
rich, imported only when a table is printed; names and notes from the scenario are escaped, so
a site called `[B2]` prints as written instead of being read as markup.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from simulator.engine.kpis import NAMES
from simulator.montecarlo.runner import Results, StrategySummary
from simulator.montecarlo.stats import Estimate

if TYPE_CHECKING:
    from rich.console import Console

LABELS = {
    "cost_per_day": "cost/day",
    "fill_rate": "fill rate",
    "cycle_service_level": "CSL",
    "stockout_days": "stockout days",
    "lost_sales": "lost sales",
    "avg_on_hand": "avg on hand",
    "turnover": "turns/yr",
    "lateral_units": "moved",
}
_RATIO = {"fill_rate", "cycle_service_level"}


def ranking(res: Results) -> list[str]:
    """Strategies by mean cost per day, cheapest (the response that loses least) first."""
    return sorted(res.strategies, key=lambda s: res.strategies[s].kpis["cost_per_day"].mean)


def top_stockouts(res: Results, s: StrategySummary, limit: int = 20) -> list[dict]:
    """The pairs most likely to stock out: which SKU, where, how often and from when."""
    prob = s.stockout_prob
    order = np.argsort(-(prob * 1e6 + s.stockout_share), axis=None)[:limit]
    rows = []
    for flat in order:
        i, k = np.unravel_index(flat, prob.shape)
        if prob[i, k] <= 0:
            break
        first = s.first_day[i, k]
        rows.append(
            {
                "sku": res.sku_ids[k],
                "site": res.site_ids[i],
                "probability": float(prob[i, k]),
                "share_of_days": float(s.stockout_share[i, k]),
                "first_day": None if math.isnan(first) else float(first),
            }
        )
    return rows


def to_json(res: Results) -> dict:
    run = res.scenario.run
    return {
        "scenario": run.name,
        "replications": res.replications,
        "seed": res.seed,
        "days": run.days,
        "warmup": run.warmup,
        "workers": res.workers,
        "elapsed_s": round(res.elapsed, 3),
        "strategies": {
            name: {k: s.kpis[k].as_json() for k in NAMES} for name, s in res.strategies.items()
        },
        "baseline": res.baseline,
        "vs_baseline": {
            name: {k: est.as_json() for k, est in diffs.items()}
            for name, diffs in res.paired.items()
        },
        "ranking": ranking(res),
        "stockouts": {name: top_stockouts(res, s) for name, s in res.strategies.items()},
        "first_day_from": res.first_from,
        "notes": res.notes,
    }


def fmt(est: Estimate, kpi: str, signed: bool = False) -> str:
    scale = 100.0 if kpi in _RATIO else 1.0
    unit = "%" if kpi in _RATIO else ""
    mean = est.mean * scale
    sign = "+" if signed else ""
    digits = 2 if abs(mean) < 100 else 0
    text = f"{mean:{sign}.{digits}f}{unit}"
    if not math.isnan(est.lo):
        text += f" ±{est.half_width * scale:.{digits}f}"
    return text


def print_table(res: Results, console: Console | None = None) -> None:
    """KPIs down, strategies across (fits 80 columns for four strategies)."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = console or Console()
    run = res.scenario.run
    console.print(
        f"[bold]{escape(run.name)}[/]: {res.replications} replications × "
        f"{run.days - run.warmup} days (after {run.warmup} warm-up), seed {res.seed}; "
        "mean ± 95% CI half-width"
    )
    best = ranking(res)[0]
    table = Table(title_justify="left")
    table.add_column("KPI")
    for name in res.strategies:
        style = "green" if name == best and len(res.strategies) > 1 else None
        table.add_column(escape(name), justify="right", header_style=style)
    for k in NAMES:
        table.add_row(LABELS[k], *(fmt(s.kpis[k], k) for s in res.strategies.values()))
    console.print(table)
    if res.paired:
        diff = Table(
            title=f"difference from {escape(res.baseline)}, paired on common random numbers "
            "(95% CI)",
            title_justify="left",
        )
        diff.add_column("KPI")
        for name in res.paired:
            diff.add_column(escape(name), justify="right")
        for k in ("cost_per_day", "fill_rate", "cycle_service_level", "stockout_days"):
            diff.add_row(
                "Δ " + LABELS[k], *(fmt(d[k], k, signed=True) for d in res.paired.values())
            )
        console.print(diff)
    if len(res.strategies) > 1:
        console.print(f"loses least (lowest cost/day): [bold green]{escape(best)}[/]")
    for note in res.notes:
        console.print(f"[yellow]note:[/] {escape(note)}")
