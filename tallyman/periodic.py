"""The one timer: a daemon thread that runs a function every N seconds until stopped.

Why one: the workflow sweeper, the supplier sender and the RFID inventory keeper each had a
`while not stop.wait(N)` loop of their own, with their own idea of what happens when the function
raises (one stopped sweeping for good) and whether `stop()` waits. Here: an exception is logged
and the next tick comes as usual, `wake()` runs the function now instead of at the next tick, and
`stop()` returns when the thread has ended (or after `join_s`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("tallyman.periodic")


class Periodic:
    """Run `fn` every `interval_s` seconds in a daemon thread named `name`.

    `fn` may return False to end the loop by itself (its service has gone away)."""

    def __init__(self, interval_s: float, fn: Callable[[], bool | None], name: str):
        self.interval_s = interval_s
        self.fn = fn
        self.name = name
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def stopping(self) -> bool:
        """`stop()` was called: a long round should end early."""
        return self._stop.is_set()

    def start(self) -> Periodic:
        if not self.running:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
            self._thread.start()
        return self

    def wake(self) -> None:
        """Run the function now rather than at the next tick."""
        self._wake.set()

    def stop(self, join_s: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join(join_s)

    def _loop(self) -> None:
        while True:
            self._wake.wait(self.interval_s)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                if self.fn() is False:
                    return
            except Exception:
                log.exception(
                    "%s: one round failed; trying again in %.1f s", self.name, self.interval_s
                )
