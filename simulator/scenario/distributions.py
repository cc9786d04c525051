"""Lead-time distributions: moments for policy sizing, and vectorised draws for one replication.

Why draws are made up front per lane (one value per dispatch day): a shipment's lead time must
not depend on how many other random numbers a strategy happened to consume, or strategies would
no longer be compared on common random numbers. Drawing `lead[lane, day]` from the lane's own
stream at the start of a replication makes the lead time of "a dispatch on lane ℓ on day t" the
same under every strategy.
"""

from __future__ import annotations

import math

import numpy as np

from simulator.scenario.model import LeadTime


def moments(lt: LeadTime) -> tuple[float, float]:
    """Mean and variance of a lead time in days."""
    if lt.kind == "fixed":
        return lt.mean, 0.0
    if lt.kind == "poisson":
        return lt.mean, lt.mean
    if lt.kind == "uniform":
        n = lt.high - lt.low + 1
        return (lt.low + lt.high) / 2, (n * n - 1) / 12
    vals = np.asarray(lt.values, float)
    probs = np.asarray(lt.probs, float)
    mean = float(vals @ probs)
    return mean, float(((vals - mean) ** 2) @ probs)


def with_reliability(base: LeadTime, reliability: float, late: LeadTime) -> tuple[float, float]:
    """Moments of base + B·late, B ~ Bernoulli(1 - reliability): the effective lead time."""
    m0, v0 = moments(base)
    m1, v1 = moments(late)
    q = 1.0 - reliability
    return m0 + q * m1, v0 + q * v1 + q * (1 - q) * m1 * m1


def is_random(lt: LeadTime) -> bool:
    return lt.kind != "fixed"


def fixed_days(lt: LeadTime) -> int:
    return int(round(lt.mean))


def draw(lt: LeadTime, gen: np.random.Generator, n: int) -> np.ndarray:
    """n independent lead times (int32 days)."""
    if lt.kind == "fixed":
        return np.full(n, fixed_days(lt), np.int32)
    if lt.kind == "poisson":
        return gen.poisson(lt.mean, n).astype(np.int32)
    if lt.kind == "uniform":
        return gen.integers(lt.low, lt.high + 1, n).astype(np.int32)
    return gen.choice(np.asarray(lt.values, np.int32), size=n, p=np.asarray(lt.probs))


def fit_days(mean: float, low: float, high: float, var: float | None = None) -> LeadTime:
    """A whole-day lead time with this mean (and variance, when known) on the days ⌊low⌋…⌈high⌉.

    Why maximum entropy: central reports a count, a mean, a range and perhaps a standard
    deviation of its observed lead times, not the receipts themselves. Of the distributions on
    those days with those moments this one assumes nothing more: with a mean only it is a
    truncated geometric, p_k ∝ exp(θk); with a variance too, a discretised truncated normal,
    p_k ∝ exp(θ₁k + θ₂k²). A variance outside what whole days in the range allow is clipped to
    the nearest one they do (two days next to the mean, or the range's two ends)."""
    lo = max(0, math.floor(low))
    hi = max(lo, math.ceil(high))
    mean = min(max(float(mean), lo), hi)
    if mean - lo < 1e-6 or hi - mean < 1e-6:  # all of it on one end of the range
        return LeadTime("fixed", float(round(mean)))
    if var is None:
        return _maxent(lo, hi, mean, None)
    below, above = math.floor(mean), math.ceil(mean)
    tight = (mean - below) * (above - mean)  # the least variance whole days allow
    wide = (hi - mean) * (mean - lo)  # the most: all of it on the range's two ends
    if var <= tight + 1e-9:
        return _two_point(below, above, mean)
    if var >= wide - 1e-9:
        return _two_point(lo, hi, mean)
    return _maxent(lo, hi, mean, var)


def _two_point(a: int, b: int, mean: float) -> LeadTime:
    if a == b:
        return LeadTime("fixed", float(a))
    p = (mean - a) / (b - a)
    return LeadTime("choice", mean, values=(a, b), probs=(1.0 - p, p))


def _maxent(lo: int, hi: int, mean: float, var: float | None) -> LeadTime:
    """p_k ∝ exp(θ·t(k)) on lo…hi with E[t] = 0, t(k) = ((k−m)/w, ((k−m)² − var)/w²): Newton
    on the convex dual log Σ exp(θ·t), whose gradient is E[t] and Hessian Cov[t]."""
    days = np.arange(lo, hi + 1, dtype=np.float64)
    w = float(hi - lo)
    x = (days - mean) / w
    t = x[:, None] if var is None else np.column_stack([x, x * x - var / (w * w)])
    theta = np.zeros(t.shape[1])

    def dual(th: np.ndarray) -> tuple[float, np.ndarray]:
        z = t @ th
        top = z.max()
        e = np.exp(z - top)
        return top + math.log(e.sum()), e / e.sum()

    g, p = dual(theta)
    for _ in range(200):
        grad = p @ t
        if np.abs(grad).max() < 1e-12:
            break
        centred = t - grad
        hess = (centred * p[:, None]).T @ centred
        step = np.linalg.solve(hess + 1e-15 * np.eye(len(theta)), grad)
        size = 1.0
        while size > 1e-9:  # backtracking: the dual must go down
            g_new, p_new = dual(theta - size * step)
            if g_new <= g - 1e-4 * size * float(grad @ step) + 1e-13 * (1 + abs(g)):
                break
            size /= 2
        theta, g, p = theta - size * step, g_new, p_new
    keep = p > 1e-12
    values = tuple(int(v) for v in days[keep])
    probs = p[keep] / p[keep].sum()
    return LeadTime("choice", float(days[keep] @ probs), values=values, probs=tuple(probs.tolist()))
