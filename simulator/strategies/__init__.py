"""Response strategies, compared side by side on common random numbers.

A strategy is one module in this package, named as planners write it in `[run] strategies`.
It defines:

    DEFAULTS: dict[str, float]            # its parameters, overridable in [strategy.NAME]
    def install(twin, params) -> None     # start SimPy processes and/or wrap twin hooks

`install` may start processes that wait on `events.at(day, Phase.LATERAL)` and move stock with
`twin.transfer` / `twin.transfer_list`, and may replace `twin.choose_lane` (which lane, if any, a
site's order goes on today). Adding a strategy is adding one small module; nothing else changes.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from types import ModuleType


@cache
def available() -> tuple[str, ...]:
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
        raise ValueError(
            f"[strategy.{name}] does not take {', '.join(sorted(unknown))} "
            f"(it takes: {', '.join(defaults) or 'nothing'})"
        )
    return {**defaults, **given}


def install(name: str, twin, given: dict) -> None:
    module(name).install(twin, params(name, given))
