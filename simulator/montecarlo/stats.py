"""Confidence intervals over replications.

Each replication (after its warm-up) yields one value per KPI; replications use independent
streams, so those values are i.i.d. and the 95% interval is Student's t: mean ± t(0.975, n−1) ·
s / √n. Strategy comparisons use the same interval on per-replication differences (paired on
common random numbers), which is far tighter than comparing two separate intervals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Estimate:
    mean: float
    lo: float  # NaN with fewer than two replications
    hi: float
    n: int

    @property
    def half_width(self) -> float:
        return (self.hi - self.lo) / 2

    def covers(self, value: float) -> bool:
        return self.lo <= value <= self.hi

    def as_json(self) -> dict:
        def num(x: float) -> float | None:
            return float(x) if math.isfinite(x) else None  # JSON has no NaN or Infinity

        return {"mean": num(self.mean), "ci95": [num(self.lo), num(self.hi)]}


def t_quantile(n: int, level: float = 0.95) -> float:
    """Two-sided Student t critical value for n observations.

    `scipy.special.stdtrit` is what `scipy.stats.t.ppf` computes, without importing
    scipy.stats (over a second at start-up); imported here, where it is first needed."""
    from scipy.special import stdtrit

    return float(stdtrit(n - 1, 0.5 + level / 2))


def mean_ci(values, level: float = 0.95) -> Estimate:
    x = np.asarray(values, float)
    n = x.size
    mean = float(x.mean()) if n else math.nan
    if n < 2:
        return Estimate(mean, math.nan, math.nan, n)
    half = t_quantile(n, level) * float(x.std(ddof=1)) / math.sqrt(n)
    return Estimate(mean, mean - half, mean + half, n)


def paired_ci(values, baseline, level: float = 0.95) -> Estimate:
    """Interval for the mean difference values − baseline, replication by replication."""
    return mean_ci(np.asarray(values, float) - np.asarray(baseline, float), level)
