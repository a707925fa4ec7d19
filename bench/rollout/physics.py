# SPDX-License-Identifier: MIT
"""The physics of ROLLOUT-MODEL.md next to the measured points (bench/rollout/points.json):

    T0   = S / min(L, R/N) + c                          (no seeding)
    T(k) = o + S/min(L, R/k) + c  +  S/min(L, k*U/(N-k)) + c,  U = L

c (per-pull fixed cost) from each setting's registry-only median, o (the tool's own
overhead) from its seeding phases; then the predicted time for every measured share and
the k that minimises T(k).  A sanity check of the form, not the calibrated model (that is
bench/rollout/model, helper "model").

    python3 bench/rollout/physics.py [points.json]
"""

import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import points  # noqa: E402


def rate(mbit):
    return mbit * 1e6 / 8.0     # tc's mbit is 10^6 bit/s


def t_seed(S, N, R, L, k, c, o):
    return o + S / min(L, R / k) + c


def t_roll(S, N, L, k, c):
    return 0.0 if k >= N else S / min(L, k * L / (N - k)) + c


def fit(ps, S, skey):
    """(c, o) for one setting from its ok points."""
    N, R, L = skey[0], rate(skey[1]), rate(skey[2])
    reg = [p['t_total_s'] for p in ps if p['mode'] == 'registry']
    c = points.median(reg) - S / min(L, R / N) if reg else 5.0
    seeds = [p['t_seed_s'] - (S / min(L, R / p['seeders']) + c) for p in ps if p['mode'] == 'seed']
    o = points.median(seeds) if seeds else 0.0
    return c, o


def report(doc):
    S = doc['image']['bytes']
    summ = points.summarise(doc['points'])
    out = []
    for skey in sorted(summ):
        ps = [p for p in doc['points'] if p.get('ok') and points.setting_key(p['setting']) == skey]
        N, R, L = skey[0], rate(skey[1]), rate(skey[2])
        c, o = fit(ps, S, skey)
        model = {k: t_seed(S, N, R, L, k, c, o) + t_roll(S, N, L, k, c) for k in range(1, N)}
        kbest = min(model, key=model.get)
        out.append('%s: c = %.1f s, o = %.1f s; T0 = %.1f s; best k = %d (%.1f s); sqrt(N*R/U) = %.2f'
                   % (points.setting_name(ps[0]['setting']), c, o, S / min(L, R / N) + c, kbest,
                      model[kbest], math.sqrt(N * R / L)))
        for n in (8, 16, 32):
            if n > N:
                t0 = S / min(L, R / n) + c
                m = {k: t_seed(S, n, R, L, k, c, o) + t_roll(S, n, L, k, c) for k in range(1, n)}
                kb = min(m, key=m.get)
                out.append('  what if N = %d (same R, L, c, o): T0 %.0f s, best k = %d (%.0f %%): %.0f s, %.0f %% '
                           'faster; k = ceil(20 %%) = %d: %.0f %% faster' % (
                               n, t0, kb, 100.0 * kb / n, m[kb], 100 * (1 - m[kb] / t0), math.ceil(0.2 * n),
                               100 * (1 - m[math.ceil(0.2 * n)] / t0)))
        for ck, cur in sorted((k, v) for k, v in summ[skey].items() if k[0] == 'seed'):
            for k in cur['seeders']:
                out.append('  seed %d %% (k=%d): measured %.1f s (seed %.1f + rollout %.1f), physics %.1f s '
                           '(seed %.1f + rollout %.1f)' % (ck[1], k, cur['median'], cur['seed'], cur['rollout'],
                                                           model[k], t_seed(S, N, R, L, k, c, o), t_roll(S, N, L, k, c)))
    return '\n'.join(out)


if __name__ == '__main__':
    print(report(points.load(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, 'points.json'))))
