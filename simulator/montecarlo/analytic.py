"""Exact long-run KPIs of single-stage periodic-review systems, under the twin's convention
(docs/simulator.md, "Time and the order of events").

The simulator is validated against these (and these against stockpyl where the two overlap).
Convention: on day t the site receives, reviews (inventory position after ordering = y), then
demand arrives; an order placed on day t lands at the start of day t+L. Orders placed after t
land after day t+L, so the end-of-day inventory level on day t+L is y − D[t … t+L], a sum of
L+1 days of demand, and the level just before that day's demand is y − D[t … t+L−1] (L days).
With y stationary with law π, independent of later demand:

  cost/day  = K·P(order) + Σ π(y) [h·E(y − D_{L+1})⁺ + p·E(D_{L+1} − y)⁺]
  fill rate = 1 − Σ π(y) [E(D_{L+1} − y)⁺ − E(D_L − y)⁺] / E[D]        (units short that day)
  CSL       = Σ π(y) P(D_{L+1} ≤ y)                                     (no backorder at day end)

π is a point mass at S for base-stock, uniform on r+1 … r+Q for (r, nQ), and the stationary law
of a small Markov chain for (s, S). For periodic review every R days the formulas are averaged
over the R days of a cycle. Demand is any daily pmf on 0, 1, 2, …
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

TAIL = 1e-13


@dataclass(frozen=True)
class Metrics:
    cost: float
    fill_rate: float
    csl: float
    on_hand: float


# --- daily demand pmfs ---------------------------------------------------------------------


def _support(dist) -> int:
    return int(dist.isf(TAIL)) + 2


def pmf_poisson(mean: float) -> np.ndarray:
    d = sps.poisson(mean)
    return d.pmf(np.arange(_support(d)))


def pmf_negbin(mean: float, sd: float) -> np.ndarray:
    """NumPy's negative_binomial(n, p) with n = mean²/(sd² − mean), p = n/(n + mean)."""
    n = mean * mean / (sd * sd - mean)
    d = sps.nbinom(n, n / (n + mean))
    return d.pmf(np.arange(_support(d)))


def pmf_rounded_normal(mean: float, sd: float) -> np.ndarray:
    """max(0, ⌊N(mean, sd) + ½⌋): the simulator's whole-unit normal demand."""
    top = int(math.ceil(mean + 12 * sd)) + 2
    edges = sps.norm.cdf((np.arange(top + 1) + 0.5 - mean) / sd)
    pmf = np.diff(np.concatenate([[0.0], edges]))
    pmf[0] = edges[0]
    return pmf


def convolve_days(pmf: np.ndarray, days: int) -> np.ndarray:
    """pmf of the sum of `days` independent days (days = 0: zero demand)."""
    out = np.array([1.0])
    for _ in range(days):
        out = np.convolve(out, pmf)
        out = out[: max(1, np.flatnonzero(out > TAIL * 1e-3).max() + 1)]
    return out


# --- single formulas -----------------------------------------------------------------------


def expected_shortage(pmf: np.ndarray, y: int) -> float:
    """E(D − y)⁺ (the loss function n(y))."""
    d = np.arange(pmf.size)
    return float(np.sum(np.maximum(d - y, 0) * pmf))


def expected_excess(pmf: np.ndarray, y: int) -> float:
    """E(y − D)⁺: expected end-of-period on hand."""
    d = np.arange(pmf.size)
    return float(np.sum(np.maximum(y - d, 0) * pmf))


def cdf(pmf: np.ndarray, y: int) -> float:
    """P(D ≤ y)."""
    return float(pmf[: max(y + 1, 0)].sum())


def newsvendor_cost(pmf: np.ndarray, y: int, h: float, p: float) -> float:
    """g(y) = h·E(y − D)⁺ + p·E(D − y)⁺."""
    return h * expected_excess(pmf, y) + p * expected_shortage(pmf, y)


# --- inventory-position laws ---------------------------------------------------------------


def ip_s_S(s: int, S: int, daily: np.ndarray) -> dict[int, float]:
    """Stationary law of the position after ordering under (s, S) with daily review: from y,
    a day's demand d leads to y − d if that is above s, else back to S."""
    ys = list(range(s + 1, S + 1))
    idx = {y: i for i, y in enumerate(ys)}
    P = np.zeros((len(ys), len(ys)))
    for y in ys:
        for d, prob in enumerate(daily):
            nxt = y - d if y - d > s else S
            P[idx[y], idx[nxt]] += prob
    P[:, idx[S]] += 1.0 - P.sum(axis=1)  # the truncated tail also reorders
    A = np.vstack([P.T - np.eye(len(ys)), np.ones(len(ys))])
    b = np.zeros(len(ys) + 1)
    b[-1] = 1.0
    pi = np.linalg.lstsq(A, b, rcond=None)[0]
    return {y: float(pi[idx[y]]) for y in ys}


def ip_r_Q(r: int, Q: int) -> dict[int, float]:
    """(r, nQ) with integer demand: the position after ordering is uniform on r+1 … r+Q."""
    return {y: 1.0 / Q for y in range(r + 1, r + Q + 1)}


def order_probability(pi: dict[int, float], reorder: int, daily: np.ndarray) -> float:
    """P(an order tomorrow) = Σ π(y) P(y − D ≤ reorder) for a reorder point (s or r)."""
    return sum(prob * (1.0 - cdf(daily, y - reorder - 1)) for y, prob in pi.items())


# --- metrics -------------------------------------------------------------------------------


def from_position(
    pi: dict[int, float],
    lead: int,
    daily: np.ndarray,
    h: float,
    p: float,
    fixed_cost_per_day: float = 0.0,
) -> Metrics:
    """KPIs for a stationary position law π (see the module docstring)."""
    mean = float(np.arange(daily.size) @ daily)
    d_l = convolve_days(daily, lead)
    d_l1 = convolve_days(daily, lead + 1)
    cost = fixed_cost_per_day
    short = csl = on_hand = 0.0
    for y, prob in pi.items():
        cost += prob * newsvendor_cost(d_l1, y, h, p)
        short += prob * (expected_shortage(d_l1, y) - expected_shortage(d_l, y))
        csl += prob * cdf(d_l1, y)
        on_hand += prob * expected_excess(d_l1, y)
    return Metrics(cost, 1.0 - short / mean, csl, on_hand)


def base_stock(S: int, lead: int, daily: np.ndarray, h: float, p: float, K=0.0, review=1):
    """Order up to S every `review` days; day j of a cycle has lead + 1 + j days of exposure."""
    days = [
        from_position({S: 1.0}, lead + j, daily, h, p)  # exposure lead + j + 1 days
        for j in range(review)
    ]
    p_order = 1.0 - convolve_days(daily, review)[0]  # some demand since the last review
    return Metrics(
        cost=float(np.mean([m.cost for m in days])) + K * p_order / review,
        fill_rate=float(np.mean([m.fill_rate for m in days])),
        csl=float(np.mean([m.csl for m in days])),
        on_hand=float(np.mean([m.on_hand for m in days])),
    )


def s_S(s: int, S: int, lead: int, daily: np.ndarray, h: float, p: float, K: float) -> Metrics:
    pi = ip_s_S(s, S, daily)
    return from_position(pi, lead, daily, h, p, K * order_probability(pi, s, daily))


def r_Q(r: int, Q: int, lead: int, daily: np.ndarray, h: float, p: float, K: float) -> Metrics:
    """K is charged once per order placed (one order may hold several Q)."""
    pi = ip_r_Q(r, Q)
    return from_position(pi, lead, daily, h, p, K * order_probability(pi, r, daily))


def newsvendor_lost_sales(S: int, daily: np.ndarray, h: float, p_lost: float) -> Metrics:
    """Zero lead time with lost sales: every day starts at S, so it is a newsvendor each day."""
    mean = float(np.arange(daily.size) @ daily)
    return Metrics(
        cost=newsvendor_cost(daily, S, h, p_lost),
        fill_rate=(mean - expected_shortage(daily, S)) / mean,
        csl=cdf(daily, S),
        on_hand=expected_excess(daily, S),
    )
