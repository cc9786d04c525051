"""`--report DIR`: PNG plots and a short Markdown summary a planner can forward.

Plots: total on hand over time per strategy (disruption windows shaded), fill rate with its 95%
CI per strategy, and a stockout heat map (SKU × site, share of days out of stock) per strategy.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from simulator.engine.kpis import NAMES  # noqa: E402
from simulator.montecarlo.runner import Results  # noqa: E402
from simulator.output.tables import LABELS, fmt, ranking, top_stockouts  # noqa: E402


def write(res: Results, folder: str | Path) -> list[Path]:
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    files = [
        plot_on_hand(res, out / "on_hand.png"),
        plot_fill_rate(res, out / "fill_rate.png"),
        plot_stockout_heatmap(res, out / "stockout_heatmap.png"),
    ]
    files.append(write_summary(res, out / "summary.md", files))
    return files


def _windows(res: Results) -> list[tuple[int, int, str]]:
    out = []
    for d in res.scenario.disruptions:
        if d.kind in ("outage", "surge"):
            what = d.supplier or d.port or ("→".join(d.lane) if d.lane else f"surge ×{d.factor}")
            out.append((d.start, d.start + d.days, what))
    return out


def plot_on_hand(res: Results, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(9, 4.5))
    days = np.arange(res.scenario.run.days)
    for name, s in res.strategies.items():
        ax.plot(days, s.on_hand, label=name, lw=1.4)
    warm = res.scenario.run.warmup
    if warm:
        ax.axvspan(0, warm, color="0.85", label="warm-up")
    for j, (a, b, what) in enumerate(_windows(res)):
        ax.axvspan(a, b, color="tab:red", alpha=0.12, label=f"{what} down" if j == 0 else None)
    ax.set_xlabel("day")
    ax.set_ylabel("units on hand, network (mean of replications)")
    ax.set_title(f"{res.scenario.run.name}: on hand over time")
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_fill_rate(res: Results, path: Path) -> Path:
    names = list(res.strategies)
    est = [res.strategies[n].kpis["fill_rate"] for n in names]
    means = np.array([e.mean for e in est]) * 100
    err = np.array([0.0 if np.isnan(e.lo) else e.half_width for e in est]) * 100
    fig, ax = plt.subplots(figsize=(1.6 * len(names) + 2.5, 4))
    ax.bar(names, means, yerr=err, capsize=6, color="tab:blue", alpha=0.8)
    lo = max(0.0, float((means - err).min()) - 5)
    ax.set_ylim(lo, 100)
    ax.set_ylabel("fill rate, % (95% CI)")
    ax.set_title(f"fill rate per strategy ({res.replications} replications)")
    for x, (m, e) in enumerate(zip(means, err, strict=True)):
        ax.text(x, m + e + 0.3, f"{m:.1f}%", ha="center", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_stockout_heatmap(res: Results, path: Path) -> Path:
    """Share of days out of stock per SKU (rows) × demand-facing site (columns)."""
    names = list(res.strategies)
    cols = [i for i, f in enumerate(res.faces) if f]
    sites = [res.site_ids[i] for i in cols]
    n_skus = len(res.sku_ids)
    width = max(3.5, 0.16 * len(cols) + 1.5)
    fig, axes = plt.subplots(
        1, len(names), figsize=(width * len(names) + 1.2, 6), squeeze=False, layout="constrained"
    )
    shares = {n: res.strategies[n].stockout_share[cols].T for n in names}
    vmax = max(float(x.max()) for x in shares.values()) or 1.0
    for ax, name in zip(axes[0], names, strict=True):
        im = ax.imshow(shares[name], aspect="auto", interpolation="nearest", cmap="magma_r",
                       vmin=0, vmax=vmax)  # fmt: skip
        ax.set_title(name)
        ax.set_xlabel("site")
        if len(sites) <= 30:
            ax.set_xticks(range(len(sites)), sites, rotation=90, fontsize=6)
        if n_skus <= 40:
            ax.set_yticks(range(n_skus), res.sku_ids, fontsize=6)
        ax.set_ylabel("SKU")
    fig.colorbar(im, ax=axes[0].tolist(), label="share of days out of stock", shrink=0.8)
    fig.suptitle("stockouts by SKU × site")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_summary(res: Results, path: Path, images: list[Path]) -> Path:
    run = res.scenario.run
    order = ranking(res)
    lines = [
        f"# {run.name}: digital-twin results",
        "",
        f"{res.replications} replications per strategy, {run.days} days "
        f"({run.warmup} warm-up days left out), seed {res.seed}, common random numbers. "
        "Values are means with 95% confidence intervals over replications.",
        "",
    ]
    if len(order) > 1:
        best = res.strategies[order[0]].kpis["cost_per_day"]
        lines += [f"**Loses least: `{order[0]}`** at {fmt(best, 'cost_per_day')} per day.", ""]
    for when in _windows(res):
        lines.append(f"- disruption: {when[2]} from day {when[0]} to day {when[1] - 1}")
    lines += ["", "| strategy | " + " | ".join(LABELS[k] for k in NAMES) + " |"]
    lines.append("|---" * (len(NAMES) + 1) + "|")
    for name in order:
        s = res.strategies[name]
        lines.append(f"| {name} | " + " | ".join(fmt(s.kpis[k], k) for k in NAMES) + " |")
    if res.paired:
        keys = ("cost_per_day", "fill_rate", "stockout_days")
        lines += ["", f"Difference from `{res.baseline}` (paired on common random numbers):", ""]
        lines.append("| strategy | " + " | ".join("Δ " + LABELS[k] for k in keys) + " |")
        lines.append("|---" * (len(keys) + 1) + "|")
        for name, d in res.paired.items():
            lines.append(f"| {name} | " + " | ".join(fmt(d[k], k, True) for k in keys) + " |")
    worst = res.strategies[order[-1]]
    rows = top_stockouts(res, worst, 10)
    if rows:
        lines += [
            "",
            f"Pairs most likely to run out under `{worst.name}`:",
            "",
            f"| SKU | site | P(stockout) | days out | first day from {res.first_from} (mean) |",
            "|---|---|---|---|---|",
        ]
        measured = run.days - run.warmup
        for r in rows:
            first = "—" if r["first_day"] is None else f"{r['first_day']:.0f}"
            lines.append(
                f"| {r['sku']} | {r['site']} | {r['probability']:.0%} | "
                f"{r['share_of_days'] * measured:.1f} | {first} |"
            )
    lines += [""] + [f"![{p.stem}]({p.name})" for p in images] + [""]
    for note in res.notes:
        lines.append(f"> note: {note}")
    path.write_text("\n".join(lines) + "\n")
    return path
