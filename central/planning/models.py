"""What the planning API (`central.planning.api`) takes and answers, as msgspec Structs."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from central.planning.core.alerts import TIER_NAMES
from central.planning.views import ALERT_STATUSES, KPI_GROUPS

MAX_LIMIT = 100_000

AlertStatus = Literal[ALERT_STATUSES]  # type: ignore[valid-type]
Tier = Literal[TIER_NAMES[1:]]  # type: ignore[valid-type]
Weeks = Annotated[int, Meta(ge=1, le=52)]


class AlertQuery(msgspec.Struct):
    """Stock alerts, worst first."""

    site: str | None = None
    sku: str | None = None
    tier: Tier | None = None
    status: AlertStatus = "open"
    limit: Annotated[int, Meta(ge=1, le=MAX_LIMIT, description="at most this many rows")] = 1000


class ProposalQuery(msgspec.Struct):
    supplier: str | None = None
    site: Annotated[str | None, Meta(description="proposals with a line for this site")] = None


class SuggestionQuery(msgspec.Struct):
    sku: str | None = None
    from_site: str | None = None
    to_site: str | None = None


class SlowMoverQuery(msgspec.Struct):
    site: str | None = None
    sku: str | None = None
    reason: str | None = None


class KpiQuery(msgspec.Struct):
    group: Literal[KPI_GROUPS] | None = None  # type: ignore[valid-type]
    site: str | None = None
    category: str | None = None
    period: (
        Annotated[str, Meta(pattern=r"^[0-9]+[wW]?$", description="weeks, 1 to 52 (e.g. 4 or 4w)")]
        | None
    ) = None
    weeks: Annotated[Weeks | None, Meta(description="the same as period (default: settings)")] = (
        None
    )


class LeadTimeQuery(msgspec.Struct):
    supplier: str | None = None


class ForecastQuery(msgspec.Struct):
    sku: str
    site: str | None = None
    horizon: Annotated[int, Meta(ge=1, le=365, description="days ahead")] = 14


class Alert(msgspec.Struct, forbid_unknown_fields=True):
    id: int
    alert_id: int
    sku: str
    site: str
    status: Literal["open", "closed", "false"]
    tier: str
    max_tier: str
    action: str
    position: float | None
    safety_stock: float | None
    opened_ts: str
    updated_ts: str
    closed_ts: str | None


class AlertEvent(msgspec.Struct, forbid_unknown_fields=True):
    ts: str
    kind: str
    tier: str
    prev_tier: str
    action: str
    position: float | None
    safety_stock: float | None


class AlertDetail(Alert, forbid_unknown_fields=True):
    """One alert with its history of changes."""

    events: list[AlertEvent]


class AlertList(msgspec.Struct, forbid_unknown_fields=True):
    rows: list[Alert]
    count: int
