"""Planning configuration: per-category stock policies, forecast grids, transfer and KPI settings.

Why per category: a planner thinks in categories ("fresh drink ingredients keep 48 hours of
cover", "electronics run at 98 % service"), not per SKU. Every SKU inherits the category's
settings, the category inherits `[policy]` defaults, and the defaults below are what a retailer
with no configuration gets. Configuration is TOML, read with Tallyman's one loader
(`tallyman.config`: unknown keys refused with the key and the file named), e.g.::

    [forecast]
    holdout_days = 28
    criterion = "rmse"

    [policy]                         # defaults for every category
    service_level = 0.95
    review_days = 1

    [policy.category."drink-ingredients"]
    safety_stock = "cover"           # 48 hours of consumption
    cover_days = 2

    [policy.category.swimwear]
    safety_stock = "seasonal"

    [transfers]
    surplus_cover_days = 60

    [[transfers.freeze]]             # no cross-store moves of high-value items during a promotion
    name = "black-friday"
    start = "2025-11-24"
    end = "2025-11-30"
    scope = "cross_store"
    min_unit_value = 100

Per-SKU attributes that are master data (pack size, MOQ, unit cost, supplier) come as arrays from
central's item master; the category values here are their defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

import numpy as np

from tallyman.config import ConfigError, build, check_keys, field_names

SAFETY_STOCK_METHODS = ("service", "cover", "seasonal")
POLICY_KINDS = ("rop_eoq", "order_up_to", "min_max")
FREEZE_SCOPES = ("cross_store", "all", "to_store", "from_dc")


@dataclass(frozen=True)
class CategoryPolicy:
    """Stock policy of one category. Units: days, units of stock, currency per unit."""

    #: Cycle service level (type 1) the safety stock targets, for `safety_stock = "service"`.
    service_level: float = 0.95
    #: "service": z·σ·√(L+R); "cover": cover_days × daily forecast; "seasonal": z·√(Σ σ²_dow)
    #: over the protection interval from a day-of-week (weekly-mean) model.
    safety_stock: str = "service"
    cover_days: float = 2.0
    #: Review period R in days: planning runs daily, so 1.
    review_days: float = 1.0
    #: "rop_eoq" (order EOQ at the reorder point), "order_up_to" (order up to S every review),
    #: "min_max" (at or below min, order up to max).
    policy: str = "rop_eoq"
    #: Fixed cost of placing one order line (K in the EOQ).
    order_cost: float = 20.0
    #: Annual holding cost as a fraction of unit cost (h = holding_rate × unit cost).
    holding_rate: float = 0.25
    #: Default lead time when the supplier has none in master data.
    lead_days: float = 7.0
    pack_size: int = 1
    moq: int = 0
    #: Alert tiers, as a fraction of safety stock: alert at or below these.
    yellow: float = 1.2
    orange: float = 1.0
    red: float = 0.8
    #: An alert steps down a tier only once the position clears that tier's threshold by this
    #: fraction of safety stock (hysteresis), so noise around a threshold does not flap.
    hysteresis: float = 0.1
    #: Slow movers: no outbound for this many days, or velocity down by `velocity_drop` with
    #: stock older than `min_stock_age_days`.
    slow_days: int = 30
    velocity_drop: float = 0.4
    min_stock_age_days: int = 90

    def __post_init__(self) -> None:
        if self.safety_stock not in SAFETY_STOCK_METHODS:
            raise ValueError(f"safety_stock must be one of {SAFETY_STOCK_METHODS}")
        if self.policy not in POLICY_KINDS:
            raise ValueError(f"policy must be one of {POLICY_KINDS}")
        if not 0.5 <= self.service_level < 1.0:
            raise ValueError("service_level must be in [0.5, 1)")
        if not self.yellow >= self.orange >= self.red >= 0:
            raise ValueError("alert tiers need yellow ≥ orange ≥ red ≥ 0")
        if self.pack_size < 1 or self.moq < 0 or self.hysteresis < 0:
            raise ValueError("pack_size ≥ 1, moq ≥ 0, hysteresis ≥ 0")


@dataclass(frozen=True)
class ForecastConfig:
    """Candidate models and their parameter grids; see docs/planning.md."""

    holdout_days: int = 28
    #: "rmse" (default: unbiased for the mean, which replenishment needs) or "mae".
    criterion: str = "rmse"
    season_length: int = 7
    ma_windows: tuple[int, ...] = (7, 28)
    ses_alphas: tuple[float, ...] = (0.05, 0.1, 0.2, 0.3, 0.5)
    #: (alpha, beta) pairs, ETS beta (as statsforecast / R forecast).
    holt: tuple[tuple[float, float], ...] = ((0.1, 0.01), (0.3, 0.05))
    #: (alpha, beta, gamma) triples.
    holt_winters: tuple[tuple[float, float, float], ...] = ((0.1, 0.01, 0.1), (0.2, 0.02, 0.2))
    croston_alpha: float = 0.1
    #: (alpha_d, alpha_p) pairs.
    tsb: tuple[tuple[float, float], ...] = ((0.1, 0.1), (0.2, 0.05))
    #: Start each series at its first non-zero day (a product launched last month has no
    #: demand history before that, not eleven months of zeros).
    trim_leading_zeros: bool = True

    def __post_init__(self) -> None:
        if self.criterion not in ("rmse", "mae"):
            raise ValueError("criterion must be rmse or mae")
        if self.holdout_days < 1 or self.season_length < 2:
            raise ValueError("holdout_days ≥ 1, season_length ≥ 2")


@dataclass(frozen=True)
class FreezeRule:
    """Forbid transfers matching all of: active day range, SKU filter, lane scope.

    `scope`: "cross_store" (store → another store), "to_store", "from_dc", or "all".
    A SKU matches when its category is in `categories` (empty: any), it is in `skus` (empty: any)
    and its unit cost is at least `min_unit_value` (None: any).
    """

    name: str
    start: date | None = None
    end: date | None = None
    scope: str = "cross_store"
    categories: tuple[str, ...] = ()
    skus: tuple[str, ...] = ()
    sites: tuple[str, ...] = ()
    min_unit_value: float | None = None

    def __post_init__(self) -> None:
        if self.scope not in FREEZE_SCOPES:
            raise ValueError(f"freeze scope must be one of {FREEZE_SCOPES}")

    def active(self, day: date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class TransferConfig:
    #: A site whose days of cover exceed this has surplus above this many days of cover.
    surplus_cover_days: float = 60.0
    #: A transfer must arrive at least this many days before a purchase would.
    min_days_gain: float = 1.0
    #: A transfer costing more per unit than this share of the unit cost is not worth it.
    max_cost_share: float = 0.3
    #: Waiting cost per unit per day as a share of unit cost: weighs a faster lane against a
    #: cheaper one when choosing a source.
    day_cost_share: float = 0.01
    freeze: tuple[FreezeRule, ...] = ()


@dataclass(frozen=True)
class PlanningConfig:
    defaults: CategoryPolicy = field(default_factory=CategoryPolicy)
    categories: dict[str, CategoryPolicy] = field(default_factory=dict)
    forecast: ForecastConfig = field(default_factory=ForecastConfig)
    transfers: TransferConfig = field(default_factory=TransferConfig)
    #: KPI period in whole weeks (inbound stock is kept in weekly buckets).
    kpi_weeks: int = 4
    #: Weeks of history behind the day-of-week model (seasonal safety stock).
    dow_weeks: int = 8

    def policy_for(self, category: str | None) -> CategoryPolicy:
        return self.categories.get(category or "", self.defaults)

    def category_table(self, names: list[str]) -> list[CategoryPolicy]:
        """Policies in the order of `names` (a category index → policy table)."""
        return [self.policy_for(n) for n in names]


#: Top-level keys of the planning core's TOML (at the top of the file or under `[planning]`).
CONFIG_KEYS = frozenset({"policy", "forecast", "transfers", "kpi_weeks", "dow_weeks"})


@dataclass(frozen=True)
class _Weeks:
    """The top-level scalars of the planning TOML (typed like every other key)."""

    kpi_weeks: int = PlanningConfig.kpi_weeks
    dow_weeks: int = PlanningConfig.dow_weeks


def _table(data: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: {key} must be a table, got {value!r}")
    return dict(value)


def _category(base: CategoryPolicy, data: Any, where: str) -> CategoryPolicy:
    """A category's policy: its own keys over the `[policy]` defaults."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: expected a table, got {data!r}")
    check_keys(data, field_names(CategoryPolicy), where)
    return build(CategoryPolicy, {**asdict(base), **data}, where)


def _as_date(value: Any, where: str) -> date | None:
    """TOML dates come as dates (`2025-11-24`) or as ISO strings (`"2025-11-24"`)."""
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"{where}: expected a date like 2025-11-24, got {value!r}") from None


def _transfers(data: dict[str, Any], where: str) -> TransferConfig:
    rules = data.get("freeze", [])
    if isinstance(rules, list):
        dated = []
        for i, rule in enumerate(rules):
            if isinstance(rule, Mapping):
                rule = dict(rule)
                for key in ("start", "end"):
                    if key in rule:
                        rule[key] = _as_date(rule[key], f"{where}.freeze[{i}].{key}")
            dated.append(rule)
        data = {**data, "freeze": dated}
    return build(TransferConfig, data, where)


def parse_config(data: Mapping[str, Any], where: str = "planning settings") -> PlanningConfig:
    """Build a PlanningConfig from parsed TOML with the one loader's rules (tallyman.config):
    unknown keys and values of the wrong type are refused, naming `where` (the file) and the
    table, because a typo in a threshold must not pass silently."""
    check_keys(data, CONFIG_KEYS, where)
    pol = _table(data, "policy", where)
    check_keys(pol, field_names(CategoryPolicy) | {"category"}, f"{where} [policy]")
    cats = pol.pop("category", {})
    if not isinstance(cats, Mapping):
        raise ConfigError(f"{where} [policy]: category must be a table of categories")
    defaults = build(CategoryPolicy, pol, f"{where} [policy]")
    categories = {
        str(name): _category(defaults, v, f"{where} [policy.category.{name}]")
        for name, v in cats.items()
    }
    forecast = build(ForecastConfig, _table(data, "forecast", where), f"{where} [forecast]")
    transfers = _transfers(_table(data, "transfers", where), f"{where} [transfers]")
    weeks = build(_Weeks, {k: data[k] for k in ("kpi_weeks", "dow_weeks") if k in data}, where)
    return PlanningConfig(
        defaults=defaults,
        categories=categories,
        forecast=forecast,
        transfers=transfers,
        kpi_weeks=weeks.kpi_weeks,
        dow_weeks=weeks.dow_weeks,
    )


@dataclass(frozen=True)
class CategoryArrays:
    """Category policies as arrays indexed by category number, for vectorised kernels."""

    names: list[str]
    service_level: np.ndarray
    ss_method: np.ndarray  # int8 index into SAFETY_STOCK_METHODS
    cover_days: np.ndarray
    review_days: np.ndarray
    policy: np.ndarray  # int8 index into POLICY_KINDS
    order_cost: np.ndarray
    holding_rate: np.ndarray
    lead_days: np.ndarray
    pack_size: np.ndarray
    moq: np.ndarray
    yellow: np.ndarray
    orange: np.ndarray
    red: np.ndarray
    hysteresis: np.ndarray
    slow_days: np.ndarray
    velocity_drop: np.ndarray
    min_stock_age_days: np.ndarray


def category_arrays(config: PlanningConfig, names: list[str]) -> CategoryArrays:
    """Turn the policies of categories `names` (index = category number) into arrays."""
    pols = config.category_table(list(names)) or [config.defaults]

    def arr(attr: str, dtype: Any = np.float64) -> np.ndarray:
        return np.array([getattr(p, attr) for p in pols], dtype=dtype)

    return CategoryArrays(
        names=list(names),
        service_level=arr("service_level"),
        ss_method=np.array(
            [SAFETY_STOCK_METHODS.index(p.safety_stock) for p in pols], dtype=np.int8
        ),
        cover_days=arr("cover_days"),
        review_days=arr("review_days"),
        policy=np.array([POLICY_KINDS.index(p.policy) for p in pols], dtype=np.int8),
        order_cost=arr("order_cost"),
        holding_rate=arr("holding_rate"),
        lead_days=arr("lead_days"),
        pack_size=arr("pack_size"),
        moq=arr("moq"),
        yellow=arr("yellow"),
        orange=arr("orange"),
        red=arr("red"),
        hysteresis=arr("hysteresis"),
        slow_days=arr("slow_days"),
        velocity_drop=arr("velocity_drop"),
        min_stock_age_days=arr("min_stock_age_days"),
    )
