"""The transfer rows lateral strategies plan: (src, dst, sku, qty) in a `transfer_rows_buffer`
of the twin, which `twin.transfer_rows` then ships."""

from __future__ import annotations

import numba


@numba.njit(cache=True)
def put_row(out, count, src, dst, sku, qty):
    """Write transfer row number `count` of `out`; returns the count after it."""
    out[count, 0] = src
    out[count, 1] = dst
    out[count, 2] = sku
    out[count, 3] = qty
    return count + 1
