#!/usr/bin/env python3
"""Sends podcases.py's invalid pods and DaemonSets (dryRun=All) to API servers and
records or compares their answers.

    compare-real.py --record KUBECONFIG          # a real server -> testdata/real-422.json
    compare-real.py KUBECONFIG_A KUBECONFIG_B    # diff two servers (e.g. real vs kube-sim)

A kubeconfig here is one with `server:`, `certificate-authority:` (a path) and `token:`
(what control-plane.sh and kube-sim write).  Not a test itself: test_podvalidation.py
checks kube-sim against the recording without a real server.
"""

import http.client
import json
import os
import re
import ssl
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import podcases  # noqa: E402

RECORD = os.path.join(HERE, 'testdata', 'real-422.json')
RECORD_ADMISSION = os.path.join(HERE, 'testdata', 'real-admission.json')


class Server:
    def __init__(self, kubeconfig):
        with open(kubeconfig) as f:
            text = f.read()
        self.url = urllib.parse.urlsplit(re.search(r'server:\s*"?([^"\s}]+)', text).group(1))
        self.token = re.search(r'token:\s*"?([^"\s}]+)', text).group(1)
        ca = re.search(r'certificate-authority:\s*"?([^"\s}]+)', text).group(1)
        self.ctx = ssl.create_default_context(cafile=ca)

    def post(self, path, obj, method='POST'):
        c = http.client.HTTPSConnection(self.url.hostname, self.url.port, context=self.ctx, timeout=30)
        c.request(method, path, json.dumps(obj).encode() if obj is not None else None,
                  {'Authorization': 'Bearer ' + self.token, 'Content-Type': 'application/json',
                   'Accept': 'application/json'})
        r = c.getresponse()
        body = json.loads(r.read() or b'null')
        warnings = r.getheader('Warning')
        c.close()
        return r.status, body, warnings


def answer(code, body, warnings):
    """What is compared: the code, and for an error the Status without metadata."""
    out = {'code': code}
    if code >= 400:
        out['status'] = {k: v for k, v in body.items() if k != 'metadata'}
    if warnings:
        out['warnings'] = warnings
    return out


def run(server, ns='default'):
    got = {}
    for name, _, changes in podcases.CASES + podcases.DECODE_CASES:
        for kind, make, path in (('pod', podcases.case_pod, '/api/v1/namespaces/%s/pods' % ns),
                                 ('daemonset', podcases.case_daemonset,
                                  '/apis/apps/v1/namespaces/%s/daemonsets' % ns)):
            got['%s: %s' % (kind, name)] = answer(*server.post(path + '?dryRun=All', make(changes)))
    return got


def setup_namespaces(server):
    """(Re)creates podcases.NAMESPACES with their labels and objects."""
    for ns, (labels, objects) in podcases.NAMESPACES.items():
        server.post('/api/v1/namespaces/' + ns, None, 'DELETE')
        for _ in range(100):        # a deleted namespace takes a while to go
            code, _, _ = server.post('/api/v1/namespaces', {'metadata': {'name': ns, 'labels': labels}})
            if code == 201:
                break
            time.sleep(0.3)
        for plural, obj in objects or ():
            server.post('/api/v1/namespaces/%s/%s' % (ns, plural), obj)
    time.sleep(3)     # the quota controller fills in status.used; service accounts appear


def run_admission(server):
    setup_namespaces(server)
    got = {}
    for name, _, ns, spec, generate in podcases.ADMISSION_CASES:
        code, body, warnings = server.post('/api/v1/namespaces/%s/pods?dryRun=All' % ns,
                                           podcases.admission_pod(spec, generate))
        got[name] = answer(code, body, warnings)
        if code < 400:
            got[name]['spec'] = admitted_fields(body)
    return got


def admitted_fields(pod):
    """What admission changes in an admitted pod."""
    spec = pod['spec']
    return {'priority': spec.get('priority'), 'preemptionPolicy': spec.get('preemptionPolicy'),
            'resources': [c.get('resources') for c in spec.get('containers', [])],
            'limit-ranger': (pod['metadata'].get('annotations') or {}).get('kubernetes.io/limit-ranger')}


def record(path, got):
    with open(path, 'w') as f:
        json.dump(got, f, indent=1, sort_keys=True)
        f.write('\n')
    print('recorded %d answers in %s' % (len(got), path))


def normal(ans):
    """Without what differs between any two runs: Go pointer addresses, generated names."""
    text = re.sub(r'0xc[0-9a-f]+', '0xc0', json.dumps(ans, sort_keys=True))
    return re.sub(r'adm-[a-z0-9]{5}', 'adm-xxxxx', text)


def main(argv):
    if len(argv) == 3 and argv[1] == '--record':
        server = Server(argv[2])
        record(RECORD, run(server))
        record(RECORD_ADMISSION, run_admission(server))
        return 0
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 64
    sa, sb = Server(argv[1]), Server(argv[2])
    a, b = run(sa), run(sb)
    a.update(run_admission(sa))
    b.update(run_admission(sb))
    bad = 0
    for key in a:
        if normal(a[key]) != normal(b[key]):
            bad += 1
            print('DIFF %s\n  A: %s\n  B: %s' % (key, json.dumps(a[key]), json.dumps(b[key])))
    print('%d of %d answers differ' % (bad, len(a)))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
