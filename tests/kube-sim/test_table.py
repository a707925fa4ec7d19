"""meta.k8s.io Table output (kubectl get), and events listed by involvedObject."""

import json
import unittest
import urllib.parse

import simtest
import table

TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,' \
        'application/json'


class FormattingTest(unittest.TestCase):
    def test_accept(self):
        self.assertEqual(table.wanted(TABLE), 'v1')
        self.assertEqual(table.wanted('application/json;as=Table;v=v1beta1;g=meta.k8s.io'), 'v1beta1')
        self.assertIsNone(table.wanted('application/json'))
        self.assertIsNone(table.wanted(None))
        self.assertIsNone(table.wanted('application/json, application/json;as=Table;v=v1;g=meta.k8s.io'))
        self.assertIsNone(table.wanted('application/json;as=Table;v=v2;g=meta.k8s.io'))

    def test_human_duration(self):
        cases = {-5: '<invalid>', -1: '0s', 0: '0s', 119: '119s', 120: '2m', 125: '2m5s', 600: '10m',
                 179 * 60: '179m', 3 * 3600: '3h', 3 * 3600 + 60: '3h1m', 8 * 3600: '8h', 47 * 3600: '47h',
                 48 * 3600: '2d', 50 * 3600: '2d2h', 8 * 86400: '8d', 729 * 86400: '729d',
                 730 * 86400: '2y', 731 * 86400: '2y1d', 9 * 365 * 86400: '9y'}
        for secs, want in cases.items():
            self.assertEqual(table.human_duration(secs), want, secs)
        self.assertEqual(table.age('2024-01-01T00:00:00Z', now=1704067200 + 90), '90s')
        self.assertEqual(table.age(None), '<unknown>')

    def test_pod_status(self):
        def pod(inits=(), ctrs=(), deleting=False, phase='Pending', n_init=None):
            p = {'metadata': {'name': 'p'}, 'spec': {'containers': [{}] * max(len(ctrs), 1),
                                                     'initContainers': [{}] * (n_init or len(inits))},
                 'status': {'phase': phase, 'initContainerStatuses': list(inits),
                            'containerStatuses': list(ctrs)}}
            if deleting:
                p['metadata']['deletionTimestamp'] = '2024-01-01T00:00:00Z'
            return p
        done = {'state': {'terminated': {'exitCode': 0, 'reason': 'Completed'}}}
        waiting = lambda r: {'state': {'waiting': {'reason': r}}, 'restartCount': 0}  # noqa: E731
        running = {'state': {'running': {}}, 'ready': True, 'restartCount': 2}
        self.assertEqual(table.pod_status(pod(ctrs=[running], phase='Running')), (1, 1, 'Running', 2))
        self.assertEqual(table.pod_status(pod(ctrs=[waiting('ErrImagePull')]))[2], 'ErrImagePull')
        self.assertEqual(table.pod_status(pod(inits=[done, waiting('PodInitializing')], n_init=3))[2], 'Init:1/3')
        self.assertEqual(table.pod_status(pod(inits=[waiting('ImagePullBackOff')]))[2], 'Init:ImagePullBackOff')
        failed = {'state': {'terminated': {'exitCode': 2}}}
        self.assertEqual(table.pod_status(pod(inits=[failed]))[2], 'Init:ExitCode:2')
        self.assertEqual(table.pod_status(pod(ctrs=[running], deleting=True))[2], 'Terminating')

    def test_node_and_selector_formats(self):
        self.assertEqual(table.node_roles({'node-role.kubernetes.io/control-plane': '',
                                           'node-role.kubernetes.io/etcd': '', 'kubernetes.io/role': 'x'}),
                         'control-plane,etcd,x')
        self.assertEqual(table.node_roles({}), '<none>')
        self.assertEqual(table.format_selector({'matchLabels': {'b': '2', 'a': '1'},
                                                'matchExpressions': [{'key': 'k', 'operator': 'In',
                                                                      'values': ['y', 'x']},
                                                                     {'key': 'e', 'operator': 'DoesNotExist'}]}),
                         'a=1,b=2,k in (x,y),!e')
        self.assertEqual(table.format_labels({}), '<none>')


class LiveTableTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = simtest.LiveSim('--nodes', '4', '--control-plane', '1', '--time-scale', '0.02')
        cls.sim.admin('POST', 'nodes/node-0004/notready')
        cls.sim.admin('POST', 'nodes/node-0003/cordon')
        cls.sim.admin('POST', 'images', {'image': 'registry.example.com/missing:*', 'behaviour': 'not-found'})
        ds = simtest.daemonset(name='tab', containers=[{'name': 'a', 'image': 'nginx:1.27'},
                                                       {'name': 'b', 'image': 'registry.example.com/missing:1'}],
                               node_selector={'kubernetes.io/hostname': 'node-0001'})
        code, _ = cls.sim.json('POST', '/apis/apps/v1/namespaces/default/daemonsets', ds)
        assert code == 201

    @classmethod
    def tearDownClass(cls):
        assert cls.sim.stop() == 0

    def get(self, path, accept=TABLE):
        code, hdrs, body = self.sim.call('GET', path, headers={'Accept': accept})
        self.assertEqual(code, 200, body[:300])
        return json.loads(body)

    def test_nodes_table(self):
        t = self.get('/api/v1/nodes')
        self.assertEqual((t['kind'], t['apiVersion']), ('Table', 'meta.k8s.io/v1'))
        cols = [c['name'] for c in t['columnDefinitions'] if c['priority'] == 0]
        self.assertEqual(cols, ['Name', 'Status', 'Roles', 'Age', 'Version'])
        rows = {r['cells'][0]: r for r in t['rows']}
        self.assertEqual(rows['control-plane-1']['cells'][1:3], ['Ready', 'control-plane'])
        self.assertEqual(rows['node-0004']['cells'][1], 'NotReady')
        self.assertEqual(rows['node-0003']['cells'][1], 'Ready,SchedulingDisabled')
        self.assertEqual(rows['node-0001']['cells'][4], 'v1.26.0')
        self.assertRegex(rows['node-0001']['cells'][3], r'^\d+s$')
        obj = rows['node-0001']['object']
        self.assertEqual((obj['kind'], obj['apiVersion']), ('PartialObjectMetadata', 'meta.k8s.io/v1'))
        self.assertNotIn('status', obj)
        self.assertEqual(obj['metadata']['name'], 'node-0001')
        self.assertEqual(self.get('/api/v1/nodes', 'application/json')['kind'], 'NodeList')

    def test_pages_single_objects_and_include_object(self):
        t = self.get('/api/v1/nodes?limit=2')
        self.assertEqual(len(t['rows']), 2)
        self.assertIn('continue', t['metadata'])
        self.assertEqual(t['metadata']['remainingItemCount'], 3)
        t2 = self.get('/api/v1/nodes?limit=2&continue=' + t['metadata']['continue'])
        self.assertEqual([r['cells'][0] for r in t2['rows']], ['node-0002', 'node-0003'])
        one = self.get('/api/v1/nodes/node-0002?includeObject=Object')
        self.assertEqual(len(one['rows']), 1)
        self.assertEqual(one['rows'][0]['object']['kind'], 'Node')
        self.assertIn('images', one['rows'][0]['object']['status'])
        none = self.get('/api/v1/nodes?labelSelector=kubernetes.io%2Fhostname%3Dnode-0002&includeObject=None')
        self.assertEqual([list(r) for r in none['rows']], [['cells']])
        code, _, _ = self.sim.call('GET', '/api/v1/nodes?includeObject=Everything', headers={'Accept': TABLE})
        self.assertEqual(code, 400)

    def test_daemonset_and_pod_tables(self):
        def pod_row():
            t = self.get('/api/v1/namespaces/default/pods?labelSelector=app%3Dtab')
            return t['rows'] and t['rows'][0]['cells'][2] in ('ErrImagePull', 'ImagePullBackOff') and t
        t = self.sim.wait_for(pod_row)
        cells = t['rows'][0]['cells']
        self.assertEqual([c['name'] for c in t['columnDefinitions']][:5], ['Name', 'Ready', 'Status', 'Restarts', 'Age'])
        self.assertEqual(cells[1], '1/2')
        self.assertEqual(cells[3], '0')
        self.assertEqual(cells[6], 'node-0001')
        t = self.get('/apis/apps/v1/namespaces/default/daemonsets')
        self.assertEqual([c['name'] for c in t['columnDefinitions'] if c['priority'] == 0],
                         ['Name', 'Desired', 'Current', 'Ready', 'Up-to-date', 'Available', 'Node Selector', 'Age'])
        cells = t['rows'][0]['cells']
        self.assertEqual(cells[:3], ['tab', 1, 1])
        self.assertEqual(cells[6], 'kubernetes.io/hostname=node-0001')
        self.assertEqual(cells[8:], ['a,b', 'nginx:1.27,registry.example.com/missing:1', 'app=tab'])

    def test_watch_as_table(self):
        conn = self.sim.conn()
        conn.request('GET', '/api/v1/nodes?watch=1&timeoutSeconds=1',
                     headers={'Authorization': 'Bearer ' + self.sim.token, 'Accept': TABLE})
        lines = [json.loads(x) for x in conn.getresponse().read().splitlines()]
        conn.close()
        self.assertEqual(len(lines), 5)
        self.assertEqual({e['object']['kind'] for e in lines}, {'Table'})
        self.assertIn('columnDefinitions', lines[0]['object'])
        self.assertNotIn('columnDefinitions', lines[1]['object'])
        self.assertEqual(lines[1]['object']['rows'][0]['cells'][0], 'node-0001')

    def test_events_by_involved_object(self):
        pods = self.sim.wait_for(lambda: self.sim.json(
            'GET', '/api/v1/namespaces/default/pods?labelSelector=app%3Dtab')[1]['items'])
        name = pods[0]['metadata']['name']

        def reasons():
            q = urllib.parse.quote('involvedObject.name=%s,involvedObject.kind=Pod' % name)
            evs = self.sim.json('GET', '/api/v1/namespaces/default/events?fieldSelector=' + q)[1]['items']
            got = {e['reason'] for e in evs}
            return {'Pulling', 'Pulled', 'Failed', 'BackOff'} <= got and evs
        evs = self.sim.wait_for(reasons)
        self.assertEqual({e['involvedObject']['name'] for e in evs}, {name})
        q = urllib.parse.quote('involvedObject.name=%s,reason=Failed,involvedObject.fieldPath=spec.containers{b}' % name)
        failed = self.sim.json('GET', '/api/v1/namespaces/default/events?fieldSelector=' + q)[1]['items']
        self.assertTrue(failed)
        self.assertTrue(any('registry.example.com/missing:1' in e['message'] for e in failed))
        q = urllib.parse.quote('source=kubelet,type=Warning,involvedObject.name=' + name)
        warn = self.sim.json('GET', '/api/v1/namespaces/default/events?fieldSelector=' + q)[1]['items']
        self.assertTrue(warn)
        self.assertEqual({e['type'] for e in warn}, {'Warning'})
        q = urllib.parse.quote('involvedObject.name!=%s' % name)
        other = self.sim.json('GET', '/api/v1/namespaces/default/events?fieldSelector=' + q)[1]['items']
        self.assertNotIn(name, {e['involvedObject']['name'] for e in other})
        code, body = self.sim.json('GET', '/api/v1/namespaces/default/events?fieldSelector=involvedObject.color%3Dred')
        self.assertEqual((code, body['message']), (400, 'field label not supported: involvedObject.color'))
        t = self.get('/api/v1/namespaces/default/events?fieldSelector=' +
                     urllib.parse.quote('involvedObject.name=' + name))
        self.assertEqual([c['name'] for c in t['columnDefinitions'] if c['priority'] == 0],
                         ['Last Seen', 'Type', 'Reason', 'Object', 'Message'])
        self.assertEqual({r['cells'][3] for r in t['rows']}, {'pod/' + name})


if __name__ == '__main__':
    unittest.main()
