#!/usr/bin/env python3
"""realnode: real image machinery (containerd, runc, a registry) behind K nodes of an API
server.  See README.md beside this file.

python3 realnode.py --state-dir DIR (--kube-sim DIR | --server URL --token-file F [--ca F])
    (--nodes N1,N2,... | --count K) [--registry-rate 100mbit] [--node-rate RATE]
    [--image-cache DIR] [--p2p [--p2p-label KEY=VALUE]]
python3 realnode.py --check        prerequisites only: prints what is missing, exit 3
Prints `realnode ready ADMIN-URL` once every node serves its pods; runs until SIGTERM or
SIGINT, then stops everything it started and removes what it made.
"""

import argparse
import base64
import fcntl
import http.server
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import warnings

with warnings.catch_warnings():
    warnings.simplefilter('ignore', DeprecationWarning)
    import crypt   # bcrypt for the registry's htpasswd (libxcrypt); no module in 3.13

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import agent  # noqa: E402
import netenv  # noqa: E402
import p2p  # noqa: E402
import runtime  # noqa: E402
from kubeapi import Api  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
IMAGES_TOOL = os.path.join(HERE, '..', '..', 'tools', 'realnode-images')
EXIT_PREREQ = 3
PULL_USER = 'puller'


def parse_args(argv):
    p = argparse.ArgumentParser(prog='realnode.py', description=__doc__.split('\n')[1])
    p.add_argument('--check', action='store_true', help='check prerequisites and exit')
    p.add_argument('--state-dir')
    p.add_argument('--kube-sim', metavar='DIR', help="kube-sim's state directory")
    p.add_argument('--server')
    p.add_argument('--token-file')
    p.add_argument('--ca')
    p.add_argument('--nodes', help='comma-separated node names')
    p.add_argument('--count', type=int, help='the first K schedulable worker nodes')
    p.add_argument('--registry-rate', help='tc rate of the registry link, e.g. 100mbit')
    p.add_argument('--node-rate', help='tc rate of each node link (downloads)')
    p.add_argument('--image-cache', help='where tools/realnode-images keeps the built layout')
    p.add_argument('--keep', action='store_true', help='keep containerd roots and registry data')
    p.add_argument('--p2p', action='store_true',
                   help='P2P layer: each node serves its content store; mirrors are the labelled nodes')
    p.add_argument('--p2p-label', default='p2p-seeder=true', metavar='KEY=VALUE',
                   help='the label of the nodes the others pull from (default p2p-seeder=true)')
    o = p.parse_args(argv)
    if not o.check:
        if not o.state_dir or not (o.kube_sim or (o.server and o.token_file)):
            p.error('--state-dir and --kube-sim DIR (or --server and --token-file) are required')
        if not (o.nodes or o.count):
            p.error('--nodes or --count is required')
        try:
            p2p.parse_label(o.p2p_label)
        except ValueError as e:
            p.error(str(e))
    return o


def api_from(o):
    if o.kube_sim:
        return Api.from_kube_sim(o.kube_sim)
    with open(o.token_file) as f:
        return Api(o.server, token=f.read().strip(), ca=o.ca)


def pick_nodes(api, o):
    if o.nodes:
        return o.nodes.split(',')
    items = api.get('/api/v1/nodes')['items']
    workers = [n['metadata']['name'] for n in items
               if 'node-role.kubernetes.io/control-plane' not in n['metadata'].get('labels', {})
               and n['metadata'].get('labels', {}).get('kubernetes.io/arch', runtime.ARCH) == runtime.ARCH]
    if len(workers) < o.count:
        raise netenv.SetupError('only %d %s worker nodes, %d asked' % (len(workers), runtime.ARCH, o.count))
    return sorted(workers)[:o.count]


def write_secret_file(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as f:
        f.write(text)


class RealNodes:
    def __init__(self, o, api, nodes):
        self.o, self.api, self.nodes = o, api, nodes
        self.state = os.path.abspath(o.state_dir)
        # --p2p: a node's link limits its uploads to peers too
        self.env = netenv.Env(self.state, nodes, 'crn%d' % os.getpid(), o.registry_rate, o.node_rate,
                              o.node_rate if o.p2p else None)
        self.p2p = p2p.P2P(self.env, api, nodes, self.state, o.p2p_label) if o.p2p else None
        self.kubelets = {}
        self.threads = []
        self.layout = None

    def setup(self, stop):
        t0 = time.monotonic()

        def took(what):
            agent.log('%s ready after %.1f s' % (what, time.monotonic() - t0))
        for d in ('logs', 'registry', 'nodes', 'hosts'):
            os.makedirs(os.path.join(self.state, d), exist_ok=True)
        self.layout = subprocess.run([IMAGES_TOOL, 'build'] + ([self.o.image_cache] if self.o.image_cache else []),
                                     check=True, capture_output=True, text=True).stdout.strip()
        password = secrets.token_hex(12)
        htpasswd = os.path.join(self.state, 'registry', 'htpasswd')
        write_secret_file(htpasswd, '%s:%s\n' % (PULL_USER, crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH))))
        write_secret_file(os.path.join(self.state, 'registry-credentials'), '%s:%s\n' % (PULL_USER, password))
        auth = {'auths': {'127.0.0.1:%d' % netenv.PRIVATE_PORT: {
            'auth': base64.b64encode(('%s:%s' % (PULL_USER, password)).encode()).decode()}}}
        self.authfile = os.path.join(self.state, 'registry', 'push-auth.json')
        write_secret_file(self.authfile, json.dumps(auth))
        took('images')
        self.env.setup_network()
        took('network')
        with open(os.path.join(os.path.dirname(self.layout), '.registry.lock'), 'w') as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)    # a concurrent first push: wait, then reuse it
            cached = self.registry_storage(restore=True)
            self.env.start_registries(htpasswd)
            took('registries')
            if not cached:
                self.push()
                self.registry_storage(restore=False)
                took('pushed images')
        if stop.is_set():
            return
        self.env.write_hosts(os.path.join(self.state, 'hosts'))
        self.env.start_containerds()
        took('containerds')
        if self.p2p:
            self.threads.append(self.p2p.start(stop))
            took('p2p servers')
        for i, node in enumerate(self.nodes):
            p = self.env.containerd_paths(i)
            hosts = self.p2p.hosts_dir(node) if self.p2p else os.path.join(self.state, 'hosts')
            rtm = runtime.Runtime(node, p['socket'], self.env.node_ns(i), hosts,
                                  p['base'], self.env.cgroup_parent, self.env.write_hosts)
            k = self.kubelets[node] = agent.NodeKubelet(self.api, node, rtm, p['base'])
            k.mark_external()
            for target in (k.watch_loop, k.run):
                t = threading.Thread(target=target, daemon=True)
                t.start()
                self.threads.append(t)
        self.write_env()

    def registry_storage(self, restore):
        """The registries' storage after the first push, kept beside the image layout:
        restored (copied) into a new state directory instead of pushing again."""
        cache = os.path.join(os.path.dirname(self.layout), 'registry-storage')
        here = os.path.join(self.state, 'registry')
        names = ('registry', 'registry-private')
        if restore:
            if not os.path.isfile(os.path.join(cache, 'done')):
                return False
            for n in names:
                subprocess.run(['cp', '-a', os.path.join(cache, n), here], check=True)
            return True
        tmp = cache + '.tmp%d' % os.getpid()
        os.makedirs(tmp)
        for n in names:
            subprocess.run(['cp', '-a', os.path.join(here, n), tmp], check=True)
        open(os.path.join(tmp, 'done'), 'w').close()
        shutil.rmtree(cache, ignore_errors=True)
        os.rename(tmp, cache)
        return True

    def push(self, *extra):
        ns = self.env.ns('reg')
        netenv.run(netenv.in_ns(ns, [IMAGES_TOOL, 'push', self.layout, '127.0.0.1:%d' % netenv.REGISTRY_PORT,
                                     '127.0.0.1:%d' % netenv.PRIVATE_PORT, self.authfile] + list(extra)))

    def write_env(self):
        doc = {'prefix': self.env.prefix, 'cgroupParent': self.env.cgroup_parent,
               'namespaces': self.env.namespaces, 'state': self.state,
               'registry': '%s:%d' % (self.env.registry_ip, netenv.REGISTRY_PORT),
               'hostsDir': os.path.join(self.state, 'hosts'),
               'p2p': {'label': self.o.p2p_label, 'port': p2p.PORT,
                       'hostsDirs': {n: self.p2p.hosts_dir(n) for n in self.nodes}} if self.p2p else None,
               'nodes': {n: {'socket': self.env.containerd_paths(i)['socket'],
                             'netns': self.env.node_ns(i)} for i, n in enumerate(self.nodes)}}
        with open(os.path.join(self.state, 'env.json'), 'w') as f:
            json.dump(doc, f, indent=1)

    def teardown(self):
        for k in self.kubelets.values():
            k.stop.set()
        for k in self.kubelets.values():
            try:
                k.shutdown()
            except Exception as e:
                agent.log('%s: shutdown: %r' % (k.node, e))
            try:
                self.api.patch('/api/v1/nodes/' + agent.q(k.node),
                               {'metadata': {'annotations': {agent.EXTERNAL_ANNOTATION: None}}})
            except Exception:
                pass        # the API server may be gone already
        errors = self.env.teardown()
        if not self.o.keep:
            for d in ('nodes', 'registry'):
                shutil.rmtree(os.path.join(self.state, d), ignore_errors=True)
        return errors


class Admin(http.server.BaseHTTPRequestHandler):
    """POST /gc[?node=N]: image GC; POST /push-moving: the moving tag's second content;
    GET /stats: byte counters (p2p.stats); GET /: env.json."""
    rn = None

    def log_message(self, *a):
        pass

    def reply(self, code, doc):
        body = json.dumps(doc).encode()
        self.send_response(code)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if urllib.parse.urlsplit(self.path).path == '/stats':
            try:
                self.reply(200, p2p.stats(self.rn.env, self.rn.nodes, self.rn.p2p))
            except Exception as e:
                self.reply(500, {'error': str(e)})
            return
        with open(os.path.join(self.rn.state, 'env.json')) as f:
            self.reply(200, json.load(f))

    def do_POST(self):
        u = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(u.query)
        try:
            if u.path == '/gc':
                names = query.get('node') or list(self.rn.kubelets)
                self.reply(200, {n: self.rn.kubelets[n].gc() for n in names})
            elif u.path == '/push-moving':
                self.rn.push('moving-2')
                self.reply(200, {'pushed': 'registry.test/clyde/moving:stable'})
            else:
                self.reply(404, {'error': 'unknown %s' % u.path})
        except Exception as e:
            self.reply(500, {'error': str(e)})


def main(argv=None):
    o = parse_args(sys.argv[1:] if argv is None else argv)
    missing = netenv.missing_prerequisites()
    if missing:
        print('realnode: missing prerequisites:\n' + ''.join('  - %s\n' % m for m in missing),
              file=sys.stderr, end='')
        return EXIT_PREREQ
    if o.check:
        print('realnode: prerequisites OK')
        return 0
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    api = api_from(o)
    rn = None
    code = 0
    try:
        rn = RealNodes(o, api, pick_nodes(api, o))
        rn.setup(stop)
        Admin.rn = rn
        srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Admin)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        url = 'http://127.0.0.1:%d' % srv.server_address[1]
        with open(os.path.join(rn.state, 'admin-url'), 'w') as f:
            f.write(url + '\n')
        print('realnode ready %s %s' % (url, ','.join(rn.nodes)), flush=True)
        while not stop.wait(0.5):
            rn.env.check_alive()
    except (netenv.SetupError, subprocess.CalledProcessError, OSError) as e:
        detail = getattr(e, 'stderr', '') or ''
        print('realnode: %s %s' % (e, detail.strip()), file=sys.stderr, flush=True)
        code = 1
    finally:
        if rn is not None:
            errors = rn.teardown()
            for e in errors:
                print('realnode: teardown: %s' % e, file=sys.stderr)
            code = code or (1 if errors else 0)
    return code


if __name__ == '__main__':
    sys.exit(main())
