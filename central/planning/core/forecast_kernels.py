"""The forecast kernels: every model's recursion over a block of series, and the choice of the
best candidate per series (Numba; see forecast.py for the models and how one is chosen).

How it is fast: series are processed in blocks of `LANES` side by side, time-major
(``Y[t, lane]``), so each model's recursion runs over 32 series in lock-step and the compiler
turns the lane loop into SIMD; blocks run in parallel. One block's history (365 × 32 float64)
stays in L2 while every candidate model reads it.

Definitions match statsforecast exactly for fixed parameters (checked by tests):

* SES: level starts at the first observation, ``l ← l + α(y − l)``; forecast = level
  (statsforecast ``SimpleExponentialSmoothing``).
* Holt / Holt-Winters: the additive-error ETS(A,A,N) / ETS(A,A,A) recursions of Hyndman et al.
  (2008) as in statsforecast's ``ets`` (``pegelsresid_C``), with its heuristic initial states
  (``initstate``: OLS level/trend on the first max(10, 2m) seasonally adjusted points; seasonal
  indices from a classical moving-average decomposition).
* Croston: SES (α = 0.1) of non-zero demand sizes and of inter-demand intervals, the first
  interval counted from the series start; forecast = size / interval (``CrostonClassic``).
* SBA: Croston × (1 − α/2) (Syntetos & Boylan 2005; statsforecast hard-codes 0.95, the same for
  α = 0.1).
* TSB: SES of the demand indicator (α_p, starting at the first indicator) × SES of non-zero sizes
  (α_d) (Teunter, Syntetos & Babai 2011; statsforecast ``TSB``).
* MA: mean of the last `window` days (``WindowAverage``).

Why the model kernels and the selection share one file: Numba's on-disk cache of a kernel is
keyed on its own source file only, and the selection kernel compiles every model into itself;
a model edited in another file would leave a stale selection in the cache.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .history import demand_row

LANES = 32

# model kinds
MA, SES, HOLT, HW, CROSTON, SBA, TSB, NEW, NONE = range(9)
MODEL_NAMES = ("ma", "ses", "holt", "holt_winters", "croston", "sba", "tsb", "new", "none")


# --- block helpers -----------------------------------------------------------------------------


@njit(cache=True)
def _first_nonzero(y):
    for t in range(y.shape[0]):
        if y[t] != 0.0:
            return t
    return y.shape[0]


@njit(cache=True)
def _transpose_into(Y, rows, w):
    """Y[t, k] = rows[k, t] for the first w lanes, in 8-day tiles (cache-friendly)."""
    T = Y.shape[0]
    for t0 in range(0, T, 8):
        t1 = min(T, t0 + 8)
        for k in range(w):
            for t in range(t0, t1):
                Y[t, k] = rows[k, t]


# --- model kernels: one block (time × lanes) each ---------------------------------------------
# Days before a lane's start leave its state untouched through a 0/1 multiplier on the
# smoothing weights rather than a branch: x + (α·0)·e == x exactly, x + (α·1)·e is the plain
# update, and the multiply keeps the lane loop a straight SIMD loop (a branch made it 3× slower).
# Each kernel runs the model over days [start[k], T) of every lane k, snapshots the state at
# day `nfit` (the holdout origin), scores the fixed-origin forecasts for days [nfit, T)
# (clipped at 0) into sse/sae, and leaves the final state as level / trend / season so that the
# forecast for day T + i is level + (i + 1)·trend + season[i % m]. `ok[k]` is False when the
# lane has too little history before the holdout for this model.


@njit(cache=True)
def _flat_errors(Y, nfit, f, sse, sae):
    """Holdout errors of a flat forecast f[k] (already clipped) over days [nfit, T)."""
    T, B = Y.shape
    sse[:] = 0.0
    sae[:] = 0.0
    for t in range(nfit, T):
        for k in range(B):
            e = Y[t, k] - f[k]
            sse[k] += e * e
            sae[k] += abs(e)


@njit(cache=True)
def ma_block(Y, start, nfit, window, lvl, sse, sae, ok):
    """Moving average of the last `window` days (statsforecast WindowAverage)."""
    T, B = Y.shape
    f = np.zeros(B)
    lvl[:] = 0.0
    for t in range(max(0, nfit - window), nfit):
        for k in range(B):
            f[k] += Y[t, k]
    for t in range(max(0, T - window), T):
        for k in range(B):
            lvl[k] += Y[t, k]
    for k in range(B):
        f[k] = max(f[k] / window, 0.0)
        lvl[k] = lvl[k] / window
        ok[k] = nfit - start[k] >= window
    _flat_errors(Y, nfit, f, sse, sae)


@njit(cache=True)
def ses_block(Y, start, nfit, alpha, lvl, sse, sae, ok):
    """Simple exponential smoothing, level initialised at the first observation."""
    T, B = Y.shape
    lv = np.empty(B)
    snap = np.empty(B)
    for k in range(B):
        lv[k] = Y[start[k], k] if start[k] < T else 0.0
        ok[k] = nfit - start[k] >= 1
    for t in range(T):
        if t == nfit:
            snap[:] = lv
        for k in range(B):
            a = alpha * (1.0 if t >= start[k] else 0.0)
            lv[k] = lv[k] + a * (Y[t, k] - lv[k])
    if nfit >= T:
        snap[:] = lv
    for k in range(B):
        snap[k] = max(snap[k], 0.0)
        lvl[k] = lv[k]
    _flat_errors(Y, nfit, snap, sse, sae)


@njit(cache=True)
def _ols_level_trend(y, s, n, seas, m):
    """statsforecast initstate's OLS of y − seasonal on t = 1..n over days s..s+n-1."""
    tbar = (n + 1) / 2.0
    ybar = 0.0
    for i in range(n):
        ybar += y[s + i] - (seas[i % m] if m > 1 else 0.0)
    ybar /= n
    sxy = 0.0
    sxx = 0.0
    for i in range(n):
        dt = (i + 1) - tbar
        sxy += dt * (y[s + i] - (seas[i % m] if m > 1 else 0.0) - ybar)
        sxx += dt * dt
    b = sxy / sxx
    l0 = ybar - b * tbar
    if abs(l0 + b) < 1e-8:  # statsforecast perturbs so that l0 + b0 is not 0
        l0 = l0 * (1 + 1e-3)
        b = b * (1 - 1e-3)
    return l0, b


@njit(cache=True)
def holt_init(rows, start, nfit, l0, b0, ok):
    """Initial level and trend: OLS on the first min(10, n) fit days (statsforecast initstate).
    `rows` is the block lane-major ([lane, day]) so each lane reads contiguously."""
    B, T = rows.shape
    dummy = np.zeros(1)
    no_season = dummy.shape[0]  # 1, typed int64 like hw_init's m: one compiled _ols_level_trend
    for k in range(B):
        n = nfit - start[k]
        ok[k] = n >= 10
        if n >= 2:
            l0[k], b0[k] = _ols_level_trend(rows[k], start[k], min(10, n), dummy, no_season)
        else:
            l0[k] = rows[k, start[k]] if start[k] < T else 0.0
            b0[k] = 0.0


@njit(cache=True)
def hw_init(rows, start, nfit, m, l0, b0, slot0, ok):
    """Initial level, trend and seasonal slots like statsforecast initstate (n ≥ 3m).

    Seasonal indices come from a classical additive decomposition of the fit days (centred
    moving average of length m, a 2×m average for even m; per-phase means of the detrended
    series, centred to sum 0) — statsmodels' seasonal_decompose, which statsforecast calls.
    `slot0[p, k]` holds the seasonal index for the days t ≡ p (mod m).
    """
    B, T = rows.shape
    half = m // 2
    pa = np.empty(m)
    cnt = np.empty(m)
    for k in range(B):
        y = rows[k]
        s = start[k]
        n = nfit - s
        ok[k] = n >= 3 * m
        if not ok[k]:
            l0[k] = 0.0
            b0[k] = 0.0
            for p in range(m):
                slot0[p, k] = 0.0
            continue
        pa[:] = 0.0
        cnt[:] = 0.0
        # centred moving average as a running sum over the inner window (exact for whole
        # units; within 1e-12 of statsmodels' convolution otherwise)
        inner = half if m % 2 == 1 else half - 1
        run = 0.0
        for j in range(-inner, inner + 1):
            run += y[s + half + j]
        for i in range(half, n - half):
            if i > half:
                run += y[s + i + inner] - y[s + i - inner - 1]
            if m % 2 == 1:
                tr = run / m
            else:
                tr = (run + 0.5 * (y[s + i - half] + y[s + i + half])) / m
            pa[i % m] += y[s + i] - tr
            cnt[i % m] += 1.0
        mean = 0.0
        for p in range(m):
            pa[p] /= cnt[p]
            mean += pa[p]
        mean /= m
        for p in range(m):
            pa[p] -= mean
        l0[k], b0[k] = _ols_level_trend(y, s, min(max(10, 2 * m), n), pa, m)
        # ETS state: s_{1-m..0} = pa[m-1..1] and the last one = -sum of the others
        rest = 0.0
        for p in range(1, m):
            rest += pa[p]
        for i in range(m):
            slot0[(s + i) % m, k] = -rest if i == 0 else pa[i]


@njit(cache=True)
def holt_block(Y, start, nfit, alpha, beta, l0, b0, lvl, trd, sse, sae):
    """Holt's linear trend, ETS(A,A,N): e = y − (l + b); l ← l + b + αe; b ← b + βe."""
    T, B = Y.shape
    lv = l0.copy()
    b = b0.copy()
    sl = np.empty(B)
    sb = np.empty(B)
    for t in range(T):
        if t == nfit:
            sl[:] = lv
            sb[:] = b
        for k in range(B):
            m = 1.0 if t >= start[k] else 0.0
            q = lv[k] + m * b[k]
            e = Y[t, k] - q
            lv[k] = q + (alpha * m) * e
            b[k] = b[k] + (beta * m) * e
    if nfit >= T:
        sl[:] = lv
        sb[:] = b
    sse[:] = 0.0
    sae[:] = 0.0
    for t in range(nfit, T):
        h = t - nfit + 1
        for k in range(B):
            e = Y[t, k] - max(sl[k] + h * sb[k], 0.0)
            sse[k] += e * e
            sae[k] += abs(e)
    lvl[:] = lv
    trd[:] = b


@njit(cache=True)
def hw_block(Y, start, nfit, m, alpha, beta, gamma, l0, b0, slot0, lvl, trd, sea, sse, sae):
    """Additive Holt-Winters, ETS(A,A,A): e = y − (l + b + s_{t−m}); l ← l + b + αe;
    b ← b + βe; s_t ← s_{t−m} + γe. Seasonal slot t % m holds s for days ≡ t (mod m)."""
    T, B = Y.shape
    lv = l0.copy()
    b = b0.copy()
    s = slot0.copy()
    sl = np.empty(B)
    sb = np.empty(B)
    ss = np.empty((m, B))
    for t in range(T):
        if t == nfit:
            sl[:] = lv
            sb[:] = b
            ss[:, :] = s
        j = t % m
        for k in range(B):
            mk = 1.0 if t >= start[k] else 0.0
            q = lv[k] + mk * b[k]
            so = s[j, k]
            e = Y[t, k] - q - so
            lv[k] = q + (alpha * mk) * e
            b[k] = b[k] + (beta * mk) * e
            s[j, k] = so + (gamma * mk) * e
    if nfit >= T:
        sl[:] = lv
        sb[:] = b
        ss[:, :] = s
    sse[:] = 0.0
    sae[:] = 0.0
    for t in range(nfit, T):
        h = t - nfit + 1
        j = t % m
        for k in range(B):
            e = Y[t, k] - max(sl[k] + h * sb[k] + ss[j, k], 0.0)
            sse[k] += e * e
            sae[k] += abs(e)
    lvl[:] = lv
    trd[:] = b
    for i in range(m):
        for k in range(B):
            sea[i, k] = s[(T + i) % m, k]


@njit(cache=True)
def croston_state(Y, start, nfit, alpha, snap_rate, snap_seen, rate, seen):
    """Croston's recursions: SES (α) of non-zero sizes z and of the intervals p between them
    (the first interval counted from the series start); rate = z / p, at the holdout origin
    (snap_*) and at the end. `seen` is 0 until the first demand. SBA scales the rate by
    1 − α/2 (Syntetos & Boylan 2005)."""
    T, B = Y.shape
    zd = np.zeros(B)
    zi = np.zeros(B)
    q = np.zeros(B)
    seen[:] = 0.0
    for t in range(T):
        if t == nfit:
            for k in range(B):
                snap_rate[k] = zd[k] / zi[k] if zi[k] != 0.0 else zd[k]
            snap_seen[:] = seen
        for k in range(B):
            y = Y[t, k]
            m = 1.0 if t >= start[k] else 0.0
            nz = m * (1.0 if y > 0.0 else 0.0)
            first = nz * (1.0 - seen[k])
            qq = q[k] + m
            d0 = first * y + (1.0 - first) * zd[k]
            i0 = first * qq + (1.0 - first) * zi[k]
            zd[k] = d0 + (alpha * nz) * (y - d0)
            zi[k] = i0 + (alpha * nz) * (qq - i0)
            seen[k] = seen[k] + first
            q[k] = qq * (1.0 - nz)
    for k in range(B):
        rate[k] = zd[k] / zi[k] if zi[k] != 0.0 else zd[k]
    if nfit >= T:
        snap_rate[:] = rate
        snap_seen[:] = seen


@njit(cache=True)
def tsb_block(Y, start, nfit, alpha_d, alpha_p, lvl, sse, sae, ok):
    """TSB: SES (α_p) of the demand indicator × SES (α_d) of non-zero sizes."""
    T, B = Y.shape
    p = np.zeros(B)
    d = np.zeros(B)
    seen = np.zeros(B)
    f = np.zeros(B)
    sseen = np.zeros(B)
    for k in range(B):
        if start[k] < T:
            p[k] = 1.0 if Y[start[k], k] != 0.0 else 0.0
    for t in range(T):
        if t == nfit:
            for k in range(B):
                f[k] = p[k] * d[k]
            sseen[:] = seen
        for k in range(B):
            y = Y[t, k]
            m = 1.0 if t >= start[k] else 0.0
            ind = 1.0 if y != 0.0 else 0.0
            nz = m * (1.0 if y > 0.0 else 0.0)
            first = nz * (1.0 - seen[k])
            d0 = first * y + (1.0 - first) * d[k]
            d[k] = d0 + (alpha_d * nz) * (y - d0)
            seen[k] = seen[k] + first
            p[k] = p[k] + (alpha_p * m) * (ind - p[k])
    if nfit >= T:
        for k in range(B):
            f[k] = p[k] * d[k]
        sseen[:] = seen
    for k in range(B):
        ok[k] = sseen[k] > 0.0
        f[k] = max(f[k], 0.0) if sseen[k] > 0.0 else 0.0
        lvl[k] = p[k] * d[k] if seen[k] > 0.0 else 0.0
    _flat_errors(Y, nfit, f, sse, sae)


# --- choosing per lane --------------------------------------------------------------------------


@njit(cache=True)
def _initial_states(rows, start, nfit, m, kinds, hl0, hb0, hok, wl0, wb0, wslot, wok):
    """Holt's and Holt-Winters' initial states, computed once per block when a candidate
    needs them (every parameter set of a model starts from the same states)."""
    has_holt = False
    has_hw = False
    for v in range(kinds.shape[0]):
        has_holt |= kinds[v] == HOLT
        has_hw |= kinds[v] == HW
    if has_holt:
        holt_init(rows, start, nfit, hl0, hb0, hok)
    if has_hw:
        hw_init(rows, start, nfit, m, wl0, wb0, wslot, wok)


@njit(cache=True)
def _croston_candidate(Y, nfit, factor, snap, sseen, rate, seen, f, lvl, sse, sae, ok):
    """Croston (factor 1) or SBA (1 − α/2) from the shared Croston recursion's rates."""
    for k in range(Y.shape[1]):
        f[k] = max(factor * snap[k], 0.0) if sseen[k] > 0.0 else 0.0
        lvl[k] = factor * rate[k] if seen[k] > 0.0 else 0.0
        ok[k] = sseen[k] > 0.0
    _flat_errors(Y, nfit, f, sse, sae)


@njit(cache=True)
def _keep_best(v, T, start, force, use_rmse, ok, lvl, trd, sea, sse, sae, best,
               o_variant, o_lvl, o_trd, o_sea, o_sse, o_sae):  # fmt: skip
    """Per lane, candidate v becomes the choice when its holdout error beats the best so far
    (lanes without enough history for it are skipped unless `force`)."""
    m = sea.shape[0]
    for k in range(start.shape[0]):
        if start[k] >= T or not (ok[k] or force):
            continue
        crit = sse[k] if use_rmse else sae[k]
        if crit < best[k]:
            best[k] = crit
            o_variant[k] = v
            o_lvl[k] = lvl[k]
            o_trd[k] = trd[k]
            for i in range(m):
                o_sea[i, k] = sea[i, k]
            o_sse[k] = sse[k]
            o_sae[k] = sae[k]


@njit(cache=True)
def _select_block(Y, rows, start, nfit, m, kinds, pars, use_rmse, force,
                  o_variant, o_lvl, o_trd, o_sea, o_sse, o_sae):  # fmt: skip
    """Run every candidate on a block and keep, per lane, the one with the lowest error.

    Initial states (Holt, Holt-Winters) and Croston's recursion are computed once per block
    and shared by the candidates that use them (Croston and SBA differ only by a factor).
    """
    T, B = Y.shape
    lvl = np.empty(B)
    trd = np.empty(B)
    sea = np.empty((m, B))
    sse = np.empty(B)
    sae = np.empty(B)
    ok = np.empty(B, np.bool_)
    f = np.empty(B)
    best = np.full(B, np.inf)
    o_variant[:] = -1
    hl0 = np.zeros(B)
    hb0 = np.zeros(B)
    hok = np.zeros(B, np.bool_)
    wl0 = np.zeros(B)
    wb0 = np.zeros(B)
    wslot = np.zeros((m, B))
    wok = np.zeros(B, np.bool_)
    c_snap = np.zeros(B)
    c_sseen = np.zeros(B)
    c_rate = np.zeros(B)
    c_seen = np.zeros(B)
    c_alpha = -1.0
    _initial_states(rows, start, nfit, m, kinds, hl0, hb0, hok, wl0, wb0, wslot, wok)
    for v in range(kinds.shape[0]):
        kind = kinds[v]
        par = pars[v]
        trd[:] = 0.0
        sea[:, :] = 0.0
        if kind == MA:
            ma_block(Y, start, nfit, int(par[0]), lvl, sse, sae, ok)
        elif kind == SES:
            ses_block(Y, start, nfit, par[0], lvl, sse, sae, ok)
        elif kind == HOLT:
            holt_block(Y, start, nfit, par[0], par[1], hl0, hb0, lvl, trd, sse, sae)
            ok[:] = hok
        elif kind == HW:
            hw_block(Y, start, nfit, m, par[0], par[1], par[2], wl0, wb0, wslot, lvl, trd,
                     sea, sse, sae)  # fmt: skip
            ok[:] = wok
        elif kind in (CROSTON, SBA):
            if par[0] != c_alpha:
                croston_state(Y, start, nfit, par[0], c_snap, c_sseen, c_rate, c_seen)
                c_alpha = par[0]
            factor = 1.0 if kind == CROSTON else 1.0 - par[0] / 2.0
            _croston_candidate(Y, nfit, factor, c_snap, c_sseen, c_rate, c_seen, f, lvl, sse,
                               sae, ok)  # fmt: skip
        elif kind == TSB:
            tsb_block(Y, start, nfit, par[0], par[1], lvl, sse, sae, ok)
        _keep_best(v, T, start, force, use_rmse, ok, lvl, trd, sea, sse, sae, best, o_variant,
                   o_lvl, o_trd, o_sea, o_sse, o_sae)  # fmt: skip


@njit(nogil=True, cache=True)
def select_blocks(b0, b1, X, sd, sr, pd, pr, td, tr, tw, c0, n, T, holdout, m, kinds, pars,
                   use_rmse, trim, force, variant, level, trend, season, sigma, mae):  # fmt: skip
    """Model selection over the series of blocks [b0, b1). Reads a dense matrix X [n, T] when
    it has rows, otherwise the history streams (sd/sr, pd/pr, td/tr with transfer-out weights
    tw). `force` fits the (single) candidate even where the history is short: the plain model
    functions use it with holdout 0."""
    nfit = T - holdout
    for blk in range(b0, b1):
        i0 = blk * LANES
        w = min(LANES, n - i0)
        Y = np.zeros((T, LANES))
        rows = np.empty((LANES, T))
        start = np.full(LANES, T, np.int64)
        first = np.full(LANES, T, np.int64)
        for k in range(w):
            i = i0 + k
            if X.shape[0] > 0:
                for t in range(T):
                    rows[k, t] = X[i, t]
            else:
                demand_row(rows[k], i, sd, sr, pd, pr, td, tr, tw, c0)
            first[k] = _first_nonzero(rows[k])
            start[k] = first[k] if trim else 0
        _transpose_into(Y, rows, w)
        o_var = np.empty(LANES, np.int64)
        o_lvl = np.zeros(LANES)
        o_trd = np.zeros(LANES)
        o_sea = np.zeros((m, LANES))
        o_sse = np.zeros(LANES)
        o_sae = np.zeros(LANES)
        _select_block(Y, rows, start, nfit, m, kinds, pars, use_rmse, force, o_var, o_lvl,
                      o_trd, o_sea, o_sse, o_sae)  # fmt: skip
        for k in range(w):
            i = i0 + k
            s = first[k]
            if o_var[k] >= 0:
                variant[i] = o_var[k]
                level[i] = o_lvl[k]
                trend[i] = o_trd[k]
                for j in range(m):
                    season[i, j] = o_sea[j, k]
                sigma[i] = np.sqrt(o_sse[k] / holdout) if holdout > 0 else np.nan
                mae[i] = o_sae[k] / holdout if holdout > 0 else np.nan
            elif s < T:
                # too new for a holdout: mean since the first sale, σ its spread (at least the
                # Poisson √mean so one lucky week does not give zero safety stock)
                tot = 0.0
                for t in range(s, T):
                    tot += rows[k, t]
                mu = tot / (T - s)
                v = 0.0
                for t in range(s, T):
                    v += (rows[k, t] - mu) ** 2
                variant[i] = -1
                level[i] = mu
                trend[i] = 0.0
                season[i, :] = 0.0
                sigma[i] = max(np.sqrt(v / (T - s)), np.sqrt(mu))
                mae[i] = np.nan
            else:
                variant[i] = -2
                level[i] = 0.0
                trend[i] = 0.0
                season[i, :] = 0.0
                sigma[i] = 0.0
                mae[i] = np.nan
