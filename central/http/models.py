"""What the stock API (`central.http.stock_api`) takes and answers, as msgspec Structs.

The answer models are also the column lists: the movements and dead-letter routes select the
fields their model declares, so the document and the rows cannot disagree.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

MAX_LIMIT = 100_000


Limit = Annotated[int, Meta(ge=1, le=MAX_LIMIT, description="at most this many rows")]


# --- queries ------------------------------------------------------------------------------------


class StockQuery(msgspec.Struct):
    """Stock per SKU × location, or per SKU × site with by=site."""

    sku: str | None = None
    gtin: Annotated[str | None, Meta(description="the SKU of this GTIN")] = None
    site: str | None = None
    loc: str | None = None
    by: Literal["loc", "site"] = "loc"
    limit: Limit = 10_000


class MovementQuery(msgspec.Struct):
    """Ledger rows in ledger order; every filter is an exact match."""

    device: str | None = None
    sku: str | None = None
    type: str | None = None
    site: str | None = None
    loc: str | None = None
    ref: str | None = None
    since: Annotated[str | None, Meta(description="rows with ts at or after this time")] = None
    flagged: Annotated[
        bool | None,
        Meta(description="1: only rows flagged for review (scanned before an applied count)"),
    ] = None
    after_id: Annotated[
        int, Meta(ge=0, le=2**62, description="page: rows after this id (next_after_id)")
    ] = 0
    limit: Limit = 1000


class DeadLetterQuery(msgspec.Struct):
    status: Annotated[str, Meta(description="open, resolved, … or all")] = "open"
    device: str | None = None
    code: str | None = None
    limit: Limit = 1000


# --- answers ------------------------------------------------------------------------------------


class DeviceWatermark(msgspec.Struct, forbid_unknown_fields=True):
    device: str
    site: str
    upto: Annotated[int, Meta(description="every seq up to this one is in the ledger")]
    state: str | None
    queue: int | None
    last_seen: str | None


class Health(msgspec.Struct, forbid_unknown_fields=True):
    status: Literal["ok"]
    broker_connected: bool
    movements_applied: int
    ingest_queue: int
    open_dead_letters: int
    devices: list[DeviceWatermark]


class StockRow(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    sku: str
    site: str
    on_hand: int
    reserved: int
    available: Annotated[int, Meta(description="on_hand − reserved")]
    in_transit: int
    on_order: int
    loc: Annotated[str | None, Meta(description="the bin (not with by=site)")] = None


class StockPage(msgspec.Struct, forbid_unknown_fields=True):
    rows: list[StockRow]
    count: Annotated[int, Meta(description="rows before the limit")]
    truncated: bool = False


class Movement(msgspec.Struct, forbid_unknown_fields=True):
    """A ledger row as the API shows it: without the engine's internal ids and codes."""

    id: int
    device: str
    seq: int
    site: str
    ts: str
    received_at: str
    type: str
    sku: str
    gtin: str | None
    lot: str | None
    expiry: str | None
    serial: str | None
    qty: int
    delta: Annotated[int, Meta(description="the change to on_hand at loc")]
    loc: str
    to_loc: str | None
    ref: str | None
    operator: str | None
    flagged: Annotated[
        int,
        Meta(
            description="for review: scanned before a count already applied at loc (1), at "
            "to_loc (2) or both (3), so not applied there (the count fixed the quantity); "
            "0: applied"
        ),
    ]


class MovementPage(msgspec.Struct, forbid_unknown_fields=True):
    rows: list[Movement]
    next_after_id: Annotated[int | None, Meta(description="after_id of the next page")]


class DeadLetter(msgspec.Struct, forbid_unknown_fields=True):
    id: int
    received_at: str
    topic: str | None
    device: str | None
    site: str | None
    seq: int | None
    code: Annotated[str, Meta(description="why it was rejected")]
    detail: str | None
    event: Annotated[dict[str, Any] | str | None, Meta(description="the rejected event")]
    payload: str | None
    status: str
    attempts: int
    resolved_at: str | None


class DeadLetterPage(msgspec.Struct, forbid_unknown_fields=True):
    rows: list[DeadLetter]


class LeadTime(msgspec.Struct, forbid_unknown_fields=True):
    supplier: str
    sku: str
    mean_days: float
    n: int


class LeadTimes(msgspec.Struct, forbid_unknown_fields=True):
    rows: list[LeadTime]


#: The columns each route selects: its model's fields.
MOVEMENT_FIELDS: tuple[str, ...] = Movement.__struct_fields__
DEAD_LETTER_FIELDS: tuple[str, ...] = DeadLetter.__struct_fields__
