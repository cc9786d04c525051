"""One replication of the digital twin under one strategy.

The Twin owns the state arrays (inventory level, on order, DC backlogs), the SimPy environment
and the day's operations; SimPy processes (`processes.py`) decide *when* each operation runs,
the Numba kernels do the per-pair work. A `Strategy` plugs in before the run: its `install` may
start more processes and may replace `choose_lane` (where a site's order goes). The engine knows
no strategy by name; `simulator.strategies` builds them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

import numba
import numpy as np

from simulator.engine import kpis, processes, rng
from simulator.engine.allocation import allocate
from simulator.engine.events import PhasedEnvironment
from simulator.engine.kernel import block_days, demand_block, new_totals, serve_day
from simulator.engine.network import Net
from simulator.engine.policies import review_orders
from simulator.scenario import distributions


@dataclass(frozen=True)
class Strategy:
    """A response to run the twin under: its name (as results report it) and what it does to a
    fresh twin before the run."""

    name: str
    install: Callable[[Twin], None]


#: The twin's own behaviour: order from the usual source and wait out any outage.
BASELINE = Strategy("none", lambda twin: None)


@dataclass(frozen=True)
class Tier:
    """Sites reviewed together in one kernel call, split by where their orders go."""

    rows: np.ndarray  # int64 site indices
    from_supplier: list[int]  # order from a supplier, on the lane `choose_lane` picks each day
    from_dc: np.ndarray  # order onto their DC's books (always allowed; the DC ships later)


def _tier(net: Net, rows) -> Tier:
    rows = np.asarray(rows, np.int64)
    return Tier(
        rows=rows,
        from_supplier=[int(i) for i in rows if net.src_site[i] < 0],
        from_dc=rows[net.src_site[rows] >= 0],
    )


@dataclass
class RepResult:
    """What one replication of one strategy reports back to the runner."""

    strategy: str
    rep: int
    kpis: dict[str, float]
    on_hand: np.ndarray  # float64[days]: total end-of-day on hand
    so_days: np.ndarray  # int32[n_sites, n_skus]: measured stockout days
    first_so: np.ndarray  # int32[n_sites, n_skus]: first stockout from `first_from`, -1 none


class Twin:
    def __init__(
        self, net: Net, strategy: Strategy = BASELINE, rep: int = 0, seed: int | None = None
    ):
        sc = net.scenario
        self.net = net
        self.strategy = strategy
        self.rep = rep
        self.seed = sc.run.seed if seed is None else seed
        self.days = sc.run.days
        self.warmup = sc.run.warmup
        self.env = PhasedEnvironment()
        n, m = net.n_sites, net.n_skus

        self.il = net.il0.copy()  # inventory level: on hand − backorders (DC: on hand)
        self.pipe = np.zeros((n, m), np.int64)  # on order: owed by the source or in transit
        self.owed = np.zeros((n, m), np.int64)  # what each site's DC still owes it
        self.committed = np.zeros((n, m), np.int64)  # what each DC owes its sites
        self.lat_in = np.zeros((n, m), np.int64)  # lateral transfers in transit to the site
        self.orders = np.zeros((n, m), np.int64)
        self.can_order = np.zeros(n, bool)
        self.route = np.full(n, -1, np.int64)
        self.units = np.zeros(n, np.int64)
        from_dc = net.src_site >= 0  # these always order, on their one lane
        self.can_order[from_dc] = True
        self.route[from_dc] = net.primary_lane[from_dc]
        self._store_tier = _tier(net, net.stores)
        self._dc_tiers = {dc: _tier(net, [dc]) for dc in net.dcs}

        self.tot = new_totals()
        self.so_days = np.zeros((n, m), np.int32)
        self.first_so = np.full((n, m), -1, np.int32)
        self.first_from = first_stockout_from(sc)
        self.on_hand = np.zeros(self.days)
        self.extra = {"order": 0.0, "purchase": 0.0, "transport": 0.0, "lateral_units": 0.0}

        self.supplier_down = np.zeros(len(net.supplier_ids), np.int64)
        self.lane_closed = np.zeros(len(net.lanes), np.int64)
        self.lane_supplier = np.array(
            [
                net.supplier_ids.index(ln.src) if ln.src in net.supplier_ids else -1
                for ln in net.lanes
            ],
            np.int64,
        )
        self._all_open: np.ndarray | None = None
        self._lead = self._draw_lead_times()
        self._carriers: dict[int, processes.Carrier] = {}
        self._fixed_days = [distributions.fixed_days(ln.days) for ln in net.lanes]
        self._ship_buf = {dc: np.zeros((len(k), m), np.int64) for dc, k in net.children.items()}

        # Demand comes in blocks of days from the replication's own stream (see kernel.py).
        self.demand_gen = rng.stream(self.seed, self.rep, rng.DEMAND)
        self._block = np.zeros((0, n, m), np.int64)
        self._block_start = 0

        #: Hook: the lane site i orders on today, or -1 to order nothing. Strategies may wrap it.
        self.choose_lane: Callable[[Twin, int], int] = default_choose_lane

    # --- setup -------------------------------------------------------------------------------

    def _draw_lead_times(self) -> dict[int, np.ndarray]:
        """Lead time of a dispatch on lane ℓ on day t, for lanes whose lead time is random."""
        out = {}
        for idx, lane in enumerate(self.net.lanes):
            if not lane.random:
                continue
            gen = rng.stream(self.seed, self.rep, rng.LANE, idx)
            days = distributions.draw(lane.days, gen, self.days)
            if lane.reliability < 1.0:
                late = gen.random(self.days) >= lane.reliability
                days = days + late * distributions.draw(lane.late, gen, self.days)
            out[idx] = days
        return out

    def _start(self) -> None:
        env, net = self.env, self.net
        env.process(processes.day_cycle(self))
        for j, d in enumerate(net.scenario.disruptions):
            if d.kind == "surge":
                continue
            target = self._target(d)
            if d.kind == "outage":
                env.process(processes.outage(self, target, d.start, d.days))
            else:
                u = rng.stream(self.seed, self.rep, rng.DISRUPTION, j).random(self.days)
                env.process(processes.markov(self, target, d.alpha, d.beta, d.start, u))
        self._opening_pipeline()
        self.strategy.install(self)

    def _target(self, d) -> tuple[str, list[int]]:
        net = self.net
        if d.supplier:
            return "supplier", [net.supplier_ids.index(d.supplier)]
        if d.lane:
            return "lane", [net.lane_index[d.lane]] if d.lane in net.lane_index else []
        return "lane", [i for i, ln in enumerate(net.lanes) if ln.port == d.port]

    def _opening_pipeline(self) -> None:
        groups: dict[tuple[int, int], np.ndarray] = {}
        for site, sku, qty, day in self.net.pipeline0:
            vec = groups.setdefault((site, day), np.zeros(self.net.n_skus, np.int64))
            vec[sku] += qty
            self.pipe[site, sku] += qty
        for (site, day), vec in sorted(groups.items(), key=lambda kv: kv[0][1]):
            lane = int(self.net.primary_lane[site])
            carrier = self._carriers.get(lane) or processes.Carrier(self, lane)
            self._carriers[lane] = carrier
            carrier.send(vec, day, False)

    # --- state changes -----------------------------------------------------------------------

    def measuring(self, day: int) -> bool:
        return day >= self.warmup

    def set_down(self, target: tuple[str, list[int]], delta: int) -> None:
        kind, idx = target
        arr = self.supplier_down if kind == "supplier" else self.lane_closed
        for i in idx:
            arr[i] += delta

    def receive(self, site: int, qty: np.ndarray, lateral: bool) -> None:
        receive_into(self.il, self.pipe, self.lat_in, site, qty, lateral)

    def dispatch(
        self, lane: int, qty: np.ndarray, day: int, lateral: bool = False, units: int = -1
    ) -> None:
        """Put `qty` (a vector over SKUs, `units` in all) on `lane` today; books transport."""
        info = self.net.lanes[lane]
        if day >= self.warmup:
            units = float(qty.sum()) if units < 0 else float(units)
            self.extra["transport"] += info.cost * units
            if lateral:
                self.extra["lateral_units"] += units
        drawn = self._lead.get(lane)
        arrive = day + (self._fixed_days[lane] if drawn is None else int(drawn[day]))
        carrier = self._carriers.get(lane)
        if carrier is None:
            carrier = self._carriers[lane] = processes.Carrier(self, lane)
        carrier.send(qty, arrive, lateral)

    def lateral_open(self) -> np.ndarray:
        """bool[src, dst]: a store-to-store lane exists and is open today."""
        lanes = self.net.lateral_lane
        if not self.lane_closed.any():
            if self._all_open is None:
                self._all_open = lanes >= 0
            return self._all_open
        return (lanes >= 0) & (self.lane_closed[np.maximum(lanes, 0)] == 0)

    def transfer(self, day: int, src: int, dst: int, qty: np.ndarray) -> bool:
        """Move stock laterally from src to dst (a strategy's tool). False if the lane is closed."""
        lane = int(self.net.lateral_lane[src, dst])
        if lane < 0 or self.lane_closed[lane] > 0:
            return False
        self.il[src] -= qty
        self.pipe[dst] += qty
        self.lat_in[dst] += qty
        self.dispatch(lane, qty, day, lateral=True)
        return True

    def transfer_rows_buffer(self) -> np.ndarray:
        """A (rows, 4) buffer that lateral-strategy kernels fill with (src, dst, sku, qty)."""
        return np.zeros((max(2 * self.net.n_sites * self.net.n_skus, 16), 4), np.int64)

    def transfer_rows(self, day: int, rows: np.ndarray, count: int) -> None:
        """`transfer_list` over the first `count` rows of a `transfer_rows_buffer`."""
        if count:
            self.transfer_list(day, rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3], count)

    def transfer_list(self, day: int, src, dst, sku, qty, count: int) -> None:
        """Apply a strategy kernel's transfer rows (src, dst, sku, qty): stock leaves the
        donors now, and each (src, dst) pair becomes one shipment on its lane. Rows on closed
        or missing lanes are dropped (the kernels are given `lateral_open` and plan none)."""
        src, dst, sku, qty = (np.asarray(a[:count], np.int64) for a in (src, dst, sku, qty))
        ok = self.lateral_open()[src, dst]
        if not ok.all():
            src, dst, sku, qty = src[ok], dst[ok], sku[ok], qty[ok]
        np.subtract.at(self.il, (src, sku), qty)
        np.add.at(self.pipe, (dst, sku), qty)
        np.add.at(self.lat_in, (dst, sku), qty)
        key = src * self.net.n_sites + dst
        order = np.argsort(key, kind="stable")
        bounds = np.flatnonzero(np.diff(key[order])) + 1
        for rows in np.split(order, bounds):
            if rows.size == 0:
                continue
            vec = np.zeros(self.net.n_skus, np.int64)
            np.add.at(vec, sku[rows], qty[rows])
            lane = int(self.net.lateral_lane[src[rows[0]], dst[rows[0]]])
            self.dispatch(lane, vec, day, lateral=True, units=int(qty[rows].sum()))

    # --- the day's operations ----------------------------------------------------------------

    def _place_orders(self, day: int, tier: Tier) -> None:
        """Review a tier and send its orders: to a supplier on the lane `choose_lane` picks, or
        onto the DC's books."""
        net = self.net
        for i in tier.from_supplier:
            lane = self.choose_lane(self, i)
            self.route[i] = lane
            self.can_order[i] = lane >= 0
        measure = day >= self.warmup
        self.extra["order"] += review_orders(
            day,
            tier.rows,
            self.can_order,
            self.il,
            self.pipe,
            self.committed,
            net.pol,
            net.offset,
            net.K,
            measure,
            self.orders,
            self.units,
        )
        units = self.units
        if tier.from_dc.size:  # rows that ordered nothing add zeros
            self.owed[tier.from_dc] += self.orders[tier.from_dc]
        for i in tier.from_supplier:
            if units[i]:
                lane = int(self.route[i])
                if measure:
                    sup = self.lane_supplier[lane]
                    self.extra["purchase"] += net.unit_cost[sup] * float(units[i])
                self.dispatch(lane, self.orders[i].copy(), day, units=int(units[i]))

    def review_stores(self, day: int) -> None:
        self._place_orders(day, self._store_tier)

    def review_dcs(self, day: int) -> None:
        net = self.net
        for dc in net.dcs:
            kids = net.children[dc]
            lanes = net.primary_lane[kids]
            open_ = self.lane_closed[lanes] == 0
            ship = self._ship_buf[dc]
            allocate(dc, kids, open_, day, self.il, self.owed, ship)
            shipped = ship.sum(axis=1)  # units per site; shipments are never negative
            for j in np.flatnonzero(shipped):
                self.dispatch(int(lanes[j]), ship[j].copy(), day, units=int(shipped[j]))
            self.committed[dc] = self.owed[kids].sum(axis=0)
            self._place_orders(day, self._dc_tiers[dc])

    def demand(self, day: int) -> None:
        net = self.net
        b = day - self._block_start
        if b >= len(self._block) or b < 0:
            self._draw_block(day)
            b = 0
        self.on_hand[day] = serve_day(
            day >= self.warmup, day, self._block[b], net.faces, net.lost, net.hold, net.p_back,
            net.p_lost, self.il, self.tot, self.so_days, self.first_so, self.first_from,
        )  # fmt: skip

    def _draw_block(self, day: int) -> None:
        net, sg = self.net, self.net.surges
        size = min(block_days(net.n_sites * net.n_skus, self.days), self.days - day)
        if self._block.shape[0] != size:
            self._block = np.zeros((size, net.n_sites, net.n_skus), np.int64)
        demand_block(
            self.demand_gen,
            day,
            net.scenario.run.start_weekday,
            net.faces,
            net.dist,
            net.mean,
            net.disp,
            net.weekly,
            sg.start,
            sg.end,
            sg.factor,
            sg.site,
            sg.sku,
            self._block,
        )
        self._block_start = day

    # --- run ---------------------------------------------------------------------------------

    def run(self) -> RepResult:
        self._start()
        self.env.run(until=self.days)
        measured = self.days - self.warmup
        pairs = int(self.net.faces.sum()) * self.net.n_skus
        return RepResult(
            strategy=self.strategy.name,
            rep=self.rep,
            kpis=kpis.compute(self.tot, self.extra, measured, pairs),
            on_hand=self.on_hand,
            so_days=self.so_days,
            first_so=self.first_so,
        )


@numba.njit(cache=True)
def receive_into(il, pipe, lat_in, site, qty, lateral):
    """A shipment lands: on hand up (backorders filled first, as il counts them), on order down."""
    for k in range(qty.size):
        if qty[k]:
            il[site, k] += qty[k]
            pipe[site, k] -= qty[k]
            if lateral:
                lat_in[site, k] -= qty[k]


def first_stockout_from(sc) -> int:
    """From which day "first stockout" is tracked: the first disruption's start (when does the
    outage bite?), else the end of the warm-up."""
    starts = [d.start for d in sc.disruptions]
    return max(sc.run.warmup, min(starts)) if starts else sc.run.warmup


def default_choose_lane(twin: Twin, site: int) -> int:
    """Order from the site's own supplier on its own lane, or not at all while either is down."""
    lane = int(twin.net.primary_lane[site])
    sup = twin.net.src_supplier[site]
    if twin.supplier_down[sup] > 0 or twin.lane_closed[lane] > 0:
        return -1
    return lane


def load_kernels(net: Net, strategies: Iterable[Strategy] = (BASELINE,)) -> None:
    """Load the kernels a replication calls (compiling them into Numba's cache on a first run)
    by simulating the network's first day under each strategy, the baseline first: the argument
    types are the real ones, so nothing else gets compiled, and a strategy's own kernels (the
    transfer planners) are loaded too. Done before replications are timed, and before workers
    fork, so that no worker compiles or loads them again."""
    sc = net.scenario
    one_day = replace(net, scenario=replace(sc, run=replace(sc.run, days=1, warmup=0)))
    by_name: dict[str, Strategy] = {}
    for strategy in (BASELINE, *strategies):
        by_name.setdefault(strategy.name, strategy)
    for strategy in by_name.values():
        Twin(one_day, strategy).run()


def run_replication(
    net: Net, strategy: Strategy = BASELINE, rep: int = 0, seed: int | None = None
) -> RepResult:
    return Twin(net, strategy, rep, seed).run()
