import json
import unittest

import simtest
import api
import apierrors
from resources import RESOURCES

NODES = RESOURCES['nodes']


def list_nodes(c, **q):
    req = api.Request(NODES, '', '', '', {k: [str(v)] for k, v in q.items()})
    code, body, _ = api.do_list(c, req)
    return json.loads(body)


class PaginationTest(unittest.TestCase):
    def setUp(self):
        self.c = simtest.make_cluster(nodes=25, images_per_node=3, no_events=True)

    def test_pages_cover_everything_once(self):
        names, token, rvs = [], None, set()
        while True:
            q = {'limit': 10}
            if token:
                q['continue'] = token
            doc = list_nodes(self.c, **q)
            self.assertEqual(doc['kind'], 'NodeList')
            names += [i['metadata']['name'] for i in doc['items']]
            rvs.add(doc['metadata']['resourceVersion'])
            token = doc['metadata'].get('continue')
            if not token:
                break
            self.assertEqual(doc['metadata']['remainingItemCount'], 25 - len(names))
        self.assertEqual(names, ['node-%04d' % i for i in range(1, 26)])
        self.assertEqual(len(rvs), 1)

    def test_selector_pages(self):
        doc = list_nodes(self.c, limit=5, labelSelector='topology.kubernetes.io/zone=zone-a')
        self.assertEqual(len(doc['items']), 5)
        self.assertNotIn('remainingItemCount', doc['metadata'])
        self.assertIn('continue', doc['metadata'])
        doc = list_nodes(self.c, fieldSelector='metadata.name=node-0007')
        self.assertEqual([i['metadata']['name'] for i in doc['items']], ['node-0007'])

    def test_expired_and_bad_tokens(self):
        token = list_nodes(self.c, limit=5)['metadata']['continue']
        self.c.store.continue_ttl = -1
        with self.assertRaises(apierrors.ApiError) as cm:
            list_nodes(self.c, limit=5, **{'continue': token})
        self.assertEqual((cm.exception.code, cm.exception.status['reason']), (410, 'Expired'))
        with self.assertRaises(apierrors.ApiError) as cm:
            list_nodes(self.c, limit=5, **{'continue': '!!!'})
        self.assertEqual(cm.exception.code, 400)
        with self.assertRaises(apierrors.ApiError) as cm:
            list_nodes(self.c, labelSelector='a in (')  # v1.26.0 accepts 'a in ()'
        self.assertEqual(cm.exception.code, 400)
        with self.assertRaises(apierrors.ApiError) as cm:
            list_nodes(self.c, fieldSelector='spec.nope=1')
        self.assertEqual(cm.exception.status['message'], 'field label not supported: spec.nope')


class WriteTest(unittest.TestCase):
    def setUp(self):
        self.c = simtest.make_cluster(nodes=2, images_per_node=3, no_events=True)

    def patch(self, body, ctype='application/merge-patch+json', name='node-0001'):
        req = api.Request(NODES, '', name, '', {}, json.dumps(body).encode(), ctype)
        return json.loads(api.do_patch(self.c, req)[1])

    def test_label_patch_and_precondition(self):
        n = self.patch({'metadata': {'labels': {'seeder': 'true'}}})
        self.assertEqual(n['metadata']['labels']['seeder'], 'true')
        rv = n['metadata']['resourceVersion']
        n2 = self.patch({'metadata': {'labels': {'seeder': None}, 'resourceVersion': rv}})
        self.assertNotIn('seeder', n2['metadata']['labels'])
        self.assertGreater(int(n2['metadata']['resourceVersion']), int(rv))
        with self.assertRaises(apierrors.ApiError) as cm:
            self.patch({'metadata': {'labels': {'x': 'y'}, 'resourceVersion': rv}})
        e = cm.exception
        self.assertEqual((e.code, e.status['reason']), (409, 'Conflict'))
        self.assertEqual(e.status['message'], 'Operation cannot be fulfilled on nodes "node-0001": the '
                         'object has been modified; please apply your changes to the latest version '
                         'and try again')

    def test_patch_errors(self):
        with self.assertRaises(apierrors.ApiError) as cm:
            self.patch({}, ctype='application/xml')
        self.assertEqual(cm.exception.code, 415)
        with self.assertRaises(apierrors.ApiError) as cm:
            self.patch({'metadata': {'labels': {'x': 'y'}}}, name='nope')
        self.assertEqual(cm.exception.status, {'kind': 'Status', 'apiVersion': 'v1', 'metadata': {},
                                               'status': 'Failure', 'message': 'nodes "nope" not found',
                                               'reason': 'NotFound',
                                               'details': {'name': 'nope', 'kind': 'nodes'}, 'code': 404})
        with self.assertRaises(apierrors.ApiError) as cm:
            self.patch({'metadata': {'labels': {'bad key!': 'y'}}})
        self.assertEqual(cm.exception.code, 422)
        # status changes through the main resource are ignored, as the real server does
        n = self.patch({'status': {'images': []}})
        self.assertTrue(n['status']['images'])

    def test_create_conflict(self):
        ds = simtest.daemonset()
        req = api.Request(RESOURCES['daemonsets'], 'default', '', '', {}, json.dumps(ds).encode())
        self.assertEqual(api.do_create(self.c, req)[0], 201)
        with self.assertRaises(apierrors.ApiError) as cm:
            api.do_create(self.c, req)
        self.assertEqual(cm.exception.status['message'], 'daemonsets.apps "puller" already exists')
        self.assertEqual(cm.exception.status['reason'], 'AlreadyExists')
        del ds['metadata']['namespace']
        req = api.Request(RESOURCES['daemonsets'], 'nope', '', '', {}, json.dumps(ds).encode())
        with self.assertRaises(apierrors.ApiError) as cm:
            api.do_create(self.c, req)
        self.assertEqual(cm.exception.status['message'], 'namespaces "nope" not found')


class WatchHistoryTest(unittest.TestCase):
    def test_compaction(self):
        c = simtest.make_cluster(nodes=1, images_per_node=1, no_events=True, watch_history=5)
        start = c.store.rv
        for i in range(20):
            c.change_node('node-0001', lambda n: n['metadata']['labels'].update(i=str(i)))
        self.assertIsNone(c.store.watch_start(start))
        pos = c.store.watch_start(c.store.rv - 2)
        evs, _ = c.store.watch_next(pos, 0)
        self.assertEqual([e.type for e in evs], ['MODIFIED', 'MODIFIED'])
        self.assertEqual(evs[-1].new.meta['labels']['i'], '19')


if __name__ == '__main__':
    unittest.main()


class RetiredVersionTest(unittest.TestCase):
    def test_superseded_versions_are_compact_and_still_readable(self):
        c = simtest.make_cluster(nodes=2, no_events=True)
        first = c.store.get('nodes', '', 'node-0001')
        before = json.loads(first.raw())
        c.change_node('node-0001', lambda n: n['metadata']['labels'].update(v='2'))
        self.assertIsNone(first._obj)           # the dict is gone from the old version
        self.assertIsNone(first._raw)
        self.assertLess(len(first._z), len(json.dumps(before)) / 2)
        self.assertEqual(json.loads(first.raw()), before)
        self.assertEqual(first.obj, before)
        self.assertNotIn('v', first.meta['labels'])
        ev = c.store.history[-1]
        self.assertEqual((ev.type, ev.name, ev.old), ('MODIFIED', 'node-0001', first))
        self.assertEqual(ev.new.meta['labels']['v'], '2')
        gone = c.delete_node('node-0001')
        self.assertIsNone(ev.new._obj)
        self.assertEqual(gone.meta['labels']['v'], '2')
