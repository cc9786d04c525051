"""What the workflows API (`central.workflows.api`) takes and answers, as msgspec Structs.

Request models check shape and types and name the field that is wrong. What needs the ledger
(a SKU in the item master, a bin at a site) or the live settings (the longest reservation TTL)
stays with the workflow that acts on it. Reservations, purchase orders and settings take the
decoded model itself, so each check is made once (a caller outside HTTP, planning's draft POs,
builds the model with `convert`); the other services take the plain dict of `contract.as_dict`.
Request fields a service gives its own default are `UNSET` (or default to what the service
would use), so the default stays in one place.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

import msgspec
from msgspec import UNSET, Meta, UnsetType

from central.http.contract import Note, NoteBody, Number, SiteId, WholeQty, explain
from central.workflows import WorkflowError
from central.workflows.reservations import CHANNELS
from central.workflows.transfers import KINDS, RESOLUTIONS

MAX_LIMIT = 10_000
MAX_LINES = 10_000

T = TypeVar("T")


def convert(model: type[T], data: Any) -> T:
    """`data` built in Python (planning's draft POs) as `model`, validated exactly as the same
    body is over HTTP, so a service has one validation whoever calls it; WorkflowError 400
    bad_request naming the field otherwise."""
    try:
        return msgspec.convert(data, model)
    except msgspec.ValidationError as exc:
        raise WorkflowError(400, "bad_request", explain(exc, model)) from None


class Listing(msgspec.Struct):
    """Paging shared by the workflow lists: newest first."""

    limit: Annotated[int, Meta(ge=1, le=MAX_LIMIT, description="at most this many rows")] = 500


# --- purchase orders ----------------------------------------------------------------------------


#: A unit cost: zero or more.
UnitCost = Annotated[
    Annotated[int, Meta(ge=0)] | Annotated[float, Meta(ge=0)],
    Meta(description="default: the item master's unit cost"),
]


class PurchaseOrderLine(msgspec.Struct, omit_defaults=True):
    sku: str
    site: str
    qty: WholeQty
    unit_cost: UnitCost | UnsetType = UNSET
    loc: Annotated[str | None, Meta(description="receiving bin (default: the site's dock)")] = None


class PurchaseOrderCreate(msgspec.Struct, omit_defaults=True):
    """A draft PO; from a proposal, `key` makes it idempotent (the same key returns the PO
    already made)."""

    supplier: Annotated[str, Meta(min_length=1, max_length=64, pattern=r"\S")]
    lines: Annotated[list[PurchaseOrderLine], Meta(min_length=1, max_length=MAX_LINES)]
    key: Annotated[str, Meta(min_length=1, max_length=128)] | None = None
    note: Note | None = None
    submit: Annotated[bool, Meta(description="submit it for approval at once")] = False


class SendBody(msgspec.Struct, omit_defaults=True):
    """Send to the supplier now; the channel defaults to the supplier's webhook, else a file."""

    channel: Literal["webhook", "file"] | None = None
    note: Note | None = None


class PurchaseOrderQuery(Listing):
    status: str | None = None
    supplier: str | None = None
    source: str | None = None


class DocumentQuery(msgspec.Struct):
    format: Literal["json", "csv"] = "json"


class LeadTimeQuery(msgspec.Struct):
    supplier: str | None = None


class PurchaseOrderSummary(msgspec.Struct, forbid_unknown_fields=True):
    id: int
    number: Annotated[str, Meta(examples=["PO-000001"])]
    supplier: str
    status: str
    source: str
    proposal_key: str | None
    categories: list[str]
    total_value: float
    required_approvals: int
    revision: int
    note: str | None
    created_at: str
    created_by: str
    submitted_at: str | None
    approved_at: str | None
    sent_at: str | None
    expires_at: str | None
    closed_at: str | None
    updated_at: str


class PurchaseOrderLineView(msgspec.Struct, forbid_unknown_fields=True):
    id: int
    line_no: int
    sku: str
    site: str
    loc: str
    qty: int
    unit_cost: float
    received: int
    over_received: int
    first_receipt_at: str | None


class Approval(msgspec.Struct, forbid_unknown_fields=True):
    actor: str
    role: str
    decision: str
    note: str | None
    ts: str
    revision: int


class SupplierSend(msgspec.Struct, forbid_unknown_fields=True):
    id: int
    channel: str
    target: str | None
    idempotency_key: str
    status: str
    attempts: int
    last_status: int | None
    detail: str | None
    created_at: str
    done_at: str | None


class Receipt(msgspec.Struct, forbid_unknown_fields=True):
    movement_id: int
    sku: str
    site: str
    qty: int
    accepted: int
    excess: int
    ts: str
    note: str | None


class PurchaseOrder(PurchaseOrderSummary, forbid_unknown_fields=True):
    """One PO with its lines, approvals, sends and receipts."""

    lines: list[PurchaseOrderLineView]
    approvals: list[Approval]
    approvals_given: int
    sends: list[SupplierSend]
    receipts: list[Receipt]
    exceptions: Annotated[list[Receipt], Meta(description="receipts with an excess")]


class PurchaseOrderList(msgspec.Struct, forbid_unknown_fields=True):
    rows: list[PurchaseOrderSummary]


# --- transfers ----------------------------------------------------------------------------------


class TransferLine(msgspec.Struct, omit_defaults=True):
    sku: str
    qty: WholeQty
    from_loc: Annotated[str | None, Meta(description="default: the bin holding most")] = None
    to_loc: Annotated[str | None, Meta(description="default: the site's dock")] = None


#: Asking for a transfer that a promotion freeze forbids (see docs/workflows.md).
OverrideFreeze = Annotated[
    bool,
    Meta(
        description="propose it although a promotion freeze covers a line: only an approver "
        "who overrides the freeze can then approve it"
    ),
]


class TransferCreate(msgspec.Struct, omit_defaults=True):
    from_site: SiteId
    to_site: SiteId
    lines: Annotated[list[TransferLine], Meta(min_length=1, max_length=MAX_LINES)]
    key: str | None = None
    note: str | None = None
    override_freeze: OverrideFreeze = False


class Suggestion(msgspec.Struct):
    """One of planning's transfer suggestions (its other fields are ignored)."""

    sku: str
    from_site: SiteId
    to_site: SiteId
    qty: WholeQty


class TransferSuggestions(msgspec.Struct, omit_defaults=True):
    suggestions: Annotated[list[Suggestion], Meta(min_length=1)]
    override_freeze: OverrideFreeze = False


class TransferApproval(NoteBody, omit_defaults=True):
    """The optional body of a transfer's approval: a note, and the approver's override of a
    promotion freeze (audited as transfer.freeze_override with the note)."""

    override_freeze: Annotated[
        bool, Meta(description="approve although a promotion freeze covers a line")
    ] = False


class DiscrepancyReport(msgspec.Struct, omit_defaults=True):
    sku: str
    kind: Literal[KINDS]  # type: ignore[valid-type]
    qty: WholeQty
    note: str | None = None


class Resolution(msgspec.Struct, omit_defaults=True):
    resolution: Literal[RESOLUTIONS]  # type: ignore[valid-type]
    note: str | None = None


class TransferQuery(Listing):
    status: str | None = None
    from_site: str | None = None
    to_site: str | None = None


class TransferSummary(msgspec.Struct, forbid_unknown_fields=True):
    id: int
    number: Annotated[str, Meta(examples=["TO-000001"])]
    from_site: str
    to_site: str
    status: str
    source: str
    suggestion_key: str | None
    note: str | None
    created_at: str
    created_by: str
    approved_at: str | None
    dispatched_at: str | None
    closed_at: str | None
    updated_at: str


class TransferLineView(msgspec.Struct, forbid_unknown_fields=True):
    id: int
    sku: str
    qty: int
    from_loc: str
    to_loc: str
    picked: int
    received: int
    damaged: int


class Discrepancy(msgspec.Struct, forbid_unknown_fields=True):
    id: int
    sku: str
    kind: str
    qty: int
    status: str
    note: str | None
    created_at: str
    created_by: str
    resolution: str | None
    resolved_by: str | None
    resolved_at: str | None


class TransferScan(msgspec.Struct, forbid_unknown_fields=True):
    movement_id: int
    type: str
    qty: int
    ts: str
    note: str | None


class TransferOrder(TransferSummary, forbid_unknown_fields=True):
    """One transfer order with its lines, scans and discrepancies."""

    lines: list[TransferLineView]
    discrepancies: list[Discrepancy]
    scans: list[TransferScan]


class TransferList(msgspec.Struct, forbid_unknown_fields=True):
    rows: list[TransferSummary]


class TransfersCreated(msgspec.Struct, forbid_unknown_fields=True):
    rows: list[TransferOrder]
    created: Annotated[int, Meta(description="how many are new (the rest existed already)")]


# --- reservations -------------------------------------------------------------------------------

#: The channels, and `group-buy` as a spelling of `group_buy`.
Channel = Literal[CHANNELS + ("group-buy",)]  # type: ignore[valid-type]


class ReservationRequest(msgspec.Struct, omit_defaults=True):
    """Reserve `qty` of a SKU at a site for a channel: granted only if the site's available
    (on hand − reserved) covers it, else 409 insufficient_stock (or routed, see `route`)."""

    sku: Annotated[str, Meta(min_length=1)]
    site: SiteId
    qty: Annotated[int, Meta(gt=0, le=1_000_000_000)]
    channel: Channel
    ttl_s: (
        Annotated[
            float, Meta(gt=0, description="seconds until it expires (default and limit: settings)")
        ]
        | UnsetType
    ) = UNSET
    ref: Annotated[str, Meta(max_length=64)] | None = None
    route: Annotated[
        bool, Meta(description="when short, try the channel's other sites (reservation_routing)")
    ] = True


class FulfilBody(msgspec.Struct, omit_defaults=True):
    how: Annotated[
        Literal["sale", "pick", "handheld"],
        Meta(description="sale: a sale movement now; pick/handheld: a pick task for a handheld"),
    ] = msgspec.field(default="sale", name="as")


class ReservationQuery(Listing):
    status: str | None = None
    site: str | None = None
    sku: str | None = None
    channel: str | None = None


class Allocation(msgspec.Struct, forbid_unknown_fields=True):
    loc: str | None
    qty: int


class ReservationRow(msgspec.Struct, forbid_unknown_fields=True):
    id: int
    number: Annotated[str, Meta(examples=["RES-1"])]
    sku: str
    site: Annotated[str | None, Meta(description="where it is held (null: a dropship partner)")]
    partner: str | None
    requested_site: str
    channel: str
    qty: int
    picked: int
    status: str
    ref: str | None
    created_at: str
    created_by: str
    expires_at: str
    closed_at: str | None


class Reservation(ReservationRow, forbid_unknown_fields=True):
    allocations: list[Allocation]


class ReservationGranted(msgspec.Struct, forbid_unknown_fields=True):
    """A reservation as granted (201)."""

    id: int
    number: str
    sku: str
    site: str | None
    partner: str | None
    requested_site: str
    routed: Annotated[bool, Meta(description="held at another site than requested")]
    channel: str
    qty: int
    status: str
    ref: str | None
    created_at: str
    expires_at: str
    allocations: list[Allocation]


class ReservationList(msgspec.Struct, forbid_unknown_fields=True):
    rows: list[ReservationRow]


# --- counts, tasks, settings, audit -------------------------------------------------------------


class CountQuery(Listing):
    status: Annotated[str | None, Meta(description="pending: waiting for an approver")] = None


class CountRecord(msgspec.Struct, forbid_unknown_fields=True):
    id: int
    device: str
    seq: int
    site: str
    sku: str
    loc: str
    ts: str
    received_at: str
    counted: int
    expected: int
    variance: int
    late: int
    status: str
    operator: str | None
    decided_by: str | None
    decided_at: str | None
    note: str | None


class CountList(msgspec.Struct, forbid_unknown_fields=True):
    rows: list[CountRecord]


class TaskQuery(msgspec.Struct):
    site: str


class SiteTasks(msgspec.Struct, forbid_unknown_fields=True):
    site: str
    tasks: Annotated[
        list[dict[str, Any]], Meta(description="id, kind, ref, status, created_at and the task")
    ]


class ApprovalTier(msgspec.Struct, kw_only=True):
    up_to: Annotated[Number | None, Meta(description="PO value up to (null: no limit)")] = None
    approvals: int


class SupplierEndpoint(msgspec.Struct, omit_defaults=True):
    webhook: str | UnsetType = UNSET
    format: Literal["json", "csv"] | UnsetType = UNSET


class WorkflowSettings(msgspec.Struct, forbid_unknown_fields=True):
    """Approval tiers, tolerances, TTLs and routing (central.workflows.settings.DEFAULTS)."""

    po_approval_tiers: list[ApprovalTier]
    po_category_tiers: dict[str, list[ApprovalTier]]
    po_expiry_hours: Number
    po_over_receipt_pct: Number
    po_over_receipt: Literal["flag", "accept"]
    po_under_receipt_pct: Number
    po_auto_send: bool
    suppliers: dict[str, SupplierEndpoint]
    supplier_outbox_dir: str | None
    webhook_attempts: Number
    webhook_backoff_s: Number
    webhook_timeout_s: Number
    reservation_ttl_s: Number
    reservation_max_ttl_s: Number
    reservation_routing: Annotated[
        dict[str, list[str]],
        Meta(description='channel (or "*") → sites to try, or "dropship:PARTNER"'),
    ]
    count_hold_units: Number | None
    count_hold_value: Number | None


class SettingsChange(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """The settings to change (any of WorkflowSettings); unknown keys are refused."""

    po_approval_tiers: Annotated[list[ApprovalTier], Meta(min_length=1)] | UnsetType = UNSET
    po_category_tiers: dict[str, Annotated[list[ApprovalTier], Meta(min_length=1)]] | (
        UnsetType
    ) = UNSET
    po_expiry_hours: Number | UnsetType = UNSET
    po_over_receipt_pct: Number | UnsetType = UNSET
    po_over_receipt: Literal["flag", "accept"] | UnsetType = UNSET
    po_under_receipt_pct: Number | UnsetType = UNSET
    po_auto_send: bool | UnsetType = UNSET
    suppliers: dict[str, SupplierEndpoint] | UnsetType = UNSET
    supplier_outbox_dir: str | None | UnsetType = UNSET
    webhook_attempts: Number | UnsetType = UNSET
    webhook_backoff_s: Number | UnsetType = UNSET
    webhook_timeout_s: Number | UnsetType = UNSET
    reservation_ttl_s: Number | UnsetType = UNSET
    reservation_max_ttl_s: Number | UnsetType = UNSET
    reservation_routing: dict[str, list[str]] | UnsetType = UNSET
    count_hold_units: Number | None | UnsetType = UNSET
    count_hold_value: Number | None | UnsetType = UNSET


class AuditQuery(Listing):
    actor: str | None = None
    action: str | None = None
    target: str | None = None


class AuditRow(msgspec.Struct, forbid_unknown_fields=True):
    id: int
    ts: str
    actor: str
    role: str
    action: str
    target: str | None
    detail: str | None
    remote_addr: str | None


class AuditList(msgspec.Struct, forbid_unknown_fields=True):
    rows: list[AuditRow]
