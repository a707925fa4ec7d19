"""The hooks tests/realnode relies on: a node annotated as having an external kubelet is
left alone by the simulated one, a kubelet finishes a graceful deletion with
gracePeriodSeconds=0, and secrets are served."""

import unittest

import simtest
import api
from resources import RESOURCES
from test_scheduling import create_ds

EXTERNAL = {'kube-sim.clyde-seed.io/kubelet': 'external'}


class ExternalKubeletTest(unittest.TestCase):
    def setUp(self):
        self.c = simtest.make_cluster(nodes=2, images_per_node=0)
        self.c.change_node('node-0001', lambda n: n['metadata'].setdefault('annotations', {}).update(EXTERNAL))
        create_ds(self.c, simtest.daemonset())
        self.c.controllers.reconcile()
        t = 1000.0
        for _ in range(200):
            self.c.kubelet.tick(t)
            t += 0.05

    def pod_on(self, node):
        return [p for p in self.c.store.values('pods') if p.obj['spec']['nodeName'] == node][0]

    def test_external_node_is_left_alone(self):
        self.assertEqual(self.pod_on('node-0002').obj['status']['phase'], 'Running')
        ext = self.pod_on('node-0001').obj['status']
        self.assertEqual(ext['phase'], 'Pending')
        self.assertNotIn('containerStatuses', ext)      # nothing reported for it
        node = self.c.store.get('nodes', '', 'node-0001').obj
        self.assertEqual(node['status'].get('images') or [], [])

    def test_delete_with_grace_zero_finishes_a_terminating_pod(self):
        pod = self.pod_on('node-0001')
        gone = self.c.delete_pod(pod, grace=30)
        self.assertIsNotNone(gone.meta.get('deletionTimestamp'))
        self.assertIsNotNone(self.c.store.get('pods', 'default', pod.meta['name']))
        self.c.delete_pod(self.c.store.get('pods', 'default', pod.meta['name']), grace=0)
        self.assertIsNone(self.c.store.get('pods', 'default', pod.meta['name']))

    def test_secrets_are_served(self):
        body = simtest.json.dumps({'apiVersion': 'v1', 'kind': 'Secret', 'metadata': {'name': 's'},
                                   'type': 'kubernetes.io/dockerconfigjson',
                                   'data': {'.dockerconfigjson': 'e30='}}).encode()
        code, _, _ = api.do_create(self.c, api.Request(RESOURCES['secrets'], 'default', '', '', {}, body))
        self.assertEqual(code, 201)
        got = self.c.store.get('secrets', 'default', 's').obj
        self.assertEqual(got['data'], {'.dockerconfigjson': 'e30='})


if __name__ == '__main__':
    unittest.main()
