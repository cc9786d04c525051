"""`policies.resolve` turns a policy into levels for many pairs at once with the same helpers a
single pair uses: one definition of "days of cover in units" and of the `auto` level."""

from __future__ import annotations

import numpy as np

from simulator.engine import policies
from simulator.scenario.model import Policy

RNG = np.random.default_rng(7)
RATE = RNG.gamma(1.5, 4.0, size=(3, 5))
VAR = RATE * RNG.uniform(1.0, 3.0, size=RATE.shape)
LT_MEAN = RNG.uniform(0.0, 9.0, size=RATE.shape)
LT_VAR = RNG.uniform(0.0, 4.0, size=RATE.shape)


def each(f, *arrays) -> np.ndarray:
    """`f` called pair by pair, with plain floats."""
    out = np.zeros(RATE.shape, np.int64)
    for ix in np.ndindex(RATE.shape):
        out[ix] = int(f(*(float(a[ix]) for a in arrays)))
    return out


def test_levels_in_days_are_the_scalar_rule_pair_by_pair():
    code, s, S, Q, R = policies.resolve(
        Policy("sS", (("s_days", 2.5), ("S_days", 6.0))), RATE, VAR, LT_MEAN, LT_VAR
    )
    assert code == policies.S_S and R == 1
    assert np.array_equal(s, each(lambda r: policies.days_to_units(2.5, r), RATE))
    assert np.array_equal(S, each(lambda r: policies.days_to_units(6.0, r), RATE))
    assert int(policies.days_to_units(2.0, 3.0)) == 6, "exact products are not rounded up"


def test_auto_levels_are_the_scalar_rule_pair_by_pair():
    code, _, S, _, R = policies.resolve(
        Policy("auto", (("review", 3.0), ("z", 2.0))), RATE, VAR, LT_MEAN, LT_VAR
    )
    assert code == policies.ORDER_UP_TO and R == 3
    scalar = each(
        lambda r, v, m, w: policies.auto_base_stock(r, v, m, w, 3, 2.0),
        *(RATE, VAR, LT_MEAN, LT_VAR),
    )
    assert np.array_equal(S, scalar)
