# SPDX-License-Identifier: MIT
"""bench/rollout's raw points: the JSON file (format below and in RESULTS.md), the
summary of repeats (median, min-max) and the table.  Pure: no I/O but load/save.

    python3 bench/rollout/points.py --self-test       checks the summary and table code
    python3 bench/rollout/points.py FILE.json          prints the table of a points file
    python3 bench/rollout/points.py --speedups FILE.json   speed-up at 20 % and at the best share

File: {"format": FORMAT, "image": {...}, "points": [POINT, ...]}, a POINT being
    {"setting": {"nodes": N, "registry_mbit": R, "node_mbit": L},
     "mode": "registry" | "p2p" | "seed", "share": percent or null, "seeders": k,
     "repeat": i, "commit": hash, "date": ISO-8601 UTC, "loadavg_start": [1, 5, 15 min],
     "loadavg_end": [...], "t_seed_s": s, "t_rollout_s": s, "t_total_s": s,
     "registry_bytes": B, "peer_bytes": B, "running_s": {node: s since the start},
     "pulls": [[node, image, s], ...], "ok": true | false, "error": text (when not ok)}
"""

import json
import os
import sys

FORMAT = 'clyde-seed bench/rollout points 1'
MODES = ('registry', 'p2p', 'seed')


def median(xs):
    xs = sorted(xs)
    if not xs:
        return None
    m = len(xs) // 2
    return xs[m] if len(xs) % 2 else (xs[m - 1] + xs[m]) / 2.0


def setting_key(s):
    return (s['nodes'], s['registry_mbit'], s['node_mbit'])


def setting_name(s):
    return 'N=%d R=%g L=%g Mbit/s' % (s['nodes'], s['registry_mbit'], s['node_mbit'])


def curve_key(p):
    """(mode, share): one point of a curve; the registry and p2p baselines have no share."""
    return (p['mode'], p['share'] if p['mode'] == 'seed' else None)


def summarise(points):
    """{setting key: {(mode, share): summary}} over the ok points; a summary has n,
    median/min/max of the total, medians of the phases and bytes, and the seeders."""
    groups = {}
    for p in points:
        if p.get('ok'):
            groups.setdefault(setting_key(p['setting']), {}).setdefault(curve_key(p), []).append(p)
    out = {}
    for skey, curves in groups.items():
        out[skey] = {}
        for ckey, ps in curves.items():
            tot = [p['t_total_s'] for p in ps]
            out[skey][ckey] = {
                'n': len(ps), 'median': median(tot), 'min': min(tot), 'max': max(tot),
                'seed': median([p['t_seed_s'] for p in ps]),
                'rollout': median([p['t_rollout_s'] for p in ps]),
                'registry_mb': median([p['registry_bytes'] for p in ps]) / 1e6,
                'peer_mb': median([p['peer_bytes'] for p in ps]) / 1e6,
                'seeders': sorted({p['seeders'] for p in ps}),
                'load': max(p['loadavg_end'][0] for p in ps)}
    return out


def speedup(base, s):
    """Speed-up of s over the baseline base, as a fraction of the baseline's time saved
    (0.5 = "50 % faster" in the original claim's sense: half the time)."""
    if not base or not s or not base['median']:
        return None
    return 1.0 - s['median'] / base['median']


def best_share(curves):
    seeds = [(c['median'], k[1]) for k, c in curves.items() if k[0] == 'seed']
    return min(seeds)[1] if seeds else None


def fmt_row(label, c, base):
    sp = speedup(base, c)
    return '| %s | %s | %d | %.1f | %.1f-%.1f | %.1f | %.1f | %.0f | %.0f | %s | %.1f |' % (
        label, ','.join(str(k) for k in c['seeders']) or '-', c['n'], c['median'], c['min'], c['max'],
        c['seed'], c['rollout'], c['registry_mb'], c['peer_mb'],
        '-' if sp is None else '%+.0f %%' % (100 * sp), c['load'])


HEAD = ('| curve | seeders | n | total s (median) | min-max | seed s | rollout s | registry MB | '
        'peer MB | vs registry | load1 max |\n|---|---|---|---|---|---|---|---|---|---|---|')


def table(points):
    """Markdown: one table per setting, rows registry, p2p, then the shares; the speed-up
    is against the registry-only median of the same setting."""
    summ = summarise(points)
    lines = []
    for skey in sorted(summ):
        curves = summ[skey]
        s = {'nodes': skey[0], 'registry_mbit': skey[1], 'node_mbit': skey[2]}
        lines += ['', '### ' + setting_name(s), '', HEAD]
        base = curves.get(('registry', None))
        for ckey in sorted(curves, key=lambda k: (MODES.index(k[0]), k[1] or 0)):
            label = ckey[0] if ckey[0] != 'seed' else 'seed %d %%' % ckey[1]
            lines.append(fmt_row(label, curves[ckey], base))
        best = best_share(curves)
        if best is not None:
            lines.append('\nbest share: %d %% (%.1f s median)' % (best, curves[('seed', best)]['median']))
    return '\n'.join(lines).lstrip('\n')


def gain_range(base, c):
    """(worst, best) speed-up over the spreads: slowest seed vs fastest registry repeat,
    fastest seed vs slowest registry repeat."""
    return 1.0 - c['max'] / base['min'], 1.0 - c['min'] / base['max']


def speedups(points, at=20):
    """Markdown: per setting, the speed-up at share `at` and at the best share."""
    lines = ['| setting | registry s | P2P no seeding s | %d %%: k, s, speed-up (range) | best share: k, s, '
             'speed-up (range) |' % at, '|---|---|---|---|---|']
    summ = summarise(points)

    def cell(base, c):
        lo, hi = gain_range(base, c)
        return 'k=%s, %.1f s, %+.0f %% (%+.0f..%+.0f %%)' % (','.join(map(str, c['seeders'])), c['median'],
                                                         100 * speedup(base, c), 100 * lo, 100 * hi)
    for skey in sorted(summ):
        cur = summ[skey]
        base = cur.get(('registry', None))
        if not base:
            continue
        p2p = cur.get(('p2p', None))
        best = best_share(cur)
        lines.append('| %s | %.1f (%.1f-%.1f) | %s | %s | %s |' % (
            setting_name({'nodes': skey[0], 'registry_mbit': skey[1], 'node_mbit': skey[2]}),
            base['median'], base['min'], base['max'],
            '%.1f (%+.0f %%)' % (p2p['median'], 100 * speedup(base, p2p)) if p2p else '-',
            cell(base, cur[('seed', at)]) if ('seed', at) in cur else '-',
            '%d %%: %s' % (best, cell(base, cur[('seed', best)])) if best is not None else '-'))
    return '\n'.join(lines)


def load(path):
    if not os.path.exists(path):
        return {'format': FORMAT, 'image': None, 'points': []}
    with open(path) as f:
        doc = json.load(f)
    if doc.get('format') != FORMAT:
        raise ValueError('%s: format %r, expected %r' % (path, doc.get('format'), FORMAT))
    return doc


def save(path, doc):
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(doc, f, indent=1, sort_keys=True)
        f.write('\n')
    os.replace(tmp, path)


def self_test():
    assert median([3, 1, 2]) == 2 and median([4, 1, 3, 2]) == 2.5 and median([]) is None
    s = {'nodes': 4, 'registry_mbit': 50, 'node_mbit': 80}

    def pt(mode, share, tot, ok=True):
        return {'setting': s, 'mode': mode, 'share': share, 'seeders': 1 if share else 0, 'ok': ok,
                't_total_s': tot, 't_seed_s': tot / 2, 't_rollout_s': tot / 2, 'registry_bytes': 4e8,
                'peer_bytes': 0, 'loadavg_end': [1.5, 1, 1]}
    ps = [pt('registry', None, t) for t in (60, 70, 65)] + [pt('seed', 20, t) for t in (30, 40, 35)]
    ps += [pt('seed', 40, 20, ok=False), pt('p2p', 10, 66)]
    summ = summarise(ps)[(4, 50, 80)]
    assert summ[('registry', None)]['median'] == 65 and summ[('seed', 20)]['min'] == 30
    assert ('seed', 40) not in summ and ('p2p', None) in summ, 'failed points and p2p share'
    assert abs(speedup(summ[('registry', None)], summ[('seed', 20)]) - (1 - 35 / 65)) < 1e-9
    assert best_share(summ) == 20
    t = table(ps)
    assert '| seed 20 % | 1 | 3 | 35.0 | 30.0-40.0 |' in t and '+46 %' in t, t
    assert t.index('| registry |') < t.index('| p2p |') < t.index('| seed 20 %')
    lo, hi = gain_range(summ[('registry', None)], summ[('seed', 20)])
    assert abs(lo - (1 - 40 / 60)) < 1e-9 and abs(hi - (1 - 30 / 70)) < 1e-9
    assert '| N=4 R=50 L=80 Mbit/s | 65.0 (60.0-70.0) | 66.0 (-2 %) | k=1, 35.0 s, +46 % (+33..+57 %) |' \
        in speedups(ps), speedups(ps)
    print('points.py self-test: ok')


if __name__ == '__main__':
    if sys.argv[1:] == ['--self-test']:
        self_test()
    elif len(sys.argv) == 2:
        print(table(load(sys.argv[1])['points']))
    elif len(sys.argv) == 3 and sys.argv[1] == '--speedups':
        print(speedups(load(sys.argv[2])['points']))
    else:
        sys.exit(__doc__)
