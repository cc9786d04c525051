"""Response strategies, compared side by side on common random numbers.

Owns the strategy plug-ins and their registry; imports the engine (the twin's tools, events and
kernels' conventions) and the scenario (for its errors), never the Monte Carlo layer or output.
The engine knows no strategy by name: the runner asks `get` for one and hands it to the twin.

A strategy is one module in this package, named as planners write it in `[run] strategies`.
It defines:

    DEFAULTS: dict[str, float]            # its parameters, overridable in [strategy.NAME]
    def install(twin, params) -> None     # start SimPy processes and/or wrap twin hooks

`install` may start processes that wait on `events.at(day, Phase.LATERAL)` and move stock with
`twin.transfer` / `twin.transfer_list`, and may replace `twin.choose_lane` (which lane, if any, a
site's order goes on today). Adding a strategy is adding one small module; nothing else changes.
Modules whose names start with `_` are helpers, not strategies.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING

from simulator.scenario.loader import ScenarioError

if TYPE_CHECKING:
    from simulator.engine.twin import Strategy
    from simulator.scenario.model import Scenario


@cache
def available() -> tuple[str, ...]:
    """Every strategy's name (its module's), sorted."""
    return tuple(
        sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
    )


def module(name: str) -> ModuleType:
    if name not in available():
        raise KeyError(f"unknown strategy {name!r} (known: {', '.join(available())})")
    return importlib.import_module(f"{__name__}.{name}")


def params(name: str, given: dict) -> dict:
    """The strategy's DEFAULTS overridden by the scenario's [strategy.NAME] table."""
    defaults = getattr(module(name), "DEFAULTS", {})
    unknown = set(given) - set(defaults)
    if unknown:
        raise ScenarioError(
            f"[strategy.{name}] does not take {', '.join(sorted(unknown))} "
            f"(it takes: {', '.join(defaults) or 'nothing'})"
        )
    return {**defaults, **given}


def get(name: str, given: dict | None = None) -> Strategy:
    """Strategy `name` with its parameters, ready for `Twin(net, strategy, rep)`."""
    from simulator.engine.twin import Strategy

    plug_in, chosen = module(name), params(name, given or {})

    def install(twin) -> None:
        plug_in.install(twin, chosen)

    return Strategy(name, install)


def for_scenario(sc: Scenario, name: str) -> Strategy:
    """Strategy `name` with the parameters the scenario's [strategy.NAME] table sets."""
    return get(name, sc.strategy_params.get(name, {}))


def check(sc: Scenario) -> None:
    """Refuse a scenario whose `[run] strategies` or `[strategy.NAME]` tables name no strategy
    here, or give one a parameter it does not take."""
    known = ", ".join(available())
    for name in sc.run.strategies:
        if name not in available():
            raise ScenarioError(f"[run] strategies: unknown strategy {name!r} (known: {known})")
    for name, table in sc.strategy_params.items():
        if name not in available():
            raise ScenarioError(f"[strategy.{name}]: no such strategy (known: {known})")
        params(name, table)
