# SPDX-License-Identifier: MIT
"""bench/rollout/model.py's arithmetic: the closed form of ROLLOUT-MODEL.md, scaled time,
the fit of c and o, error figures.  Pure: no I/O."""

import math

MB = 1e6


def mbit(v):
    """Mbit/s -> bytes/s (None stays None: unlimited)."""
    return None if v is None else v * 1e6 / 8


def _rate(*caps):
    caps = [c for c in caps if c is not None]
    return min(caps) if caps else math.inf


def closed_form(n, k, size, r, l, c=0.0, o=0.0, u=None):
    """T(k) of the shared plan, seconds: k = 0 is everyone from the registry (no tool run,
    no o); else the seeding (o + S / min(L, R/k) + c) plus the rollout of the N-k others
    from the seeders (S / min(L, kU/(N-k)) + c).  r, l, u in bytes/s, None = unlimited."""
    u = l if u is None else u
    if k <= 0:
        return size / _rate(l, r / n if r else None) + c
    seed = o + size / _rate(l, r / k if r else None) + c
    if k >= n:
        return seed
    roll = size / _rate(l, k * u / (n - k) if u else None) + c
    return seed + roll


def best_k(n, size, r, l, c=0.0, o=0.0):
    """(k, T) minimising the closed form over k = 1..n."""
    return min(((k, closed_form(n, k, size, r, l, c, o)) for k in range(1, n + 1)),
               key=lambda x: x[1])


def seeders_for(share, n):
    """clyde-seed's rounding (select_target): ceil(p x N / 100), at least 1."""
    return max(1, math.ceil(share * n / 100.0 - 1e-9))


def union(intervals, a, b):
    """Length of the union of [s, e] intervals clipped to [a, b]."""
    segs = sorted((max(s, a), min(e, b)) for s, e in intervals if e > a and s < b)
    total, cur_s, cur_e = 0.0, None, None
    for s, e in segs:
        if cur_e is None or s > cur_e:
            if cur_e is not None:
                total += cur_e - cur_s
            cur_s, cur_e = s, e
        else:
            cur_e = max(cur_e, e)
    if cur_e is not None:
        total += cur_e - cur_s
    return total


def sim_seconds(a, b, pulls, scale):
    """Simulated seconds of the wall interval [a, b]: the time some modelled pull was under
    way ran at 1/scale; everything else (the tool, the API, the controllers) at 1."""
    busy = union(pulls, a, b)
    return (b - a) - busy + (busy / scale if scale > 0 else 0.0)


def fit(rows):
    """Least squares of real = sim0 + m*c + s*o over rows (real, sim0, m, s), c and o >= 0
    (s is 1 for a run of the tool, 0 otherwise).  Returns (c, o)."""
    def solve(use_o):
        a11 = sum(m * m for _, _, m, _ in rows)
        a12 = sum(m * s for _, _, m, s in rows)
        a22 = sum(s * s for _, _, _, s in rows)
        b1 = sum(m * (y - x) for y, x, m, _ in rows)
        b2 = sum(s * (y - x) for y, x, _, s in rows)
        det = a11 * a22 - a12 * a12
        if use_o and abs(det) > 1e-12:
            return (b1 * a22 - b2 * a12) / det, (a11 * b2 - a12 * b1) / det
        return (b1 / a11 if a11 else 0.0), 0.0
    c, o = solve(any(s for *_, s in rows))
    if o < 0:
        c, o = solve(False)
    if c < 0:
        c = 0.0
        o = max(sum(s * (y - x) for y, x, _, s in rows) / max(sum(s for *_, s in rows), 1), 0.0)
    return c, o


def errors(pairs):
    """[(model, real)] -> ([signed % error per pair], mean absolute %)."""
    errs = [100.0 * (m - r) / r for m, r in pairs if r]
    return errs, (sum(abs(e) for e in errs) / len(errs) if errs else None)


def self_test():
    S, R, L = 200 * MB, mbit(100), mbit(50)
    assert abs(closed_form(4, 0, S, R, None) - 64.0) < 1e-9
    assert abs(closed_form(4, 0, S, R, L) - 64.0) < 1e-9
    assert abs(closed_form(2, 0, S, R, L) - 32.0) < 1e-9          # link-bound: 32 s
    # 1 seeder (registry alone, link 50) 32 s; 3 peers share its 50 Mbit/s: 96 s
    assert abs(closed_form(4, 1, S, R, L, c=1, o=2) - (2 + 32 + 1 + 96 + 1)) < 1e-9
    k, _ = best_k(1000, S, R, L)
    assert 40 <= k <= 50, k                                      # ~sqrt(N R / U) = 44.7
    assert seeders_for(20, 4) == 1 and seeders_for(10, 30) == 3 and seeders_for(0.1, 100) == 1
    assert abs(union([(0, 2), (1, 3), (5, 6)], 0, 10) - 4) < 1e-9
    assert abs(union([(0, 2), (1, 3), (5, 6)], 1.5, 5.5) - 2) < 1e-9
    assert abs(sim_seconds(0, 10, [(2, 4)], 0.1) - (8 + 20)) < 1e-9
    c, o = fit([(10 + 2 * 3 + 5, 10, 2, 1), (20 + 4 * 3 + 5, 20, 4, 1), (7 + 3, 7, 1, 0)])
    assert abs(c - 3) < 1e-9 and abs(o - 5) < 1e-9, (c, o)
    errs, mape = errors([(110, 100), (45, 50)])
    assert [round(e) for e in errs] == [10, -10] and abs(mape - 10) < 1e-9
    print('modelcalc.py self-test: ok')


if __name__ == '__main__':
    self_test()
