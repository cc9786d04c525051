"""`none`: no mitigation. Sites keep ordering from their usual source and simply wait out an
outage; the baseline every other strategy is compared against."""

from __future__ import annotations

DEFAULTS: dict[str, float] = {}


def install(twin, params: dict) -> None:
    """Nothing to add: the twin's default behaviour is the `none` strategy."""
