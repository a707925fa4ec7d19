# SPDX-License-Identifier: MIT
"""One measured cluster for bench/rollout: kube-sim with N nodes, every one of them backed
by a real containerd (tests/realnode/realnode.py, optionally --p2p), the workload
DaemonSet, the resets between repeats and the byte counters."""

import json
import os
import selectors
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SIM = os.path.join(ROOT, 'tests', 'kube-sim', 'kube_sim.py')
REALNODE = os.path.join(ROOT, 'tests', 'realnode', 'realnode.py')
sys.path.insert(0, os.path.join(ROOT, 'tests', 'realnode'))
from kubeapi import Api, ApiError  # noqa: E402

LABEL_KEY, LABEL_VALUE = 'p2p-seeder', 'true'
OWNER_ANNOTATION = 'clyde-seed.io/labelled-by'
HELPER = 'docker.io/library/busybox:1.36.1-musl'
NS = 'default'
APP = 'rollout-app'
P2P_POLL = 1.0      # realnode --p2p re-reads the seeder label at least this often


def log(msg):
    print('rollout: ' + msg, file=sys.stderr, flush=True)


def has_p2p():
    """Whether this tree's realnode.py has the P2P layer (--p2p)."""
    p = subprocess.run([sys.executable, REALNODE, '--help'], capture_output=True, text=True)
    return '--p2p' in p.stdout


def workload(image):
    """The workload: a DaemonSet on every node running IMAGE (busybox copied in by an init
    container, as the realnode flow test does: the image itself has no shell)."""
    return {
        'apiVersion': 'apps/v1', 'kind': 'DaemonSet',
        'metadata': {'name': APP, 'namespace': NS},
        'spec': {'selector': {'matchLabels': {'app': APP}}, 'template': {
            'metadata': {'labels': {'app': APP}},
            'spec': {
                'terminationGracePeriodSeconds': 1,
                'securityContext': {'runAsNonRoot': True, 'runAsUser': 1000, 'runAsGroup': 1000},
                'volumes': [{'name': 'bin', 'emptyDir': {}}],
                'initContainers': [{
                    'name': 'copy', 'image': HELPER, 'imagePullPolicy': 'IfNotPresent',
                    'command': ['/bin/busybox', 'cp', '/bin/busybox', '/bin-shared/sleep'],
                    'volumeMounts': [{'name': 'bin', 'mountPath': '/bin-shared'}]}],
                'containers': [{
                    'name': 'app', 'image': image, 'imagePullPolicy': 'IfNotPresent',
                    'command': ['/bin-shared/sleep', '3600'],
                    'volumeMounts': [{'name': 'bin', 'mountPath': '/bin-shared', 'readOnly': True}]}]}}}}


class Proc:
    """A child that prints a ready line; stopped with SIGTERM."""

    def __init__(self, name, cmd, workdir, prefix, timeout):
        self.name = name
        self.err = os.path.join(workdir, name + '.err')
        self.p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=open(self.err, 'w'),
                                  text=True, start_new_session=True)
        self.line = self._ready(prefix, timeout)

    def _ready(self, prefix, timeout):
        sel = selectors.DefaultSelector()
        sel.register(self.p.stdout, selectors.EVENT_READ)
        end = time.monotonic() + timeout
        while time.monotonic() < end and self.p.poll() is None:
            if sel.select(timeout=1):
                line = self.p.stdout.readline()
                if line.startswith(prefix):
                    return line.strip()
        self.stop()
        with open(self.err) as f:
            tail = f.read()[-800:]
        raise RuntimeError('%s did not start:\n%s' % (self.name, tail))

    def stop(self, timeout=120):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.p.pid, signal.SIGKILL)
                self.p.wait()
        return self.p.returncode


class Cluster:
    def __init__(self, workdir, nodes, registry_rate, node_rate, p2p, image_cache):
        self.dir = workdir
        self.n = nodes
        self.p2p = p2p
        self.sim = self.rn = None
        simdir = os.path.join(workdir, 'sim')
        os.makedirs(simdir, exist_ok=True)
        self.simdir = simdir
        self.sim = Proc('kube-sim', [sys.executable, SIM, '--state-dir', simdir, '--port', '0',
                                     '--nodes', str(nodes), '--zones', '1', '--images-per-node', '0',
                                     '--time-scale', '0.05'], workdir, 'kube-sim ready', 120)
        self.api = Api.from_kube_sim(simdir)
        cmd = [sys.executable, REALNODE, '--state-dir', os.path.join(workdir, 'rn'), '--kube-sim', simdir,
               '--count', str(nodes), '--registry-rate', registry_rate, '--node-rate', node_rate,
               '--image-cache', image_cache] + (['--p2p'] if p2p else [])
        try:
            self.rn = Proc('realnode', cmd, workdir, 'realnode ready', 900)
        except RuntimeError:
            self.sim.stop()
            raise
        self.admin_url = self.rn.line.split()[2]
        self.nodes = self.rn.line.split()[3].split(',')
        with open(os.path.join(workdir, 'rn', 'env.json')) as f:
            self.env = json.load(f)

    def stop(self):
        rc = self.rn.stop(300) if self.rn else 0
        self.sim.stop()
        return rc

    # ---- admin API and counters ---------------------------------------------------
    def admin(self, method, path):
        req = urllib.request.Request(self.admin_url + path, method=method,
                                     data=b'' if method == 'POST' else None)
        with urllib.request.urlopen(req, timeout=300) as r:
            return json.loads(r.read().decode())

    def counters(self):
        """{'registry': bytes the registries sent, 'peers': bytes the P2P servers sent,
        'nodes': {node: {...}}}: cumulative; GET /stats with --p2p, else the registry
        namespace's link counter read with `ip -s -j link`."""
        if self.p2p:
            s = self.admin('GET', '/stats')
            nodes = s.get('nodes', {})
            return {'registry': s['registry']['tx_bytes'], 'nodes': nodes,
                    'peers': sum(v.get('peer_tx_bytes', 0) for v in nodes.values())}
        ns = self.env['prefix'] + '-reg'
        out = subprocess.run(['nsenter', '--net=/run/netns/' + ns, 'ip', '-s', '-j', 'link', 'show', 'eth0'],
                             capture_output=True, text=True, check=True).stdout
        link = json.loads(out)[0]
        s = link.get('stats64') or link.get('stats')
        return {'registry': s['tx']['bytes'], 'peers': 0, 'nodes': {}}

    # ---- the API ------------------------------------------------------------------
    def pods(self):
        sel = urllib.parse.quote('app=' + APP)
        return self.api.get('/api/v1/namespaces/%s/pods?labelSelector=%s' % (NS, sel))['items']

    def apply_workload(self, image):
        self.api.call('POST', '/apis/apps/v1/namespaces/%s/daemonsets' % NS, workload(image))

    def wait_running(self, t0, timeout):
        """Waits until a Running workload pod is on every node; returns {node: seconds
        since t0 when first seen Running}.  Raises RuntimeError after timeout."""
        seen = {}
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for p in self.pods():
                node = p['spec'].get('nodeName')
                if p['status'].get('phase') == 'Running' and node not in seen and \
                        not p['metadata'].get('deletionTimestamp'):
                    seen[node] = time.monotonic() - t0
            if len(seen) >= self.n:
                return seen
            time.sleep(0.2)
        raise RuntimeError('workload not Running on every node after %.0f s: %d of %d (%s)'
                           % (timeout, len(seen), self.n, sorted(seen)))

    def delete_workload(self, timeout=120):
        try:
            self.api.call('DELETE', '/apis/apps/v1/namespaces/%s/daemonsets/%s' % (NS, APP))
        except ApiError as e:
            if e.code != 404:
                raise
        end = time.monotonic() + timeout
        while self.pods():
            if time.monotonic() > end:
                raise RuntimeError('workload pods still there after %.0f s' % timeout)
            time.sleep(0.5)

    def set_labels(self, labelled):
        """The seeder label on exactly the nodes in `labelled`; clyde-seed's ownership
        annotation removed everywhere (each repeat starts with no seeder)."""
        for node in self.nodes:
            value = LABEL_VALUE if node in labelled else None
            self.api.patch('/api/v1/nodes/' + node, {'metadata': {
                'labels': {LABEL_KEY: value}, 'annotations': {OWNER_ANNOTATION: None}}})

    def labelled(self):
        sel = urllib.parse.quote('%s=%s' % (LABEL_KEY, LABEL_VALUE))
        return sorted(n['metadata']['name'] for n in self.api.get('/api/v1/nodes?labelSelector=' + sel)['items'])

    def leftover_daemonsets(self):
        return [d['metadata']['name'] for d in self.api.get('/apis/apps/v1/namespaces/%s/daemonsets' % NS)['items']]

    def pulled_events(self, known):
        """Pulled events not in `known` (a set of names, updated): [(node, image, seconds)]."""
        out = []
        for e in self.api.get('/api/v1/namespaces/%s/events' % NS)['items']:
            name = e['metadata']['name']
            if name in known:
                continue
            known.add(name)
            msg = e.get('message', '')
            if e.get('reason') == 'Pulled' and msg.startswith('Successfully pulled image "'):
                image = msg.split('"')[1]
                secs = float(msg.split('" in ')[1].split('s ')[0])
                out.append((e.get('source', {}).get('host'), image, secs))
        return out

    def reset(self):
        """Back to cold: no workload, no seeder label, no image on any node."""
        self.delete_workload()
        self.set_labels(())
        removed = self.admin('POST', '/gc')
        if self.p2p:
            time.sleep(2 * P2P_POLL + 0.5)     # the mirrors drop the old peers
        return removed
