#!/usr/bin/env python3
"""Least privilege: kube-sim evaluates etc/clyde/rbac.yaml as the RBAC authorizer does and
clyde-seed runs as its ServiceAccount. With the file as shipped a full cycle passes; with
any one permission (one verb of one rule) taken away the run stops with exit 77, names
the missing permission, and leaves nothing behind: no label, no DaemonSet, no write
other than the SelfSubjectAccessReviews it asks. A permission whose removal does not stop
the run is reported as TODO (rbac.yaml grants more than a cycle uses).
Every permission in make check too (a few seconds each). With CLYDE_TEST_BACKEND=real
one control plane serves every case (Shared)."""

import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rlib  # noqa: E402

SA = 'clyde-seed'
RESOLVED_IMAGES = ('127.0.0.1:1/team/app:1', '127.0.0.1:1/team/db:2')
tap = rlib.Tap()


def yamlsub():
    sys.path.insert(0, os.path.join(rlib.srcdir(), 'tests', 'kube-sim'))
    import yamlsub as y  # noqa: E402
    return y


def emit(obj, indent=0):
    """Block-style YAML for dicts, lists and scalars (strings always quoted)."""
    pad = ' ' * indent
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, (dict, list)) and v:
                out.append('%s%s:' % (pad, k))
                out.append(emit(v, indent + 2))
            else:
                out.append('%s%s: %s' % (pad, k, scalar(v)))
    else:
        for v in obj:
            if isinstance(v, dict) and v:
                inner = emit(v, indent + 2).split('\n')
                out.append('%s- %s' % (pad, inner[0].lstrip()))
                out.extend(inner[1:])
            else:
                out.append('%s- %s' % (pad, scalar(v)))
    return '\n'.join(out)


def scalar(v):
    if isinstance(v, bool):
        return 'true' if v else 'false'
    if isinstance(v, (int, float)):
        return str(v)
    if v is None:
        return 'null'
    if isinstance(v, list):
        return '[]'
    if isinstance(v, dict):
        return '{}'
    return '"%s"' % str(v).replace('\\', '\\\\').replace('"', '\\"')


def permissions(docs):
    """(doc index, rule index, verb, description) for every verb of every rule."""
    perms = []
    for di, d in enumerate(docs):
        if not isinstance(d, dict) or d.get('kind') not in ('Role', 'ClusterRole'):
            continue
        for ri, rule in enumerate(d.get('rules') or []):
            groups = rule.get('apiGroups') or ['']
            for res in rule.get('resources') or []:
                for verb in rule.get('verbs') or []:
                    desc = '%s %s%s' % (verb, res, '.' + groups[0] if groups[0] else '')
                    if rule.get('resourceNames'):
                        desc += ' (%s)' % ','.join(rule['resourceNames'])
                    perms.append((di, ri, verb, res, desc))
    return perms


def without(docs, di, ri, verb, res):
    import copy
    docs = copy.deepcopy(docs)
    rules = docs[di]['rules']
    rule = rules[ri]
    if len(rule.get('resources') or []) > 1:
        # split the resource out, keep the others untouched
        other = dict(rule, resources=[r for r in rule['resources'] if r != res])
        mine = dict(rule, resources=[res])
        rules[ri:ri + 1] = [other, mine]
        rule = mine
    rule['verbs'] = [v for v in rule['verbs'] if v != verb]
    if not rule['verbs']:
        rules.remove(rule)
    return docs


def write(path, docs):
    with open(path, 'w') as f:
        f.write('\n---\n'.join(emit(d) for d in docs) + '\n')


class Shared:
    """CLYDE_TEST_BACKEND=real: one control plane for every case (starting one costs ~10 s).
    Each case applies its rbac.yaml to it the way a user would (create or replace, through
    tests/realkube/apply.py) and waits until the authorizer has it; the cluster is reset
    after a case that left something in it."""

    def __init__(self, d, rbac_file):
        sys.path.insert(0, os.path.join(rlib.srcdir(), 'tests', 'realkube'))
        import apply
        from kclient import Client
        self.apply = apply
        self.sim = rlib.Sim(os.path.join(d, 'real'), nodes=6, zones=2, extra=['--rbac-yaml', rbac_file])
        self.sim.stop_case = lambda: None
        with open(os.path.join(self.sim.dir, 'api-url')) as f:
            self.client = Client(f.read().strip(), self.sim.token, os.path.join(self.sim.dir, 'ca.crt'))
        self.dirty = False
        self.last = None

    def case(self, rbac_file, removed):
        """Applies rbac_file; removed: (verb, resource, group, namespace, name) it takes
        away, or None."""
        if self.dirty:
            self.sim.reset()
        self.apply.apply_file(self.client, rbac_file)
        if self.last and self.last != removed:
            self.wait_for(self.last, True)      # the previous case's permission is back
        if removed:
            self.wait_for(removed, False)
        self.last = removed
        self.sim.admin('DELETE', 'log')
        return self.sim

    def wait_for(self, perm, allowed, seconds=5.0):
        """Until a SubjectAccessReview for the ServiceAccount answers `allowed` for perm (the
        RBAC authorizer reads roles from a watch cache, so a change shows after a moment);
        another rule may still grant a removed permission, so after `seconds` the case
        runs anyway, as it would on a fresh control plane."""
        verb, resource, group, namespace, name = perm
        attrs = {'verb': verb, 'resource': resource, 'group': group}
        if namespace:
            attrs['namespace'] = namespace
        if name:
            attrs['name'] = name
        review = {'apiVersion': 'authorization.k8s.io/v1', 'kind': 'SubjectAccessReview',
                  'spec': {'user': 'system:serviceaccount:default:' + SA, 'resourceAttributes': attrs,
                           'groups': ['system:serviceaccounts', 'system:serviceaccounts:default',
                                      'system:authenticated']}}
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            out = self.client.call('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', review)
            if bool(out.get('status', {}).get('allowed')) == allowed:
                return
            time.sleep(0.05)


def run_case(d, name, rbac_file, shared=None, removed=None):
    if shared is None:
        sim = rlib.Sim(os.path.join(d, name), nodes=6, zones=2, extra=['--rbac-yaml', rbac_file])
        sim.stop_case = sim.stop
    else:
        sim = shared.case(rbac_file, removed)
    # The pull secret rbac.yaml names (its placeholder) and registry resolution, which
    # reads it: images on a loopback port where nothing listens, so resolution falls back
    # to tag pulls at once and reaches no registry outside the machine.
    ws = rlib.Workspace(os.path.join(d, name + '-ws'), sim, images=RESOLVED_IMAGES,
                        ini={'log': {'level': 'DEBUG', 'stdout': 'yes'},
                             'preload': {'image_pull_secrets': 'regcred'},
                             'registry': {'resolve': 'yes', 'timeout': '2s'}})
    kc = os.path.join(sim.dir, 'kubeconfig-sa-' + SA)
    p = ws.run(kubeconfig=kc, timeout=180)
    if shared is not None:
        shared.dirty = bool(writes(sim)) or p.returncode == 0
    return sim, ws, p


def writes(sim):
    """Mutating requests other than the access reviews, from the request log."""
    import json
    status, text = sim.request('GET', '/_sim/log', auth=False)
    if not isinstance(text, str):
        return []
    recs = [json.loads(x) for x in text.splitlines() if x.strip()]
    return [r for r in recs if r.get('method') in ('POST', 'PUT', 'PATCH', 'DELETE')
            and 'selfsubjectaccessreviews' not in r.get('path', '')]


def main():
    # rbac.yaml ships with the tool and kube-sim reads it: a failure here is a failure.
    rbac = os.path.join(rlib.srcdir(), 'etc', 'clyde', 'rbac.yaml')
    try:
        with open(rbac) as f:
            docs = [x for x in yamlsub().load_all(f.read()) if x]
    except (OSError, ValueError) as e:
        tap.bail('cannot read %s: %s' % (rbac, e))
    d = rlib.workdir('rbac')
    shared = Shared(d, rbac) if os.environ.get('CLYDE_TEST_BACKEND') == 'real' else None

    sim, ws, p = run_case(d, 'shipped', rbac, shared)
    tap.is_eq(p.returncode, 0, 'shipped rbac.yaml: a full cycle passes',)
    problems = rlib.converged(ws, rlib.expected_target(ws.sim))
    tap.ok(not problems, 'shipped rbac.yaml: converged', '\n'.join(problems) + p.stdout[-1500:])
    sim.stop_case()

    perms = permissions(docs)
    tap.ok(len(perms) >= 10, 'rbac.yaml grants %d permissions' % len(perms))
    for di, ri, verb, res, desc in perms:
        path = os.path.join(d, 'rbac-without-%s-%s.yaml' % (verb, res))
        write(path, without(docs, di, ri, verb, res))
        rule = docs[di]['rules'][ri]
        removed = (verb, res, (rule.get('apiGroups') or [''])[0],
                   docs[di]['metadata'].get('namespace') or ('default' if docs[di]['kind'] == 'Role' else ''),
                   (rule.get('resourceNames') or [''])[0])
        sim, ws, p = run_case(d, 'no-%s-%s' % (verb, res), path, shared, removed)
        text = p.stdout + p.stderr
        name = 'without %s' % desc
        if p.returncode == 0:
            # TAP TODO: rbac.yaml grants more than the cycle used.
            print('not ok %d - %s: the run still passes # TODO rbac.yaml grants more than a '
                  'cycle uses' % (tap.n + 1, name), flush=True)
            tap.n += 1
            sim.stop_case()
            continue
        tap.is_eq(p.returncode, rlib.EXIT_NOPERM, '%s: exit 77' % name)
        named = re.search(r'\b%s\b.*\b%s\b' % (verb, res), text) or \
            re.search(r'\b%s\b.*\b%s\b' % (res, verb), text)
        tap.ok(named, '%s: the message names the permission' % name, text[-1200:])
        for line in text.splitlines():
            if 'ERROR' in line and res in line:
                tap.diag('  ' + line.split('ERROR', 1)[1].strip()[:200])
                break
        left = [n['metadata']['name'] for n in sim.nodes(rlib.SEEDER_LABEL)]
        tap.is_eq(left, [], '%s: no node labelled' % name)
        tap.is_eq([x['metadata']['name'] for x in sim.daemonsets()], [],
                  '%s: no DaemonSet left' % name)
        w = writes(sim)
        tap.ok(not w, '%s: no write reached the cluster' % name,
               '\n'.join('%s %s %s' % (r['method'], r['path'], r['status']) for r in w[:10]))
        sim.stop_case()
    tap.exit()


if __name__ == '__main__':
    main()
