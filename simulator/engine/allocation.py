"""How a DC shares scarce stock among the sites it supplies.

Why fair share: when a DC cannot fill everything its sites have ordered (the situation an
outage creates), first-come-first-served by site order would starve the same stores every time.
Each site gets the same fraction of what it is owed; whole units left over go one each to the
largest fractional shares, ties broken in an order that rotates with the day. What is not
shipped stays owed (a DC backlog) and is served first-come, fair-share again, on later days.
"""

from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True)
def fair_shares(avail: int, owed: np.ndarray, rot: int, out: np.ndarray) -> None:
    """Split `avail` units over `owed` (all ≥ 0) into out; Σout = min(avail, Σowed)."""
    n = owed.size
    total = 0
    for j in range(n):
        total += owed[j]
    if avail >= total:
        for j in range(n):
            out[j] = owed[j]
        return
    frac = np.empty(n)
    given = 0
    for j in range(n):
        exact = avail * owed[j] / total
        out[j] = int(math.floor(exact))
        frac[j] = exact - out[j] if owed[j] > out[j] else -1.0
        given += out[j]
    for _ in range(avail - given):
        best = -1
        for step in range(n):
            j = (rot + step) % n
            if frac[j] >= 0.0 and (best < 0 or frac[j] > frac[best]):
                best = j
        if best < 0:
            break
        out[best] += 1
        frac[best] = -1.0


@numba.njit(cache=True)
def allocate(dc, kids, open_, day, il, owed, out):
    """Ship DC `dc`'s on hand against what `kids` are owed (kids on closed lanes get nothing).

    Writes shipments to out[j, sku] for kids[j], and takes them off il[dc] and owed[kid]. A SKU
    the DC has enough of ships what is owed as it is; only a short one goes to `fair_shares`.
    """
    n = kids.size
    want = np.zeros(n, np.int64)
    share = np.zeros(n, np.int64)
    for k in range(il.shape[1]):
        any_owed = False
        total = 0
        for j in range(n):
            want[j] = owed[kids[j], k] if open_[j] else 0
            out[j, k] = 0
            any_owed = any_owed or want[j] > 0
            total += want[j]
        avail = il[dc, k]
        if not any_owed or avail <= 0:
            continue
        if avail >= total:
            ship = want
        else:
            fair_shares(avail, want, day % n, share)
            ship = share
        for j in range(n):
            q = ship[j]
            if q > 0:
                out[j, k] = q
                owed[kids[j], k] -= q
                il[dc, k] -= q


def allocate_reference(dc, kids, open_, day, il, owed, out):
    """Plain-Python statement of the same rule, for the equivalence test."""
    n = len(kids)
    out[:, :] = 0
    rot = day % n
    for k in range(il.shape[1]):
        want = [int(owed[kids[j], k]) if open_[j] else 0 for j in range(n)]
        avail, total = int(il[dc, k]), sum(want)
        if total == 0 or avail <= 0:
            continue
        if avail >= total:
            share = want
        else:
            exact = [avail * w / total for w in want]
            share = [math.floor(x) for x in exact]
            left = avail - sum(share)
            # largest remainder first; ties go to the first kid at or after `rot`
            order = sorted(
                (j for j in range(n) if want[j] > share[j]),
                key=lambda j: (-(exact[j] - share[j]), (j - rot) % n),
            )
            for j in order[:left]:
                share[j] += 1
        for j in range(n):
            out[j, k] = share[j]
            owed[kids[j], k] -= share[j]
            il[dc, k] -= share[j]
