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
    return {'setting': {'nodes': n, 'registry_mbit': reg, 'node_mbit': node},
            'mode': 'seed' if share else 'registry', 'share': share, 'seeders': k,
            'ok': True, 'model': {'pull_cost_s': cost, 'time_scale': scale, 'image_bytes': o.image_bytes,
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


def smoke():
    o = argparse.Namespace(binary=os.path.join(ROOT, 'build', 'bench', 'clyde-seed'), wall=5.0,
                           image_bytes=200 * 1000 * 1000, timeout=600,
                           workdir=tempfile.mkdtemp(prefix='model-smoke-'))
    for share in (None, 25, 50):
        print(json.dumps(point(o, 4, 100, 50, share, 1.0)))


if __name__ == '__main__':
    smoke()
