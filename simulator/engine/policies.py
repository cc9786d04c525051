"""Stock policies: one function per ordering formula, the parameter resolver, and the review
kernel that applies them to every SKU × site of a tier at once. Which parameters each kind
takes, and which values are usable, is the scenario's rule (`scenario.loader.policy_problem`).

Inventory position (IP) = inventory level (on hand − backorders) + on order − committed, where
"committed" is what a DC owes the sites it supplies. Policies act on IP at each review:

| kind        | rule at a review                                  | code        |
|-------------|---------------------------------------------------|-------------|
| base_stock  | order S − IP                                      | ORDER_UP_TO |
| RS          | every R days, order S − IP (periodic review)      | ORDER_UP_TO |
| auto        | base_stock with S from demand and lead time       | ORDER_UP_TO |
| sS          | if IP ≤ s, order S − IP                           | S_S         |
| rQ          | if IP ≤ r, order the least n·Q that lifts IP > r  | R_Q         |
| minmax      | if IP < min, order max − IP                       | MIN_MAX     |

Every policy also takes `review` (days between reviews, default 1); a site reviews on days t
with (t − site index) mod review = 0, so sites sharing a DC do not all order on the same day.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from simulator.scenario.model import Policy

ORDER_UP_TO, S_S, R_Q, MIN_MAX = 0, 1, 2, 3

#: Default safety factor of `auto` (z for a 95% cycle service level under a normal approximation).
AUTO_Z = 1.645

# --- formulas ------------------------------------------------------------------------------


@numba.njit(cache=True)
def order_up_to(ip: int, S: int) -> int:
    """Base-stock / order-up-to: restore IP to S."""
    return S - ip if ip < S else 0


@numba.njit(cache=True)
def order_s_S(ip: int, s: int, S: int) -> int:
    """(s, S): when IP has fallen to s or below, order up to S."""
    return S - ip if ip <= s and ip < S else 0


@numba.njit(cache=True)
def order_r_Q(ip: int, r: int, Q: int) -> int:
    """(r, nQ): when IP ≤ r, order the smallest multiple of Q that brings IP above r.

    With one Q only, a day's demand larger than Q would leave IP at or below r for good; the
    multiple keeps IP after ordering uniform on r+1 … r+Q, as the textbook analysis assumes.
    """
    if ip > r:
        return 0
    return ((r - ip) // Q + 1) * Q


@numba.njit(cache=True)
def order_min_max(ip: int, lo: int, hi: int) -> int:
    """Min/max: when IP is strictly below min, order up to max."""
    return hi - ip if ip < lo and hi > ip else 0


@numba.njit(cache=True)
def order_quantity(kind: int, ip: int, s: int, S: int, Q: int) -> int:
    """Dispatch on the policy code; (s, S, Q) hold each kind's parameters (see `resolve`)."""
    if kind == ORDER_UP_TO:
        return order_up_to(ip, S)
    if kind == S_S:
        return order_s_S(ip, s, S)
    if kind == R_Q:
        return order_r_Q(ip, s, Q)
    return order_min_max(ip, s, S)


def auto_base_stock(rate, var, lt_mean, lt_var, review: int, z: float) -> np.ndarray:
    """Order-up-to level covering demand over lead time + review period at safety factor z.

    S = ⌈μ(L̄+R) + z·√((L̄+R)σ² + μ²·Var L)⌉: the normal approximation of lead-time-plus-review
    demand with a random lead time (the protection interval is L + R days under the twin's
    convention, docs/simulator.md; L + 1 for daily review). Element by element: scalars give a
    0-d array (`int()` it), arrays of one shape give that shape.
    """
    span = np.asarray(lt_mean) + review
    rate = np.asarray(rate)
    S = np.ceil(rate * span + z * np.sqrt(span * var + rate * rate * lt_var) - 1e-9)
    return S.astype(np.int64)


def days_to_units(days: float, rate) -> np.ndarray:
    """A level written in days of cover, in units: ⌈days × mean daily demand⌉, element by
    element of `rate`."""
    return np.ceil(days * np.asarray(rate) - 1e-9).astype(np.int64)


# --- parameters ----------------------------------------------------------------------------


def resolve(
    pol: Policy, rate: np.ndarray, var: np.ndarray, lt_mean: np.ndarray, lt_var: np.ndarray
) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, int]:
    """(code, s, S, Q, R) of one policy at many SKU × site pairs: `rate`/`var` are each pair's
    daily demand mean and variance (for a DC, summed over the sites it supplies) and `lt_*` the
    moments of its inbound lead time, all arrays of one shape; s, S and Q come back in it."""
    p = dict(pol.params)
    shape = np.shape(rate)

    def level(name: str) -> np.ndarray:
        if name in p:
            return np.full(shape, int(round(p[name])), np.int64)
        return days_to_units(p[f"{name}_days"], rate)

    zero, one = np.zeros(shape, np.int64), np.ones(shape, np.int64)
    review = int(p.get("R", p.get("review", 1)))
    if pol.kind in ("base_stock", "RS"):
        return ORDER_UP_TO, zero, level("S"), one, review
    if pol.kind == "auto":
        return (
            ORDER_UP_TO,
            zero,
            auto_base_stock(rate, var, lt_mean, lt_var, review, p.get("z", AUTO_Z)),
            one,
            review,
        )
    if pol.kind == "sS":
        return S_S, level("s"), level("S"), one, review
    if pol.kind == "rQ":
        return R_Q, level("r"), zero, np.maximum(1, level("Q")), review
    return MIN_MAX, level("min"), level("max"), one, review


def opening_level(code, s, S, Q):
    """Where pairs start when the scenario gives no opening stock: the policy's top level
    (r + Q for (r, Q), S otherwise). Works on scalars and arrays."""
    return np.where(np.asarray(code) == R_Q, np.asarray(s) + Q, S)


# --- the review kernel ---------------------------------------------------------------------


#: Rows of the packed policy array `pol[field, site, sku]` (one argument instead of five: Numba
#: pays per argument on every call, and the review runs every simulated day).
P_KIND, P_S, P_BIG_S, P_Q, P_R = range(5)


def pack(kind, s, S, Q, R) -> np.ndarray:
    return np.stack([kind, s, S, Q, R]).astype(np.int64)


@numba.njit(cache=True)
def review_orders(t, rows, can_order, il, pipe, committed, pol, offset, K, measure, out, units):
    """Orders of every SKU at the sites `rows` reviewing on day t, written to out[row, :].

    Adds each order to `pipe` (on order), sets units[row] to the units the site ordered, and
    returns the fixed ordering cost (K per order line) when `measure`. Sites with can_order
    False (supplier down, no backup) order nothing today.
    """
    cost = 0.0
    nk = il.shape[1]
    for i in rows:
        units[i] = 0
        for k in range(nk):
            out[i, k] = 0
        if not can_order[i]:
            continue
        for k in range(nk):
            r = pol[P_R, i, k]
            if r > 1 and (t - offset[i]) % r != 0:
                continue
            ip = il[i, k] + pipe[i, k] - committed[i, k]
            q = order_quantity(
                pol[P_KIND, i, k], ip, pol[P_S, i, k], pol[P_BIG_S, i, k], pol[P_Q, i, k]
            )
            if q > 0:
                out[i, k] = q
                pipe[i, k] += q
                units[i] += q
                if measure:
                    cost += K[k]
    return cost


def review_orders_reference(
    t, rows, can_order, il, pipe, committed, pol, offset, K, measure, out, units
):
    """Plain-Python twin of `review_orders`, written from the rules above, for tests."""
    rules = {
        ORDER_UP_TO: lambda ip, s_, S_, Q_: max(S_ - ip, 0),
        S_S: lambda ip, s_, S_, Q_: max(S_ - ip, 0) if ip <= s_ else 0,
        R_Q: lambda ip, s_, S_, Q_: Q_ * math.ceil((s_ - ip + 1) / Q_) if ip <= s_ else 0,
        MIN_MAX: lambda ip, s_, S_, Q_: max(S_ - ip, 0) if ip < s_ else 0,
    }
    cost = 0.0
    for i in rows:
        out[i, :] = 0
        units[i] = 0
        if not can_order[i]:
            continue
        for k in range(il.shape[1]):
            kind, s_, S_, Q_, R_ = (int(x) for x in pol[:, i, k])
            if (t - offset[i]) % R_:
                continue
            ip = int(il[i, k] + pipe[i, k] - committed[i, k])
            q = rules[kind](ip, s_, S_, Q_)
            if q > 0:
                out[i, k] = q
                pipe[i, k] += q
                units[i] += q
                cost += K[k] if measure else 0.0
    return cost
