"""Numba kernels of the stock engine: pure functions over arrays, no I/O.

Movements apply in ledger order because a count sets the quantity: it does not commute with the
movements before it, so this is a sequential kernel and not `np.add.at`. Each movement's effect is
chosen by its kind's *behaviour* and *gain* (small tables built from the wire contract by the
engine) so that the kernel knows nothing of type names. Each kernel has a plain-Python reference
(`*_py`) that the tests compare against.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import numpy as np
import numpy.typing as npt
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

ADD = 0  #: on_hand[loc] += gain · qty
COUNT = 1  #: on_hand[loc] = qty
MOVE = 2  #: on_hand[loc] −= qty; on_hand[to_loc] += qty            (putaway)
SHIP = 3  #: on_hand[loc] −= qty; in_transit[to_loc] += qty if any  (transfer_out)
ARRIVE = 4  #: on_hand[loc] += qty; in_transit[loc] −= qty, not below 0 (transfer_in)

#: Movements ahead whose cells are fetched into cache: enough to cover a DRAM round trip at a
#: few nanoseconds per movement, few enough that the lines are still in L1/L2 when used.
PREFETCH_DISTANCE = 32

#: The kernel's column dtype: ids and quantities fit (the wire caps |qty| at 10^9), and half the
#: width of int64 is half the memory traffic. It is also the dtype of the ledger's packed blocks.
COLUMN_DTYPE = np.int32


@intrinsic
def _prefetch_intrinsic(typingctx: Any, arr: Any, idx: Any) -> tuple[Any, Callable[..., Any]]:
    """`llvm.prefetch` of arr[idx] for writing: start the cache miss now, use the line later.

    (The arguments are Numba types and LLVM IR builders, which Numba does not annotate; its
    code-generation helpers are untyped, hence the ignores below.)"""
    sig = types.void(arr, idx)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(  # type: ignore[no-untyped-call]
            context, builder, aryty, ary, [args[1]], wraparound=False, boundscheck=False
        )
        i8p, i32 = ir.IntType(8).as_pointer(), ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(  # type: ignore[no-untyped-call]
            builder.module, fnty, "llvm.prefetch.p0"
        )
        # rw=1 (write), locality=3 (keep in all levels), cache type=1 (data)
        builder.call(fn, [builder.bitcast(ptr, i8p), i32(1), i32(3), i32(1)])
        return context.get_dummy_value()

    return sig, codegen


#: How jitted code calls the intrinsic (Numba supplies the typing context itself).
_prefetch = cast(Callable[[np.ndarray, np.uint64], None], _prefetch_intrinsic)


@njit(cache=True, nogil=True)
def apply_movements(
    on_hand: np.ndarray,
    in_transit: np.ndarray,
    sku: np.ndarray,
    loc: np.ndarray,
    to_loc: np.ndarray,
    kind: np.ndarray,
    qty: np.ndarray,
    behaviour: np.ndarray,
    gain: np.ndarray,
    delta: np.ndarray,
) -> None:
    """Apply movements in order; `delta[i]` receives movement i's change to on_hand at its loc
    (pass a zero-length `delta` when nobody needs it, as a rebuild does).

    `to_loc[i] == 0` means none (location ids start at 1). Why it is shaped like this: each
    movement hits a random cell of a 100 MB array, so the time is all cache misses. The cells
    of the movement PREFETCH_DISTANCE ahead are prefetched, so many misses are in flight at
    once; the common path (add or count, `gain` 0 for a count) has no data-dependent branch,
    since a mispredicted branch throws away the loads issued after it; the rarer moves,
    shipments and arrivals take one branch. Indexing is flat and unsigned so that Numba emits
    no negative-index fix-up.
    """
    want = delta.shape[0] > 0
    ncols = np.uint64(on_hand.shape[1])
    oh = on_hand.ravel()
    it = in_transit.ravel()
    n = sku.shape[0]
    for i in range(n):
        j = i + PREFETCH_DISTANCE
        if j < n:
            row_j = np.uint64(sku[j]) * ncols
            cell_j = row_j + np.uint64(loc[j])
            _prefetch(oh, cell_j)
            b_j = behaviour[kind[j]]
            if b_j >= MOVE:
                if b_j == MOVE:
                    _prefetch(oh, row_j + np.uint64(to_loc[j]))
                elif b_j == SHIP:
                    _prefetch(it, row_j + np.uint64(to_loc[j]))
                else:
                    _prefetch(it, cell_j)
        k = kind[i]
        b = behaviour[k]
        q = np.int64(qty[i])
        row = np.uint64(sku[i]) * ncols
        cell = row + np.uint64(loc[i])
        cur = oh[cell]
        new = q if b == COUNT else cur + gain[k] * q
        oh[cell] = new
        if b >= MOVE:
            t = np.uint64(to_loc[i])
            if b == MOVE:
                oh[row + t] += q
            elif b == SHIP:
                if t != 0:
                    it[row + t] += q
            else:
                left = it[cell]
                it[cell] = left - q if q < left else 0
        if want:
            delta[i] = new - cur


def apply_movements_py(
    on_hand: np.ndarray,
    in_transit: np.ndarray,
    sku: np.ndarray,
    loc: np.ndarray,
    to_loc: np.ndarray,
    kind: np.ndarray,
    qty: np.ndarray,
    behaviour: np.ndarray,
    gain: np.ndarray,
    delta: np.ndarray,
) -> None:
    """Plain-Python reference of `apply_movements`, one movement at a time."""
    want = len(delta) > 0
    for i in range(len(sku)):
        s, c, t, k, q = int(sku[i]), int(loc[i]), int(to_loc[i]), int(kind[i]), int(qty[i])
        b = int(behaviour[k])
        cur = int(on_hand[s, c])
        new = q if b == COUNT else cur + int(gain[k]) * q
        on_hand[s, c] = new
        if b == MOVE:
            on_hand[s, t] += q
        elif b == SHIP and t:
            in_transit[s, t] += q
        elif b == ARRIVE:
            in_transit[s, c] = max(0, int(in_transit[s, c]) - q)
        if want:
            delta[i] = new - cur


def as_columns(
    sku: npt.ArrayLike,
    loc: npt.ArrayLike,
    to_loc: npt.ArrayLike,
    kind: npt.ArrayLike,
    qty: npt.ArrayLike,
) -> tuple[np.ndarray, ...]:
    """The dtypes the kernel is compiled for (one specialisation, compiled once and cached)."""
    return tuple(np.ascontiguousarray(c, dtype=COLUMN_DTYPE) for c in (sku, loc, to_loc, kind, qty))
