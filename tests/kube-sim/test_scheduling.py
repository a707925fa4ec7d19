import unittest

import simtest
import api
import controllers
import nodes
from resources import RESOURCES


def create_ds(c, ds):
    req = api.Request(RESOURCES['daemonsets'], 'default', '', '', {}, simtest.json.dumps(ds).encode())
    code, _, _ = api.do_create(c, req)
    assert code == 201


def pods_by_node(c):
    return sorted(p.obj['spec']['nodeName'] for p in c.store.values('pods')
                  if not p.meta.get('deletionTimestamp'))


class PredicateTest(unittest.TestCase):
    def node(self, **kw):
        n = nodes.make_node('n1', 1, 'zone-a', 'amd64', images_count=2)
        n['metadata']['labels'].update(kw.get('labels', {}))
        if kw.get('taints'):
            n['spec']['taints'] = kw['taints']
        return n

    def test_node_selector_and_affinity(self):
        self.assertEqual(controllers.node_should_run({'nodeSelector': {'seeder': 'true'}}, self.node()),
                         (False, False))
        n = self.node(labels={'seeder': 'true'})
        self.assertEqual(controllers.node_should_run({'nodeSelector': {'seeder': 'true'}}, n), (True, True))
        aff = {'affinity': {'nodeAffinity': {'requiredDuringSchedulingIgnoredDuringExecution': {
            'nodeSelectorTerms': [{'matchFields': [{'key': 'metadata.name', 'operator': 'In',
                                                    'values': ['n2']}]}]}}}}
        self.assertEqual(controllers.node_should_run(aff, n), (False, False))

    def test_taints(self):
        cp = self.node(taints=[{'key': 'node-role.kubernetes.io/control-plane', 'effect': 'NoSchedule'}])
        self.assertEqual(controllers.node_should_run({}, cp), (False, True))
        tol = {'tolerations': [{'key': 'node-role.kubernetes.io/control-plane', 'operator': 'Exists',
                                'effect': 'NoSchedule'}]}
        self.assertEqual(controllers.node_should_run(tol, cp), (True, True))
        cordoned = self.node()
        nodes.set_unschedulable(cordoned, True)
        self.assertEqual(controllers.node_should_run({}, cordoned), (True, True))
        notready = self.node()
        nodes.set_ready(notready, 'False', 'now')
        # not-ready:NoSchedule is not among the added tolerations; NoExecute is
        self.assertEqual(controllers.node_should_run({}, notready), (False, True))
        evict = self.node(taints=[{'key': 'x', 'value': 'y', 'effect': 'NoExecute'}])
        self.assertEqual(controllers.node_should_run({}, evict), (False, False))
        eq = {'tolerations': [{'key': 'x', 'operator': 'Equal', 'value': 'y'}]}
        self.assertEqual(controllers.node_should_run(eq, evict), (True, True))


class ControllerTest(unittest.TestCase):
    def setUp(self):
        self.c = simtest.make_cluster(nodes=4, control_plane=1, no_events=True)

    def test_one_pod_per_matching_node(self):
        create_ds(self.c, simtest.daemonset())
        self.c.controllers.reconcile()
        self.assertEqual(pods_by_node(self.c), ['node-0001', 'node-0002', 'node-0003', 'node-0004'])
        pod = self.c.store.values('pods')[0].obj
        self.assertRegex(pod['metadata']['name'], r'^puller-[bcdfghjklmnpqrstvwxz2456789]{5}$')
        ref = pod['metadata']['ownerReferences'][0]
        self.assertEqual((ref['kind'], ref['controller'], ref['blockOwnerDeletion']), ('DaemonSet', True, True))
        terms = pod['spec']['affinity']['nodeAffinity']['requiredDuringSchedulingIgnoredDuringExecution']
        self.assertEqual(terms['nodeSelectorTerms'][0]['matchFields'][0]['values'], [pod['spec']['nodeName']])
        keys = {t['key'] for t in pod['spec']['tolerations']}
        self.assertIn('node.kubernetes.io/unschedulable', keys)
        ds = self.c.store.get('daemonsets', 'default', 'puller').obj
        self.assertEqual(ds['status']['desiredNumberScheduled'], 4)
        self.assertEqual(ds['status']['currentNumberScheduled'], 4)
        self.assertEqual(ds['status']['numberReady'], 0)

    def test_pods_follow_node_labels(self):
        self.c.change_node('node-0002', lambda n: n['metadata']['labels'].update(seeder='true'))
        create_ds(self.c, simtest.daemonset(node_selector={'seeder': 'true'}))
        self.c.controllers.reconcile()
        self.assertEqual(pods_by_node(self.c), ['node-0002'])
        self.c.change_node('node-0002', lambda n: n['metadata']['labels'].pop('seeder'))
        self.c.change_node('node-0003', lambda n: n['metadata']['labels'].update(seeder='true'))
        self.c.controllers.reconcile()
        self.assertEqual(pods_by_node(self.c), ['node-0003'])

    def test_deleted_node_and_gc(self):
        create_ds(self.c, simtest.daemonset())
        self.c.controllers.reconcile()
        self.c.delete_node('node-0001')
        self.c.controllers.reconcile()
        self.assertEqual(pods_by_node(self.c), ['node-0002', 'node-0003', 'node-0004'])
        self.c.store.remove('daemonsets', 'default', 'puller')
        self.c.controllers.reconcile()
        self.assertEqual(pods_by_node(self.c), [])

    def make_ready(self):
        for p in self.c.store.values('pods'):
            obj = p.copy()
            obj['status']['conditions'] = [{'type': 'Ready', 'status': 'True'}]
            self.c.store.replace('pods', obj)

    def update_image(self, strategy=None):
        obj = self.c.store.get('daemonsets', 'default', 'puller').copy()
        obj['spec']['template']['spec']['containers'][0]['image'] = 'nginx:1.28'
        if strategy:
            obj['spec']['updateStrategy'] = strategy
        self.c.store.replace('daemonsets', obj)

    def deleting(self):
        return sorted(p.obj['spec']['nodeName'] for p in self.c.store.values('pods')
                      if p.meta.get('deletionTimestamp'))

    def test_rolling_update_respects_max_unavailable(self):
        create_ds(self.c, simtest.daemonset())
        self.c.controllers.reconcile()
        self.make_ready()
        self.c.controllers.reconcile()
        self.update_image()
        self.c.controllers.reconcile()
        self.assertEqual(len(self.deleting()), 1)
        ds = self.c.store.get('daemonsets', 'default', 'puller').obj
        self.assertEqual(ds['metadata']['generation'], 2)
        self.c.controllers.reconcile()
        self.assertEqual(len(self.deleting()), 1)      # the budget is spent until it is ready

    def test_rolling_update_percent_and_on_delete(self):
        create_ds(self.c, simtest.daemonset())
        self.c.controllers.reconcile()
        self.make_ready()
        self.update_image({'type': 'OnDelete'})
        self.c.controllers.reconcile()
        self.assertEqual(self.deleting(), [])
        self.update_image({'type': 'RollingUpdate', 'rollingUpdate': {'maxUnavailable': '50%'}})
        self.c.controllers.reconcile()
        self.assertEqual(len(self.deleting()), 2)
        self.assertEqual(controllers.max_unavailable({'rollingUpdate': {'maxUnavailable': '10%'}}, 25), 3)
        self.assertEqual(controllers.max_unavailable({}, 25), 1)

    def test_unready_outdated_pods_go_at_once(self):
        create_ds(self.c, simtest.daemonset())
        self.c.controllers.reconcile()
        self.update_image()
        self.c.controllers.reconcile()
        self.assertEqual(len(self.deleting()), 4)

    def test_nothing_changed_nothing_done(self):
        create_ds(self.c, simtest.daemonset())
        self.c.controllers.reconcile()
        self.c.store.remove('pods', 'default', self.c.store.values('pods')[0].meta['name'])
        rv = self.c.store.rv
        self.c.controllers.reconcile()      # the removal is noticed: a new pod
        self.assertGreater(self.c.store.rv, rv)
        self.assertEqual(len(pods_by_node(self.c)), 4)
        rv = self.c.store.rv
        self.c.controllers.reconcile()
        self.assertEqual(self.c.store.rv, rv)


if __name__ == '__main__':
    unittest.main()
