"""Daily demand forecasts for every series at once: MA, SES, Holt, Holt-Winters, Croston, SBA, TSB.

The models' recursions (and how they match statsforecast) are in forecast_kernels.py; this
module turns a configuration into candidates, runs the selection over a History or a matrix,
and holds the result.

Where we differ from statsforecast, on purpose: statsforecast's Holt and HoltWinters optimise
α, β, γ *and the initial states* by maximum likelihood per series; we keep the heuristic initial
states and pick α, β, γ from a small grid by holdout error — orders of magnitude cheaper, and
judged out of sample. Series are trimmed to start at their first non-zero day.

Model selection: the last `holdout_days` days are held out; each candidate (model × parameter
set) is run over the whole history once, its state is snapshot at the holdout origin, and its
fixed-origin forecasts (clipped at 0: demand is not negative) are scored against the held-out
days. The lowest RMSE (or MAE) wins; σ, the daily forecast-error spread used for safety stock,
is the winner's holdout RMSE (Silver, Pyke & Thomas 2017, forecasting chapter: σ estimated
from the mean squared forecast error). The final forecast continues the same recursion to the
last day.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from .config import ForecastConfig
from .forecast_kernels import (
    CROSTON,
    HOLT,
    HW,
    LANES,
    MA,
    MODEL_NAMES,
    NEW,
    NONE,
    SBA,
    SES,
    TSB,
    select_blocks,
)
from .history import History
from .parallel import run_ranges

__all__ = [
    "MODEL_NAMES",
    "ForecastConfig",
    "ForecastResult",
    "candidates",
    "croston",
    "cumulative_forecast",
    "forecast_history",
    "holt",
    "holt_winters",
    "moving_average",
    "sba",
    "select_models",
    "ses",
    "tsb",
]


@njit(cache=True)
def cumulative_forecast(level, trend, season, days):
    """Forecast demand over the next `days[i]` days (fractional days pro rata), each day
    clipped at 0: the lead-time demand x̂_L of a replenishment policy."""
    n = level.shape[0]
    m = season.shape[1]
    out = np.empty(n)
    for i in range(n):
        d = days[i]
        full = int(np.floor(d))
        tot = 0.0
        for j in range(full + 1):
            f = level[i] + (j + 1) * trend[i] + season[i, j % m]
            f = max(f, 0.0)
            tot += f if j < full else f * (d - full)
        out[i] = tot
    return out


# --- public API --------------------------------------------------------------------------------


def _as_matrix(y: np.ndarray) -> np.ndarray:
    y = np.asarray(y, dtype=np.float64)
    return y.reshape(1, -1) if y.ndim == 1 else np.ascontiguousarray(y)


def _fit(y, kind, par, h, m=1) -> np.ndarray:
    """Fit one model with fixed parameters on every row (no trimming, no holdout)."""
    X = _as_matrix(y)
    if X.shape[1] == 0:
        raise ValueError("empty series")
    res = _selection(X, None, np.array([kind], np.int64), np.array([par], np.float64), [""], m,
                     0, True, False, True)  # fmt: skip
    return res.path(np.arange(X.shape[0]), h, clip=False)


def moving_average(y: np.ndarray, window: int, h: int) -> np.ndarray:
    """Mean of the last `window` values, repeated h times; [n_series, h]."""
    return _fit(y, MA, [window, 0, 0], h)


def ses(y: np.ndarray, alpha: float, h: int) -> np.ndarray:
    """Simple exponential smoothing with fixed α; [n_series, h]."""
    return _fit(y, SES, [alpha, 0, 0], h)


def holt(y: np.ndarray, alpha: float, beta: float, h: int) -> np.ndarray:
    """ETS(A,A,N) with fixed α, β and statsforecast's initial states; [n_series, h]."""
    return _fit(y, HOLT, [alpha, beta, 0], h)


def holt_winters(
    y: np.ndarray, alpha: float, beta: float, gamma: float, season_length: int, h: int
) -> np.ndarray:
    """ETS(A,A,A) with fixed α, β, γ and statsforecast's initial states; needs ≥ 3 seasons."""
    if _as_matrix(y).shape[1] < 3 * season_length:
        raise ValueError("Holt-Winters needs at least three seasons of history")
    return _fit(y, HW, [alpha, beta, gamma], h, season_length)


def croston(y: np.ndarray, h: int, alpha: float = 0.1) -> np.ndarray:
    return _fit(y, CROSTON, [alpha, 0, 0], h)


def sba(y: np.ndarray, h: int, alpha: float = 0.1) -> np.ndarray:
    return _fit(y, SBA, [alpha, 0, 0], h)


def tsb(y: np.ndarray, alpha_d: float, alpha_p: float, h: int) -> np.ndarray:
    return _fit(y, TSB, [alpha_d, alpha_p, 0], h)


def candidates(cfg: ForecastConfig) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The (model × parameter) grid: kinds [v], params [v, 3], labels [v]."""
    rows: list[tuple[int, tuple[float, float, float], str]] = []
    for w in cfg.ma_windows:
        rows.append((MA, (w, 0, 0), f"ma(window={w})"))
    for a in cfg.ses_alphas:
        rows.append((SES, (a, 0, 0), f"ses(alpha={a})"))
    a = cfg.croston_alpha
    rows.append((CROSTON, (a, 0, 0), f"croston(alpha={a})"))
    rows.append((SBA, (a, 0, 0), f"sba(alpha={a})"))
    for ad, ap in cfg.tsb:
        rows.append((TSB, (ad, ap, 0), f"tsb(alpha_d={ad}, alpha_p={ap})"))
    for a, b in cfg.holt:
        rows.append((HOLT, (a, b, 0), f"holt(alpha={a}, beta={b})"))
    for a, b, g in cfg.holt_winters:
        rows.append((HW, (a, b, g), f"holt_winters(alpha={a}, beta={b}, gamma={g})"))
    kinds = np.array([r[0] for r in rows], np.int64)
    pars = np.array([r[1] for r in rows], np.float64).reshape(-1, 3)
    return kinds, pars, [r[2] for r in rows]


@dataclass
class ForecastResult:
    """Per series: the chosen model and its forecast state; σ is the daily error spread.

    Forecast for day today + i (i ≥ 1): max(0, level + i·trend + season[(i − 1) % m]).
    `variant` indexes `labels` (-1: too new for a holdout, mean since first sale; -2: no demand).
    """

    variant: np.ndarray  # int16 [n]
    level: np.ndarray  # float64 [n]
    trend: np.ndarray  # float64 [n]
    season: np.ndarray  # float64 [n, m]
    sigma: np.ndarray  # float64 [n], holdout RMSE of the chosen model (daily)
    mae: np.ndarray  # float64 [n], holdout MAE of the chosen model
    kinds: np.ndarray
    labels: list[str]

    @property
    def model(self) -> np.ndarray:
        """Model kind per series (index into MODEL_NAMES)."""
        v = self.variant
        out = np.where(v >= 0, self.kinds[np.maximum(v, 0)], np.where(v == -1, NEW, NONE))
        return out.astype(np.int8)

    def model_name(self, i: int) -> str:
        v = int(self.variant[i])
        return self.labels[v] if v >= 0 else ("new" if v == -1 else "none")

    def demand_over(self, days: np.ndarray | float) -> np.ndarray:
        """Forecast demand over the next `days` days (per series or one value for all)."""
        d = np.asarray(days, np.float64)
        if d.shape != self.level.shape:
            d = np.broadcast_to(d, self.level.shape).copy()
        # writable and contiguous whatever came in: one compiled kernel for every caller
        d = np.require(d, None, "CW")
        return cumulative_forecast(self.level, self.trend, self.season, d)

    def path(self, series: np.ndarray | list[int], h: int, clip: bool = True) -> np.ndarray:
        """Daily forecasts for days 1..h of some series (clipped at 0): [len(series), h]."""
        s = np.asarray(series, np.int64)
        i = np.arange(1, h + 1)
        m = self.season.shape[1]
        f = self.level[s, None] + i[None, :] * self.trend[s, None]
        f = f + self.season[s][:, (i - 1) % m]
        return np.maximum(f, 0.0) if clip else f


def _selection(X, hist, kinds, pars, labels, m, holdout, use_rmse, trim, force):
    n, T = (X.shape[0], X.shape[1]) if hist is None else (hist.n_series, hist.n_days)
    if T - holdout < 1:
        raise ValueError("history shorter than the holdout")
    variant = np.empty(n, np.int16)
    level = np.empty(n)
    trend = np.empty(n)
    season = np.empty((n, m))
    sigma = np.empty(n)
    mae = np.empty(n)
    if hist is None:
        e2 = np.zeros((0, 1), np.float32)
        e1 = np.zeros(n, np.int32)
        streams = (e2, e1, e2, e1, e2, e1, np.zeros(n, np.float32), 0)
    else:
        streams = (*hist.arrays(), hist.transfer_out_weight, hist.c0)
    nblocks = (n + LANES - 1) // LANES
    run_ranges(select_blocks, nblocks, X, *streams, n, T, holdout, m, kinds, pars, use_rmse,
               trim, force, variant, level, trend, season, sigma, mae)  # fmt: skip
    return ForecastResult(variant, level, trend, season, sigma, mae, kinds, labels)


def _run_selection(X, hist, cfg: ForecastConfig) -> ForecastResult:
    kinds, pars, labels = candidates(cfg)
    return _selection(X, hist, kinds, pars, labels, cfg.season_length, cfg.holdout_days,
                      cfg.criterion == "rmse", cfg.trim_leading_zeros, False)  # fmt: skip


def select_models(y: np.ndarray, cfg: ForecastConfig | None = None) -> ForecastResult:
    """Model selection over the rows of a dense matrix [n_series, n_days] (oldest day first)."""
    return _run_selection(_as_matrix(y), None, cfg or ForecastConfig())


def forecast_history(history: History, cfg: ForecastConfig | None = None) -> ForecastResult:
    """Model selection over every series of a History (reads the stream cubes directly)."""
    X = np.zeros((0, history.n_days))
    return _run_selection(X, history, cfg or ForecastConfig())
