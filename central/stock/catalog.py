"""Master data in memory: items and locations by the keys scans carry (GTIN, SKU, `SITE/BIN`).

Why a cache with read-through on miss: `tallyman import` writes master data from another process
while central runs; a GTIN central has not seen is looked up in the database once before the
event is rejected as unknown, so adding an item never needs a restart.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass, field


@dataclass
class Catalog:
    sku_id: dict[str, int] = field(default_factory=dict)
    gtin_sku: dict[str, str] = field(default_factory=dict)
    loc_id: dict[str, int] = field(default_factory=dict)
    loc_site: dict[str, str] = field(default_factory=dict)
    sku_by_id: dict[int, str] = field(default_factory=dict)
    loc_by_id: dict[int, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def load(self, conn: sqlite3.Connection) -> Catalog:
        for item_id, sku, gtin in conn.execute("SELECT id, sku, gtin FROM items"):
            self._add_item(item_id, sku, gtin)
        for loc_id, loc, site in conn.execute("SELECT id, loc, site FROM locations"):
            self._add_loc(loc_id, loc, site)
        return self

    def _add_item(self, item_id: int, sku: str, gtin: str | None) -> None:
        self.sku_id[sku] = item_id
        self.sku_by_id[item_id] = sku
        if gtin:
            self.gtin_sku[gtin] = sku

    def _add_loc(self, loc_id: int, loc: str, site: str) -> None:
        self.loc_id[loc] = loc_id
        self.loc_site[loc] = site
        self.loc_by_id[loc_id] = loc

    def sku_for_gtin(self, conn: sqlite3.Connection, gtin: str) -> str | None:
        sku = self.gtin_sku.get(gtin)
        if sku is None:
            row = conn.execute("SELECT id, sku, gtin FROM items WHERE gtin = ?", (gtin,)).fetchone()
            if row is None:
                return None
            with self.lock:
                self._add_item(*row)
            sku = row[1]
        return sku

    def item_id(self, conn: sqlite3.Connection, sku: str) -> int | None:
        item_id = self.sku_id.get(sku)
        if item_id is None:
            row = conn.execute("SELECT id, sku, gtin FROM items WHERE sku = ?", (sku,)).fetchone()
            if row is None:
                return None
            with self.lock:
                self._add_item(*row)
            item_id = row[0]
        return item_id

    def location_id(self, conn: sqlite3.Connection, loc: str) -> int | None:
        loc_id = self.loc_id.get(loc)
        if loc_id is None:
            row = conn.execute(
                "SELECT id, loc, site FROM locations WHERE loc = ?", (loc,)
            ).fetchone()
            if row is None:
                return None
            with self.lock:
                self._add_loc(*row)
            loc_id = row[0]
        return loc_id

    def refresh(self, conn: sqlite3.Connection) -> None:
        """Pick up everything imported since start-up (used by the API before it lists stock)."""
        with self.lock:
            self.load(conn)

    @property
    def max_item_id(self) -> int:
        return max(self.sku_by_id, default=0)

    @property
    def max_loc_id(self) -> int:
        return max(self.loc_by_id, default=0)
