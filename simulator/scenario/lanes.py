"""The terms of the lanes a scenario implies: how long a shipment from A to B takes and what
each unit costs, when the scenario does not list the lane itself.

Why in the scenario and not the engine: which lead time a lane has is part of what the scenario
means (an explicit `[[lane]]` wins; else a supplier's lead time, the `[network]` DC default or
the store-to-store time), and two readers need the same answer: the engine's network compiler,
for every lane, and the live twin, for the inbound lead time that dates central's open orders.
"""

from __future__ import annotations

import math

from simulator.scenario.model import Lane, LeadTime, Scenario, Site


class Lanes:
    """Lane terms for one scenario."""

    def __init__(self, sc: Scenario):
        self.sc = sc
        self.explicit = {(ln.src, ln.dst): ln for ln in sc.lanes}
        self.suppliers = {s.id: s for s in sc.suppliers}
        self.sites = {s.id: s for s in sc.sites}

    def lane(self, src: str, dst: str, lateral: bool = False) -> Lane:
        """The lane src → dst: the scenario's own `[[lane]]`, else one with derived terms.
        `lateral` marks a store-to-store lane between two sites."""
        listed = self.explicit.get((src, dst))
        if listed is not None:
            return listed
        net = self.sc.network
        if src in self.suppliers:
            return Lane(src, dst, self.suppliers[src].lead_time, 0.0)
        if lateral:
            days = lateral_days(self.sc, self.sites[src], self.sites[dst])
            return Lane(src, dst, days, self.sc.costs.transfer)
        return Lane(src, dst, net.dc_days, net.dc_cost)

    def inbound(self, site: Site) -> Lane:
        """The lane a site's orders arrive on, from its source."""
        return self.lane(site.source, site.id)


def lateral_days(sc: Scenario, a: Site, b: Site) -> LeadTime:
    """Store-to-store time: ⌈distance / km_per_day⌉ when both sites have coordinates and the
    network a speed, else `[network] lateral_days`."""
    kmd = sc.network.km_per_day
    if kmd and a.x is not None and a.y is not None and b.x is not None and b.y is not None:
        return LeadTime("fixed", float(math.ceil(math.hypot(a.x - b.x, a.y - b.y) / kmd)))
    return sc.network.lateral_days
