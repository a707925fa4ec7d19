#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench/rollout/eventsim.py: the seed's phases as discrete events on kube-sim's own pull model.

The fast path of bench/rollout/model.py for N = 1,000-5,000, where kube-sim with the real
tool is too slow on a shared 2-core machine.  The sharing of the registry's egress and the
node links is kube-sim's (tests/kube-sim/bandwidth.py, imported: one copy), and so is the
choice of the peer (pullnet.rotated_peer); what is played here instead of the real tool,
API server and controllers are the phases, on a simulated clock:
- registry: every node pulls the helper (busybox) and then the image, all from the
  registry, all starting at once;
- seed (k seeders, clyde-seed's rounding of the share): the tool's own time (tool_s:
  `fixed` plus the writes above the client's burst at its qps, one label per seeder), then
  the k seeders pull busybox and the image (from the registry, or from a labelled peer
  that already holds it), then every node starts the workload at once: the seeders hold
  both images (no pull), the others pull both from the seeders in their rotated order.
A node pulls one image at a time; a pull costs c seconds once its bytes are in.
Cross-checked against the full runs (kube-sim + clyde-seed): MODEL.md, "Event driver".

  bench/rollout/eventsim.py point --nodes N --share P [--setting R:L] [--pull-cost C]
  bench/rollout/eventsim.py sweep --nodes 100,1000,5000 --settings 50:80,200:1000 [--json F]
  bench/rollout/eventsim.py crosscheck FULL.json...   (model.py points files)
"""

import argparse
import heapq
import json
import math
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), 'tests', 'kube-sim'))
import bandwidth  # noqa: E402
import modelcalc as mc  # noqa: E402
import pullnet  # noqa: E402

IMAGE, HELPER = 'image', 'helper'
HELPER_BYTES = 1000 * 1000              # bench/rollout/model.py's busybox
TOOL_QPS, TOOL_BURST = 20.0, 40         # clyde-seed's [kubernetes] qps and burst defaults


def tool_seconds(k, fixed=2.0, qps=TOOL_QPS, burst=TOOL_BURST):
    """The tool's own time for k seeders: fixed (list, DaemonSet create, verify's watch,
    cleanup) plus the label writes the client's token bucket holds back."""
    return fixed + max(0, k - burst) / qps


def placement(n, k):
    """The seeders' node indices when none are given: 0..k-1, where the rotation (node i
    starts at seeder i mod k) gives every seeder ceil or floor of (n-k)/k peers.  Other
    placements can load a seeder more: at N = 4, seeders 0 and 2 get peers 1 and 3 both
    on node 2 (test_eventsim); bench/rollout/model.py records the tool's choice."""
    return list(range(k))


def play(nodes, want, holds, seeders, net, cost, start):
    """Every node in nodes pulls the images of want (in order, one at a time) that it does
    not hold, all starting at start.  holds: {node: set of images} (updated); seeders:
    the labelled node indices (sorted) whose images peers may pull.  Returns (end of the
    phase, registry bytes, peer bytes)."""
    queue = {n: [im for im in want if im not in holds[n]] for n in nodes}
    seeder_set = set(seeders)
    held = {im: {p for p in seeders if im in holds[p]} for im in want}   # seeders holding im
    ready = [(start, n) for n in nodes]
    heapq.heapify(ready)
    flows = {}                                   # node -> (image, bytes, source)
    end, reg, peer = start, 0, 0
    while ready or net.flows:
        t_ready = ready[0][0] if ready else math.inf
        if net.dirty:
            net.allocate()
        t = min(t_ready, net.next_end()[0] if net.flows else math.inf)
        for node, t_end in net.advance(t):
            image, size, src = flows.pop(node)
            holds[node].add(image)
            if node in seeder_set:
                held[image].add(node)
            if src == bandwidth.REGISTRY:
                reg += size
            else:
                peer += size
            heapq.heappush(ready, (t_end + cost, node))
        starts = []
        while ready and ready[0][0] <= t:
            _, node = heapq.heappop(ready)
            if not queue[node]:
                end = max(end, t)
                continue
            image = queue[node].pop(0)
            size = SIZES[image]
            src = None
            if held[image] - {node}:             # else the rotation finds none: skip its k steps
                src = pullnet.rotated_peer(node, seeders, node, lambda p, im=image: im in holds[p])
            src = bandwidth.REGISTRY if src is None else src
            flows[node] = (image, size, src)
            starts.append((node, src, node, size))
        if starts:
            net.add_many(starts, t)
    return end, reg, peer


SIZES = {HELPER: HELPER_BYTES, IMAGE: 0}


def point(n, share, size, reg_mbit, node_mbit, cost, overhead=0.0, tool_fixed=2.0,
          seeders=None):
    """One end-to-end point (simulated seconds), the same fields as model.py's."""
    SIZES[IMAGE] = size
    k = mc.seeders_for(share, n) if share else 0
    holds = {i: set() for i in range(n)}
    t0 = time.monotonic()
    net = bandwidth.Network(mc.mbit(reg_mbit), mc.mbit(node_mbit))
    want = (HELPER, IMAGE)
    if k:
        seeders = sorted(seeders) if seeders is not None else placement(n, k)
        tool = tool_seconds(k, tool_fixed) + overhead
        t_seed, reg1, peer1 = play(seeders, want, holds, seeders, net, cost, tool)
    else:
        seeders, t_seed, reg1, peer1 = [], 0.0, 0, 0
    net.clear()
    t_end, reg2, peer2 = play(range(n), want, holds, seeders, net, cost, t_seed)
    return {'setting': {'nodes': n, 'registry_mbit': reg_mbit, 'node_mbit': node_mbit},
            'mode': 'seed' if k else 'registry', 'share': share if k else None, 'seeders': k,
            'model': {'driver': 'eventsim', 'pull_cost_s': cost, 'overhead_s': overhead,
                      'tool_s': round(tool_seconds(k, tool_fixed) + overhead, 3) if k else 0.0,
                      'image_bytes': size, 'wall_s': round(time.monotonic() - t0, 2)},
            't_seed_s': round(t_seed, 3), 't_rollout_s': round(t_end - t_seed, 3),
            't_total_s': round(t_end, 3), 'registry_bytes': reg1 + reg2, 'peer_bytes': peer1 + peer2,
            'closed_form_s': round(mc.closed_form(n, k, size, mc.mbit(reg_mbit), mc.mbit(node_mbit),
                                                  2 * cost, overhead), 3)}


def sweep(o):
    out = []
    for reg, node in o.settings:
        for n in o.nodes:
            seen = set()
            for share in [None] + o.shares:
                k = mc.seeders_for(share, n) if share else 0
                if k in seen or k >= n:
                    continue
                seen.add(k)
                p = point(n, share, o.image_bytes, reg, node, o.pull_cost, o.overhead, o.tool_fixed)
                log('R=%g L=%g N=%d %s: %.0f s (seed %.0f, rollout %.0f); %.1f s wall' % (
                    reg, node, n, 'share %g%% k=%d' % (share, k) if share else 'registry',
                    p['t_total_s'], p['t_seed_s'], p['t_rollout_s'], p['model']['wall_s']))
                out.append(p)
    return out


def best(points):
    """{(R, L, N): (registry point, best seed point)}."""
    out = {}
    for p in points:
        s = p['setting']
        key = (s['registry_mbit'], s['node_mbit'], s['nodes'])
        base, top = out.get(key, (None, None))
        if p['mode'] == 'registry':
            base = p
        elif top is None or p['t_total_s'] < top['t_total_s']:
            top = p
        out[key] = (base, top)
    return out


def crosscheck(paths, tool_fixed):
    """Replays every point of model.py JSON files (same N, share, rates, c, seeders)."""
    rows = []
    for path in paths:
        with open(path) as f:
            doc = json.load(f)
        for p in doc.get('points', []):
            s, m = p['setting'], p['model']
            ov = doc.get('calibration', {}).get('overhead_s', 0.0) if p['mode'] == 'seed' else 0.0
            names = p.get('seeder_nodes')
            idx = [int(x.rsplit('-', 1)[1]) - 1 for x in names] if names else None
            e = point(s['nodes'], p['share'], m['image_bytes'], s['registry_mbit'], s['node_mbit'],
                      m['pull_cost_s'], ov, tool_fixed, idx)
            rows.append({'setting': s, 'share': p['share'], 'seeders': p['seeders'],
                         'pull_cost_s': m['pull_cost_s'], 'full_s': p['t_total_s'],
                         'full_seed_s': p['t_seed_s'], 'full_rollout_s': p['t_rollout_s'],
                         'full_tool_wall_s': m.get('tool_wall_s'), 'full_wall_s': m['wall_s'],
                         'event_s': e['t_total_s'], 'event_seed_s': e['t_seed_s'],
                         'event_rollout_s': e['t_rollout_s'], 'event_wall_s': e['model']['wall_s'],
                         'seeders_from_run': idx is not None,
                         'diff_pct': round(100.0 * (e['t_total_s'] - p['t_total_s']) / p['t_total_s'], 1),
                         'source': os.path.basename(path)})
    return rows


def vs_real(path, tool_fixed):
    """The event driver against bench/rollout's real points (medians per curve, N = 4
    and 8): c and o fitted as model.py's calibrate does (registry = sim0 + 2c, seed =
    sim0 + 4c + o), then each curve's error."""
    import model                                  # real_summary: the same medians
    real, image = model.real_summary(path)
    size = int(image['bytes'])
    keys = sorted(k for k in real if k[0] in (4, 8))
    sim0 = {k: point(k[0], k[4] if k[3] == 'seed' else None, size, k[1], k[2], 0.0, 0.0,
                     tool_fixed)['t_total_s'] for k in keys}
    rows = [(real[k][0], sim0[k], 4 if k[3] == 'seed' else 2, 1 if k[3] == 'seed' else 0)
            for k in keys]
    c, ov = mc.fit(rows)
    out = []
    for k in keys:
        p = point(k[0], k[4] if k[3] == 'seed' else None, size, k[1], k[2], c,
                  ov if k[3] == 'seed' else 0.0, tool_fixed)
        out.append({'setting': p['setting'], 'mode': k[3], 'share': k[4], 'seeders': p['seeders'],
                    'real_s': real[k][0], 'real_n': real[k][1], 'real_range': [real[k][2], real[k][3]],
                    'event_s': p['t_total_s'], 'event_seed_s': p['t_seed_s'],
                    'event_rollout_s': p['t_rollout_s'], 'closed_form_s': p['closed_form_s']})
    errs, _ = mc.errors([(x['event_s'], x['real_s']) for x in out])
    for x, e in zip(out, errs):
        x['error_pct'] = round(e, 1)
    mape = {n: mc.errors([(x['event_s'], x['real_s']) for x in out
                          if x['setting']['nodes'] == n])[1] for n in (4, 8)}
    return {'source': path, 'pull_cost_s': round(c, 3), 'overhead_s': round(ov, 3),
            'tool_fixed_s': tool_fixed, 'points': out,
            'mape_pct': {str(n): (round(v, 1) if v is not None else None) for n, v in mape.items()}}


def markdown(points):
    """One table per setting: a row per share, a column per N (seconds, change vs no
    seeding), the best of each N in bold; then the best share per N."""
    lines = []
    top = best(points)
    for reg, node in sorted({(p['setting']['registry_mbit'], p['setting']['node_mbit']) for p in points}):
        ns = sorted({p['setting']['nodes'] for p in points
                     if (p['setting']['registry_mbit'], p['setting']['node_mbit']) == (reg, node)})
        cell = {}
        for p in points:
            s = p['setting']
            if (s['registry_mbit'], s['node_mbit']) == (reg, node):
                cell[(p['share'], s['nodes'])] = p
        lines += ['', 'R = %g Mbit/s, L = %g Mbit/s' % (reg, node), '',
                  '| share | ' + ' | '.join('N = {:,} (k)'.format(n) for n in ns) + ' |',
                  '|---|' + '---|' * len(ns)]
        shares = sorted({sh for sh, _ in cell if sh is not None})
        for sh in [None] + shares:
            row = []
            for n in ns:
                p = cell.get((sh, n))
                base = top[(reg, node, n)][0]['t_total_s']
                if p is None:
                    row.append('-')
                    continue
                txt = '{:,.0f} s'.format(p['t_total_s'])
                if sh is not None:
                    txt += ' (%d, %+.0f %%)' % (p['seeders'], 100.0 * (p['t_total_s'] / base - 1))
                if p is top[(reg, node, n)][1]:
                    txt = '**' + txt + '**'
                row.append(txt)
            lines.append('| %s | %s |' % ('no seeding' if sh is None else '%g %%' % sh, ' | '.join(row)))
    return '\n'.join(lines)


def log(msg):
    print('eventsim: ' + msg, file=sys.stderr, flush=True)


def parse_args(argv):
    p = argparse.ArgumentParser(prog='bench/rollout/eventsim.py', description=__doc__.split('\n')[1])
    p.add_argument('command', choices=('point', 'sweep', 'crosscheck', 'table', 'vsreal'))
    p.add_argument('files', nargs='*', help='crosscheck: model.py JSON files; table: a sweep JSON')
    p.add_argument('--nodes', default='100,1000,5000')
    p.add_argument('--share', type=float, help='point: seeder share %% (none: registry)')
    p.add_argument('--shares', default='0.5,1,2,2.5,5,10,20,40,60')
    p.add_argument('--setting', default='50:80', help='point: R:L in Mbit/s')
    p.add_argument('--settings', default='50:80,200:1000', help='sweep: R:L,R:L,... Mbit/s')
    p.add_argument('--pull-cost', type=float, default=3.06, help='c, seconds per pull')
    p.add_argument('--overhead', type=float, default=0.0, help='o, seconds per tool run')
    p.add_argument('--tool-fixed', type=float, default=2.0,
                   help="the tool's own seconds besides label writes (full runs: MODEL.md)")
    p.add_argument('--image-mb', type=float, default=104.87759)
    p.add_argument('--json')
    o = p.parse_args(argv)
    o.nodes = [int(x) for x in o.nodes.split(',') if x]
    o.shares = [float(x) for x in o.shares.split(',') if x]
    o.settings = [tuple(float(v) for v in x.split(':')) for x in o.settings.split(',') if x]
    o.setting = tuple(float(v) for v in o.setting.split(':'))
    o.image_bytes = int(round(o.image_mb * 1e6))
    return o


def main(argv=None):
    o = parse_args(sys.argv[1:] if argv is None else argv)
    if o.command == 'point':
        res = [point(n, o.share, o.image_bytes, o.setting[0], o.setting[1], o.pull_cost,
                     o.overhead, o.tool_fixed) for n in o.nodes]
    elif o.command == 'sweep':
        res = sweep(o)
        for (reg, node, n), (base, top) in sorted(best(res).items()):
            print('R=%g L=%g N=%d: best share %g %% (k=%d) %.0f s vs %.0f s without seeding (%+.0f %%)'
                  % (reg, node, n, top['share'], top['seeders'], top['t_total_s'], base['t_total_s'],
                     100.0 * (top['t_total_s'] / base['t_total_s'] - 1)))
    elif o.command == 'vsreal':
        res = vs_real(o.files[0], o.tool_fixed)
        print('c = %.2f s, o = %.2f s; mean absolute error %s' % (res['pull_cost_s'], res['overhead_s'],
                                                                 res['mape_pct']))
        for x in res['points']:
            print('N=%d R=%g L=%g %-8s k=%d real %6.1f s (n=%d)  event %6.1f s  %+5.1f %%' % (
                x['setting']['nodes'], x['setting']['registry_mbit'], x['setting']['node_mbit'],
                '%g%%' % x['share'] if x['share'] else 'registry', x['seeders'], x['real_s'],
                x['real_n'], x['event_s'], x['error_pct']))
    elif o.command == 'table':
        with open(o.files[0]) as f:
            print(markdown(json.load(f)['points']))
        return
    else:
        res = crosscheck(o.files, o.tool_fixed)
        for r in res:
            print('N=%d R=%g L=%g %-8s c=%.2f full %8.1f s  event %8.1f s  %+5.1f %%' % (
                r['setting']['nodes'], r['setting']['registry_mbit'], r['setting']['node_mbit'],
                '%g%%' % r['share'] if r['share'] else 'registry', r['pull_cost_s'],
                r['full_s'], r['event_s'], r['diff_pct']))
    if o.json:
        doc = {'format': 'clyde-seed bench/rollout eventsim 1', 'command': o.command,
               'pull_cost_s': o.pull_cost, 'overhead_s': o.overhead, 'tool_fixed_s': o.tool_fixed,
               'points': res}
        with open(o.json + '.tmp', 'w') as f:
            json.dump(doc, f, indent=1, sort_keys=True)
            f.write('\n')
        os.replace(o.json + '.tmp', o.json)
    elif o.command == 'point':
        print(json.dumps(res, indent=1, sort_keys=True))


if __name__ == '__main__':
    main()
