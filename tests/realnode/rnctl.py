#!/usr/bin/env python3
"""Queries for the realnode tests: what each node's containerd holds, leftovers.

rnctl.py STATE images [NODE]          NODE REF DIGEST per line, from `ctr images ls`
rnctl.py STATE containers [NODE]      NODE ID per container (and NODE task:ID per task)
rnctl.py STATE status-images SIMDIR   NODE NAME SIZE per name in each node's status.images
rnctl.py STATE leftovers PREFIX CGROUP network namespaces, mounts under STATE, cgroup
                                      directories and shims left: one line each
rnctl.py STATE secret SIMDIR NAME     creates a dockerconfigjson secret for private.test
rnctl.py STATE admin METHOD PATH      the admin API of a running realnode.py
rnctl.py STATE label SIMDIR NODE K=V|K-   sets (or removes) a node label (merge patch)
rnctl.py STATE pull NODE REF          the node's pull as its kubelet does it (its netns,
                                      its hosts directory: the P2P mirrors with --p2p)
rnctl.py STATE api SIMDIR METHOD PATH [JSON]   an API request; prints the JSON answer
                                      ({"error": CODE} for an HTTP error)
rnctl.py STATE wait SIMDIR PATH EXPR SECONDS  polls GET PATH until the Python EXPR
                                      over p (the answer, or {"error": CODE}) and s (its
                                      status) holds; prints p; exit 1 on timeout
"""

import base64
import json
import os
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import netenv  # noqa: E402
from kubeapi import Api, ApiError  # noqa: E402


def env(state):
    with open(os.path.join(state, 'env.json')) as f:
        return json.load(f)


def ctr(state, node, *args):
    sock = env(state)['nodes'][node]['socket']
    return subprocess.run(['ctr', '--address', sock, '--namespace', 'k8s.io'] + list(args),
                          capture_output=True, text=True, check=True).stdout


def nodes(state, node=None):
    return [node] if node else sorted(env(state)['nodes'])


def images(state, node=None):
    for n in nodes(state, node):
        for line in ctr(state, n, 'images', 'ls').splitlines()[1:]:
            f = line.split()
            print(n, f[0], f[2])


def containers(state, node=None):
    for n in nodes(state, node):
        for what, prefix in (('containers', ''), ('tasks', 'task:')):
            for ln in ctr(state, n, what, 'ls').splitlines()[1:]:
                if ln.strip():
                    print(n, prefix + ln.split()[0])


def status_images(state, simdir):
    api = Api.from_kube_sim(simdir)
    for n in nodes(state):
        for img in api.get('/api/v1/nodes/' + n)['status'].get('images') or []:
            for name in img['names']:
                print(n, name, img['sizeBytes'])


def leftovers(state, prefix, cgroup):
    out = ['netns ' + n for n in netenv.namespaces_with_prefix(prefix)]
    out += ['mount ' + m for m in netenv.mounts_under(os.path.abspath(state))]
    out += ['cgroup ' + d for d in netenv.cgroup_dirs(cgroup)]
    for pid in os.listdir('/proc'):
        # Not this process (/proc/self, its own pid): its command line names the state
        # directory too, and 'registry' when the checkout's path holds that word.
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open('/proc/%s/cmdline' % pid, 'rb') as f:
                cmd = f.read().replace(b'\0', b' ').decode(errors='replace')
        except OSError:
            continue
        if os.path.abspath(state) in cmd and ('containerd' in cmd or 'registry' in cmd):
            out.append('process %s %s' % (pid, cmd[:120]))
    print('\n'.join(out))


def secret(state, simdir, name):
    with open(os.path.join(state, 'registry-credentials')) as f:
        cred = f.read().strip()
    cfg = {'auths': {'private.test': {'auth': base64.b64encode(cred.encode()).decode()}}}
    body = {'apiVersion': 'v1', 'kind': 'Secret', 'type': 'kubernetes.io/dockerconfigjson',
            'metadata': {'name': name, 'namespace': 'default'},
            'data': {'.dockerconfigjson': base64.b64encode(json.dumps(cfg).encode()).decode()}}
    Api.from_kube_sim(simdir).call('POST', '/api/v1/namespaces/default/secrets', body)


def admin(state, method, path):
    with open(os.path.join(state, 'admin-url')) as f:
        url = f.read().strip()
    req = urllib.request.Request(url + path, method=method, data=b'' if method == 'POST' else None)
    with urllib.request.urlopen(req, timeout=120) as r:
        print(r.read().decode())


def label(state, simdir, node, spec):
    key, _, value = spec.partition('=')
    labels = {key[:-1]: None} if spec.endswith('-') and '=' not in spec else {key: value}
    Api.from_kube_sim(simdir).patch('/api/v1/nodes/' + node, {'metadata': {'labels': labels}})


def pull(state, node, ref):
    e = env(state)
    n = e['nodes'][node]
    hosts = e['p2p']['hostsDirs'][node] if e.get('p2p') else e['hostsDir']
    p = subprocess.run(netenv.in_ns(n['netns'], ['ctr', '--address', n['socket'], '--namespace', 'k8s.io',
                                                 'images', 'pull', '--hosts-dir', hosts, ref]),
                       capture_output=True, text=True)
    if p.returncode != 0:
        print(p.stderr.strip(), file=sys.stderr)
        sys.exit(1)


def api(state, simdir, method, path, body=None):
    try:
        out = Api.from_kube_sim(simdir).call(method, path, json.loads(body) if body else None)
    except ApiError as e:
        out = {'error': e.code}
    print(json.dumps(out))


def wait(state, simdir, path, expr, seconds):
    api_ = Api.from_kube_sim(simdir)
    end = time.monotonic() + float(seconds)
    while True:
        try:
            p = api_.get(path)
        except ApiError as e:
            p = {'error': e.code}
        try:
            held = eval(expr, {}, {'p': p, 's': p.get('status') or {}})
        except (KeyError, IndexError, TypeError):
            held = False
        if held or time.monotonic() > end:
            print(json.dumps(p))
            sys.exit(0 if held else 1)
        time.sleep(0.2)


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 64
    state, cmd, args = argv[1], argv[2], argv[3:]
    fn = {'images': images, 'containers': containers, 'leftovers': leftovers,
          'status-images': status_images, 'api': api, 'wait': wait,
          'secret': secret, 'admin': admin, 'pull': pull, 'label': label}.get(cmd)
    if fn is None:
        print('rnctl: unknown command %s' % cmd, file=sys.stderr)
        return 64
    fn(state, *args)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
