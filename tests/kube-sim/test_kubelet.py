import hashlib
import unittest

import simtest
import nodes
from test_scheduling import create_ds


def digest(name):
    return 'sha256:' + hashlib.sha256(name.encode()).hexdigest()


class KubeletTest(unittest.TestCase):
    def setUp(self):
        self.c = simtest.make_cluster(nodes=1, images_per_node=5)
        self.t = 1000.0

    def pod(self):
        pods = self.c.store.values('pods')
        self.assertEqual(len(pods), 1)
        return pods[0].obj

    def states(self):
        st = self.pod().get('status', {})
        out = {}
        for cs in st.get('initContainerStatuses', []) + st.get('containerStatuses', []):
            state = cs['state']
            kind = next(iter(state))
            out[cs['name']] = state[kind].get('reason', kind) if kind != 'running' else 'running'
        return out

    def run_until(self, seconds, step=0.05, check=None):
        end = self.t + seconds
        while self.t < end:
            self.c.kubelet.tick(self.t)
            if check:
                check()
            self.t += step

    def assert_serial(self):
        pulling = [s for ps in self.c.kubelet.pods.values() for s in ps.steps if s.state == 'pulling']
        self.assertLessEqual(len(pulling), 1)

    def test_pull_sequence(self):
        self.c.image_rules.set({'image': 'nginx:1.27', 'size': 500 * 1000 * 1000})
        create_ds(self.c, simtest.daemonset(
            init=[{'name': 'init', 'image': 'busybox:1.36.1-musl'}],
            containers=[{'name': 'a', 'image': 'nginx:1.27'},
                        {'name': 'b', 'image': 'docker.io/library/does-not-exist:1'},
                        {'name': 'c', 'image': 'Bad:Image'}]))
        self.c.controllers.reconcile()
        self.c.kubelet.tick(self.t)
        self.assertEqual(self.states(), {'init': 'PodInitializing', 'a': 'PodInitializing',
                                         'b': 'PodInitializing', 'c': 'PodInitializing'})
        seen_b = []

        def check():
            self.assert_serial()
            s = self.states().get('b')
            if not seen_b or seen_b[-1] != s:
                seen_b.append(s)
        self.run_until(12, check=check)
        st = self.states()
        self.assertEqual(st['init'], 'Completed')
        self.assertEqual(st['a'], 'running')
        self.assertEqual(st['c'], 'InvalidImageName')
        self.assertEqual(seen_b[:4], ['PodInitializing', 'ContainerCreating', 'ErrImagePull',
                                      'ImagePullBackOff'])
        pod = self.pod()
        cs = {c['name']: c for c in pod['status']['containerStatuses']}
        self.assertEqual(cs['a']['imageID'], 'docker.io/library/nginx@' + digest('docker.io/library/nginx:1.27'))
        self.assertEqual(cs['a']['image'], 'nginx:1.27')
        self.assertEqual(cs['b']['imageID'], '')
        self.assertIn('rpc error: code = NotFound desc = failed to pull and unpack image '
                      '"docker.io/library/does-not-exist:1"', self._b_message())
        b_status = cs['b']['state']['waiting']
        self.assertTrue(b_status['message'].startswith('rpc error: code = NotFound')
                        or b_status['message'].startswith('Back-off pulling image'))
        init = pod['status']['initContainerStatuses'][0]
        self.assertEqual(init['imageID'], 'docker.io/library/busybox@' +
                         digest('docker.io/library/busybox:1.36.1-musl'))
        self.assertEqual(pod['status']['phase'], 'Pending')
        ready = [c for c in pod['status']['conditions'] if c['type'] == 'Ready'][0]
        self.assertEqual(ready['status'], 'False')
        node = self.c.store.get('nodes', '', 'node-0001').obj
        self.assertIn('docker.io/library/nginx:1.27', node['status']['images'][0]['names'])
        sizes = [i['sizeBytes'] for i in node['status']['images']]
        self.assertEqual(sizes, sorted(sizes, reverse=True))

    def _b_message(self):
        for ev in self.c.store.values('events'):
            if ev.obj['reason'] == 'Failed' and 'does-not-exist' in ev.obj['message']:
                return ev.obj['message']
        return ''

    def test_backoff_doubles(self):
        create_ds(self.c, simtest.daemonset(containers=[{'name': 'b', 'image': 'does-not-exist:1'}]))
        self.c.controllers.reconcile()
        starts = []

        def check():
            n = sum(1 for e in self.c.store.values('events') if e.obj['reason'] == 'Pulling')
            if n > len(starts):
                starts.append(self.t)
        self.run_until(75, step=0.1, check=check)
        self.assertEqual(len(starts), 4)
        gaps = [round(b - a) for a, b in zip(starts, starts[1:])]
        self.assertEqual(gaps, [10, 20, 40])

    def test_ready_pod_and_not_ready_node(self):
        create_ds(self.c, simtest.daemonset(containers=[{'name': 'a', 'image': 'redis:7'}]))
        self.c.controllers.reconcile()
        self.c.change_node('node-0001', lambda n: nodes.set_ready(n, 'False', 'now'))
        self.run_until(5)
        self.assertNotIn('containerStatuses', self.pod().get('status', {}))
        self.c.change_node('node-0001', lambda n: nodes.set_ready(n, 'True', 'now'))
        self.run_until(5)
        pod = self.pod()
        self.assertEqual(pod['status']['phase'], 'Running')
        self.assertTrue(pod['status']['containerStatuses'][0]['ready'])
        self.c.controllers.reconcile()
        ds = self.c.store.get('daemonsets', 'default', 'puller').obj
        self.assertEqual(ds['status']['numberReady'], 1)
        self.assertNotIn('numberUnavailable', ds['status'])
        # a second pod with the image present and IfNotPresent starts without pulling
        self.c.store.remove('daemonsets', 'default', 'puller')
        self.c.controllers.reconcile()
        self.run_until(2)
        self.assertEqual(self.c.store.values('pods'), [])
        create_ds(self.c, simtest.daemonset(name='again', containers=[{'name': 'a', 'image': 'redis:7'}]))
        self.c.controllers.reconcile()
        self.c.kubelet.tick(self.t)
        self.assertEqual(self.states(), {'a': 'running'})
        msgs = [e.obj['message'] for e in self.c.store.values('events') if e.obj['reason'] == 'Pulled']
        self.assertIn('Container image "redis:7" already present on machine', msgs)

    def test_platform_mismatch(self):
        """An image rule's platforms without the node's os/arch: containerd's error through
        ErrImagePull, then the back-off; a listed platform pulls."""
        self.c.image_rules.set({'image': 'example.com/arm-only:1', 'platforms': ['linux/arm64']})
        self.c.image_rules.set({'image': 'example.com/multi:1', 'platforms': ['linux/arm64', 'linux/amd64']})
        create_ds(self.c, simtest.daemonset(containers=[{'name': 'a', 'image': 'example.com/arm-only:1'},
                                                        {'name': 'b', 'image': 'example.com/multi:1'}]))
        self.c.controllers.reconcile()
        seen = set()
        self.run_until(15, check=lambda: seen.add(self.states().get('a')))
        self.assertIn('ErrImagePull', seen)
        self.assertIn('ImagePullBackOff', seen)
        self.assertEqual(self.states()['b'], 'running')
        failed = [e.obj['message'] for e in self.c.store.values('events')
                  if e.obj['reason'] == 'Failed' and 'arm-only' in e.obj['message']]
        self.assertEqual(failed[0], 'Failed to pull image "example.com/arm-only:1": rpc error: code = '
                         'NotFound desc = failed to pull and unpack image "example.com/arm-only:1": no '
                         'match for platform in manifest: not found')

    def test_platform_rule_checked(self):
        import faults
        for bad in ([], 'linux/amd64', ['amd64'], ['linux/']):
            with self.assertRaises(faults.RuleError):
                self.c.image_rules.set({'image': 'x', 'platforms': bad})

    def test_pull_policy_never(self):
        create_ds(self.c, simtest.daemonset(containers=[{'name': 'a', 'image': 'absent:1',
                                                         'imagePullPolicy': 'Never'}]))
        self.c.controllers.reconcile()
        self.run_until(1)
        self.assertEqual(self.states(), {'a': 'ErrImageNeverPull'})


if __name__ == '__main__':
    unittest.main()


class KubeletStyleTest(KubeletTest):
    """The real-kubelet switches: a 1.31 back-off and a status written once per sync."""

    def test_cause_only_in_events(self):
        self.c.kubelet.cause_in_status = False
        create_ds(self.c, simtest.daemonset(containers=[{'name': 'b', 'image': 'does-not-exist:1'}]))
        self.c.controllers.reconcile()
        seen = []

        def check():
            s = self.states().get('b')
            if s and (not seen or seen[-1] != s):
                seen.append(s)
        self.run_until(3, check=check)
        self.assertNotIn('ErrImagePull', seen)
        cs = self.pod()['status']['containerStatuses'][0]['state']['waiting']
        self.assertEqual(cs, {'reason': 'ImagePullBackOff',
                              'message': 'Back-off pulling image "does-not-exist:1"'})
        self.assertIn('rpc error: code = NotFound', self._b_message())

    def test_status_once_per_sync(self):
        self.c.kubelet.publish = 'sync'
        for img in ('a:1', 'b:1', 'c:1'):
            self.c.image_rules.set({'image': img, 'size': 100 * 1000 * 1000})
        create_ds(self.c, simtest.daemonset(containers=[
            {'name': n, 'image': '%s:1' % n} for n in 'abc']))
        self.c.controllers.reconcile()
        running = []

        def check():
            st = self.pod().get('status', {})
            running.append(sum(1 for cs in st.get('containerStatuses', [])
                               if 'running' in cs['state']))
        self.run_until(4, check=check)
        # never one or two running: the three pulls end in one status
        self.assertEqual(sorted(set(running)), [0, 3])
        reasons = [e.obj['reason'] for e in self.c.store.values('events')
                   if e.obj['involvedObject']['kind'] == 'Pod']
        self.assertEqual(reasons.count('Pulling'), 3)
        self.assertEqual(reasons.count('Pulled'), 3)

    def test_gc_removes_unused_images(self):
        create_ds(self.c, simtest.daemonset(containers=[{'name': 'a', 'image': 'redis:7'}]))
        self.c.controllers.reconcile()
        self.run_until(2)
        node = self.c.store.get('nodes', '', 'node-0001').obj
        before = len(node['status']['images'])
        gone = self.c.kubelet.gc('node-0001')
        node = self.c.store.get('nodes', '', 'node-0001').obj
        names = [n for e in node['status']['images'] for n in e['names']]
        self.assertIn('docker.io/library/redis:7', names)   # used by the pod: kept
        self.assertEqual(len(node['status']['images']), 1)
        self.assertGreater(before, 1)
        self.assertTrue(gone)
        self.assertEqual(self.c.kubelet.gc('no-such-node'), None)


class CrashTest(unittest.TestCase):
    """An image whose rule is "crash": pulled, then the container exits 1.  An init container
    shows terminated/Error (kubectl: Init:Error), is restarted once at once, then waits in
    CrashLoopBackOff with the kubelet's back-off message (kuberuntime_manager.go)."""
    setUp, pod, states, run_until = KubeletTest.setUp, KubeletTest.pod, KubeletTest.states, KubeletTest.run_until

    def test_init_error_then_crash_loop(self):
        self.c.image_rules.set({'image': 'registry.example.com/helper:1', 'behaviour': 'crash', 'exit_code': 2})
        create_ds(self.c, simtest.daemonset(init=[{'name': 'init', 'image': 'registry.example.com/helper:1'}]))
        self.c.controllers.reconcile()
        seen = []

        def check():
            st = self.pod()['status'].get('initContainerStatuses') or [{}]
            state = st[0].get('state', {})
            kind = next(iter(state), None)
            key = (kind, state.get(kind, {}).get('reason'), st[0].get('restartCount'))
            if kind and (not seen or seen[-1][0] != key):
                seen.append((key, st[0]))
        self.run_until(20, check=check)
        keys = [k for k, _ in seen]
        self.assertEqual(keys[:4], [('waiting', 'PodInitializing', 0), ('terminated', 'Error', 0),
                                    ('terminated', 'Error', 1), ('waiting', 'CrashLoopBackOff', 1)])
        term = seen[1][1]
        self.assertEqual(term['state']['terminated']['exitCode'], 2)
        self.assertTrue(term['imageID'].startswith('registry.example.com/helper@sha256:'))
        loop = seen[3][1]
        self.assertRegex(loop['state']['waiting']['message'],
                         r'^back-off 10s restarting failed container=init pod=puller-\w+_default\([0-9a-f-]+\)$')
        self.assertEqual(loop['lastState']['terminated']['reason'], 'Error')
        self.assertEqual(self.pod()['status']['phase'], 'Pending')
        self.assertEqual(self.states()['c'], 'PodInitializing')
        evs = [e.obj['message'] for e in self.c.store.values('events') if e.obj['reason'] == 'BackOff']
        self.assertTrue(evs and evs[0].startswith('Back-off restarting failed container init in pod puller-'))
