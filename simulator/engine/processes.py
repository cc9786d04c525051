"""The twin's SimPy processes: the daily rhythm, lane carriers, shipments, outages and Markov
supply.

Demand surges and promotions are not processes: they are a fixed schedule that the demand
kernel reads (see `kernel.py`), because demand is drawn in blocks of days ahead.

Each process waits on `events.at(day, phase)`, so the order of same-day events is fixed by the
phase (see `events.py`), never by which process was created first. Stock is plain integer
arrays updated by the kernels, not `simpy.Container`s: a Container per SKU × site would cost a
SimPy event per unit movement and cannot go negative, which backorders need.

The processes see the twin only through `Operations`, the few things they call on it, so this
module does not import `twin.py` (which starts them).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Generator
from typing import Protocol

import numpy as np
from simpy.events import Event

from simulator.engine.events import Phase, PhasedEnvironment, at
from simulator.engine.network import Net


class Operations(Protocol):
    """What the processes need from the twin: its clock, network and state, and the day's
    operations they trigger."""

    env: PhasedEnvironment
    net: Net
    days: int
    lane_closed: np.ndarray

    def review_stores(self, day: int) -> None: ...

    def review_dcs(self, day: int) -> None: ...

    def demand(self, day: int) -> None: ...

    def receive(self, site: int, qty: np.ndarray, lateral: bool) -> None: ...

    def set_down(self, target: tuple[str, list[int]], delta: int) -> None: ...


def day_cycle(twin: Operations) -> Generator:
    """The daily rhythm: sites review at REVIEW, DCs at DC, demand at DEMAND.

    One process for the three: when nothing else is due today (`env.peek()` is tomorrow or
    later), nothing can run between two phases — SimPy only runs queued events — so the next
    phase follows without a round trip through the event queue. Otherwise the process waits for
    the phase like everyone else, and the phase order decides.
    """
    env = twin.env
    has_dcs = bool(twin.net.dcs)
    for day in range(twin.days):
        yield at(env, day, Phase.REVIEW)
        twin.review_stores(day)
        if has_dcs:
            if env.peek() <= day:
                yield at(env, day, Phase.DC)
            twin.review_dcs(day)
        if env.peek() <= day:
            yield at(env, day, Phase.DEMAND)
        twin.demand(day)


class Carrier:
    """The carrier of one lane: lands the lane's shipments in order, on their arrival days.

    Why not one process per shipment: that costs three SimPy events per shipment (start, arrival,
    end), and a base-stock site dispatches every day. A carrier is not even a process: it keeps
    one `at(day, RECEIVE)` event pending for the first shipment in its queue, and that event's
    callback lands everything due that day, then books the next arrival day: one SimPy event per
    arrival day, shared by everything landing on it. Shipments that would overtake the queue (a
    random lead time shorter than the one before) travel as their own `shipment` process. If the
    lane is closed (a port closure, say) on the day a shipment is due, it waits, and so does
    everything behind it, until the first day the lane is open again.
    """

    __slots__ = ("twin", "lane", "dst", "queue", "pending")

    def __init__(self, twin: Operations, lane: int):
        self.twin = twin
        self.lane = lane
        self.dst = twin.net.lanes[lane].dst_index
        self.queue: deque[tuple[int, np.ndarray, bool]] = deque()
        self.pending = False  # an arrival event is booked

    def send(self, qty: np.ndarray, arrive: int, lateral: bool) -> None:
        if self.queue and arrive < self.queue[-1][0]:
            self.twin.env.process(shipment(self.twin, self.lane, qty, arrive, lateral))
            return
        self.queue.append((arrive, qty, lateral))
        if not self.pending:
            self._book(arrive)

    def _book(self, day: int) -> None:
        event = at(self.twin.env, max(day, self.twin.env.now), Phase.RECEIVE)
        event.callbacks.append(self._land)
        self.pending = True

    def _land(self, event: Event) -> None:
        twin, queue, today = self.twin, self.queue, self.twin.env.now
        self.pending = False
        if twin.lane_closed[self.lane] > 0:
            self._book(today + 1)
            return
        while queue and queue[0][0] <= today:
            _, qty, lateral = queue.popleft()
            twin.receive(self.dst, qty, lateral)
        if queue:
            self._book(queue[0][0])


def shipment(twin: Operations, lane: int, qty: np.ndarray, arrive: int, lateral: bool) -> Generator:
    """A lone shipment in transit (one that overtakes its lane's queue); waits out closures."""
    env = twin.env
    yield at(env, max(arrive, env.now), Phase.RECEIVE)
    while twin.lane_closed[lane] > 0:
        yield at(env, env.now + 1, Phase.RECEIVE)
    twin.receive(twin.net.lanes[lane].dst_index, qty, lateral)


def outage(twin: Operations, target: tuple[str, list[int]], start: int, days: int) -> Generator:
    """A scheduled outage: down from the start of `start` for `days` days."""
    yield at(twin.env, start, Phase.DISRUPT)
    twin.set_down(target, +1)
    yield at(twin.env, start + days, Phase.DISRUPT)
    twin.set_down(target, -1)


def markov(
    twin: Operations,
    target: tuple[str, list[int]],
    alpha: float,
    beta: float,
    start: int,
    u: np.ndarray,
) -> Generator:
    """Two-state supply: each day an up target fails with probability alpha and a down one
    recovers with probability beta (u holds this target's pre-drawn daily uniforms)."""
    up = True
    for day in range(start, twin.days):
        yield at(twin.env, day, Phase.DISRUPT)
        if up and u[day] < alpha:
            up = False
            twin.set_down(target, +1)
        elif not up and u[day] < beta:
            up = True
            twin.set_down(target, -1)
