"""Workflows: purchase orders with approvals, transfer orders, reservations, cycle counts.

They close the loop from a decision (a proposal, a reservation, a count) to a movement in the
ledger. State lives in SQLite tables beside the ledger (`schema.py`), every state change is a
transition of a machine written down as data (`states.py`), and everything that changes stock
goes through the ledger: central's own movements (a sale that fulfils a reservation, an approved
count) enter through the same ingest as a handheld's scans (`movements.py`).
"""

from __future__ import annotations

from central.http.errors import ApiError


class WorkflowError(ApiError):
    """A refused workflow request: HTTP status, a stable code and a sentence a person can act on.

    A subclass of the API's error so the blueprint needs no translation layer, while the CLI and
    tests can catch it without Flask.
    """
