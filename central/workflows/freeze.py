"""Promotion freezes: which transfers may not send a SKU out of a site today.

The rules are planning's (`[[transfers.freeze]]` in the planning TOML, read into
`central.planning.core.config.FreezeRule`), because planning must not suggest a frozen move
either. Workflows sit below planning and may not import it, so central's lifecycle hands the
rules in (`Freezes(rules, dc_sites)`) and this module reads them through the `FreezeRule`
protocol below: one set of rules, and the same meaning for a suggestion and for a transfer a
planner makes by hand. `tests/workflows/test_freeze.py` checks `Freezes.hits` against planning's
own `freeze_masks` on every combination of rule and lane, so the two cannot drift apart.

A transfer of SKU k from site a to site b is frozen on day d when some rule is active on d, k
matches its SKU filter (category, SKU list, minimum unit cost) and the lane a → b matches its
scope ("cross_store": store to store, "to_store": into a store, "from_dc": out of a DC, "all")
and its site list (a or b listed; empty: any). A site is a DC when the planning settings list
it in `dc_sites`, or, without that list, when one of its locations is of kind "dc".
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol

#: The category of an item without one (as planning names it).
UNCATEGORISED = "uncategorised"


class FreezeRule(Protocol):
    """What a freeze rule offers (central.planning.core.config.FreezeRule has it all)."""

    @property
    def name(self) -> str: ...
    @property
    def start(self) -> date | None: ...
    @property
    def end(self) -> date | None: ...
    @property
    def scope(self) -> str: ...
    @property
    def categories(self) -> Sequence[str]: ...
    @property
    def skus(self) -> Sequence[str]: ...
    @property
    def sites(self) -> Sequence[str]: ...
    @property
    def min_unit_value(self) -> float | None: ...
    def active(self, day: date) -> bool: ...


@dataclass(frozen=True)
class Hit:
    """One SKU of a transfer that a rule freezes."""

    sku: str
    rule: str
    start: date | None
    end: date | None

    def describe(self, from_site: str, to_site: str) -> str:
        when = f" ({self.start or '…'} to {self.end or '…'})" if self.start or self.end else ""
        return (
            f"{self.sku} may not leave {from_site} for {to_site}: "
            f"frozen by rule {self.rule!r}{when}"
        )


def today() -> date:
    """The day freezes are judged on: today in UTC, as planning's passes judge it."""
    return datetime.now(UTC).date()


@dataclass(frozen=True)
class Freezes:
    """The freeze rules central runs with, and the DC sites their scopes refer to (None: the
    sites with a location of kind "dc")."""

    rules: Sequence[FreezeRule] = ()
    dc_sites: Sequence[str] | None = None

    def hits(
        self, conn: sqlite3.Connection, skus: Sequence[str], from_site: str, to_site: str, day: date
    ) -> list[Hit]:
        """Every (SKU, rule) of `skus` that freezes a transfer from `from_site` to `to_site`."""
        active = [r for r in self.rules if r.active(day)]
        if not active or from_site == to_site:
            return []
        src_dc, dst_dc = self._is_dc(conn, from_site), self._is_dc(conn, to_site)
        lane_rules = [r for r in active if _lane_frozen(r, from_site, src_dc, to_site, dst_dc)]
        out = []
        for sku in skus:
            found = conn.execute(
                "SELECT category, coalesce(unit_cost, 0) FROM items WHERE sku = ?", (sku,)
            ).fetchone()
            category, cost = (found[0] or UNCATEGORISED, found[1]) if found else (None, 0.0)
            out += [
                Hit(sku, r.name, r.start, r.end)
                for r in lane_rules
                if _sku_frozen(r, sku, category, float(cost))
            ]
        return out

    def _is_dc(self, conn: sqlite3.Connection, site: str) -> bool:
        if self.dc_sites is not None:
            return site in self.dc_sites
        return (
            conn.execute(
                "SELECT 1 FROM locations WHERE site = ? AND lower(trim(kind)) = 'dc' LIMIT 1",
                (site,),
            ).fetchone()
            is not None
        )


def _sku_frozen(rule: FreezeRule, sku: str, category: str | None, unit_cost: float) -> bool:
    if rule.categories and category not in rule.categories:
        return False
    if rule.skus and sku not in rule.skus:
        return False
    return rule.min_unit_value is None or unit_cost >= rule.min_unit_value


def _lane_frozen(rule: FreezeRule, src: str, src_dc: bool, dst: str, dst_dc: bool) -> bool:
    if rule.scope == "cross_store":
        lane = not src_dc and not dst_dc
    elif rule.scope == "to_store":
        lane = not dst_dc
    elif rule.scope == "from_dc":
        lane = src_dc
    else:
        lane = True
    return lane and (not rule.sites or src in rule.sites or dst in rule.sites)
