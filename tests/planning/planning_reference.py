"""Plain-Python references for the planning kernels: slow, obvious, one series at a time.

Each Numba kernel in central/planning is compared against the function here on random inputs.
They are written from the textbook / statsforecast definitions, not from the kernels.
"""

from __future__ import annotations

import math

import numpy as np

# --- history ------------------------------------------------------------------------------------


def add_movements(cube, rows, cols, qty):
    out = cube.copy()
    for r, c, q in zip(rows, cols, qty, strict=True):
        if r >= 0 and c >= 0:
            out[r, c] += q
    return out


def summary(y: np.ndarray, sold: np.ndarray, allout: np.ndarray, period, recent, base, dow_days,
            dow_first):  # fmt: skip
    """y: demand oldest first; sold/allout: unweighted sale+pick / all outbound per day."""
    n = len(y)
    nz = [t for t in range(n) if y[t] > 0]
    last = n - 1 - nz[-1] if nz else n
    s_sold = float(sum(sold[n - period :]))
    s_all = float(sum(allout[n - period :]))
    vr = float(sum(y[n - recent :])) * 7 / recent
    lo = max(0, n - recent - base)
    span = n - recent - lo
    vb = float(sum(y[lo : n - recent])) * 7 / span if span > 0 else 0.0
    mean = [0.0] * 7
    var = [0.0] * 7
    for w in range(7):
        vals = [y[t] for t in range(n - dow_days, n) if (dow_first + t) % 7 == w]
        if vals:
            mean[w] = float(np.mean(vals))
            var[w] = float(np.var(vals, ddof=1)) if len(vals) > 1 else 0.0
    return last, s_sold, s_all, vr, vb, mean, var


def stock_age(inbound_recent_first, on_hand, days_into_week, bands, since_first=None):
    """FIFO: the newest receipts are what is left; what they do not explain is as old as the
    first stock (`since_first` days ago; None: unknown, the window's length)."""
    rem = on_hand
    acc = 0.0
    qty = [0.0] * (len(bands) + 1)
    if on_hand <= 0:
        return 0.0, qty
    for j, q in enumerate(inbound_recent_first):
        if rem <= 0:
            break
        age = days_into_week / 2 if j == 0 else days_into_week + 7 * (j - 1) + 3.5
        take = min(rem, q)
        if take > 0:
            acc += take * age
            rem -= take
            qty[sum(age > b for b in bands)] += take
    if rem > 0:
        age = days_into_week + 7 * (len(inbound_recent_first) - 1)
        if since_first is not None:
            age = min(age, since_first)
        acc += rem * age
        qty[sum(age > b for b in bands)] += rem
    return acc / on_hand, qty


# --- forecasting (single series, statsforecast conventions) -------------------------------------


def ses_level(x, alpha):
    """statsforecast SES: level starts at x[0]; returns the level after all of x."""
    lv = x[0]
    for v in x:
        lv = lv + alpha * (v - lv)
    return lv


def croston_rate(y, alpha):
    nz = [i for i, v in enumerate(y) if v > 0]
    if not nz:
        return None
    sizes = [y[i] for i in nz]
    idx1 = [i + 1 for i in nz]
    intervals = [idx1[0]] + [idx1[j] - idx1[j - 1] for j in range(1, len(idx1))]
    d = ses_level(sizes, alpha)
    p = ses_level(intervals, alpha)
    return d / p if p != 0 else d


def tsb_rate(y, alpha_d, alpha_p):
    sizes = [v for v in y if v > 0]
    if not sizes:
        return None
    p = ses_level([1.0 if v != 0 else 0.0 for v in y], alpha_p)
    return p * ses_level(sizes, alpha_d)


def ols(y_sa):
    n = len(y_sa)
    t = np.arange(1, n + 1, dtype=float)
    b = float(np.sum((t - t.mean()) * (y_sa - y_sa.mean())) / np.sum((t - t.mean()) ** 2))
    lv = float(y_sa.mean() - b * t.mean())
    if abs(lv + b) < 1e-8:
        lv, b = lv * (1 + 1e-3), b * (1 - 1e-3)
    return lv, b


def holt_init(y):
    return ols(np.asarray(y[: min(10, len(y))], float))


def hw_init(y, m):
    """statsforecast initstate for ETS(A,A,A): classical decomposition, then OLS."""
    y = np.asarray(y, float)
    n = len(y)
    if m % 2 == 0:
        filt = np.array([0.5] + [1.0] * (m - 1) + [0.5]) / m
    else:
        filt = np.repeat(1.0 / m, m)
    half = len(filt) // 2
    trend = np.full(n, np.nan)
    for i in range(half, n - half):
        trend[i] = float(np.dot(filt, y[i - half : i + half + 1]))
    det = y - trend
    pa = np.array([np.nanmean(det[p::m]) for p in range(m)])
    pa -= pa.mean()
    seas = np.array([pa[t % m] for t in range(n)])
    maxn = min(max(10, 2 * m), n)
    lv, b = ols((y - seas)[:maxn])
    s_ets = list(pa[1:][::-1]) + [-float(np.sum(pa[1:]))]  # s[0] newest … s[m-1] = s_{t-m}
    return lv, b, s_ets


def holt_run(y, alpha, beta, lv, b):
    """ETS(A,A,N) over y; returns (level, trend) after y."""
    for v in y:
        e = v - (lv + b)
        lv, b = lv + b + alpha * e, b + beta * e
    return lv, b


def hw_run(y, alpha, beta, gamma, lv, b, s):
    """ETS(A,A,A) with the R/statsforecast state vector (s[m-1] is s_{t-m})."""
    s = list(s)
    m = len(s)
    for v in y:
        q = lv + b
        e = v - q - s[m - 1]
        new_s = s[m - 1] + gamma * e
        lv, b = q + alpha * e, b + beta * e
        s = [new_s] + s[: m - 1]
    return lv, b, s


def hw_forecast(lv, b, s, h):
    m = len(s)
    return [lv + (i + 1) * b + s[(m - 1 - i) % m] for i in range(h)]


# --- model selection, the reference for forecast.select_models ----------------------------------


def _candidates(cfg):
    rows = [("ma", (w,)) for w in cfg.ma_windows]
    rows += [("ses", (a,)) for a in cfg.ses_alphas]
    rows += [("croston", (cfg.croston_alpha,)), ("sba", (cfg.croston_alpha,))]
    rows += [("tsb", p) for p in cfg.tsb]
    rows += [("holt", p) for p in cfg.holt]
    rows += [("hw", p) for p in cfg.holt_winters]
    return rows


def _model(kind, par, y, m):
    """(eligible, forecast function h → value) for a model fitted on y (already trimmed)."""
    n = len(y)
    if kind == "ma":
        w = par[0]
        if n < w:
            return False, None
        f = float(np.mean(y[-w:]))
        return True, lambda h: f
    if kind == "ses":
        if n < 1:
            return False, None
        f = ses_level(y, par[0])
        return True, lambda h: f
    if kind in ("croston", "sba"):
        r = croston_rate(y, par[0]) if n else None
        if r is None:
            return False, None
        f = r * (1.0 if kind == "croston" else 1 - par[0] / 2)
        return True, lambda h: f
    if kind == "tsb":
        r = tsb_rate(y, *par) if n else None
        if r is None:
            return False, None
        return True, lambda h: r
    if kind == "holt":
        if n < 10:
            return False, None
        lv, b = holt_run(y, par[0], par[1], *holt_init(y))
        return True, lambda h: lv + h * b
    if kind == "hw":
        if n < 3 * m:
            return False, None
        lv0, b0, s0 = hw_init(y, m)
        lv, b, s = hw_run(y, *par, lv0, b0, s0)
        return True, lambda h: hw_forecast(lv, b, s, h)[h - 1]
    raise ValueError(kind)


def _holt_continued(y_all, y_fit, par):
    """Initial state from the fit days, recursion over all days (as the kernel does)."""
    lv, b = holt_run(y_all, par[0], par[1], *holt_init(y_fit))
    return lambda h: lv + h * b


def _hw_continued(y_all, y_fit, par, m):
    lv0, b0, s0 = hw_init(y_fit, m)
    lv, b, ss = hw_run(y_all, *par, lv0, b0, s0)
    return lambda h: hw_forecast(lv, b, ss, h)[h - 1]


def select(y, cfg, m=7):
    """Returns (label index or -1/-2, 7 daily forecasts from the end, sigma)."""
    y = np.asarray(y, float)
    T = len(y)
    H = cfg.holdout_days
    nz = np.flatnonzero(y != 0)
    s = int(nz[0]) if nz.size else T
    if not cfg.trim_leading_zeros:
        s = 0
    best = (math.inf, -1, None, None)
    for v, (kind, par) in enumerate(_candidates(cfg)):
        if s >= T:
            break
        ok, f_fit = _model(kind, par, y[s : T - H], m)
        if not ok:
            continue
        err = [y[T - H + h - 1] - max(f_fit(h), 0.0) for h in range(1, H + 1)]
        crit = sum(e * e for e in err) if cfg.criterion == "rmse" else sum(abs(e) for e in err)
        if crit < best[0]:
            # final forecast: the same recursion continued over the holdout
            _, f_all = _model(kind, par, y[s:], m) if kind not in ("holt", "hw") else (0, None)
            if kind == "holt":
                f_all = _holt_continued(y[s:], y[s : T - H], par)
            elif kind == "hw":
                f_all = _hw_continued(y[s:], y[s : T - H], par, m)
            sigma = math.sqrt(sum(e * e for e in err) / H)
            best = (crit, v, f_all, sigma)
    if best[1] >= 0:
        f = best[2]
        return best[1], [max(f(h), 0.0) for h in range(1, 8)], best[3]
    if nz.size:
        seg = y[int(nz[0]) :]
        mu = float(seg.mean())
        return -1, [mu] * 7, max(float(seg.std()), math.sqrt(mu))
    return -2, [0.0] * 7, 0.0


def cumulative(path_fn, days):
    full = int(math.floor(days))
    tot = sum(max(path_fn(h), 0.0) for h in range(1, full + 1))
    return tot + (days - full) * max(path_fn(full + 1), 0.0)


# --- alerts --------------------------------------------------------------------------------------


def tier(pos, ss, prev, y=1.2, o=1.0, r=0.8, h=0.1):
    if not ss > 0:
        return 0

    def raw(band):
        if pos <= (r + band) * ss:
            return 3
        if pos <= (o + band) * ss:
            return 2
        if pos <= (y + band) * ss:
            return 1
        return 0

    t = raw(0.0)
    if t >= prev:
        return t
    return max(t, min(prev, raw(h)))


# --- policy --------------------------------------------------------------------------------------


def order_quantity(kind, ip, rop, lot, up_to, mn, mx):
    if kind == 0:
        if ip <= rop and rop > 0:
            short = rop - ip
            if lot <= 0:
                return max(short, 1.0)
            return max(1.0, math.ceil(short / lot)) * lot
        return 0.0
    if kind == 1:
        return up_to - ip if ip < up_to else 0.0
    return mx - ip if (ip <= mn and mx > 0) else 0.0


# --- transfers -----------------------------------------------------------------------------------


def transfers(n_sites, avail, apos, ip, ss, target, rate, lead, cost, days, lcost, cfg,
              frozen=lambda k, s, d: False):  # fmt: skip
    out = []
    for k in range(len(avail) // n_sites):
        b = k * n_sites
        surplus = [0.0] * n_sites
        need = [0.0] * n_sites
        urg = [0.0] * n_sites
        for j in range(n_sites):
            i = b + j
            a, r = avail[i], rate[i]
            if a > 0 and (r <= 0 or a > cfg.surplus_cover_days * r):
                surplus[j] = math.floor(max(a - max(target[i], cfg.surplus_cover_days * r), 0))
            if ss[i] > 0 and apos[i] < ss[i]:
                need[j] = math.floor(max(target[i] - ip[i], 0))
                urg[j] = apos[i] / ss[i]
        for d in sorted(range(n_sites), key=lambda j: urg[j]):
            while need[d] > 0:
                cands = []
                for s in range(n_sites):
                    if s == d or surplus[s] <= 0:
                        continue
                    dd, cc = days[s][d], lcost[s][d]
                    if not (math.isfinite(dd) and math.isfinite(cc)):
                        continue
                    if dd > lead[b + d] - cfg.min_days_gain:
                        continue
                    if cc > cfg.max_cost_share * cost[k] or frozen(k, s, d):
                        continue
                    cands.append((cc + cfg.day_cost_share * cost[k] * dd, s))
                if not cands:
                    break
                _, s = min(cands)
                q = min(need[d], surplus[s])
                out.append((k, s, d, q))
                need[d] -= q
                surplus[s] -= q
    return out
