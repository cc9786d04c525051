"""Run a `nogil` Numba kernel over index ranges on a few threads.

Why not `parallel=True` everywhere: a `prange` kernel that calls a large tree of jitted
functions takes tens of seconds to compile cold (the parfor pass re-optimises the whole tree),
which every fresh checkout and CI run would pay. A plain `nogil` kernel compiles in a fraction
of that and runs just as well from a small thread pool, one contiguous range per task.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numba


def threads() -> int:
    """Worker count: Numba's thread setting (NUMBA_NUM_THREADS / numba.set_num_threads)."""
    return max(1, numba.get_num_threads())


def run_ranges(kernel: Callable, n: int, *args, tasks_per_thread: int = 4) -> None:
    """Call kernel(lo, hi, *args) over [0, n) split into ranges, in parallel."""
    k = threads()
    if k == 1 or n < 2 * k:
        kernel(0, n, *args)
        return
    parts = min(n, k * tasks_per_thread)
    bounds = [n * j // parts for j in range(parts + 1)]
    with ThreadPoolExecutor(max_workers=k) as pool:
        futures = [pool.submit(kernel, bounds[j], bounds[j + 1], *args) for j in range(parts)]
        for f in futures:
            f.result()
