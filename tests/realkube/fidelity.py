#!/usr/bin/env python3
"""Differential fidelity: every request of corpus.py goes to kube-sim and to a real
kube-apiserver v1.26.0 (both with the same three nodes and etc/clyde/rbac.yaml); the
answers are compared by status code and, for Status objects, reason, details.causes and
message (UIDs masked); for other answers the kind (and an access review's verdict).
Prints `fidelity: N/M agree`, then TAP: at least 300 requests, the ratio is at least
0.95, and every case that disagrees is explained in tests/kube-sim/FIDELITY.md (its id
appears there, in backquotes).
FIDELITY_REPORT=FILE writes every disagreement as JSON lines."""

import json
import os
import re
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import corpus  # noqa: E402
from kclient import Client  # noqa: E402

TOP = os.environ.get('top_srcdir') or os.path.join(HERE, '..', '..')
UUID = re.compile(r'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}')
THRESHOLD = 0.95


def start(prog, state, args):
    os.makedirs(state, exist_ok=True)
    py = os.environ.get('PYTHON3') or sys.executable
    p = subprocess.Popen([py, os.path.join(TOP, 'tests', prog), '--state-dir', state, '--port', '0',
                          '--nodes', '3', '--zones', '3', '--time-scale', '0.02'] + args,
                         stdout=subprocess.PIPE, stderr=open(os.path.join(state, 'stderr'), 'w'),
                         text=True, start_new_session=True)
    return p


def ready(p, state, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        line = p.stdout.readline()
        if ' ready ' in line:
            return
        if not line and p.poll() is not None:
            break
    err = open(os.path.join(state, 'stderr')).read()[-1500:]
    if p.poll() == 69 and os.environ.get('CI') != 'true':
        print('1..0 # SKIP real control plane unavailable: %s' % err.strip().splitlines()[-1:])
        sys.exit(0)
    print('Bail out! %s did not start: %s' % (state, err))
    sys.exit(1)


def sa_token(state):
    text = open(os.path.join(state, 'kubeconfig-sa-clyde-seed')).read()
    return re.search(r'token: "?([^"\n]+)"?', text).group(1)


def clients(state, url_file):
    url = open(os.path.join(state, url_file)).read().strip()
    ca = os.path.join(state, 'ca.crt')
    admin = open(os.path.join(state, 'token')).read().strip()
    return {'admin': Client(url, admin, ca, 15), 'sa': Client(url, sa_token(state), ca, 15),
            'nobody': Client(url, None, ca, 15)}


def send(cl, case):
    hdrs = {'Content-Type': case['ctype']} if case['ctype'] else {}
    try:
        code, _, body = cl.raw(case['method'], case['path'], case['body'],
                               case['ctype'] or 'application/json', hdrs)
    except (OSError, socket.timeout) as e:
        cl.close()
        return ('error', type(e).__name__)
    return summarize(code, body)


def summarize(code, body):
    try:
        doc = json.loads(body)
    except ValueError:
        lines = [x for x in body.splitlines() if x.strip()]
        try:
            evs = [json.loads(x) for x in lines]
            return (code, 'watch', tuple(e.get('type') for e in evs))
        except ValueError:
            return (code, 'text', mask(body.decode(errors='replace').strip()[:160]))
    if not isinstance(doc, dict):
        return (code, 'json', type(doc).__name__)
    if doc.get('kind') == 'Status' and code >= 300:
        causes = tuple(sorted((c.get('reason', ''), c.get('field', ''), mask(c.get('message', '')))
                              for c in (doc.get('details') or {}).get('causes') or []))
        return (code, doc.get('reason', ''), mask(doc.get('message', '')), causes)
    if doc.get('kind') == 'SelfSubjectAccessReview':
        return (code, 'SelfSubjectAccessReview', bool((doc.get('status') or {}).get('allowed')))
    return (code, doc.get('kind', '?'))


def mask(s):
    return UUID.sub('<uid>', s)


def explained(ids):
    path = os.path.join(TOP, 'tests', 'kube-sim', 'FIDELITY.md')
    text = open(path).read() if os.path.exists(path) else ''
    return [i for i in ids if '`%s`' % i not in text]


def main():
    if os.environ.get('CLYDE_REAL_TIER', '1') == '0':
        print('1..0 # SKIP real tier turned off (CLYDE_REAL_TIER=0)')
        return 0
    base = os.environ.get('TMPDIR', '/tmp')
    work = os.path.join(base, 'clyde-fidelity.%d' % os.getpid())
    rbac = os.path.join(TOP, 'etc', 'clyde', 'rbac.yaml')
    sim_dir, real_dir = os.path.join(work, 'sim'), os.path.join(work, 'real')
    real = start('realkube/realkube.py', real_dir, ['--no-events'])
    sim = start('kube-sim/kube_sim.py', sim_dir, ['--rbac-yaml', rbac])
    try:
        ready(sim, sim_dir, 60)
        ready(real, real_dir, 240)
        run(clients(sim_dir, 'url'), clients(real_dir, 'api-url'))
    finally:
        for p in (sim, real):
            if p.poll() is None:
                p.terminate()
                p.wait(30)
        subprocess.call(['rm', '-rf', work])


def run(sim, real):
    cases = corpus.build()
    agree, diffs = 0, []
    for case in cases:
        a, b = send(sim[case['who']], case), send(real[case['who']], case)
        if a == b:
            agree += 1
        else:
            diffs.append({'id': case['id'], 'sim': a, 'real': b})
    report = os.environ.get('FIDELITY_REPORT')
    if report:
        with open(report, 'w') as f:
            for d in diffs:
                f.write(json.dumps(d) + '\n')
    print('# fidelity: %d/%d agree' % (agree, len(cases)))
    for d in diffs:
        print('# differs: %s\n#   kube-sim: %s\n#   real:     %s' % (d['id'], d['sim'], d['real']))
    missing = explained([d['id'] for d in diffs])
    print('1..3')
    print('%s 1 - the corpus has at least 300 requests (%d)' % ('ok' if len(cases) >= 300 else 'not ok', len(cases)))
    ratio = agree / len(cases) if cases else 0
    print('%s 2 - fidelity: %d/%d agree (%.3f >= %.2f)' % (
        'ok' if ratio >= THRESHOLD else 'not ok', agree, len(cases), ratio, THRESHOLD))
    print('%s 3 - every disagreement is explained in tests/kube-sim/FIDELITY.md' % ('not ok' if missing else 'ok'))
    for m in missing:
        print('#   not explained: `%s`' % m)
    return 0


if __name__ == '__main__':
    sys.exit(main())
