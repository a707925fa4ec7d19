import time
import unittest

import simtest
import api
import controllers
import nodes
import scheduler
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


# Messages seen from the real kube-scheduler v1.26.0 (tests/realkube, 4 nodes, a DaemonSet
# whose pod requests 100m cpu / 64Mi; node-0002 allocatable pods 1 with one pod bound,
# node-0003 allocatable cpu 50m, memory 32Mi).
REAL_TOO_MANY = ('0/4 nodes are available: 1 Too many pods. preemption: 0/4 nodes are available: '
                 '4 No preemption victims found for incoming pod..')
REAL_INSUFFICIENT = ('0/4 nodes are available: 1 Insufficient cpu, 1 Insufficient memory. preemption: '
                     '0/4 nodes are available: 4 No preemption victims found for incoming pod..')


class SchedulerTest(unittest.TestCase):
    """scheduler.py: the default scheduler's fit filters and its Unschedulable report."""

    def setUp(self):
        self.c = simtest.make_cluster(nodes=4)
        self.res = {'requests': {'cpu': '100m', 'memory': '64Mi'}}

    def ds(self):
        create_ds(self.c, simtest.daemonset(init=[{'name': 'init', 'image': 'busybox:1.36.1-musl',
                                                   'resources': self.res}]))
        self.c.controllers.reconcile()

    def pod_for(self, node):
        for p in self.c.store.values('pods'):
            if controllers.target_node(p.obj) == node and p.meta['name'].startswith('puller-'):
                return p.obj
        self.fail('no pod for %s' % node)

    def scheduled(self, pod):
        return [c for c in pod['status'].get('conditions', []) if c['type'] == 'PodScheduled'][0]

    def fill(self, node):
        self.c.set_allocatable(node, {'pods': '1'})
        filler = {'apiVersion': 'v1', 'kind': 'Pod', 'metadata': {'name': 'filler', 'namespace': 'default'},
                  'spec': {'nodeName': node, 'containers': [{'name': 'c', 'image': 'nginx:1.27'}]}}
        req = api.Request(RESOURCES['pods'], 'default', '', '', {}, simtest.json.dumps(filler).encode())
        self.assertEqual(api.do_create(self.c, req)[0], 201)

    def test_too_many_pods(self):
        self.fill('node-0002')
        self.ds()
        pod = self.pod_for('node-0002')
        self.assertNotIn('nodeName', pod['spec'])
        cond = self.scheduled(pod)
        self.assertEqual((cond['status'], cond['reason'], cond['message']), ('False', 'Unschedulable', REAL_TOO_MANY))
        evs = [e.obj for e in self.c.store.values('events') if e.obj['reason'] == 'FailedScheduling']
        self.assertEqual(len(evs), 1)
        self.assertEqual((evs[0]['type'], evs[0]['message'], evs[0]['reportingComponent'], evs[0]['action']),
                         ('Warning', REAL_TOO_MANY, 'default-scheduler', 'Scheduling'))
        self.assertEqual(evs[0]['involvedObject']['uid'], self.c.store.get('pods', 'default', pod['metadata']['name']).meta['uid'])
        # the other nodes' pods are bound, and the DaemonSet counts the pending one as scheduled
        self.assertEqual(len([p for p in self.c.store.values('pods') if p.obj['spec'].get('nodeName')]), 4)
        ds = self.c.store.get('daemonsets', 'default', 'puller').obj
        self.assertEqual((ds['status']['desiredNumberScheduled'], ds['status']['currentNumberScheduled']), (4, 4))
        # no second pod for the node while the first waits
        self.c.controllers.reconcile()
        self.assertEqual(len(self.c.store.values('pods')), 5)

    def test_insufficient_cpu_and_memory(self):
        self.c.set_allocatable('node-0003', {'cpu': '50m', 'memory': '32Mi'})
        self.ds()
        cond = self.scheduled(self.pod_for('node-0003'))
        self.assertEqual(cond['message'], REAL_INSUFFICIENT)

    def test_retried_when_room_is_made(self):
        self.fill('node-0002')
        self.ds()
        self.c.set_allocatable('node-0002', {'pods': '110'})
        sched = self.c.controllers.scheduler
        sched.changed(None)
        self.assertEqual(sched.run_once(now=0.0), [])      # inside its 1 s back-off
        bound = sched.run_once(now=time.monotonic() + 2)
        self.assertEqual([e.obj['spec']['nodeName'] for e in bound], ['node-0002'])
        self.assertEqual(self.scheduled(bound[0].obj)['status'], 'True')

    def test_requests_and_reasons(self):
        spec = {'containers': [{'name': 'a', 'resources': {'requests': {'cpu': '100m', 'memory': '1Gi'}}},
                               {'name': 'b', 'resources': {'limits': {'cpu': '1', 'memory': '1Gi'}}}],
                'initContainers': [{'name': 'i', 'resources': {'requests': {'cpu': '2'}}}]}
        self.assertEqual(scheduler.pod_requests(spec), (2000, 2 * 1024 ** 3))
        statuses = {'n1': (scheduler.UNRESOLVABLE, ["node(s) didn't match Pod's node affinity/selector"]),
                    'n2': (scheduler.UNSCHEDULABLE, ['Too many pods'])}
        self.assertEqual(scheduler.fit_error({}, 2, statuses, ['n1', 'n2']),
                         "0/2 nodes are available: 1 Too many pods, 1 node(s) didn't match Pod's node "
                         "affinity/selector. preemption: 0/2 nodes are available: 1 No preemption victims "
                         "found for incoming pod, 1 Preemption is not helpful for scheduling..")
        self.assertTrue(scheduler.fit_error({'preemptionPolicy': 'Never'}, 1, statuses, ['n2']).endswith(
            'preemption: not eligible due to preemptionPolicy=Never..'))

    def test_bare_pod_is_scheduled(self):
        """A pod created through the API without nodeName or affinity is bound too."""
        self.c.controllers.reconcile()
        pod = {'apiVersion': 'v1', 'kind': 'Pod', 'metadata': {'name': 'bare', 'namespace': 'default'},
               'spec': {'containers': [{'name': 'c', 'image': 'nginx:1.27'}]}}
        req = api.Request(RESOURCES['pods'], 'default', '', '', {}, simtest.json.dumps(pod).encode())
        self.assertEqual(api.do_create(self.c, req)[0], 201)
        self.c.controllers.reconcile()
        self.assertIn(self.c.store.get('pods', 'default', 'bare').obj['spec'].get('nodeName'),
                      ['node-0001', 'node-0002', 'node-0003', 'node-0004'])
