import http.client
import json
import os
import tempfile
import time
import unittest

import simtest


def _protobuf_fields(data):
    """The (field, bytes) pairs of a message holding only length-delimited fields."""
    out, i = [], 0
    while i < len(data):
        key, i = data[i], i + 1
        n, shift = 0, 0
        while True:
            b, i = data[i], i + 1
            n |= (b & 0x7f) << shift
            shift += 7
            if not b & 0x80:
                break
        if key & 7 != 2:
            raise ValueError('field %d: wire type %d' % (key >> 3, key & 7))
        out.append((key >> 3, data[i:i + n]))
        i += n
    return out


class LiveServerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.policy = tempfile.NamedTemporaryFile('w', suffix='.json', delete=False)
        json.dump({'tokens': {'reader-token': 'reader'},
                   'rules': [{'users': ['reader'], 'verbs': ['get', 'list', 'watch'],
                              'resources': ['nodes'], 'namespaces': ['']}]}, cls.policy)
        cls.policy.close()
        cls.sim = simtest.LiveSim('--nodes', '12', '--control-plane', '1', '--time-scale', '0.02',
                                  '--rbac', cls.policy.name, '--bookmark-interval', '0.3',
                                  '--continue-ttl', '2')

    @classmethod
    def tearDownClass(cls):
        rc = cls.sim.stop()
        os.unlink(cls.policy.name)
        assert rc == 0, 'SIGTERM exit code %r' % rc

    def test_files_and_auth(self):
        for f in ('ca.crt', 'kubeconfig', 'kubeconfig-cert'):
            self.assertTrue(os.path.exists(os.path.join(self.sim.dir, f)))
        with open(os.path.join(self.sim.dir, 'kubeconfig')) as f:
            self.assertIn('server: ' + self.sim.url, f.read())
        # no credentials: system:anonymous, refused by RBAC (v1.26.0's anonymous authentication)
        code, body = self.sim.json('GET', '/api/v1/nodes', token=False)
        self.assertEqual(code, 403)
        self.assertEqual(body['message'], 'nodes is forbidden: User "system:anonymous" cannot list resource '
                         '"nodes" in API group "" at the cluster scope')
        self.assertEqual(self.sim.call('GET', '/version', token=False)[0], 200)
        code, body = self.sim.json('GET', '/api/v1/nodes', token='wrong')
        self.assertEqual(body, {'kind': 'Status', 'apiVersion': 'v1', 'metadata': {}, 'status': 'Failure',
                                'message': 'Unauthorized', 'reason': 'Unauthorized', 'code': 401})
        code, _, _ = self.sim.call('GET', '/api/v1/nodes?limit=1', token=False, conn=self.sim.conn(cert=True))
        self.assertEqual(code, 200)

    def test_rbac(self):
        code, body = self.sim.json('GET', '/api/v1/nodes/node-0001', token='reader-token')
        self.assertEqual(code, 200)
        code, body = self.sim.json('PATCH', '/api/v1/nodes/node-0001', {'metadata': {'labels': {'a': 'b'}}},
                                   ctype='application/merge-patch+json', token='reader-token')
        self.assertEqual(code, 403)
        self.assertEqual(body['message'], 'nodes "node-0001" is forbidden: User "reader" cannot patch '
                         'resource "nodes" in API group "" at the cluster scope')
        code, body = self.sim.json('GET', '/apis/apps/v1/namespaces/default/daemonsets', token='reader-token')
        self.assertEqual(body['message'], 'daemonsets.apps is forbidden: User "reader" cannot list resource '
                         '"daemonsets" in API group "apps" in the namespace "default"')

    def test_keepalive_and_discovery(self):
        conn = self.sim.conn()
        for path in ('/version', '/api', '/apis', '/api/v1', '/apis/apps/v1'):
            code, _, body = self.sim.call('GET', path, conn=conn)
            self.assertEqual(code, 200, path)
        res = json.loads(body)['resources']
        self.assertIn('ds', [r for r in res if r['name'] == 'daemonsets'][0]['shortNames'])
        self.assertEqual(json.loads(self.sim.call('GET', '/version', conn=conn)[2])['minor'], '26')
        conn.close()

    def test_openapi_v2(self):
        pb = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf'
        code, hdrs, body = self.sim.call('GET', '/openapi/v2', headers={'Accept': pb})
        self.assertEqual((code, hdrs['content-type']), (200, 'application/octet-stream'))
        self.assertEqual(_protobuf_fields(body), [(1, b'2.0'), (2, b'\n\nKubernetes\x12\x07v1.26.0'),
                                                  (8, b''), (9, b'')])
        code, hdrs, body = self.sim.call('GET', '/openapi/v2', headers={'Accept': 'application/json'})
        self.assertEqual(code, 200)
        self.assertEqual(json.loads(body), {'swagger': '2.0', 'info': {'title': 'Kubernetes', 'version': 'v1.26.0'},
                                            'paths': {}, 'definitions': {}})
        code, _, body = self.sim.call('GET', '/openapi/v2', headers={'Accept': 'application/json;q=0.5, ' + pb})
        self.assertEqual(body[:1], b'\n')   # the preferred type: protobuf
        self.assertEqual(self.sim.call('GET', '/openapi/v2', headers={'Accept': 'text/html'})[0], 406)

    def test_gzip_and_node_size(self):
        code, hdrs, body = self.sim.call('GET', '/api/v1/nodes?limit=10', headers={'Accept-Encoding': 'gzip'})
        self.assertEqual(hdrs.get('content-encoding'), 'gzip')
        items = json.loads(body)['items']
        self.assertEqual(len(items), 10)
        size = len(json.dumps(items[0]))
        self.assertTrue(15000 <= size <= 25000, size)
        self.assertEqual(len(items[0]['status']['images']), 50)
        code, hdrs, body = self.sim.call('GET', '/api/v1/nodes/node-0001', headers={'Accept-Encoding': 'gzip'})
        self.assertNotIn('content-encoding', hdrs)

    def test_too_large_and_media_type(self):
        big = b'{"metadata":{"annotations":{"a":"' + b'x' * (3 * 1024 * 1024) + b'"}}}'
        code, body = self.sim.json('PATCH', '/api/v1/nodes/node-0002', big, ctype='application/merge-patch+json')
        self.assertEqual((code, body['reason']), (413, 'RequestEntityTooLarge'))
        code, body = self.sim.json('PATCH', '/api/v1/nodes/node-0002', {}, ctype='text/plain')
        self.assertEqual((code, body['reason']), (415, 'UnsupportedMediaType'))

    def test_watch_nodes(self):
        code, doc = self.sim.json('GET', '/api/v1/nodes?limit=1')
        rv = doc['metadata']['resourceVersion']
        self.sim.json('PATCH', '/api/v1/nodes/node-0003', {'metadata': {'labels': {'w': '1'}}},
                      ctype='application/merge-patch+json')
        self.sim.admin('POST', 'nodes/node-0004/notready')
        conn = self.sim.conn()
        conn.request('GET', '/api/v1/nodes?watch=1&allowWatchBookmarks=true&timeoutSeconds=1&resourceVersion='
                     + rv, headers={'Authorization': 'Bearer ' + self.sim.token})
        r = conn.getresponse()
        self.assertEqual(r.status, 200)
        lines = [json.loads(line) for line in r.read().splitlines() if line.strip()]
        conn.close()
        mods = [(e['type'], e['object']['metadata'].get('name')) for e in lines if e['type'] != 'BOOKMARK']
        self.assertIn(('MODIFIED', 'node-0003'), mods)
        self.assertIn(('MODIFIED', 'node-0004'), mods)
        self.assertIn('BOOKMARK', [e['type'] for e in lines])
        self.sim.admin('POST', 'nodes/node-0004/ready')
        conn = self.sim.conn()
        conn.request('GET', '/api/v1/nodes?watch=1&resourceVersion=1', headers={'Authorization': 'Bearer ' + self.sim.token})
        ev = json.loads(conn.getresponse().read().splitlines()[0])
        conn.close()
        self.assertEqual((ev['type'], ev['object']['code'], ev['object']['reason']), ('ERROR', 410, 'Expired'))

    def test_continue_ttl(self):
        code, doc = self.sim.json('GET', '/api/v1/nodes?limit=4')
        token = doc['metadata']['continue']
        self.assertEqual(self.sim.json('GET', '/api/v1/nodes?limit=4&continue=' + token)[0], 200)
        time.sleep(2.2)
        code, body = self.sim.json('GET', '/api/v1/nodes?limit=4&continue=' + token)
        self.assertEqual((code, body['reason']), (410, 'Expired'))

    def test_daemonset_lifecycle_and_stats(self):
        self.sim.admin('DELETE', 'stats')
        ds = simtest.daemonset(name='life', node_selector={'kubernetes.io/os': 'linux'})
        code, obj = self.sim.json('POST', '/apis/apps/v1/namespaces/default/daemonsets', ds)
        self.assertEqual(code, 201)
        self.assertEqual(obj['metadata']['generation'], 1)
        code, body = self.sim.json('POST', '/apis/apps/v1/namespaces/default/daemonsets', ds)
        self.assertEqual((code, body['reason']), (409, 'AlreadyExists'))

        def ready():
            d = self.sim.json('GET', '/apis/apps/v1/namespaces/default/daemonsets/life')[1]
            return d['status'].get('numberReady') == 12 and d
        d = self.sim.wait_for(ready)
        self.assertEqual(d['status']['desiredNumberScheduled'], 12)    # control plane excluded
        code, pods = self.sim.json('GET', '/api/v1/namespaces/default/pods?labelSelector=app%3Dlife'
                                   '&fieldSelector=spec.nodeName%3Dnode-0001')
        self.assertEqual(len(pods['items']), 1)
        code, body = self.sim.json('DELETE', '/apis/apps/v1/namespaces/default/daemonsets/life',
                                   {'propagationPolicy': 'Foreground'})
        self.assertEqual(code, 200)
        self.assertIn('foregroundDeletion', body['metadata']['finalizers'])
        self.sim.wait_for(lambda: self.sim.json('GET', '/apis/apps/v1/namespaces/default/daemonsets/life')[0] == 404)
        self.assertEqual(self.sim.json('GET', '/api/v1/namespaces/default/pods?labelSelector=app%3Dlife')[1]['items'], [])
        stats = self.sim.admin('GET', 'stats')[1]
        self.assertEqual(stats['by_method']['POST'], 2)
        self.assertEqual(stats['by_verb_resource_code']['create daemonsets 409'], 1)
        code, text, body = self.sim.call('GET', '/_sim/log?tail=2', token=False)
        rec = json.loads(body.splitlines()[-1])
        self.assertEqual(set(rec) >= {'ts', 'method', 'path', 'query', 'status', 'user'}, True)

    def test_orphan_delete(self):
        ds = simtest.daemonset(name='orph', node_selector={'kubernetes.io/hostname': 'node-0005'})
        self.assertEqual(self.sim.json('POST', '/apis/apps/v1/namespaces/default/daemonsets', ds)[0], 201)
        pods = self.sim.wait_for(lambda: self.sim.json(
            'GET', '/api/v1/namespaces/default/pods?labelSelector=app%3Dorph')[1]['items'])
        code, _ = self.sim.json('DELETE', '/apis/apps/v1/namespaces/default/daemonsets/orph?propagationPolicy=Orphan')
        self.assertEqual(code, 200)
        self.sim.wait_for(lambda: self.sim.json('GET', '/apis/apps/v1/namespaces/default/daemonsets/orph')[0] == 404)
        code, pod = self.sim.json('GET', '/api/v1/namespaces/default/pods/' + pods[0]['metadata']['name'])
        self.assertEqual(code, 200)
        self.assertNotIn('ownerReferences', pod['metadata'])
        code, pod = self.sim.json('DELETE', '/api/v1/namespaces/default/pods/' + pods[0]['metadata']['name'])
        self.assertIn('deletionTimestamp', pod['metadata'])

    def test_admin_nodes(self):
        code, body = self.sim.admin('POST', 'nodes', {'name': 'extra', 'zone': 'zone-z'})
        self.assertEqual((code, body['added']), (201, ['extra']))
        code, n = self.sim.json('GET', '/api/v1/nodes/extra')
        self.assertEqual(n['metadata']['labels']['topology.kubernetes.io/zone'], 'zone-z')
        self.sim.admin('POST', 'nodes/extra/cordon')
        n = self.sim.json('GET', '/api/v1/nodes/extra')[1]
        self.assertTrue(n['spec']['unschedulable'])
        self.sim.admin('POST', 'nodes/extra/unknown')
        n = self.sim.json('GET', '/api/v1/nodes/extra')[1]
        ready = [c for c in n['status']['conditions'] if c['type'] == 'Ready'][0]
        self.assertEqual(ready['status'], 'Unknown')
        self.assertIn('node.kubernetes.io/unreachable', [t['key'] for t in n['spec']['taints']])
        self.assertEqual(self.sim.admin('DELETE', 'nodes/extra')[0], 200)
        self.assertEqual(self.sim.json('GET', '/api/v1/nodes/extra')[0], 404)


if __name__ == '__main__':
    unittest.main()
