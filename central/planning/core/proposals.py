"""Reorder proposals grouped by supplier into draft purchase orders — idempotent by construction.

The order rule runs on the *inventory position*: available + open purchase orders + inbound
transfers (+ transfers this plan suggests). A need that open orders already cover therefore
yields no proposal, and a proposal the caller records as a draft (passed back as open PO
quantity on the next run) is not proposed again: running the planner twice in a row proposes
once. This is the difference to a daily job that re-proposes the same order every day.

Each draft PO carries a `key` derived from its supplier and lines, so a caller that upserts by
key stores the same draft once even if it runs the same plan twice before recording it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .policy import order_quantity, round_to_pack


@dataclass
class ProposalLine:
    sku: str
    site: str
    qty: float
    unit_cost: float
    value: float
    position: float  # inventory position the order was computed on
    target: float  # the level the policy orders towards (reorder point, S or max)
    series: int


@dataclass
class DraftPO:
    supplier: str
    lines: list[ProposalLine]
    total_qty: float
    total_value: float
    key: str = field(default="")

    def to_dict(self) -> dict:
        return {
            "key": self.key,
            "supplier": self.supplier,
            "total_qty": self.total_qty,
            "total_value": self.total_value,
            "lines": [vars(line) for line in self.lines],
        }


@dataclass
class Proposals:
    """Order lines as arrays, sorted by supplier then series; `offsets` delimit suppliers."""

    series: np.ndarray  # int64
    supplier: np.ndarray  # int64 (supplier index)
    qty: np.ndarray
    unit_cost: np.ndarray
    value: np.ndarray
    position: np.ndarray
    target: np.ndarray
    raw_qty: np.ndarray  # the policy's order before MOQ and pack rounding
    pack_size: np.ndarray
    moq: np.ndarray
    suppliers: np.ndarray  # the distinct suppliers, in order
    offsets: np.ndarray  # lines of suppliers[j] are [offsets[j], offsets[j + 1])
    #: series that would need an order on available stock alone but whose open POs /
    #: transfers already cover it (shown as "covered" rather than proposed again)
    suppressed: np.ndarray
    #: series that need an order but have no supplier in master data
    unsourced: np.ndarray

    def __len__(self) -> int:
        return int(self.series.size)

    def draft_pos(
        self,
        sku_names: Sequence[str],
        site_names: Sequence[str],
        supplier_names: Sequence[str],
    ) -> list[DraftPO]:
        """Materialise draft POs (one per supplier) for the API / approval workflow."""
        n_sites = len(site_names)
        out = []
        for j, sup in enumerate(self.suppliers):
            a, b = int(self.offsets[j]), int(self.offsets[j + 1])
            lines = []
            for k in range(a, b):
                s = int(self.series[k])
                lines.append(
                    ProposalLine(
                        sku=sku_names[s // n_sites],
                        site=site_names[s % n_sites],
                        qty=float(self.qty[k]),
                        unit_cost=float(self.unit_cost[k]),
                        value=float(self.value[k]),
                        position=float(self.position[k]),
                        target=float(self.target[k]),
                        series=s,
                    )
                )
            name = supplier_names[int(sup)]
            digest = hashlib.sha1(
                repr([(line.sku, line.site, line.qty) for line in lines]).encode()
            ).hexdigest()[:12]
            out.append(
                DraftPO(
                    supplier=name,
                    lines=lines,
                    total_qty=float(self.qty[a:b].sum()),
                    total_value=float(self.value[a:b].sum()),
                    key=f"draft-{name}-{digest}",
                )
            )
        return out


def inventory_position(available, open_po, open_transfer_in, planned_in=0.0, planned_out=0.0):
    """IP = available + open POs + inbound transfers + planned transfers in − planned out."""
    return (
        np.asarray(available, np.float64)
        + np.asarray(open_po, np.float64)
        + np.asarray(open_transfer_in, np.float64)
        + np.asarray(planned_in, np.float64)
        - np.asarray(planned_out, np.float64)
    )


def propose(
    *,
    kind: np.ndarray,
    available: np.ndarray,
    position: np.ndarray,
    reorder_point: np.ndarray,
    lot: np.ndarray,
    order_up_to: np.ndarray,
    min_level: np.ndarray,
    max_level: np.ndarray,
    pack_size: np.ndarray,
    moq: np.ndarray,
    supplier: np.ndarray,
    unit_cost: np.ndarray,
) -> Proposals:
    """Order lines for every series whose inventory position calls for one (all per series).

    `position` is the inventory position (`inventory_position`); `available` alone is used only
    to report which needs open orders already cover (`suppressed`).
    """
    kind = np.ascontiguousarray(kind, np.int8)
    args = (
        np.ascontiguousarray(reorder_point, np.float64),
        np.ascontiguousarray(lot, np.float64),
        np.ascontiguousarray(order_up_to, np.float64),
        np.ascontiguousarray(min_level, np.float64),
        np.ascontiguousarray(max_level, np.float64),
    )
    raw = order_quantity(kind, np.ascontiguousarray(position, np.float64), *args)
    pack = np.broadcast_to(np.asarray(pack_size, np.float64), raw.shape)
    moq = np.broadcast_to(np.asarray(moq, np.float64), raw.shape)
    qty = round_to_pack(raw, pack, moq)
    bare = order_quantity(kind, np.ascontiguousarray(available, np.float64), *args)
    suppressed = np.flatnonzero((bare > 0) & (qty <= 0))
    supplier = np.asarray(supplier, np.int64)
    need = qty > 0
    unsourced = np.flatnonzero(need & (supplier < 0))
    sel = np.flatnonzero(need & (supplier >= 0))
    order = sel[np.argsort(supplier[sel], kind="stable")]
    sup = supplier[order]
    suppliers, first = np.unique(sup, return_index=True)
    offsets = np.append(first, sup.size).astype(np.int64)
    target = np.select(
        [kind[order] == 0, kind[order] == 1],
        [args[0][order], args[2][order]],
        args[4][order],
    )
    cost = np.broadcast_to(np.asarray(unit_cost, np.float64), qty.shape)[order]
    return Proposals(
        series=order,
        supplier=sup,
        qty=qty[order],
        unit_cost=cost,
        value=qty[order] * cost,
        position=np.asarray(position, np.float64)[order],
        target=target,
        raw_qty=raw[order],
        pack_size=np.maximum(pack[order], 1.0),
        moq=moq[order],
        suppliers=suppliers,
        offsets=offsets,
        suppressed=suppressed,
        unsourced=unsourced,
    )
