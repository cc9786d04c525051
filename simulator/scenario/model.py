"""The supply-network model as plain, immutable dataclasses.

Why a separate module: the scenario parser (TOML/CSV), the live twin (central's state) and the
tests all build the same objects; the engine's `network.py` turns them into the arrays the
kernels need. Nothing here knows about SimPy or Numba.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Demand-facing site kinds. A "fulfilment" site (also spelled "groupbuy") ships customer orders
#: like a store but takes no part in store-to-store pooling unless `lateral = true`.
DEMAND_KINDS = ("store", "fulfilment", "groupbuy")
SITE_KINDS = (*DEMAND_KINDS, "dc")
DEMAND_DISTS = ("poisson", "normal", "negbin")
#: The levels each policy kind needs; each may instead be given in days of cover (`S_days`).
POLICY_LEVELS: dict[str, tuple[str, ...]] = {
    "base_stock": ("S",),
    "RS": ("R", "S"),
    "sS": ("s", "S"),
    "rQ": ("r", "Q"),
    "minmax": ("min", "max"),
    "auto": (),
}
POLICY_KINDS = tuple(POLICY_LEVELS)
#: Parameters every kind may take: days between reviews, and `auto`'s safety factor.
POLICY_OPTIONAL = ("review", "z")


@dataclass(frozen=True)
class LeadTime:
    """An integer number of days: fixed, Poisson, uniform on [low, high], or a discrete choice."""

    kind: str = "fixed"  # "fixed" | "poisson" | "uniform" | "choice"
    mean: float = 0.0  # the fixed value for "fixed"; the mean for "poisson"
    low: int = 0
    high: int = 0
    values: tuple[int, ...] = ()
    probs: tuple[float, ...] = ()


@dataclass(frozen=True)
class Supplier:
    id: str
    lead_time: LeadTime
    #: Probability a shipment arrives on time; a late one arrives `late_days` later.
    reliability: float = 1.0
    late_days: LeadTime = LeadTime("fixed", 0.0)
    #: Cost per unit ordered (set it on a backup to its premium over the primary).
    unit_cost: float = 0.0
    #: The supplier the `backup_supplier` strategy switches to while this one is down.
    backup: str | None = None


@dataclass(frozen=True)
class Site:
    id: str
    source: str
    kind: str = "store"
    #: Multiplies every SKU's demand mean at this site (a big store is 2.0).
    demand_scale: float = 1.0
    #: Multiplies every SKU's holding cost at this site (DC space is cheaper).
    holding_factor: float = 1.0
    x: float | None = None
    y: float | None = None
    #: Takes part in transshipment / rebalancing. Default: stores only.
    lateral: bool | None = None

    @property
    def faces_demand(self) -> bool:
        return self.kind in DEMAND_KINDS

    @property
    def pools(self) -> bool:
        return self.kind == "store" if self.lateral is None else self.lateral


@dataclass(frozen=True)
class Lane:
    """A directed transport link. Derived lanes fill in whatever a scenario does not list."""

    src: str
    dst: str
    days: LeadTime
    cost: float = 0.0  # per unit moved
    port: str | None = None  # a port closure closes every lane through it


@dataclass(frozen=True)
class Promotion:
    start: int
    days: int
    factor: float


@dataclass(frozen=True)
class Demand:
    dist: str = "poisson"
    mean: float = 0.0
    #: Normal: standard deviation. Negbin: standard deviation (must exceed sqrt(mean)).
    sd: float | None = None
    #: Seven day-of-week multipliers, Monday first (scenario day 0 is `run.start_weekday`).
    weekly: tuple[float, ...] = (1.0,) * 7
    promotions: tuple[Promotion, ...] = ()


@dataclass(frozen=True)
class Policy:
    """A stock policy as written: `kind` plus its parameters in units or in days of cover.

    A parameter named `X_days` means ceil(X_days × the pair's mean daily demand); see
    `policies.resolve` for every kind.
    """

    kind: str
    params: tuple[tuple[str, float], ...] = ()

    def get(self, name: str, default: float | None = None) -> float | None:
        return dict(self.params).get(name, default)


@dataclass(frozen=True)
class Sku:
    id: str
    demand: Demand
    policy: Policy
    dc_policy: Policy | None = None
    unmet: str = "backorder"  # or "lost"
    holding: float | None = None  # None: the scenario's [costs]
    backorder: float | None = None
    lost_sale: float | None = None
    order: float | None = None


@dataclass(frozen=True)
class Costs:
    holding: float = 1.0
    backorder: float = 0.0
    lost_sale: float = 0.0
    order: float = 0.0
    transfer: float = 0.0  # per unit moved store to store, unless a lane says otherwise


@dataclass(frozen=True)
class Disruption:
    """One disruption. `kind` is "outage" (a fixed window), "markov" (daily up/down switching)
    or "surge" (demand multiplied by `factor`). Targets: a supplier, a lane (src, dst), a port,
    or, for surges, optional lists of SKUs and sites (empty = all)."""

    kind: str
    supplier: str | None = None
    lane: tuple[str, str] | None = None
    port: str | None = None
    start: int = 0
    days: int = 0
    alpha: float = 0.0  # P(up -> down) per day
    beta: float = 0.0  # P(down -> up) per day
    factor: float = 1.0
    skus: tuple[str, ...] = ()
    sites: tuple[str, ...] = ()


@dataclass(frozen=True)
class Network:
    """Network-wide defaults for derived lanes."""

    dc_days: LeadTime = LeadTime("fixed", 1.0)  # DC -> site transfer time
    dc_cost: float = 0.0
    lateral_days: LeadTime = LeadTime("fixed", 1.0)  # store <-> store transfer time
    km_per_day: float | None = None  # with x, y: lateral days = ceil(distance / km_per_day)


@dataclass(frozen=True)
class Run:
    days: int = 365
    warmup: int = 0
    replications: int = 20
    seed: int = 1
    strategies: tuple[str, ...] = ("none",)
    start_weekday: int = 0  # 0 = Monday
    name: str = "scenario"


@dataclass(frozen=True)
class InitialState:
    """Opening stock and pipeline (the live twin fills this from central)."""

    #: (site, sku) -> inventory level (on hand minus backorders). Missing pairs start at the
    #: policy's order-up-to level.
    stock: dict[tuple[str, str], int] = field(default_factory=dict)
    #: (site, sku, qty, arrival day) already on order or in transit.
    pipeline: tuple[tuple[str, str, int, int], ...] = ()


@dataclass(frozen=True)
class Scenario:
    run: Run
    costs: Costs
    suppliers: tuple[Supplier, ...]
    sites: tuple[Site, ...]
    skus: tuple[Sku, ...]
    lanes: tuple[Lane, ...] = ()
    disruptions: tuple[Disruption, ...] = ()
    network: Network = Network()
    #: [strategy.NAME] tables, passed to the strategy's `install`.
    strategy_params: dict[str, dict] = field(default_factory=dict)
    initial: InitialState | None = None
    #: (site, sku) -> demand there, overriding the SKU's demand × the site's scale (the live twin
    #: estimates every pair from central's ledger).
    pair_demand: dict[tuple[str, str], Demand] = field(default_factory=dict)
    #: The [live] table: settings for `--from-central` (see live.py).
    live: dict = field(default_factory=dict)
