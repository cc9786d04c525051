"""How central runs planning: the `--planning-config` TOML file.

One file holds two things. The planning core's policies (`[policy]`, `[forecast]`,
`[transfers]`, `kpi_weeks`, `dow_weeks`, see central/planning/config.py — at the top level or
under `[planning]`) and, under `[central]`, how central drives them: how often the full pass
runs, which sites are DCs, transfer lanes, alert webhooks. Every key has a default, so no file
at all is a working setup; unknown keys are errors, because a typo in a threshold must not pass
silently.

    [policy.category.tools]
    safety_stock = "cover"
    cover_days = 2

    [central]
    interval_s = 300                  # full planning pass every 5 minutes (and on demand)
    sweep_s = 10                      # re-check every alert against the engine this often
    dc_sites = ["DC1"]                # default: sites with a location of kind "dc"

    [central.lanes]                   # transfer lanes between every pair of sites ...
    days = 2
    cost = 0.0
    [[central.lanes.lane]]            # ... and exceptions (days = -1: no lane)
    from = "DC1"
    to = "STORE1"
    days = 1
    cost = 0.05

    [[central.webhook]]
    url = "https://ops.example.com/hooks/stock-alerts"
    min_tier = "orange"               # only changes of alerts that reach orange or red
    timeout_s = 5
    attempts = 5
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from central.planning.core import PlanningConfig, parse_config
from central.planning.core.alerts import TIER_NAMES


@dataclass(frozen=True)
class Webhook:
    """One HTTP endpoint that receives alert changes as JSON (POST), in the background."""

    url: str
    #: Changes of alerts below this tier are not sent (an alert counts at its worse of the new
    #: and the previous tier, so the closing of a red alert is sent to a red-only hook).
    min_tier: str = "yellow"
    timeout_s: float = 5.0
    attempts: int = 5
    #: Wait before retry k (k = 1, 2, …): backoff_s × 2^(k − 1).
    backoff_s: float = 1.0
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise ValueError(f"webhook url must be http(s): {self.url!r}")
        if self.min_tier not in TIER_NAMES[1:]:
            raise ValueError(f"webhook min_tier must be one of {TIER_NAMES[1:]}")
        if self.timeout_s <= 0 or self.attempts < 1 or self.backoff_s < 0:
            raise ValueError("webhook timeout_s > 0, attempts ≥ 1, backoff_s ≥ 0")

    @property
    def min_tier_code(self) -> int:
        return TIER_NAMES.index(self.min_tier)


@dataclass(frozen=True)
class Lane:
    src: str
    dst: str
    days: float
    cost: float


@dataclass(frozen=True)
class LaneConfig:
    """Transfer lanes. By default every site can send to every other in `days` at `cost` per
    unit (moving idle stock is cheaper than buying more); `enabled = false` turns transfer
    suggestions off, `lane` entries override single pairs (days < 0 removes the lane)."""

    enabled: bool = True
    days: float = 2.0
    cost: float = 0.0
    lanes: tuple[Lane, ...] = ()

    def __post_init__(self) -> None:
        if self.days < 0 or self.cost < 0 or any(lane.cost < 0 for lane in self.lanes):
            raise ValueError("lane days and costs must be ≥ 0 (a lane's days < 0 removes it)")


@dataclass(frozen=True)
class CentralPlanning:
    #: Seconds between full passes (forecast, policy, proposals, …); the first runs at start.
    interval_s: float = 300.0
    #: Seconds between sweeps that re-check every alert against the engine's current stock:
    #: reservations and PO approvals change the alert position without a ledger movement.
    #: 0 turns the sweep off (alerts then follow movements and passes only).
    sweep_s: float = 10.0
    #: Days of daily demand history kept in memory.
    history_days: int = 365
    #: DC sites (their transfers out are demand). None: sites with a location of kind "dc".
    dc_sites: tuple[str, ...] | None = None
    #: Weight of each observed PO receipt in a supplier's lead-time estimate.
    lead_time_weight: float = 0.2
    #: Turn each pass's reorder proposals into draft purchase orders (central's workflows).
    create_drafts: bool = True
    lanes: LaneConfig = field(default_factory=LaneConfig)
    webhooks: tuple[Webhook, ...] = ()

    def __post_init__(self) -> None:
        if self.interval_s <= 0 or self.sweep_s < 0:
            raise ValueError("interval_s > 0 and sweep_s ≥ 0")
        if self.history_days < 57:  # the 28-day holdout needs history before it
            raise ValueError("history_days must be at least 57")
        if not 0 < self.lead_time_weight <= 1:
            raise ValueError("lead_time_weight must be in (0, 1]")


@dataclass(frozen=True)
class Settings:
    planning: PlanningConfig = field(default_factory=PlanningConfig)
    central: CentralPlanning = field(default_factory=CentralPlanning)


def _check_keys(d: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = set(d) - allowed
    if unknown:
        raise ValueError(f"unknown keys in {where}: {sorted(unknown)}")


def _lanes(d: dict[str, Any]) -> LaneConfig:
    _check_keys(d, {"enabled", "days", "cost", "lane"}, "[central.lanes]")
    lanes = []
    for raw in d.get("lane", []):
        _check_keys(raw, {"from", "to", "days", "cost"}, "[[central.lanes.lane]]")
        lanes.append(
            Lane(str(raw["from"]), str(raw["to"]), float(raw["days"]), float(raw.get("cost", 0)))
        )
    base = {k: d[k] for k in ("enabled", "days", "cost") if k in d}
    return LaneConfig(**base, lanes=tuple(lanes))


def _central(d: dict[str, Any]) -> CentralPlanning:
    known = {f.name for f in fields(CentralPlanning)} - {"webhooks"} | {"webhook"}
    _check_keys(d, known, "[central]")
    kw: dict[str, Any] = {k: v for k, v in d.items() if k not in ("lanes", "webhook", "dc_sites")}
    if "dc_sites" in d:
        kw["dc_sites"] = tuple(str(s) for s in d["dc_sites"])
    if "lanes" in d:
        kw["lanes"] = _lanes(d["lanes"])
    hooks = []
    for raw in d.get("webhook", []):
        _check_keys(raw, {f.name for f in fields(Webhook)}, "[[central.webhook]]")
        hooks.append(Webhook(**raw))
    kw["webhooks"] = tuple(hooks)
    return CentralPlanning(**kw)


def parse_settings(data: dict[str, Any]) -> Settings:
    """Settings from parsed TOML: `[central]` for central, the rest (or `[planning]`) for the
    planning core."""
    data = dict(data)
    central = _central(data.pop("central", {}))
    core = data.pop("planning", None)
    if core is not None and data:
        raise ValueError(f"with a [planning] table, unknown top-level keys: {sorted(data)}")
    return Settings(planning=parse_config(core if core is not None else data), central=central)


def load_settings(path: str | Path | None) -> Settings:
    """Read the planning config file; None gives the defaults."""
    if path is None:
        return Settings()
    with open(path, "rb") as fh:
        return parse_settings(tomllib.load(fh))
