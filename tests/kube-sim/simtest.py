"""Helpers for the simulator's own tests: a live simulator in a subprocess, and an
in-process cluster whose controllers and kubelets are stepped by hand."""

import argparse
import gzip
import http.client
import json
import os
import select
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def options(**kw):
    d = dict(nodes=3, zones=3, arch='amd64', control_plane=0, images_per_node=50, time_scale=1.0,
             continue_ttl=300.0, watch_history=50000, max_events=20000, no_events=False, seed=1)
    d.update(kw)
    return argparse.Namespace(**d)


def make_cluster(**kw):
    from cluster import Cluster
    return Cluster(options(**kw))


class LiveSim:
    """Starts kube_sim.py; .call() speaks HTTPS with the admin token."""

    def __init__(self, *args, state_dir=None):
        self.dir = state_dir or tempfile.mkdtemp(prefix='kube-sim-test-')
        self.own_dir = state_dir is None
        cmd = [sys.executable, os.path.join(HERE, 'kube_sim.py'), '--state-dir', self.dir,
               '--port', '0'] + list(args)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        ready, _, _ = select.select([self.proc.stdout], [], [], 60)
        line = self.proc.stdout.readline() if ready else ''
        if not line.startswith('kube-sim ready https://127.0.0.1:'):
            self.proc.kill()
            raise RuntimeError('simulator did not start: %r %s' % (line, self.proc.stderr.read()))
        self.url = line.split()[-1]
        self.port = int(self.url.rsplit(':', 1)[1])
        with open(os.path.join(self.dir, 'token')) as f:
            self.token = f.read().strip()
        self.ctx = ssl.create_default_context(cafile=os.path.join(self.dir, 'ca.crt'))

    def conn(self, cert=False):
        ctx = self.ctx
        if cert:
            ctx = ssl.create_default_context(cafile=os.path.join(self.dir, 'ca.crt'))
            ctx.load_cert_chain(os.path.join(self.dir, 'client.crt'), os.path.join(self.dir, 'client.key'))
        return http.client.HTTPSConnection('127.0.0.1', self.port, context=ctx, timeout=60)

    def call(self, method, path, body=None, ctype='application/json', token=True, headers=None,
             conn=None):
        """Returns (status, headers dict (lower-case keys), body bytes decoded from gzip)."""
        h = dict(headers or {})
        if token is True:
            h['Authorization'] = 'Bearer ' + self.token
        elif token:
            h['Authorization'] = 'Bearer ' + token
        if body is not None and not isinstance(body, bytes):
            body = json.dumps(body).encode()
        if body is not None:
            h['Content-Type'] = ctype
        c = conn or self.conn()
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        if hdrs.get('content-encoding') == 'gzip':
            data = gzip.decompress(data)
        if conn is None:
            c.close()
        return r.status, hdrs, data

    def json(self, method, path, body=None, **kw):
        code, _, data = self.call(method, path, body, **kw)
        return code, json.loads(data) if data else None

    def admin(self, method, path, body=None):
        return self.json(method, '/_sim/' + path, body, token=False)

    def wait_for(self, fn, timeout=30.0, interval=0.05):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            v = fn()
            if v:
                return v
            time.sleep(interval)
        raise AssertionError('condition not met in %.0fs' % timeout)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(30)
        finally:
            self.proc.stdout.close()
            self.proc.stderr.close()
            if self.own_dir:
                shutil.rmtree(self.dir, ignore_errors=True)
        return rc


def daemonset(name='puller', containers=None, init=None, node_selector=None, **spec_extra):
    pspec = {'containers': containers or [{'name': 'c', 'image': 'nginx:1.27'}]}
    if init:
        pspec['initContainers'] = init
    if node_selector:
        pspec['nodeSelector'] = node_selector
    pspec.update(spec_extra)
    return {'apiVersion': 'apps/v1', 'kind': 'DaemonSet',
            'metadata': {'name': name, 'namespace': 'default'},
            'spec': {'selector': {'matchLabels': {'app': name}},
                     'template': {'metadata': {'labels': {'app': name}}, 'spec': pspec}}}
