#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""bench/rollout/plot.py [POINTS.json] [OUT.png]: end-to-end time vs seeder share.

Left: seconds (median, bars min-max), one colour per setting; its no-seeding time
(registry only) dashed, P2P without seeding dotted.  Right: the same relative to the
setting's no-seeding median, with the original tool's claim ("up to 50 %" faster, 0.5)
marked.  Uses Debian's python3-matplotlib (tools/deps); defaults: bench/rollout/points.json
-> bench/rollout/rollout.png."""

import os
import sys

import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import points  # noqa: E402


def seed_curve(curves):
    ks = sorted(k for k in curves if k[0] == 'seed')
    return [k[1] for k in ks], [curves[k] for k in ks]


def draw(ax, summ, relative):
    for i, skey in enumerate(sorted(summ)):
        curves = summ[skey]
        colour = 'C%d' % i
        base = curves.get(('registry', None))
        div = base['median'] if (relative and base) else 1.0
        name = points.setting_name({'nodes': skey[0], 'registry_mbit': skey[1], 'node_mbit': skey[2]})
        xs, cs = seed_curve(curves)
        if xs:
            ys = [c['median'] / div for c in cs]
            err = [[(c['median'] - c['min']) / div for c in cs], [(c['max'] - c['median']) / div for c in cs]]
            ax.errorbar(xs, ys, yerr=err, color=colour, marker='o', capsize=3, label=name + ': clyde-seed')
            for x, y, c in zip(xs, ys, cs):
                ax.annotate('k=%s' % ','.join(map(str, c['seeders'])), (x, y), textcoords='offset points',
                            xytext=(4, 4), fontsize=7, color=colour)
        if base:
            ax.axhline(base['median'] / div, color=colour, linestyle='--', linewidth=1,
                       label=name + ': no seeding (registry)' if not relative else None)
        p2p = curves.get(('p2p', None))
        if p2p:
            ax.axhline(p2p['median'] / div, color=colour, linestyle=':', linewidth=1.5,
                       label=name + ': P2P, no seeding')
    ax.set_xlabel('seeder share (%)')
    ax.set_xticks([10, 20, 40, 60])
    ax.grid(alpha=0.3)


def main(argv):
    src = argv[1] if len(argv) > 1 else os.path.join(HERE, 'points.json')
    out = argv[2] if len(argv) > 2 else os.path.join(HERE, 'rollout.png')
    doc = points.load(src)
    summ = points.summarise(doc['points'])
    if not summ:
        sys.exit('plot.py: no successful points in %s' % src)
    fig, (a, b) = plt.subplots(1, 2, figsize=(14, 6))
    draw(a, summ, relative=False)
    a.set_ylabel('end-to-end s: seeding + workload Running on every node')
    a.set_ylim(bottom=0)
    a.set_title('seed + rollout time (median of repeats, bars min-max)')
    a.legend(fontsize=7)
    draw(b, summ, relative=True)
    b.axhline(1.0, color='black', linestyle='--', linewidth=1, label='no seeding (each setting)')
    b.axhline(0.5, color='red', linewidth=2, alpha=0.5, label='original claim: "up to 50 %" faster')
    b.axhspan(0, 0.5, color='red', alpha=0.05)
    b.set_ylabel('time / no-seeding time')
    b.set_ylim(bottom=0)
    b.set_title('relative to registry-only (below 1 = faster)')
    b.legend(fontsize=7, loc='lower left')
    img = doc.get('image') or {}
    commits = sorted({p['commit'][:10] for p in doc['points'] if p.get('ok')})
    fig.suptitle('clyde-seed on real containerd nodes: %s (%.0f MB), commit %s'
                 % (img.get('ref', '?'), img.get('bytes', 0) / 1e6, ', '.join(commits)), fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print('wrote %s' % out)


if __name__ == '__main__':
    main(sys.argv)
