"""Lead-time distributions: moments for policy sizing, and vectorised draws for one replication.

Why draws are made up front per lane (one value per dispatch day): a shipment's lead time must
not depend on how many other random numbers a strategy happened to consume, or strategies would
no longer be compared on common random numbers. Drawing `lead[lane, day]` from the lane's own
stream at the start of a replication makes the lead time of "a dispatch on lane ℓ on day t" the
same under every strategy.
"""

from __future__ import annotations

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
