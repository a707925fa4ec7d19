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
