"""The one timer: ticks, survives a failing round, wakes early, stops and joins."""

from __future__ import annotations

import threading

from tallyman.periodic import Periodic
from tests.helpers import wait_for


def test_ticks_survive_a_failing_round_and_stop_joins():
    calls: list[int] = []

    def fn() -> None:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("one bad round")

    p = Periodic(0.01, fn, "test-periodic").start()
    wait_for(lambda: len(calls) >= 4, 5, "four rounds, one of them failing")
    p.stop()
    assert not p.running
    n = len(calls)
    threading.Event().wait(0.05)
    assert len(calls) == n


def test_wake_runs_now_and_false_ends_the_loop():
    calls: list[int] = []

    def fn() -> bool:
        calls.append(1)
        return len(calls) < 2

    p = Periodic(60, fn, "test-wake").start()
    p.wake()
    wait_for(lambda: len(calls) == 1, 5, "a woken round")
    p.wake()
    wait_for(lambda: not p.running, 5, "the loop to end when fn returns False")
    assert len(calls) == 2
