"""Shared builders for the simulator tests (imported by the test_sim_* modules)."""

from __future__ import annotations

from simulator import runner, scenario


def single_stage(
    demand: dict,
    policy: dict,
    lead: int | dict = 0,
    *,
    holding: float = 1.0,
    backorder: float = 4.0,
    lost_sale: float = 0.0,
    order: float = 0.0,
    unmet: str = "backorder",
    days: int = 2000,
    warmup: int = 50,
    replications: int = 30,
    seed: int = 1,
) -> runner.Results:
    """One supplier, one store, one SKU: the textbook single-stage system."""
    doc = {
        "run": {"days": days, "warmup": warmup, "replications": replications, "seed": seed},
        "costs": {"holding": holding, "backorder": backorder, "lost_sale": lost_sale, "order": order},
        "supplier": [{"id": "S1", "lead_time": lead}],
        "site": [{"id": "STORE1", "source": "S1"}],
        "sku": [{"id": "A", "demand": demand, "policy": policy, "unmet": unmet}],
    }
    return runner.run(scenario.parse(doc))


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
