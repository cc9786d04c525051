"""Independent, reproducible random streams.

Each replication r of seed s owns streams keyed (r, purpose, index) through NumPy's
SeedSequence spawn keys: the streams are statistically independent, and replication r draws the
same numbers whichever worker runs it and whichever strategy is simulated. Purposes are split
so that one strategy using more lead-time draws (say) cannot shift anyone's demand.
"""

from __future__ import annotations

import numpy as np

DEMAND, LANE, DISRUPTION, STRATEGY = range(4)


def stream(seed: int, rep: int, purpose: int, index: int = 0) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(rep, purpose, index)))
