"""Admission: each podcases.ADMISSION_CASES pod gets from kube-sim what a real v1.26.0
API server answered (testdata/real-admission.json: PodSecurity, LimitRanger,
ResourceQuota, Priority), then the emulated OpenShift uid range, the DaemonSet
controller's FailedCreate events and their correlation."""

import json
import os
import re
import time
import unittest

import admission
import api
import apierrors
import events
import podcases
import psa
import simtest
from resources import RESOURCES

HERE = os.path.dirname(os.path.abspath(__file__))
GENERATED = re.compile(r'adm-[a-z0-9]{5}')


def call(cluster, method_fn, plural, ns, obj, query=None, name=None):
    req = api.Request(RESOURCES[plural], ns, name, None, query or {},
                      json.dumps(obj).encode() if obj is not None else b'', 'application/json', None,
                      'create')
    try:
        return method_fn(cluster, req)
    except apierrors.ApiError as e:
        return e.code, e.status, None


def setup_namespaces(cluster):
    for ns, (labels, objects) in podcases.NAMESPACES.items():
        code, _, _ = call(cluster, api.do_create, 'namespaces', '', {'metadata': {'name': ns, 'labels': labels}})
        assert code == 201, code
        for plural, obj in objects or ():
            code, body, _ = call(cluster, api.do_create, plural, ns, obj)
            assert code == 201, body


def answer(cluster, ns, pod):
    code, body, headers = call(cluster, api.do_create, 'pods', ns, pod, {'dryRun': ['All']})
    out = {'code': code}
    if code >= 400:
        out['status'] = {k: v for k, v in body.items() if k != 'metadata'}
    else:
        spec = body['spec']
        out['spec'] = {'priority': spec.get('priority'), 'preemptionPolicy': spec.get('preemptionPolicy'),
                       'resources': [c.get('resources') for c in spec.get('containers', [])],
                       'limit-ranger': (body['metadata'].get('annotations') or {}).get(
                           'kubernetes.io/limit-ranger')}
    if headers and headers.get('Warning'):
        out['warnings'] = ', '.join(headers['Warning'])
    return json.loads(GENERATED.sub('adm-xxxxx', json.dumps(out)))


class AdmissionTableTest(unittest.TestCase):
    def test_cases_against_recording(self):
        with open(os.path.join(HERE, 'testdata', 'real-admission.json')) as f:
            real = json.load(f)
        cluster = simtest.make_cluster(nodes=1)
        setup_namespaces(cluster)
        self.assertEqual(set(real), {c[0] for c in podcases.ADMISSION_CASES})
        for name, upstream, ns, spec, generate in podcases.ADMISSION_CASES:
            with self.subTest(case=name, upstream=upstream):
                want = json.loads(GENERATED.sub('adm-xxxxx', json.dumps(real[name])))
                self.assertEqual(answer(cluster, ns, podcases.admission_pod(spec, generate)), want)


class PodSecurityTest(unittest.TestCase):
    """Version labels: checks newer than the policy version do not apply."""

    def test_run_as_user_needs_1_23(self):
        spec = {'containers': [{'name': 'c', 'securityContext': {'runAsUser': 0}}]}
        self.assertIn('runAsUser=0', [r for r, _ in psa.evaluate('restricted', None, spec)])
        self.assertNotIn('runAsUser=0', [r for r, _ in psa.evaluate('restricted', (1, 22), spec)])

    def test_privileged_level_allows_everything(self):
        self.assertEqual(psa.evaluate('privileged', None, podcases.HOSTILE), [])

    def test_policy_labels(self):
        self.assertEqual(psa.policy({'pod-security.kubernetes.io/enforce': 'baseline'}, 'enforce')[2],
                         'baseline:latest')
        self.assertIsNone(psa.policy({'pod-security.kubernetes.io/enforce': 'strict'}, 'enforce'))


class UidRangeTest(unittest.TestCase):
    """The OpenShift restricted-v2 SCC emulation (namespace annotation
    openshift.io/sa.scc.uid-range)."""

    def setUp(self):
        self.cluster = simtest.make_cluster(nodes=1)
        call(self.cluster, api.do_create, 'namespaces', '', {'metadata': {
            'name': 'oc', 'annotations': {admission.UID_RANGE: '1000680000/10000'}}})

    def test_fixed_uid_outside_the_range_is_refused(self):
        code, body, _ = call(self.cluster, api.do_create, 'pods', 'oc', podcases.pod())
        self.assertEqual(code, 403)
        self.assertIn('pods "puller" is forbidden: unable to validate against any security context '
                      'constraint: [provider "restricted-v2": spec.securityContext.runAsUser: Invalid '
                      'value: 65534: must be in the ranges: [1000680000, 1000689999]', body['message'])

    def test_unset_uid_gets_the_first_of_the_range(self):
        pod = podcases.pod()
        for c in pod['spec']['containers'] + pod['spec']['initContainers']:
            del c['securityContext']['runAsUser']
            del c['securityContext']['runAsGroup']
        del pod['spec']['securityContext']['runAsUser']
        del pod['spec']['securityContext']['runAsGroup']
        code, body, _ = call(self.cluster, api.do_create, 'pods', 'oc', pod)
        self.assertEqual(code, 201, body)
        uids = [c['securityContext']['runAsUser'] for c in json.loads(body)['spec']['containers']]
        self.assertEqual(uids, [1000680000])


class DaemonSetFailedCreateTest(unittest.TestCase):
    """pkg/controller/daemon: a pod the API refuses -> FailedCreate event on the DaemonSet
    (`Error creating: ...`), status desired 1 / current 0 / unavailable 1, retried with
    back-off."""

    def test_failed_create_events(self):
        cluster = simtest.make_cluster(nodes=1)
        setup_namespaces(cluster)
        ds = podcases.daemonset('psa-ds')
        ds['spec']['template']['spec'] = dict(podcases.PLAIN)
        ds['spec']['template']['spec'].pop('nodeSelector', None)
        code, body, headers = call(cluster, api.do_create, 'daemonsets', 'ksim-restricted', ds)
        self.assertEqual(code, 201)
        self.assertIn('would violate PodSecurity \\"restricted:latest\\"', headers['Warning'][0])
        uid = json.loads(body)['metadata']['uid']
        for _ in range(14):         # 14 tries, as a real controller makes in its first 40 s
            for st in cluster.controllers.state.values():
                st['retry_at'] = 0.0
            cluster.controllers.reconcile()
        evs = [e.obj for e in cluster.store.values('events', 'ksim-restricted')
               if e.obj['involvedObject'].get('uid') == uid]
        self.assertEqual(len(evs), 10)
        first = evs[0]
        self.assertEqual((first['reason'], first['type'], first['source']),
                         ('FailedCreate', 'Warning', {'component': 'daemonset-controller'}))
        self.assertRegex(first['message'], r'^Error creating: pods "psa-ds-[a-z0-9]{5}" is forbidden: '
                         r'violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false')
        self.assertEqual(first['involvedObject']['apiVersion'], 'apps/v1')
        combined = [e for e in evs if e['message'].startswith(events.COMBINED)]
        self.assertEqual(len([e for e in evs if not e['message'].startswith(events.COMBINED)]), 9)
        self.assertEqual(len(combined), 1)
        self.assertEqual(combined[0]['count'], 5)
        st = cluster.store.get('daemonsets', 'ksim-restricted', 'psa-ds').obj['status']
        self.assertEqual((st['desiredNumberScheduled'], st['currentNumberScheduled'], st['numberUnavailable']),
                         (1, 0, 1))
        req = api.Request(RESOURCES['events'], 'ksim-restricted', None, None,
                          {'fieldSelector': ['involvedObject.uid=%s' % uid]}, verb='list')
        listed = json.loads(api.do_list(cluster, req)[1])['items']
        self.assertEqual(len(listed), len(evs))

    def test_same_message_counts_up(self):
        cluster = simtest.make_cluster(nodes=1)
        ds = podcases.daemonset('prio-ds')
        ds['spec']['template']['spec']['priorityClassName'] = 'nope'
        ds['spec']['template']['spec'].pop('nodeSelector')
        ds['spec']['template']['spec'].pop('affinity')
        self.assertEqual(call(cluster, api.do_create, 'daemonsets', 'default', ds)[0], 201)
        deadline = time.monotonic() + 1
        while time.monotonic() < deadline:
            cluster.controllers.reconcile()
        evs = [e.obj for e in cluster.store.values('events', 'default') if e.obj['reason'] == 'FailedCreate']
        self.assertEqual(len(evs), 1)
        self.assertEqual(evs[0]['message'], 'Error creating: pods "prio-ds-" is forbidden: no PriorityClass '
                         'with name nope was found')
        self.assertGreater(evs[0]['count'], 5)
        self.assertLess(evs[0]['count'], 15)    # 5 ms doubling: ~8 tries in a second

    def test_spam_filter(self):
        c = events.Correlator()
        ev = {'involvedObject': {'name': 'x'}, 'source': {}, 'metadata': {'name': 'x.1'},
              'firstTimestamp': 't', 'message': 'm', 'type': 'Normal', 'reason': 'R'}
        got = [c.observe(dict(ev, message='m%d' % i), 100.0) for i in range(30)]
        self.assertEqual(sum(1 for g in got if g is None), 5)


if __name__ == '__main__':
    unittest.main()
