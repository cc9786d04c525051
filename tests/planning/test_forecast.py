"""Forecasts: equal to statsforecast for fixed parameters; model selection equal to a
plain-Python reference."""

from __future__ import annotations

import numpy as np
import pytest
from planning_reference import cumulative, select
from statsforecast.ets import etsforecast, initstate, pegelsresid_C, switch
from statsforecast.models import (
    TSB,
    CrostonClassic,
    CrostonSBA,
    SimpleExponentialSmoothing,
    WindowAverage,
)

from central.planning.core import forecast as F
from central.planning.core.config import ForecastConfig


def _series(seed: int = 0, n: int = 8, T: int = 120) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(T)
    rows = [
        rng.poisson(4.0, T),  # steady
        np.where(rng.random(T) < 0.15, rng.poisson(3.0, T) + 1, 0),  # intermittent
        rng.poisson(2.0 + 0.05 * t),  # trend
        rng.poisson(5.0 * (1 + 0.5 * np.sin(2 * np.pi * t / 7))),  # weekly season
        np.r_[np.zeros(T - 30), rng.poisson(6.0, 30)],  # launched 30 days ago
        np.zeros(T),  # no demand
        rng.normal(20, 3, T),  # not integer
        np.r_[rng.poisson(3.0, T - 40), np.zeros(40)],  # stopped selling
    ]
    return np.array(rows[:n], dtype=np.float64)


Y = _series()
H = 5


@pytest.mark.parametrize("alpha", [0.05, 0.3, 0.9])
def test_ses_equals_statsforecast(alpha):
    ours = F.ses(Y, alpha, H)
    for i, y in enumerate(Y):
        sf = SimpleExponentialSmoothing(alpha=alpha).forecast(y, h=H)["mean"]
        np.testing.assert_allclose(ours[i], sf, rtol=0, atol=1e-9)


@pytest.mark.parametrize("window", [1, 7, 28])
def test_moving_average_equals_statsforecast(window):
    ours = F.moving_average(Y, window, H)
    for i, y in enumerate(Y):
        sf = WindowAverage(window_size=window).forecast(y, h=H)["mean"]
        np.testing.assert_allclose(ours[i], sf, rtol=0, atol=1e-9)


def test_croston_and_sba_equal_statsforecast():
    c, s = F.croston(Y, H), F.sba(Y, H)
    for i, y in enumerate(Y):
        np.testing.assert_allclose(c[i], CrostonClassic().forecast(y, h=H)["mean"], atol=1e-9)
        np.testing.assert_allclose(s[i], CrostonSBA().forecast(y, h=H)["mean"], atol=1e-9)


@pytest.mark.parametrize(("alpha_d", "alpha_p"), [(0.1, 0.1), (0.3, 0.05), (0.9, 0.5)])
def test_tsb_equals_statsforecast(alpha_d, alpha_p):
    ours = F.tsb(Y, alpha_d, alpha_p, H)
    for i, y in enumerate(Y):
        sf = TSB(alpha_d=alpha_d, alpha_p=alpha_p).forecast(y, h=H)["mean"]
        np.testing.assert_allclose(ours[i], sf, rtol=0, atol=1e-9)


def _sf_ets(y, m, season, alpha, beta, gamma, h):
    """statsforecast's ETS recursion and forecast from its own initial state."""
    init = initstate(y, m, "A", season)
    if season == "A":
        init = np.concatenate([init, [-init[2:].sum()]])
    _, _, x, _ = pegelsresid_C(y, m, init, "A", "A", season, False, alpha, beta, gamma, 1.0, 3)
    f = np.zeros(h)
    etsforecast(x[-1], m, switch("A"), switch(season), 1.0, h, f)
    return f


@pytest.mark.parametrize(("alpha", "beta"), [(0.1, 0.01), (0.5, 0.2), (0.9, 0.05)])
def test_holt_equals_statsforecast_ets(alpha, beta):
    ours = F.holt(Y, alpha, beta, 14)
    for i, y in enumerate(Y):
        sf = _sf_ets(y, 1, "N", alpha, beta, np.nan, 14)
        np.testing.assert_allclose(ours[i], sf, rtol=0, atol=1e-6)


@pytest.mark.parametrize(("alpha", "beta", "gamma", "m"), [(0.1, 0.01, 0.1, 7), (0.4, 0.1, 0.3, 7),
                                                          (0.2, 0.02, 0.2, 4)])  # fmt: skip
def test_holt_winters_equals_statsforecast_ets(alpha, beta, gamma, m):
    rows = [y for y in Y if np.ptp(y) > 0]
    ours = F.holt_winters(np.array(rows), alpha, beta, gamma, m, 21)
    for i, y in enumerate(rows):
        sf = _sf_ets(y, m, "A", alpha, beta, gamma, 21)
        np.testing.assert_allclose(ours[i], sf, rtol=0, atol=1e-6)


def test_holt_winters_needs_three_seasons():
    with pytest.raises(ValueError):
        F.holt_winters(np.ones((1, 20)), 0.1, 0.01, 0.1, 7, 3)


@pytest.mark.parametrize("criterion", ["rmse", "mae"])
@pytest.mark.parametrize("trim", [True, False])
def test_selection_equals_reference(criterion, trim):
    cfg = ForecastConfig(criterion=criterion, trim_leading_zeros=trim, holdout_days=14)
    ys = np.vstack([_series(1), _series(2)])
    res = F.select_models(ys, cfg)
    path = res.path(np.arange(len(ys)), 7)
    for i, y in enumerate(ys):
        v, f7, sigma = select(y, cfg)
        assert res.variant[i] == v, (i, res.model_name(i))
        np.testing.assert_allclose(path[i], f7, atol=1e-9)
        np.testing.assert_allclose(res.sigma[i], sigma, atol=1e-9)


def test_selection_picks_the_obvious_models():
    cfg = ForecastConfig(holdout_days=28)
    T = 364
    t = np.arange(T)
    seasonal = 10 + 6 * np.sin(2 * np.pi * t / 7)
    trending = 5 + 0.1 * t
    res = F.select_models(np.array([seasonal, trending, np.zeros(T)]), cfg)
    assert F.MODEL_NAMES[res.model[0]] == "holt_winters"
    assert F.MODEL_NAMES[res.model[1]] == "holt"
    assert F.MODEL_NAMES[res.model[2]] == "none"
    assert res.sigma[0] < 1e-6 and res.sigma[1] < 1e-6


def test_demand_over_sums_the_clipped_path():
    ys = _series(3)
    res = F.select_models(ys, ForecastConfig(holdout_days=14))
    for days in (0.0, 1.0, 3.5, 9.25):
        got = res.demand_over(days)
        for i in range(len(ys)):
            p = res.path([i], 12)[0]
            assert got[i] == pytest.approx(cumulative(lambda h, p=p: p[h - 1], days), abs=1e-9)


def test_candidates_follow_config():
    kinds, pars, labels = F.candidates(ForecastConfig(ses_alphas=(0.2,), holt=(), tsb=()))
    assert [F.MODEL_NAMES[k] for k in kinds] == [
        "ma", "ma", "ses", "croston", "sba", "holt_winters", "holt_winters",
    ]  # fmt: skip
    assert labels[2] == "ses(alpha=0.2)"
    assert pars.shape == (len(kinds), 3)
