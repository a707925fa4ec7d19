import http.client
import json
import ssl
import threading
import time
import unittest

import simtest
import faults


class FaultRulesTest(unittest.TestCase):
    def test_count_skip_rate(self):
        f = faults.Faults(seed=3)
        f.add({'verb': 'list', 'resource': 'nodes', 'code': 500, 'count': 2, 'skip': 1})
        fired = [bool(f.match('list', 'nodes')) for _ in range(5)]
        self.assertEqual(fired, [False, True, True, False, False])
        self.assertEqual(f.match('get', 'nodes'), [])
        f.clear()
        f.add({'verb': '*', 'resource': 'pods', 'code': 503, 'rate': 0.5})
        n = sum(bool(f.match('get', 'pods')) for _ in range(400))
        self.assertTrue(120 < n < 280, n)
        with self.assertRaises(faults.RuleError):
            f.add({'action': 'explode'})

    def test_image_rules(self):
        import images
        r = faults.ImageRules()
        self.assertEqual(r.lookup(images.parse('x/does-not-exist:1'))['behaviour'], 'not-found')
        self.assertEqual(r.lookup(images.parse('nginx'))['behaviour'], 'ok')
        r.set({'image': 'docker.io/library/nginx:*', 'behaviour': 'unauthorized'})
        self.assertEqual(r.lookup(images.parse('nginx'))['behaviour'], 'unauthorized')
        with self.assertRaises(faults.RuleError):
            r.set({'image': 'x', 'behaviour': 'maybe'})


class LiveFaultTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = simtest.LiveSim('--nodes', '6', '--time-scale', '0.02')

    @classmethod
    def tearDownClass(cls):
        assert cls.sim.stop() == 0

    def tearDown(self):
        self.sim.admin('DELETE', 'faults')

    def test_429_plain_text(self):
        self.sim.admin('POST', 'faults', {'verb': 'list', 'resource': 'nodes', 'code': 429,
                                          'retryAfter': 2, 'count': 1})
        code, hdrs, body = self.sim.call('GET', '/api/v1/nodes')
        self.assertEqual(code, 429)
        self.assertEqual(hdrs['retry-after'], '2')
        self.assertTrue(hdrs['content-type'].startswith('text/plain'))
        self.assertEqual(body, b'Too many requests, please try again later.\n')
        self.assertEqual(self.sim.call('GET', '/api/v1/nodes')[0], 200)

    def test_status_codes_and_latency(self):
        self.sim.admin('POST', 'faults', [{'verb': 'get', 'resource': 'nodes', 'code': 503, 'count': 1},
                                          {'verb': 'get', 'resource': 'nodes', 'action': 'latency',
                                           'seconds': 0.3, 'count': 1, 'skip': 1}])
        code, body = self.sim.json('GET', '/api/v1/nodes/node-0001')
        self.assertEqual((code, body['reason']), (503, 'ServiceUnavailable'))
        t = time.monotonic()
        self.assertEqual(self.sim.json('GET', '/api/v1/nodes/node-0001')[0], 200)
        self.assertGreaterEqual(time.monotonic() - t, 0.3)

    def test_settle_waits_for_requests_in_flight(self):
        self.sim.admin('DELETE', 'faults')
        self.sim.admin('POST', 'faults', {'verb': 'get', 'resource': 'nodes', 'action': 'latency',
                                          'seconds': 1.5, 'count': 1})
        self.sim.admin('DELETE', 'log')
        got = []
        t = threading.Thread(target=lambda: got.append(self.sim.call('GET', '/api/v1/nodes/node-0002',
                                                                     conn=self.sim.conn())[0]))
        t.start()
        try:
            # while the delayed GET is in flight, a short deadline runs out: 504 and the count
            code, body = self.sim.wait_for(lambda: (lambda r: r[0] == 504 and r)(
                self.sim.admin('GET', 'settle?timeout=0.05')))
            self.assertEqual(body, {'inflight': 1})
            self.assertEqual(self.sim.admin('GET', 'settle?timeout=20'), (200, {'inflight': 0}))
            log = self.sim.call('GET', '/_sim/log', token=False)[2].decode().splitlines()
            self.assertEqual([json.loads(x)['path'] for x in log], ['/api/v1/nodes/node-0002'])
            self.assertEqual(self.sim.admin('GET', 'settle?timeout=x')[0], 400)
        finally:
            t.join()
        self.assertEqual(got, [200])

    def test_close_and_reset(self):
        self.sim.admin('POST', 'faults', {'verb': 'get', 'resource': 'nodes', 'action': 'close', 'count': 1})
        with self.assertRaises((http.client.HTTPException, ConnectionError, ssl.SSLError)):
            self.sim.call('GET', '/api/v1/nodes/node-0001')
        self.sim.admin('POST', 'faults', {'verb': 'list', 'resource': 'nodes', 'action': 'reset', 'count': 1})
        with self.assertRaises((http.client.HTTPException, ConnectionError, ssl.SSLError)):
            self.sim.call('GET', '/api/v1/nodes')
        self.assertEqual(self.sim.call('GET', '/api/v1/nodes')[0], 200)

    def test_expire_continue_and_watch_cut(self):
        token = self.sim.json('GET', '/api/v1/nodes?limit=2')[1]['metadata']['continue']
        self.sim.admin('POST', 'faults', {'verb': 'list', 'resource': 'nodes', 'action': 'expire-continue'})
        self.assertEqual(self.sim.json('GET', '/api/v1/nodes?limit=2')[0], 200)
        code, body = self.sim.json('GET', '/api/v1/nodes?limit=2&continue=' + token)
        self.assertEqual((code, body['reason']), (410, 'Expired'))
        self.sim.admin('POST', 'faults', {'verb': 'watch', 'resource': 'nodes', 'action': 'watch-cut',
                                          'afterEvents': 2})
        conn = self.sim.conn()
        t = time.monotonic()
        conn.request('GET', '/api/v1/nodes?watch=1&timeoutSeconds=30',
                     headers={'Authorization': 'Bearer ' + self.sim.token})
        lines = conn.getresponse().read().splitlines()
        conn.close()
        self.assertEqual([json.loads(x)['type'] for x in lines], ['ADDED', 'ADDED'])
        self.assertLess(time.monotonic() - t, 20)

    def test_watch_expire(self):
        self.sim.admin('DELETE', 'faults')
        self.sim.admin('POST', 'faults', {'verb': 'watch', 'resource': 'pods', 'action': 'watch-expire',
                                          'count': 1})
        code, _, body = self.sim.call('GET', '/api/v1/pods?watch=1&resourceVersion=7&timeoutSeconds=5')
        self.assertEqual(code, 200)
        ev = json.loads(body)
        self.assertEqual((ev['type'], ev['object']['code'], ev['object']['reason'], ev['object']['message']),
                         ('ERROR', 410, 'Expired', 'too old resource version: 7 (8)'))

    def test_fault_consumes_body_on_keepalive(self):
        """A fault answered before the handler would read the body must still consume it:
        the next request on the same connection is answered normally, not as garbage."""
        self.sim.admin('POST', 'faults', [{'verb': 'patch', 'resource': 'nodes', 'code': 503, 'count': 1},
                                          {'verb': 'patch', 'resource': 'nodes', 'code': 429, 'count': 1}])
        conn = self.sim.conn()
        patch = {'metadata': {'labels': {'keepalive': 'yes'}}}
        for want in (503, 429, 200):
            code, hdrs, body = self.sim.call('PATCH', '/api/v1/nodes/node-0002', patch,
                                             ctype='application/merge-patch+json', conn=conn)
            self.assertEqual(code, want, body[:200])
        code, hdrs, body = self.sim.call('GET', '/api/v1/nodes/node-0002', conn=conn)
        self.assertEqual(code, 200)
        self.assertEqual(json.loads(body)['metadata']['labels']['keepalive'], 'yes')
        # 401 before the body is looked at, then a chunked PATCH hit by a fault
        code, _, _ = self.sim.call('PATCH', '/api/v1/nodes/node-0002', patch, token='nope',
                                   ctype='application/merge-patch+json', conn=conn)
        self.assertEqual(code, 401)
        self.sim.admin('POST', 'faults', {'verb': 'patch', 'resource': 'nodes', 'code': 500, 'count': 1})
        chunks = [b'{"metadata":{"labels":', b'{"keepalive":"chunked"}}}']
        for want in (500, 200):
            conn.putrequest('PATCH', '/api/v1/nodes/node-0002')
            conn.putheader('Authorization', 'Bearer ' + self.sim.token)
            conn.putheader('Content-Type', 'application/merge-patch+json')
            conn.putheader('Transfer-Encoding', 'chunked')
            conn.endheaders()
            for c in chunks:
                conn.send(b'%x\r\n%s\r\n' % (len(c), c))
            conn.send(b'0\r\n\r\n')
            r = conn.getresponse()
            r.read()
            self.assertEqual(r.status, want)
        code, _, body = self.sim.call('GET', '/api/v1/nodes/node-0002', conn=conn)
        self.assertEqual(json.loads(body)['metadata']['labels']['keepalive'], 'chunked')
        conn.close()

    def test_watch_cut_does_not_outlive_its_request(self):
        self.sim.admin('POST', 'faults', {'verb': 'watch', 'resource': 'nodes', 'action': 'watch-cut',
                                          'afterEvents': 1, 'count': 1})
        conn = self.sim.conn()
        hdrs = {'Authorization': 'Bearer ' + self.sim.token}
        counts = []
        for _ in range(2):
            conn.request('GET', '/api/v1/nodes?watch=1&timeoutSeconds=1', headers=hdrs)
            counts.append(len(conn.getresponse().read().splitlines()))
        conn.close()
        self.assertEqual(counts, [1, 6])

    def test_image_behaviour_via_admin(self):
        self.sim.admin('POST', 'images', {'image': 'registry.example.com/locked:*', 'behaviour': 'unauthorized'})
        ds = simtest.daemonset(name='locked', containers=[{'name': 'a', 'image': 'registry.example.com/locked:1'}],
                               node_selector={'kubernetes.io/hostname': 'node-0001'})
        self.assertEqual(self.sim.json('POST', '/apis/apps/v1/namespaces/default/daemonsets', ds)[0], 201)

        def waiting():
            items = self.sim.json('GET', '/api/v1/namespaces/default/pods?labelSelector=app%3Dlocked')[1]['items']
            for p in items:
                for c in p['status'].get('containerStatuses', []):
                    w = c['state'].get('waiting', {})
                    if w.get('reason') in ('ErrImagePull', 'ImagePullBackOff'):
                        return w['reason']
            return None
        self.sim.wait_for(waiting)
        evs = self.sim.json('GET', '/api/v1/namespaces/default/events?fieldSelector=reason%3DFailed')[1]
        msgs = [e['message'] for e in evs['items'] if 'registry.example.com/locked' in e['message']]
        self.assertTrue(any('pull access denied' in m for m in msgs), msgs)
        self.sim.admin('DELETE', 'images')


if __name__ == '__main__':
    unittest.main()
