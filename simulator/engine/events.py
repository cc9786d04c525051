"""Explicit order of same-day events.

SimPy runs events that fall at the same time in the order they were scheduled, so two processes
waking "on day t" would run in whatever order they happened to be created — a classic SimPy
pitfall that silently changes results (does today's delivery count before today's demand?).
Here every process waits on `at(env, day, phase)`: a timeout to time `day` that the twin's
`PhasedEnvironment` schedules with the phase as SimPy's priority. SimPy's queue is ordered by
(time, priority, insertion id), so on any day all DISRUPT events run before all RECEIVE events,
and so on, whatever the creation order. Within one phase, events run in scheduling order; the
twin schedules them deterministically. Only SimPy's public API is used (`Timeout`,
`Environment.schedule`), so the ordering holds across SimPy 4 releases (pinned `<5`).

Phases (the twin's day: receive, review and order, demand, costs):
  DISRUPT  outages start or end, Markov supply switches (surges are a schedule, kernel.py)
  RECEIVE  shipments due today are put on hand (fills backorders first)
  LATERAL  strategies move stock between sites (transshipment, rebalancing)
  REVIEW   demand-facing sites review and order
  DC       DCs ship what their sites ordered, then review and order themselves (deepest first)
  DEMAND   customer demand, then end-of-day costs and KPIs

A shipment dispatched with a zero-day lead time during REVIEW is scheduled for (today, RECEIVE);
that key sorts before every remaining event of the day, so it is on hand before today's demand,
as the convention requires for L = 0.
"""

from __future__ import annotations

from enum import IntEnum

import simpy
from simpy.events import NORMAL, Event, Timeout


class Phase(IntEnum):
    # SimPy uses 0 (URGENT) and 1 (NORMAL); ours come after both.
    DISRUPT = 2
    RECEIVE = 3
    LATERAL = 4
    REVIEW = 5
    DC = 6
    DEMAND = 7


class PhasedEnvironment(simpy.Environment):
    """A SimPy environment that schedules each `At` with its phase as the priority."""

    def schedule(self, event: Event, priority: int = NORMAL, delay: float = 0) -> None:
        super().schedule(event, event.phase if isinstance(event, At) else priority, delay)


class At(Timeout):
    """A timeout to an absolute day, run in its phase's turn on that day."""

    def __init__(self, env: PhasedEnvironment, day: int, phase: Phase):
        delay = day - env.now
        if delay < 0:
            raise ValueError(f"day {day} is in the past (now {env.now})")
        self.phase = int(phase)
        super().__init__(env, delay)


def at(env: PhasedEnvironment, day: int, phase: Phase) -> At:
    if not isinstance(env, PhasedEnvironment):
        raise TypeError("at() needs a PhasedEnvironment: a plain one would ignore the phase")
    return At(env, day, phase)
