"""Numba kernels of the stock engine: pure functions over arrays, no I/O.

Movements apply in ledger order because a count sets the quantity: it does not commute with the
movements before it, so this is a sequential kernel and not `np.add.at`. Each movement's effect is
chosen by its kind's *behaviour* (a small table built from the wire contract by the engine) so
that the kernel knows nothing of type names. Each kernel has a plain-Python reference (`*_py`)
that the tests compare against.
"""

from __future__ import annotations

import numpy as np
from numba import njit

ADD = 0  #: on_hand[loc] += sign · qty
COUNT = 1  #: on_hand[loc] = qty
MOVE = 2  #: on_hand[loc] −= qty; on_hand[to_loc] += qty            (putaway)
SHIP = 3  #: on_hand[loc] −= qty; in_transit[to_loc] += qty if any  (transfer_out)
ARRIVE = 4  #: on_hand[loc] += qty; in_transit[loc] −= qty, not below 0 (transfer_in)


@njit(cache=True, nogil=True)
def apply_movements(on_hand, in_transit, sku, loc, to_loc, kind, qty, behaviour, sign, delta):
    """Apply movements in order; `delta[i]` receives movement i's change to on_hand at its loc
    (pass a zero-length `delta` when nobody needs it, as a rebuild does).

    `to_loc[i] == 0` means none (location ids start at 1). Indexing is flat and unsigned so that
    Numba emits no negative-index fix-up in the loop; the common case (a plain add) is the first
    branch, which keeps the CPU's many cache misses on the random cells overlapping.
    """
    want = delta.shape[0] > 0
    ncols = np.uint64(on_hand.shape[1])
    oh = on_hand.ravel()
    it = in_transit.ravel()
    for i in range(sku.shape[0]):
        k = kind[i]
        b = behaviour[k]
        q = np.int64(qty[i])
        row = np.uint64(sku[i]) * ncols
        cell = row + np.uint64(loc[i])
        if b == ADD:
            d = sign[k] * q
            oh[cell] += d
        elif b == COUNT:
            d = q - oh[cell]
            oh[cell] = q
        elif b == MOVE:
            d = -q
            oh[cell] -= q
            oh[row + np.uint64(to_loc[i])] += q
        elif b == SHIP:
            d = -q
            oh[cell] -= q
            if to_loc[i] != 0:
                it[row + np.uint64(to_loc[i])] += q
        else:
            d = q
            oh[cell] += q
            cur = it[cell]
            it[cell] = cur - q if q < cur else 0
        if want:
            delta[i] = d


def apply_movements_py(on_hand, in_transit, sku, loc, to_loc, kind, qty, behaviour, sign, delta):
    """Plain-Python reference of `apply_movements`, one movement at a time."""
    want = len(delta) > 0
    for i in range(len(sku)):
        s, c, t, k, q = int(sku[i]), int(loc[i]), int(to_loc[i]), int(kind[i]), int(qty[i])
        b = int(behaviour[k])
        if b == ADD:
            d = int(sign[k]) * q
            on_hand[s, c] += d
        elif b == COUNT:
            d = q - int(on_hand[s, c])
            on_hand[s, c] = q
        elif b == MOVE:
            d = -q
            on_hand[s, c] -= q
            on_hand[s, t] += q
        elif b == SHIP:
            d = -q
            on_hand[s, c] -= q
            if t:
                in_transit[s, t] += q
        else:
            d = q
            on_hand[s, c] += q
            in_transit[s, c] = max(0, int(in_transit[s, c]) - q)
        if want:
            delta[i] = d


def as_columns(sku, loc, to_loc, kind, qty) -> tuple[np.ndarray, ...]:
    """The dtypes the kernel is compiled for (one specialisation, compiled once and cached)."""
    return (
        np.ascontiguousarray(sku, dtype=np.int64),
        np.ascontiguousarray(loc, dtype=np.int64),
        np.ascontiguousarray(to_loc, dtype=np.int64),
        np.ascontiguousarray(kind, dtype=np.int64),
        np.ascontiguousarray(qty, dtype=np.int64),
    )
