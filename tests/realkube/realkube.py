#!/usr/bin/env python3
"""realkube: a real Kubernetes control plane for one test run, laid out like kube-sim.

python3 realkube.py --state-dir DIR [--nodes N] [--zones Z] [--arch amd64=3,arm64=1]
    [--control-plane K] [--time-scale F] [--images-per-node 50] [--rbac-yaml FILE]...
    [--no-heartbeats]
Starts etcd, kube-apiserver, kube-controller-manager and kube-scheduler (controlplane.py),
applies the RBAC manifests (default etc/clyde/rbac.yaml), registers the nodes and plays
their kubelets (realagent.py), and serves a fault-injecting proxy with kube-sim's /_sim/
admin API (proxy.py).  Writes, as kube-sim does: DIR/url (the proxy), DIR/ca.crt,
DIR/token (admin), DIR/kubeconfig (the ServiceAccount clyde-seed, a TokenRequest token,
through the proxy), DIR/kubeconfig-sa-NAME, DIR/kubeconfig-admin; and DIR/api-url,
DIR/kubeconfig-direct (admin), DIR/kubeconfig-direct-sa and DIR/kubeconfig-cert (a client
certificate of system:masters), straight to the API server, and
DIR/pids (each component's process id).  Prints
`realkube ready https://127.0.0.1:PORT` once the nodes are Ready; runs until SIGTERM.
Exit 69 when an asset (binary, etcd, openssl, xz) is missing, 1 when a part failed."""

import argparse
import os
import shutil
import signal
import ssl
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.join(HERE, '..', 'kube-sim'))

import apply  # noqa: E402
import controlplane  # noqa: E402
import nodes as nodemod  # noqa: E402
from kclient import Client, ssl_context  # noqa: E402
from proxy import Proxy  # noqa: E402
from realagent import Agent  # noqa: E402


def parse_args(argv):
    p = argparse.ArgumentParser(prog='realkube.py', description=__doc__.split('\n')[1])
    p.add_argument('--state-dir', required=True)
    p.add_argument('--port', type=int, default=0, help='the proxy port (default: any free)')
    p.add_argument('--nodes', type=int, default=3)
    p.add_argument('--zones', type=int, default=3)
    p.add_argument('--arch', default='amd64')
    p.add_argument('--control-plane', type=int, default=0)
    p.add_argument('--images-per-node', type=int, default=50)
    p.add_argument('--time-scale', type=float, default=1.0)
    p.add_argument('--rbac-yaml', action='append', default=[])
    p.add_argument('--sa', default='default:clyde-seed', help='NS:NAME the tool runs as')
    p.add_argument('--seed', type=int, default=None)
    p.add_argument('--no-events', action='store_true')
    p.add_argument('--kubelet-cause-in-events', action='store_true',
                   help='as kube-sim: a 1.31 kubelet back-off, the cause only in events')
    p.add_argument('--kubelet-publish', choices=('change', 'sync'), default='change',
                   help='as kube-sim: sync writes pod status once per pod sync')
    p.add_argument('--no-heartbeats', action='store_true',
                   help='no node Lease renewals, and a node-monitor grace period of a day so the '
                        'node-lifecycle controller never marks a node Unknown (bench/run at '
                        'thousands of nodes: one Python agent cannot renew them all in time)')
    return p.parse_args(argv)


def wait_for(what, fn, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if fn():
                return
        except Exception:  # noqa: BLE001  (not up yet)
            pass
        time.sleep(0.2)
    raise controlplane.SetupError('%s not ready after %ds' % (what, seconds))


def write_files(d, cp, proxy_url, sa, sa_tok):
    shutil.copy(cp.cafile, os.path.join(d, 'ca.crt'))
    ca = os.path.join(d, 'ca.crt')
    admin_tok = cp.tokens['admin']
    for name, text in (('url', proxy_url), ('api-url', cp.url), ('token', admin_tok)):
        with open(os.path.join(d, name), 'w') as f:
            f.write(text + '\n')
    os.chmod(os.path.join(d, 'token'), 0o600)
    ns, name = sa
    controlplane.kubeconfig(os.path.join(d, 'kubeconfig'), proxy_url, ca, name, sa_tok, ns)
    controlplane.kubeconfig(os.path.join(d, 'kubeconfig-sa-' + name), proxy_url, ca, name, sa_tok, ns)
    controlplane.kubeconfig(os.path.join(d, 'kubeconfig-admin'), proxy_url, ca, 'admin', admin_tok)
    controlplane.kubeconfig(os.path.join(d, 'kubeconfig-direct'), cp.url, ca, 'admin', admin_tok)
    # the ServiceAccount straight to the API server: HTTP/2 (the proxy speaks HTTP/1.1)
    controlplane.kubeconfig(os.path.join(d, 'kubeconfig-direct-sa'), cp.url, ca, name, sa_tok, ns)
    # as kube-sim's: a client certificate (straight to the API server: the proxy ends TLS)
    controlplane.kubeconfig_cert(os.path.join(d, 'kubeconfig-cert'), cp.url, cp.pki)


def bring_up(opts, cp, stop):
    cp.start(controlplane.assets())
    clients = lambda: Client(cp.url, cp.tokens['admin'], cp.cafile)  # noqa: E731
    admin = clients()
    # pods need the namespace's default ServiceAccount (made by the controller manager)
    wait_for('the default ServiceAccount', lambda: admin.get('/api/v1/namespaces/default/serviceaccounts/default'), 60)
    top = os.path.join(HERE, '..', '..')
    for f in opts.rbac_yaml or [os.path.join(top, 'etc', 'clyde', 'rbac.yaml')]:
        apply.apply_file(admin, f)
    ns, _, name = opts.sa.rpartition(':')
    sa = (ns or 'default', name)
    sa_tok = apply.sa_token(admin, sa[0], sa[1])
    agent = Agent(clients, opts, heartbeat=None if opts.no_heartbeats else controlplane.NODE_GRACE / 4)
    agent.users = {cp.tokens['admin']: 'admin', sa_tok: 'system:serviceaccount:%s:%s' % sa}
    specs = nodemod.initial_nodes(opts.nodes, opts.zones, opts.arch, opts.control_plane,
                                  opts.images_per_node)
    agent.start(specs)
    names = [s['metadata']['name'] for s in specs]
    wait = max(60, len(names) // 20)
    if not agent.wait_schedulable(names, wait):
        raise controlplane.SetupError('nodes did not become Ready and untainted in %d s' % wait)
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(os.path.join(cp.pki, 'server.crt'), os.path.join(cp.pki, 'server.key'))
    sctx.set_alpn_protocols(['http/1.1'])
    proxy = Proxy(('127.0.0.1', opts.port), agent, sctx, ('127.0.0.1', cp.port),
                  ssl_context(cp.cafile))
    threading.Thread(target=proxy.serve_forever, kwargs={'poll_interval': 0.1}, daemon=True).start()
    url = 'https://127.0.0.1:%d' % proxy.server_address[1]
    write_files(opts.state_dir, cp, url, sa, sa_tok)
    return agent, proxy, url


def main(argv=None):
    opts = parse_args(sys.argv[1:] if argv is None else argv)
    os.makedirs(opts.state_dir, exist_ok=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    cp = controlplane.ControlPlane(opts.state_dir)
    if opts.no_heartbeats:     # the node-lifecycle controller still lifts the not-ready taints
        cp.node_grace = 24 * 3600
    agent = proxy = None
    t0 = time.monotonic()
    try:
        agent, proxy, url = bring_up(opts, cp, stop)
        with open(os.path.join(opts.state_dir, 'pids'), 'w') as f:   # bench/run reads their CPU time
            f.write(''.join('%s %d\n' % (name, p.pid) for name, p in cp.procs))
        print('realkube ready %s (%.1f s)' % (url, time.monotonic() - t0), flush=True)
        while not stop.wait(1.0):
            dead = cp.dead()
            if dead:
                print('realkube: %s exited' % ', '.join(dead), file=sys.stderr, flush=True)
                return 1
        return 0
    except controlplane.SetupError as e:
        print('realkube: %s' % e, file=sys.stderr, flush=True)
        return 69 if 'missing' in str(e) or 'no ' in str(e)[:3] or 'lacks' in str(e) else 1
    finally:
        if agent is not None:
            agent.stop.set()
            agent.kubelet.stop.set()
        if proxy is not None:
            proxy.shutdown()
            proxy.server_close()
        cp.stop()


if __name__ == '__main__':
    sys.exit(main())
