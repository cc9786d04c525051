"""Benchmark: our vectorised forecasts against statsforecast on the same series and models.

    .venv/bin/python scripts/bench/bench_forecast.py              # 2,000 series × 365 days
    .venv/bin/python scripts/bench/bench_forecast.py --series 10000 --runs 5

Series are the synthetic network's daily demand (steady, intermittent, seasonal, trending,
new and discontinued lines). Every figure is the median of `--runs` runs, measured in this run
(ratios are within one run). Target (issue): ≥ 20× faster with equal results (1e-6) for fixed
smoothing parameters.

A. Fixed-parameter models — WindowAverage(28), SES(α=0.1), Croston, SBA, TSB(0.1, 0.1):
   `StatsForecast(models, freq=1, n_jobs=1).forecast(df, h=7)` against our five calls on the
   same matrix; results compared element by element.
B. Holt and Holt-Winters with fixed α, β, γ: statsforecast's own ETS recursion
   (`pegelsresid_C` from its `initstate`, then `etsforecast`) driven per series — the only way
   statsforecast runs them with fixed parameters — against `holt` / `holt_winters`; equal to 1e-6.
C. For scale: statsforecast's Holt() / HoltWinters() classes fit α, β, γ and the initial states
   by maximum likelihood per series, a different (costlier) fitting from ours (a small grid
   judged on a holdout); reported as throughput, not as an equal-results comparison.
D. Our whole model selection (15 candidates with holdout) per series, for scale.

Ratios are single thread against n_jobs=1; our two-thread time is shown too.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import pandas as pd  # noqa: E402
from statsforecast import StatsForecast  # noqa: E402
from statsforecast.ets import etsforecast, initstate, pegelsresid_C, switch  # noqa: E402
from statsforecast.models import (  # noqa: E402
    TSB,
    CrostonClassic,
    CrostonSBA,
    Holt,
    HoltWinters,
    SimpleExponentialSmoothing,
    WindowAverage,
)

from central.planning.core import forecast as F  # noqa: E402
from central.planning.core.synthetic import synthetic_network  # noqa: E402

H = 7
ALPHA, BETA, GAMMA, M = 0.2, 0.02, 0.1, 7


def med(fn, runs: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(runs):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def ours_fixed(Y):
    return {
        "WindowAverage": F.moving_average(Y, 28, H),
        "SES": F.ses(Y, 0.1, H),
        "CrostonClassic": F.croston(Y, H),
        "CrostonSBA": F.sba(Y, H),
        "TSB": F.tsb(Y, 0.1, 0.1, H),
    }


def sf_fixed(df, n):
    models = [WindowAverage(window_size=28), SimpleExponentialSmoothing(alpha=0.1),
              CrostonClassic(), CrostonSBA(), TSB(alpha_d=0.1, alpha_p=0.1)]  # fmt: skip
    fc = StatsForecast(models=models, freq=1, n_jobs=1).forecast(df=df, h=H)
    fc = fc.sort_values(["unique_id", "ds"])
    return {c: fc[c].to_numpy().reshape(n, H) for c in
            ("WindowAverage", "SES", "CrostonClassic", "CrostonSBA", "TSB")}  # fmt: skip


def sf_ets_fixed(Y, season):
    m = M if season == "A" else 1
    out = np.empty((len(Y), H))
    f = np.zeros(H)
    for i, y in enumerate(Y):
        init = initstate(y, m, "A", season)
        if season == "A":
            init = np.concatenate([init, [-init[2:].sum()]])
        _, _, x, _ = pegelsresid_C(y, m, init, "A", "A", season, False, ALPHA, BETA, GAMMA, 1.0, 3)
        etsforecast(x[-1], m, switch("A"), switch(season), 1.0, H, f)
        out[i] = f
    return out


def ours_ets(Y, season):
    if season == "A":
        return F.holt_winters(Y, ALPHA, BETA, GAMMA, M, H)
    return F.holt(Y, ALPHA, BETA, H)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--series", type=int, default=2000)
    ap.add_argument("--mle-series", type=int, default=100, help="series for part C")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    warnings.simplefilter("ignore")

    sites = 20
    hist, _, _ = synthetic_network(max(1, args.series // sites), sites, days=365, seed=11)
    Y = hist.demand(np.arange(hist.n_series))[: args.series]
    Y = Y[np.ptp(Y, axis=1) > 0]  # statsforecast's ETS refuses constant series
    n, T = Y.shape
    df = pd.DataFrame({"unique_id": np.repeat(np.arange(n), T), "ds": np.tile(np.arange(T), n),
                       "y": Y.ravel()})  # fmt: skip
    # warm-up (Numba cache load, statsforecast imports)
    ours_fixed(Y[:50])
    F.select_models(Y[:50])
    sf_fixed(df[df.unique_id < 5], 5)
    ours_ets(Y[:50], "A")
    ours_ets(Y[:50], "N")
    print(f"{n:,} series × {T} days; statsforecast n_jobs=1; ours with 1 thread unless noted; "
          f"medians of {args.runs} runs\n")  # fmt: skip

    def ours(fn):
        numba.set_num_threads(1)
        t1, out = med(fn, args.runs)
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        t2, _ = med(fn, args.runs)
        return t1, t2, out

    # A
    t_sf, sf = med(lambda: sf_fixed(df, n), args.runs)
    t1, t2, mine = ours(lambda: ours_fixed(Y))
    diff = max(float(np.max(np.abs(sf[k] - mine[k]))) for k in sf)
    print(f"A. MA(28), SES(0.1), Croston, SBA, TSB(0.1,0.1): statsforecast {t_sf:.3f} s, ours "
          f"{t1:.4f} s (2 threads {t2:.4f} s) → {t_sf / t1:.0f}× (2 threads {t_sf / t2:.0f}×); "
          f"max |diff| {diff:.1e}")  # fmt: skip

    # B
    for season, name in (("N", "Holt"), ("A", "Holt-Winters(7)")):
        t_sf, sf = med(lambda season=season: sf_ets_fixed(Y, season), max(1, args.runs // 2))
        t1, t2, mine = ours(lambda season=season: ours_ets(Y, season))
        diff = float(np.max(np.abs(sf - mine)))
        print(f"B. {name} fixed α={ALPHA} β={BETA}" + (f" γ={GAMMA}" if season == "A" else "") +
              f": statsforecast ETS {t_sf:.3f} s, ours {t1:.4f} s (2 threads {t2:.4f} s) → "
              f"{t_sf / t1:.0f}× (2 threads {t_sf / t2:.0f}×); max |diff| {diff:.1e}")  # fmt: skip

    # C
    k = min(args.mle_series, n)
    sub = df[df.unique_id < k]
    for model, name in ((Holt(), "Holt"), (HoltWinters(season_length=M), "HoltWinters(7)")):
        t_sf, _ = med(lambda model=model: StatsForecast(models=[model], freq=1, n_jobs=1)
                      .forecast(df=sub, h=H), max(1, args.runs // 2))  # fmt: skip
        season = "A" if name.startswith("HoltWinters") else "N"
        t1, _, _ = ours(lambda season=season: ours_ets(Y, season))
        print(f"C. statsforecast {name} (MLE fit): {1e3 * t_sf / k:.2f} ms/series; ours (fixed "
              f"parameters) {1e6 * t1 / n:.2f} µs/series")  # fmt: skip

    # D
    t1, t2, res = ours(lambda: F.select_models(Y))
    kinds = np.bincount(res.model, minlength=len(F.MODEL_NAMES))
    mix = ", ".join(f"{F.MODEL_NAMES[i]} {c}" for i, c in enumerate(kinds) if c)
    print(
        f"D. ours, selection over {len(F.candidates(F.ForecastConfig())[0])} candidates with "
        f"holdout: {1e6 * t1 / n:.1f} µs/series (2 threads {1e6 * t2 / n:.1f}); chosen: {mix}"
    )


if __name__ == "__main__":
    main()
