"""Shared builders for the simulator tests (imported by the test_sim_* modules)."""

from __future__ import annotations

from simulator.montecarlo import runner
from simulator.scenario import loader as scenario


def two_stores(
    strategies: list[str],
    *,
    S: int = 24,
    mean: float = 5.0,
    lead: int = 3,
    lateral_days: int = 0,
    transfer: float = 0.2,
    backorder: float = 9.0,
    days: int = 1000,
    warmup: int = 50,
    replications: int = 20,
    seed: int = 3,
    extra: dict | None = None,
) -> runner.Results:
    """Two symmetric stores on one supplier, for pooling tests."""
    doc = {
        "run": {
            "days": days,
            "warmup": warmup,
            "replications": replications,
            "seed": seed,
            "strategies": strategies,
        },
        "costs": {"holding": 1.0, "backorder": backorder, "transfer": transfer},
        "network": {"lateral_days": lateral_days},
        "supplier": [{"id": "S1", "lead_time": lead}],
        "site": [{"id": "A", "source": "S1"}, {"id": "B", "source": "S1"}],
        "sku": [
            {
                "id": "X",
                "demand": {"dist": "poisson", "mean": mean},
                "policy": {"kind": "base_stock", "S": S},
            }
        ],
    }
    doc.update(extra or {})
    return runner.run(scenario.parse(doc))
