"""Every workflow's state machine, written down as data.

Why tables rather than `if` chains: the allowed transitions are the contract a planner reads in
docs/workflows.md and the tests walk exhaustively; a transition that is not in a table cannot
happen, whatever code path asks for it. Guards that depend on data (enough approvals, everything
received) pick between the targets a table allows; they never add a target.
"""

from __future__ import annotations

from dataclasses import dataclass

from central.workflows import WorkflowError


@dataclass(frozen=True)
class Machine:
    name: str
    states: tuple[str, ...]
    #: (state, event) -> the states that event may lead to (a guard picks one when several).
    transitions: dict[tuple[str, str], tuple[str, ...]]
    final: frozenset[str]

    @property
    def events(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(e for _, e in self.transitions))

    def allowed(self, state: str, event: str) -> tuple[str, ...]:
        return self.transitions.get((state, event), ())

    def next(self, state: str, event: str, target: str | None = None) -> str:
        """The state `event` leads to from `state`; `target` picks one of several.

        Raises WorkflowError(409, invalid_transition) for anything the table does not allow.
        """
        targets = self.allowed(state, event)
        if not targets:
            raise WorkflowError(
                409,
                "invalid_transition",
                f"a {self.name.replace('_', ' ')} in state {state} cannot {event}",
            )
        if target is None:
            return targets[0]
        if target not in targets:
            raise WorkflowError(
                409,
                "invalid_transition",
                f"{self.name}: {event} from {state} cannot reach {target}",
            )
        return target


def _machine(name: str, rows: list[tuple[str, str, tuple[str, ...]]], final: set[str]) -> Machine:
    states = tuple(dict.fromkeys([s for s, _, _ in rows] + [t for *_, ts in rows for t in ts]))
    return Machine(name, states, {(s, e): ts for s, e, ts in rows}, frozenset(final))


#: Purchase orders. `approve` stays in pending_approval until the required number of distinct
#: approvers have approved; `receive` goes to closed once every line is received in full.
PURCHASE_ORDER = _machine(
    "purchase_order",
    [
        ("draft", "submit", ("pending_approval", "approved")),
        ("draft", "cancel", ("cancelled",)),
        ("draft", "expire", ("expired",)),
        ("pending_approval", "approve", ("pending_approval", "approved")),
        ("pending_approval", "reject", ("rejected",)),
        ("pending_approval", "cancel", ("cancelled",)),
        ("pending_approval", "expire", ("expired",)),
        ("approved", "send", ("sent",)),
        ("approved", "receive", ("partially_received", "closed")),
        ("approved", "cancel", ("cancelled",)),
        ("approved", "expire", ("expired",)),
        ("sent", "send", ("sent",)),
        ("sent", "receive", ("partially_received", "closed")),
        ("sent", "close", ("closed",)),
        ("sent", "cancel", ("cancelled",)),
        ("partially_received", "receive", ("partially_received", "closed")),
        ("partially_received", "close", ("closed",)),
    ],
    {"rejected", "expired", "closed", "cancelled"},
)

#: Transfer orders between sites. `pick` (transfer_out scans at the source) moves to in_transit
#: once every line is picked in full, `dispatch` ships what was picked so far; `receive`
#: (transfer_in scans at the destination) closes the order once everything shipped has arrived,
#: `complete` ends the receipt early and records what is short as discrepancies.
TRANSFER_ORDER = _machine(
    "transfer_order",
    [
        ("proposed", "approve", ("approved",)),
        ("proposed", "reject", ("rejected",)),
        ("proposed", "cancel", ("cancelled",)),
        ("approved", "pick", ("picking", "in_transit")),
        ("approved", "cancel", ("cancelled",)),
        ("picking", "pick", ("picking", "in_transit")),
        ("picking", "dispatch", ("in_transit",)),
        ("in_transit", "receive", ("receiving", "closed", "discrepancy")),
        ("in_transit", "complete", ("closed", "discrepancy")),
        ("receiving", "receive", ("receiving", "closed", "discrepancy")),
        ("receiving", "complete", ("closed", "discrepancy")),
        ("discrepancy", "receive", ("discrepancy",)),
        ("discrepancy", "resolve", ("discrepancy", "closed")),
    ],
    {"rejected", "cancelled", "closed"},
)

#: Reservations. `pick` hands the reservation to a handheld (a pick task); its pick scans
#: fulfil it. `fulfil` turns it into a sale or pick recorded by central.
RESERVATION = _machine(
    "reservation",
    [
        ("active", "fulfil", ("fulfilled",)),
        ("active", "pick", ("picking",)),
        ("active", "cancel", ("cancelled",)),
        ("active", "expire", ("expired",)),
        ("picking", "picked", ("picking", "fulfilled")),
        ("picking", "cancel", ("cancelled",)),
    ],
    {"fulfilled", "cancelled", "expired"},
)

#: Counts whose variance is above the threshold wait for an approver; `approve` applies the
#: count as of its scan time, `reject` drops it (the operator recounts).
COUNT_REVIEW = _machine(
    "count",
    [
        ("pending", "approve", ("approved",)),
        ("pending", "reject", ("rejected",)),
    ],
    {"approved", "rejected", "applied", "superseded"},
)

MACHINES = {m.name: m for m in (PURCHASE_ORDER, TRANSFER_ORDER, RESERVATION, COUNT_REVIEW)}
