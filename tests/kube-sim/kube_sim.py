#!/usr/bin/env python3
"""kube-sim: a simulated Kubernetes API server, DaemonSet controller and kubelets.

python3 kube_sim.py --state-dir DIR --port 0 --nodes N [--zones Z] [--arch amd64=3,arm64=1]
    [--control-plane K] [--time-scale F] [--images-per-node 50] [--rbac FILE]
    [--rbac-yaml RBAC.yaml]... [--sa-token [NS:]NAME=TOKEN]... ...
Writes DIR/ca.crt, DIR/kubeconfig, DIR/kubeconfig-cert (DIR/kubeconfig-sa-NAME for each
service account), prints
`kube-sim ready https://127.0.0.1:PORT` once it accepts requests, runs until SIGTERM.
"""

import argparse
import gc
import os
import signal
import ssl
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bandwidth  # noqa: E402
import certs  # noqa: E402
import pullnet  # noqa: E402
import rbac  # noqa: E402
from cluster import Cluster  # noqa: E402
from server import Server  # noqa: E402


def parse_args(argv):
    p = argparse.ArgumentParser(prog='kube_sim.py', description=__doc__.split('\n')[1])
    p.add_argument('--state-dir', required=True)
    p.add_argument('--host', default='127.0.0.1')
    p.add_argument('--port', type=int, default=0)
    p.add_argument('--nodes', type=int, default=3)
    p.add_argument('--zones', type=int, default=3)
    p.add_argument('--arch', default='amd64')
    p.add_argument('--control-plane', type=int, default=0)
    p.add_argument('--images-per-node', type=int, default=50)
    p.add_argument('--time-scale', type=float, default=1.0,
                   help='multiplies simulated durations (pulls, back-off); 0.05 = 20x faster')
    p.add_argument('--continue-ttl', type=float, default=300.0,
                   help='seconds after which a continue token is expired (410)')
    p.add_argument('--watch-history', type=int, default=50000,
                   help='watch events kept; older resourceVersions get 410')
    p.add_argument('--bookmark-interval', type=float, default=5.0)
    p.add_argument('--max-events', type=int, default=20000)
    p.add_argument('--no-events', action='store_true', help='do not record Event objects')
    p.add_argument('--rbac', help='JSON policy file, or RBAC manifests (YAML) (see README.md)')
    p.add_argument('--rbac-yaml', action='append', default=[], metavar='FILE',
                   help='Kubernetes RBAC manifests (Role, ClusterRole, bindings, ServiceAccount)')
    p.add_argument('--sa-token', action='append', default=[], metavar='[NS:]NAME=TOKEN',
                   help='bearer token of a service account (default: generated)')
    p.add_argument('--seed', type=int, default=None)
    p.add_argument('--kubelet-cause-in-events', action='store_true',
                   help='a 1.31 kubelet: back-off status without its cause, the cause in events')
    p.add_argument('--kubelet-publish', choices=('change', 'sync'), default='change',
                   help='sync: pod status written once per pod sync, as a real kubelet')
    bw = p.add_argument_group('bandwidth model (README.md, "Bandwidth model"; off by default)')
    bw.add_argument('--registry-rate', metavar='RATE',
                    help='registry egress shared by concurrent pulls, e.g. 100mbit (turns the model on)')
    bw.add_argument('--node-rate', metavar='RATE',
                    help="each node's link, download and upload, e.g. 50mbit (turns the model on)")
    bw.add_argument('--p2p-label', metavar='KEY=VALUE', default=pullnet.DEFAULT_LABEL,
                    help='nodes with this label serve the images they hold to peers')
    bw.add_argument('--no-p2p', action='store_true', help='every pull from the registry')
    bw.add_argument('--pull-cost', type=float, default=0.0, metavar='SECONDS',
                    help='fixed simulated seconds per pull (resolve, unpack, start)')
    bw.add_argument('--image-size', action='append', default=[], metavar='REF=SIZE',
                    help='size of an image (or glob), e.g. registry.local/app:1=200MB')
    opts = p.parse_args(argv)
    if opts.zones < 1 or opts.nodes < 0 or opts.time_scale < 0:
        p.error('--zones must be >= 1, --nodes and --time-scale >= 0')
    try:
        import nodes
        nodes.parse_arch(opts.arch)
    except ValueError:
        p.error('--arch: expected ARCH[=WEIGHT],...')
    try:
        model_options(opts)
    except ValueError as e:
        p.error(str(e))
    return opts


def model_options(opts):
    """Parses the bandwidth model's options in place (ValueError naming the option)."""
    def one(flag, fn, text):
        try:
            return fn(text)
        except ValueError as e:
            raise ValueError('%s: %s' % (flag, e))
    opts.registry_rate = one('--registry-rate', bandwidth.parse_rate, opts.registry_rate) \
        if opts.registry_rate is not None else None
    opts.node_rate = one('--node-rate', bandwidth.parse_rate, opts.node_rate) \
        if opts.node_rate is not None else None
    one('--p2p-label', pullnet.parse_label, opts.p2p_label)
    if opts.pull_cost < 0:
        raise ValueError('--pull-cost must be >= 0')
    sizes = []
    for spec in opts.image_size:
        ref, sep, size = spec.rpartition('=')
        if not sep or not ref:
            raise ValueError('--image-size %s: expected REF=SIZE, e.g. app:1=200MB' % spec)
        sizes.append((ref, one('--image-size', bandwidth.parse_size, size)))
    opts.image_size = sizes


def service_accounts(auth, specs):
    """{(namespace, name): token or None}: the ServiceAccounts of the RBAC manifests and
    those given with --sa-token [NS:]NAME=TOKEN (NS defaults to the manifests' one, else
    default)."""
    out = {sa: None for sa in (auth.rbac.service_accounts if auth.rbac else [])}
    for spec in specs:
        who, sep, tok = spec.partition('=')
        if not sep or not who or not tok:
            raise rbac.PolicyError('--sa-token %s: expected [NAMESPACE:]NAME=TOKEN' % spec)
        ns, _, name = who.rpartition(':')
        if not ns:
            ns = next((n for n, a in out if a == name), 'default')
        out[(ns, name)] = tok
    return out


def ssl_context(d):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(d, 'server.crt'), os.path.join(d, 'server.key'))
    ctx.load_verify_locations(os.path.join(d, 'client-ca.crt'))
    ctx.verify_mode = ssl.CERT_OPTIONAL
    ctx.set_alpn_protocols(['http/1.1'])
    return ctx


def main(argv=None):
    opts = parse_args(sys.argv[1:] if argv is None else argv)
    d = opts.state_dir
    certs.ensure_certs(d)
    token = certs.admin_token(d)
    try:
        auth = rbac.Auth.from_file(token, opts.rbac) if opts.rbac else rbac.Auth(token)
        for path in opts.rbac_yaml:
            auth.load_rbac_yaml(path)
        accounts = service_accounts(auth, opts.sa_token)
    except (OSError, rbac.PolicyError) as e:
        print('kube-sim: --rbac: %s' % e, file=sys.stderr)
        return 64
    # large clusters allocate millions of long-lived, acyclic objects: collect rarely
    gc.set_threshold(50000, 20, 100)
    cluster = Cluster(opts)
    cluster.kubelet.cause_in_status = not opts.kubelet_cause_in_events
    cluster.kubelet.publish = opts.kubelet_publish
    if opts.registry_rate is not None or opts.node_rate is not None:
        cluster.kubelet.use_model(registry_rate=opts.registry_rate, node_rate=opts.node_rate,
                                  cost=opts.pull_cost, label=opts.p2p_label, p2p=not opts.no_p2p)
    for ref, size in opts.image_size:
        cluster.image_rules.set({'image': ref, 'size': size})
    server = Server((opts.host, opts.port), cluster, ssl_context(d), auth, opts.bookmark_interval)
    url = 'https://%s:%d' % (opts.host, server.server_address[1])
    certs.write_kubeconfigs(d, url, token)
    for (ns, name), tok in accounts.items():
        tok = certs.sa_token(d, name, tok)
        auth.add_service_account(ns, name, tok)
        certs.write_sa_kubeconfig(d, url, ns, name, tok)
    with open(os.path.join(d, 'url'), 'w') as f:
        f.write(url + '\n')
    cluster.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.1}, daemon=True).start()
    print('kube-sim ready %s' % url, flush=True)
    while not stop.wait(1.0):
        pass
    server.shutdown()
    server.server_close()
    cluster.controllers.stop.set()
    cluster.kubelet.stop.set()
    return 0


if __name__ == '__main__':
    sys.exit(main())
