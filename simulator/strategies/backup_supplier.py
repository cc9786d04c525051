"""`backup_supplier`: while a site's supplier (or the lane from it) is down, order from the
supplier's `backup` instead — slower or dearer (its `unit_cost` is booked as a premium) — and go
back to the primary as soon as it is up. Orders already placed with the primary stay in its
pipeline; only new orders move."""

from __future__ import annotations

DEFAULTS: dict[str, float] = {}


def install(twin, params: dict) -> None:
    primary = twin.choose_lane

    def choose_lane(tw, site: int) -> int:
        lane = primary(tw, site)
        if lane >= 0:
            return lane
        backup = int(tw.net.backup_lane[site])
        if backup < 0:
            return -1
        if tw.supplier_down[tw.lane_supplier[backup]] > 0 or tw.lane_closed[backup] > 0:
            return -1
        return backup

    twin.choose_lane = choose_lane
