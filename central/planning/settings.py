"""How central runs planning: the `--planning-config` TOML file.

One file holds two things. The planning core's policies (`[policy]`, `[forecast]`,
`[transfers]`, `kpi_weeks`, `dow_weeks`, see central/planning/core/config.py — at the top level or
under `[planning]`) and, under `[central]`, how central drives them: how often the full pass
runs, which sites are DCs, transfer lanes, alert webhooks. Every key has a default, so no file
at all is a working setup; unknown keys are errors (named with the file, through the one
loader `tallyman.config`), because a typo in a threshold must not pass silently.

    [policy.category.tools]
    safety_stock = "cover"
    cover_days = 2

    [central]
    interval_s = 300                  # full planning pass every 5 minutes (and on demand)
    sweep_s = 10                      # re-check every alert against the engine this often
    dc_sites = ["DC1"]                # default: sites with a location of kind "dc"

    [central.lead_times]              # observed PO lead times (docs/planning.md)
    floor_days = 0.25                 # faster than 6 hours is not a delivery
    min_orders = 5                    # observed orders that replace the master value

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

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from central.planning.core import LeadTimeRules, PlanningConfig, parse_config
from central.planning.core.alerts import TIER_NAMES
from tallyman.config import ConfigError, build, check_keys, field_names, read_toml
from tallyman.webhook import RetryPolicy

#: Longest wait between tries of an alert webhook that a server's Retry-After can impose (a
#: supplier send honours up to 5 minutes: it is rescheduled in its outbox, not waited for).
MAX_ALERT_WAIT_S = 30.0


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

    @property
    def retry_policy(self) -> RetryPolicy:
        """One thread posts to every alert hook, so a wait it honours holds back every other
        alert: a Retry-After is honoured up to `MAX_ALERT_WAIT_S` or the hook's own longest
        backoff, whichever is longer (the configured backoff is never shortened)."""
        longest_backoff = self.backoff_s * 2.0 ** max(self.attempts - 2, 0)
        cap = min(max(MAX_ALERT_WAIT_S, longest_backoff), RetryPolicy.max_delay_s)
        return RetryPolicy(self.attempts, self.backoff_s, max_delay_s=cap)


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
    #: How observed PO lead times become a supplier's lead time (`[central.lead_times]`: the
    #: floor, the outlier rule, how many orders are enough; docs/planning.md, "Lead times").
    lead_times: LeadTimeRules = field(default_factory=LeadTimeRules)
    #: Turn each pass's reorder proposals into draft purchase orders (central's workflows).
    create_drafts: bool = True
    lanes: LaneConfig = field(default_factory=LaneConfig)
    webhooks: tuple[Webhook, ...] = ()

    def __post_init__(self) -> None:
        if self.interval_s <= 0 or self.sweep_s < 0:
            raise ValueError("interval_s > 0 and sweep_s ≥ 0")
        if self.history_days < 57:  # the 28-day holdout needs history before it
            raise ValueError("history_days must be at least 57")


@dataclass(frozen=True)
class Settings:
    planning: PlanningConfig = field(default_factory=PlanningConfig)
    central: CentralPlanning = field(default_factory=CentralPlanning)


#: Keys of `[central]`: the fields of CentralPlanning, with `[[central.webhook]]` tables for
#: its `webhooks`.
CENTRAL_KEYS = field_names(CentralPlanning) - {"webhooks"} | {"webhook"}
LANE_KEYS = frozenset({"from", "to", "days", "cost"})


def _lanes(data: Any, where: str) -> LaneConfig:
    """`[central.lanes]` with its `[[central.lanes.lane]]` exceptions (`from`, `to`, …)."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: expected a table, got {data!r}")
    check_keys(data, field_names(LaneConfig) - {"lanes"} | {"lane"}, where)
    raw = data.get("lane", [])
    if not isinstance(raw, list):
        raise ConfigError(f"{where}.lane: expected a list of tables, got {raw!r}")
    lanes = []
    for i, lane in enumerate(raw):
        at = f"{where}.lane[{i}]"
        if not isinstance(lane, Mapping):
            raise ConfigError(f"{at}: expected a table, got {lane!r}")
        check_keys(lane, LANE_KEYS, at)
        for key in ("from", "to", "days"):
            if key not in lane:
                raise ConfigError(f"{at}: {key} is required")
        fields = {"src": lane["from"], "dst": lane["to"], "days": lane["days"]}
        lanes.append(build(Lane, {**fields, "cost": lane.get("cost", 0.0)}, at))
    base = build(LaneConfig, {k: v for k, v in data.items() if k != "lane"}, where)
    try:
        return replace(base, lanes=tuple(lanes))
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _central(data: Any, where: str) -> CentralPlanning:
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: expected a table, got {data!r}")
    check_keys(data, CENTRAL_KEYS, where)
    central = build(
        CentralPlanning, {k: v for k, v in data.items() if k not in ("lanes", "webhook")}, where
    )
    hooks = data.get("webhook", [])
    if not isinstance(hooks, list):
        raise ConfigError(f"{where}.webhook: expected a list of tables, got {hooks!r}")
    webhooks = tuple(build(Webhook, h, f"{where}.webhook[{i}]") for i, h in enumerate(hooks))
    lanes = _lanes(data["lanes"], f"{where}.lanes") if "lanes" in data else central.lanes
    return replace(central, lanes=lanes, webhooks=webhooks)


def parse_settings(data: Mapping[str, Any], where: str = "planning settings") -> Settings:
    """Settings from parsed TOML: `[central]` for central, the rest (or `[planning]`) for the
    planning core. ConfigError (a ValueError) names `where` and the key."""
    if "planning" in data:
        check_keys(data, {"planning", "central"}, where)
    rest = {k: v for k, v in data.items() if k != "central"}
    central = _central(data.get("central", {}), f"{where} [central]")
    if "planning" in rest:
        core = rest["planning"]
        if not isinstance(core, Mapping):
            raise ConfigError(f"{where}: planning must be a table, got {core!r}")
        return Settings(planning=parse_config(core, f"{where} [planning]"), central=central)
    return Settings(planning=parse_config(rest, where), central=central)


def load_settings(path: str | Path | None) -> Settings:
    """Read the planning config file; None gives the defaults."""
    if path is None:
        return Settings()
    return parse_settings(read_toml(path), str(path))
