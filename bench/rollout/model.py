#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench/rollout/model.py: the seed's end-to-end time at scale, from kube-sim's bandwidth model.

The real clyde-seed binary runs against kube-sim started with the bandwidth model
(tests/kube-sim/README.md, "Bandwidth model"); then a workload DaemonSet (busybox init
container + the image, as bench/rollout/run's) goes on every node and the time until all
its pods run is taken.  Same modes as bench/rollout/run: registry (no seeding) and seed
at a share.  Pull time is scaled (kube-sim --time-scale, chosen per point so its pulls take
about --wall seconds); the tool, the API and the controllers run at wall-clock speed, and
the simulated seconds of an interval are its wall seconds with the part where some pull
was under way divided by the scale (MODEL.md, "Time scale").

  bench/rollout/model.py calibrate [--real POINTS.json]   fit c (and o) to the real points
  bench/rollout/model.py sweep --nodes 100,1000,5000 [--shares 1,2,5,10,20,40,60]
        [--setting R:L] [--pull-cost C] [--overhead O]
  common: [--image-mb 200] [--json FILE] [--binary PATH] [--wall 15]

Figures only, nothing here is a pass/fail test.
"""

import argparse
import json
import os
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import modelcalc as mc  # noqa: E402

SIM = os.path.join(ROOT, 'tests', 'kube-sim', 'kube_sim.py')
IMAGE = 'registry.test/clyde/big:1'
HELPER = 'docker.io/library/busybox:1.36.1-musl'
HELPER_BYTES = 1 * 1000 * 1000
APP = 'rollout-app'
NS = 'default'


def log(msg):
    print('model: ' + msg, file=sys.stderr, flush=True)


class Sim:
    """kube-sim with the bandwidth model, in its own directory; stopped with SIGTERM."""

    def __init__(self, workdir, n, scale, reg_mbit, node_mbit, cost, image_bytes):
        self.dir = tempfile.mkdtemp(prefix='sim-', dir=workdir)
        cmd = [sys.executable, SIM, '--state-dir', self.dir, '--port', '0', '--nodes', str(n),
               '--zones', '3', '--time-scale', repr(scale), '--pull-cost', repr(cost),
               '--image-size', '%s=%d' % (IMAGE, image_bytes),
               '--image-size', '%s=%d' % (HELPER, HELPER_BYTES), '--watch-history', '20000']
        if reg_mbit:
            cmd += ['--registry-rate', '%gmbit' % reg_mbit]
        if node_mbit:
            cmd += ['--node-rate', '%gmbit' % node_mbit]
        if not reg_mbit and not node_mbit:
            cmd += ['--registry-rate', '1e15']      # the model on, nothing limiting
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                     stderr=open(os.path.join(self.dir, 'sim.err'), 'w'), text=True)
        line = self.proc.stdout.readline()
        if not line.startswith('kube-sim ready '):
            self.stop()
            raise RuntimeError('kube-sim did not start: %r (see %s/sim.err)' % (line, self.dir))
        self.url = line.split()[-1]
        with open(os.path.join(self.dir, 'token')) as f:
            self.token = f.read().strip()
        self.ctx = ssl.create_default_context(cafile=os.path.join(self.dir, 'ca.crt'))

    def call(self, method, path, body=None, auth=True):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if auth:
            req.add_header('Authorization', 'Bearer ' + self.token)
        if data:
            req.add_header('Content-Type', 'application/json')
        with urllib.request.urlopen(req, context=self.ctx, timeout=300) as r:
            return json.loads(r.read() or b'null')

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def workload(image, selector=None, name=APP, helper=True):
    """bench/rollout/run's workload (busybox init container + the image)."""
    vol = [{'name': 'bin', 'mountPath': '/bin-shared'}]
    spec = {'terminationGracePeriodSeconds': 1, 'volumes': [{'name': 'bin', 'emptyDir': {}}],
            'containers': [{'name': 'app', 'image': image, 'imagePullPolicy': 'IfNotPresent',
                            'command': ['/bin-shared/sleep', '3600'], 'volumeMounts': vol}]}
    if helper:
        spec['initContainers'] = [{'name': 'copy', 'image': HELPER, 'imagePullPolicy': 'IfNotPresent',
                                   'command': ['/bin/busybox', 'cp', '/bin/busybox', '/bin-shared/sleep'],
                                   'volumeMounts': vol}]
    if selector:
        spec['nodeSelector'] = selector
    return {'apiVersion': 'apps/v1', 'kind': 'DaemonSet', 'metadata': {'name': name, 'namespace': NS},
            'spec': {'selector': {'matchLabels': {'app': name}},
                     'template': {'metadata': {'labels': {'app': name}}, 'spec': spec}}}


def roll_out(sim, ds, want, timeout):
    """Creates ds and waits until `want` of its pods are ready (DaemonSet status, polled
    every 50 ms); returns the wall time that was first seen."""
    sim.call('POST', '/apis/apps/v1/namespaces/%s/daemonsets' % NS, ds)
    end = time.monotonic() + timeout
    path = '/apis/apps/v1/namespaces/%s/daemonsets/%s' % (NS, ds['metadata']['name'])
    while time.monotonic() < end:
        st = sim.call('GET', path).get('status') or {}
        if st.get('numberReady', 0) >= want:
            return time.monotonic()
        time.sleep(0.05)
    raise RuntimeError('%s: not ready on %d nodes after %.0f s' % (ds['metadata']['name'], want, timeout))


def run_seed(o, sim, share):
    base = tempfile.mkdtemp(prefix='seed-', dir=sim.dir)
    with open(os.path.join(base, 'seeder.ini'), 'w') as f:
        f.write('[registry]\nresolve = no\n[preload]\npull_timeout = 30m\n[log]\nfile =\n')
    with open(os.path.join(base, 'images.txt'), 'w') as f:
        f.write(IMAGE + '\n')
    with open(os.path.join(base, 'out'), 'w') as out:
        rc = subprocess.run([o.binary, '--kubeconfig', os.path.join(sim.dir, 'kubeconfig'),
                             '--config', os.path.join(base, 'seeder.ini'), '--base-dir', base,
                             '--images-to-seed', os.path.join(base, 'images.txt'),
                             '--seeder-percentage', '%g' % share],
                            stdout=out, stderr=subprocess.STDOUT, timeout=3600).returncode
    if rc != 0:
        with open(os.path.join(base, 'out')) as f:
            raise RuntimeError('clyde-seed exit %d: %s' % (rc, f.read()[-600:]))


def pick_scale(o, n, k, reg, node, cost):
    """Scale so that the closed form's pull time takes about o.wall seconds (at most 1)."""
    pred = mc.closed_form(n, k, o.image_bytes, mc.mbit(reg), mc.mbit(node), 2 * cost)
    return min(1.0, max(o.wall / max(pred, 1e-6), 1e-5))


def point(o, n, reg, node, share, cost):
    """One end-to-end point: mode registry (share None) or seed; simulated seconds."""
    k = mc.seeders_for(share, n) if share else 0
    scale = pick_scale(o, n, k, reg, node, cost)
    sim = Sim(o.workdir, n, scale, reg, node, cost, o.image_bytes)
    w0 = time.monotonic()
    try:
        t0 = time.monotonic()
        if share:
            run_seed(o, sim, share)
        t1 = time.monotonic()
        t2 = roll_out(sim, workload(IMAGE), n, o.timeout)
        rep = sim.call('GET', '/_sim/pulls', auth=False)
    finally:
        sim.stop()
    ivs = [(p['start'], p['end']) for p in rep['pulls'] if p['end'] is not None]
    t_seed = mc.sim_seconds(t0, t1, ivs, scale)
    t_roll = mc.sim_seconds(t1, t2, ivs, scale)
    peer = sum(rep['peer_tx_bytes'].values())
    seeders = sorted({p['node'] for p in rep['pulls'] if p['start'] < t1}) if share else []
    return {'setting': {'nodes': n, 'registry_mbit': reg, 'node_mbit': node},
            'mode': 'seed' if share else 'registry', 'share': share, 'seeders': k,
            'seeder_nodes': seeders, 'ok': True, 'model': {'pull_cost_s': cost, 'time_scale': scale, 'image_bytes': o.image_bytes,
                                  'wall_s': round(time.monotonic() - w0, 2),
                                  'tool_wall_s': round(t1 - t0, 3)},
            't_seed_s': round(t_seed, 3), 't_rollout_s': round(t_roll, 3),
            't_total_s': round(t_seed + t_roll, 3),
            'registry_bytes': rep['registry_tx_bytes'], 'peer_bytes': peer,
            'closed_form_s': round(mc.closed_form(n, k, o.image_bytes, mc.mbit(reg), mc.mbit(node),
                                                  2 * cost), 3)}


# ---- calibration against the real points ------------------------------------------

# /work/shared/reference/real-runtime.md: raw ctr pulls (no tool), 200 MB, 4 nodes, registry
# 100 Mbit/s: (name, node link Mbit/s or None, seeders, seeding s, rollout s)
REFERENCE = [('all 4 from the registry', None, 0, 72.7, None),
             ('1 seeder, links unlimited', None, 1, 36.4, 11.3),
             ('2 seeders, links unlimited', None, 2, 72.0, 8.4),
             ('1 seeder, links 100 Mbit/s', 100, 1, 36.3, 55.4),
             ('2 seeders, links 100 Mbit/s', 100, 2, 71.0, 19.7)]


def real_summary(path):
    """{(N, R, L, mode, share): (median total s, n, min, max)} of a bench/rollout points file."""
    with open(path) as f:
        doc = json.load(f)
    groups = {}
    for p in doc.get('points', []):
        if p.get('ok') and p['mode'] in ('registry', 'seed'):
            s = p['setting']
            key = (s['nodes'], s['registry_mbit'], s['node_mbit'], p['mode'], p.get('share'))
            groups.setdefault(key, []).append(p['t_total_s'])
    out = {}
    for key, ts in groups.items():
        ts.sort()
        m = len(ts) // 2
        out[key] = (ts[m] if len(ts) % 2 else (ts[m - 1] + ts[m]) / 2, len(ts), ts[0], ts[-1])
    return out, doc.get('image')



def reference_point(o, row, cost):
    """One row of REFERENCE replayed: raw pulls of the image (no busybox, no tool)."""
    name, node, k, _, _ = row
    n, reg = 4, 100
    scale = pick_scale(o, n, k, reg, node, cost)
    sim = Sim(o.workdir, n, scale, reg, node, cost, o.image_bytes)
    try:
        t0 = time.monotonic()
        if k:
            for i in range(1, k + 1):
                sim.call('POST', '/_sim/nodes/node-%04d/labels' % i, {'p2p-seeder': 'true'}, auth=False)
            t1 = roll_out(sim, workload(IMAGE, {'p2p-seeder': 'true'}, 'seed', False), k, o.timeout)
        else:
            t1 = t0
        t2 = roll_out(sim, workload(IMAGE, helper=False), n, o.timeout)
        rep = sim.call('GET', '/_sim/pulls', auth=False)
    finally:
        sim.stop()
    ivs = [(p['start'], p['end']) for p in rep['pulls'] if p['end'] is not None]
    phases = [mc.sim_seconds(t0, t1, ivs, scale), mc.sim_seconds(t1, t2, ivs, scale)]
    return phases if k else [phases[1], None]


def calibrate_reference(o):
    """Fits c to /work/shared/reference/real-runtime.md's phases (one pull per phase)."""
    log('calibrating against the reference table (raw pulls, 4 nodes, registry 100 Mbit/s)')
    sim0 = [reference_point(o, row, 0.0) for row in REFERENCE]
    rows = []
    for row, got in zip(REFERENCE, sim0):
        for real, sim in zip(row[3:], got):
            if real is not None:
                rows.append((real, sim, 1, 0))
    c, _ = mc.fit(rows)
    log('fitted c = %.2f s; checking' % c)
    out = []
    for row in REFERENCE:
        got = reference_point(o, row, c)
        for phase, real, sim in zip(('seeding', 'rollout'), row[3:], got):
            if real is not None:
                out.append({'case': row[0], 'phase': phase if row[2] else 'all', 'real_s': real,
                            'model_s': round(sim, 2)})
    errs, mape = mc.errors([(x['model_s'], x['real_s']) for x in out])
    for x, e in zip(out, errs):
        x['error_pct'] = round(e, 1)
    return {'source': 'reference table', 'pull_cost_s': round(c, 3), 'overhead_s': 0.0,
            'points': out, 'mape_pct': round(mape, 1)}


def calibrate_points(o, path):
    """Fits c and o to bench/rollout points (median totals): registry = sim0 + 2c, seed =
    sim0 + 4c + o (busybox and image pulled one after the other in each phase)."""
    real, image = real_summary(path)
    if image and image.get('bytes'):
        o.image_bytes = int(image['bytes'])
    keys = sorted(k for k in real if k[0] in (4, 8))
    log('calibrating against %d real curves of %s (image %d bytes)' % (len(keys), path, o.image_bytes))
    sims = {k: point(o, k[0], k[1], k[2], k[4] if k[3] == 'seed' else None, 0.0) for k in keys}
    rows = [(real[k][0], sims[k]['t_total_s'], 4 if k[3] == 'seed' else 2, 1 if k[3] == 'seed' else 0)
            for k in keys]
    c, ov = mc.fit(rows)
    log('fitted c = %.2f s, o = %.2f s; checking' % (c, ov))
    out = []
    for k in keys:
        p = point(o, k[0], k[1], k[2], k[4] if k[3] == 'seed' else None, c)
        model = p['t_total_s'] + (ov if k[3] == 'seed' else 0.0)
        out.append({'setting': p['setting'], 'mode': k[3], 'share': k[4], 'seeders': p['seeders'],
                    'real_s': real[k][0], 'real_n': real[k][1], 'real_range': [real[k][2], real[k][3]],
                    'model_s': round(model, 2), 'model_seed_s': p['t_seed_s'],
                    'model_rollout_s': p['t_rollout_s'],
                    'closed_form_s': round(p['closed_form_s'] + (ov if k[3] == 'seed' else 0.0), 2)})
    errs, mape = mc.errors([(x['model_s'], x['real_s']) for x in out])
    for x, e in zip(out, errs):
        x['error_pct'] = round(e, 1)
    cf_errs, cf_mape = mc.errors([(x['closed_form_s'], x['real_s']) for x in out])
    return {'source': path, 'pull_cost_s': round(c, 3), 'overhead_s': round(ov, 3),
            'points': out, 'mape_pct': round(mape, 1), 'closed_form_mape_pct': round(cf_mape, 1)}


def sweep(o, cal):
    c, ov = cal['pull_cost_s'], cal['overhead_s']
    reg, node = o.setting
    out = []
    for n in o.nodes:
        shares = [None] + [s for s in o.shares if mc.seeders_for(s, n) < n]
        seen = set()
        for share in shares:
            k = mc.seeders_for(share, n) if share else 0
            if k in seen:
                continue        # the same number of seeders as a smaller share
            seen.add(k)
            p = point(o, n, reg, node, share, c)
            if share:
                p['t_seed_s'] = round(p['t_seed_s'] + ov, 3)
                p['t_total_s'] = round(p['t_total_s'] + ov, 3)
                p['closed_form_s'] = round(p['closed_form_s'] + ov, 3)
            log('N=%d %s: %.0f s (seed %.0f, rollout %.0f), closed form %.0f s; %.0f s wall'
                % (n, 'share %g%% k=%d' % (share, k) if share else 'registry', p['t_total_s'],
                   p['t_seed_s'], p['t_rollout_s'], p['closed_form_s'], p['model']['wall_s']))
            out.append(p)
            if o.json:
                save(o, cal, out)
    return out


def save(o, cal, pts):
    doc = {'format': 'clyde-seed bench/rollout model 1', 'calibration': cal, 'points': pts,
           'image_bytes': o.image_bytes}
    tmp = o.json + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(doc, f, indent=1, sort_keys=True)
        f.write('\n')
    os.replace(tmp, o.json)


def print_calibration(cal):
    print('calibration (%s): c = %.2f s per pull, o = %.2f s per tool run; mean absolute error %.1f %%'
          % (cal['source'], cal['pull_cost_s'], cal['overhead_s'], cal['mape_pct']))
    for x in cal['points']:
        print('  %-50s real %7.1f s  model %7.1f s  %+6.1f %%' % (
            x.get('case', '') + ' ' + x.get('phase', '') if 'case' in x else
            'N=%d R=%g L=%g %s %s' % (x['setting']['nodes'], x['setting']['registry_mbit'],
                                      x['setting']['node_mbit'], x['mode'], x['share'] or ''),
            x['real_s'], x['model_s'], x['error_pct']))


def print_sweep(pts):
    print('| N | curve | seeders | model s | seed s | rollout s | closed form s | vs registry | '
          'registry GB | peer GB | scale | wall s |')
    print('|---|---|---|---|---|---|---|---|---|---|---|---|')
    base = {p['setting']['nodes']: p['t_total_s'] for p in pts if p['mode'] == 'registry'}
    for p in pts:
        n = p['setting']['nodes']
        sp = 1 - p['t_total_s'] / base[n] if base.get(n) else None
        print('| %d | %s | %d | %.0f | %.0f | %.0f | %.0f | %s | %.1f | %.1f | %.2g | %.0f |' % (
            n, 'share %g %%' % p['share'] if p['share'] else 'registry', p['seeders'], p['t_total_s'],
            p['t_seed_s'], p['t_rollout_s'], p['closed_form_s'],
            '-' if sp is None else '%+.0f %%' % (100 * sp), p['registry_bytes'] / 1e9,
            p['peer_bytes'] / 1e9, p['model']['time_scale'], p['model']['wall_s']))
    for n in sorted(base):
        seeds = [p for p in pts if p['setting']['nodes'] == n and p['mode'] == 'seed']
        if seeds:
            b = min(seeds, key=lambda p: p['t_total_s'])
            print('N=%d: best share %g %% (k=%d): %.0f s vs %.0f s without seeding'
                  % (n, b['share'], b['seeders'], b['t_total_s'], base[n]))


def parse_args(argv):
    p = argparse.ArgumentParser(prog='bench/rollout/model.py', description=__doc__.split('\n')[1])
    p.add_argument('command', choices=('calibrate', 'sweep', 'all'))
    p.add_argument('--real', default=os.path.join(HERE, 'points.json'),
                   help='bench/rollout/run points (default bench/rollout/points.json; '
                        'the reference table when missing)')
    p.add_argument('--nodes', default='100,1000,5000')
    p.add_argument('--shares', default='0.5,1,2,5,10,20,40,60')
    p.add_argument('--setting', default='100:50', help='R:L in Mbit/s for the sweep')
    p.add_argument('--pull-cost', type=float, help='c in seconds (default: calibrated)')
    p.add_argument('--overhead', type=float, default=0.0, help='o in seconds (with --pull-cost)')
    p.add_argument('--image-mb', type=float, default=200.0)
    p.add_argument('--json', default=os.path.join(HERE, 'model-points.json'))
    p.add_argument('--binary', default=os.path.join(ROOT, 'build', 'bench', 'clyde-seed'))
    p.add_argument('--wall', type=float, default=15.0, help='wall seconds the pulls of a point should take')
    p.add_argument('--timeout', type=float, default=1800.0)
    o = p.parse_args(argv)
    o.nodes = [int(x) for x in o.nodes.split(',') if x]
    o.shares = [float(x) for x in o.shares.split(',') if x]
    o.setting = tuple(float(x) for x in o.setting.split(':'))
    o.image_bytes = int(o.image_mb * 1e6)
    return o


def main(argv=None):
    o = parse_args(sys.argv[1:] if argv is None else argv)
    if not os.access(o.binary, os.X_OK):
        sys.exit('model: no clyde-seed at %s (build one: bench/run builds build/bench, or --binary)'
                 % o.binary)
    o.workdir = tempfile.mkdtemp(prefix='model-bench-', dir=os.environ.get('TMPDIR', '/tmp'))
    t0 = time.monotonic()
    if o.pull_cost is not None:
        cal = {'source': 'given', 'pull_cost_s': o.pull_cost, 'overhead_s': o.overhead,
               'points': [], 'mape_pct': float('nan')}
    elif os.path.exists(o.real):
        cal = calibrate_points(o, o.real)
    else:
        cal = calibrate_reference(o)
    cal['wall_s'] = round(time.monotonic() - t0, 1)
    print_calibration(cal)
    pts = []
    if o.json:
        save(o, cal, pts)
    if o.command in ('sweep', 'all'):
        pts = sweep(o, cal)
        print_sweep(pts)
    log('done in %.0f s; %s' % (time.monotonic() - t0, o.json))
    subprocess.run(['rm', '-rf', o.workdir])


if __name__ == '__main__':
    main()
