"""Server-side field validation: unknown fields warned about (default), refused (Strict)
or ignored, as the real server does since v1.27."""

import json
import unittest

import fieldschema
import simtest


class UnknownFieldsTest(unittest.TestCase):
    def test_paths(self):
        ds = simtest.daemonset(containers=[{'name': 'c', 'image': 'x:1', 'imagePolicy': 'Always'}],
                               init=[{'name': 'i', 'image': 'y:1', 'resources': {'limts': {}}}])
        ds['spec']['template']['spec']['tolerations'] = [{'key': 'k', 'effekt': 'NoSchedule'}]
        ds['spec']['selektor'] = {}
        ds['metadata']['labels'] = {'any-key': 'fine'}
        ds['spec']['template']['spec']['nodeSelector'] = {'clyde/seeder': 'true'}
        self.assertEqual(sorted(fieldschema.unknown_fields('daemonsets', ds)),
                         ['spec.selektor', 'spec.template.spec.containers[0].imagePolicy',
                          'spec.template.spec.initContainers[0].resources.limts',
                          'spec.template.spec.tolerations[0].effekt'])
        self.assertEqual(fieldschema.unknown_fields('daemonsets', simtest.daemonset()), [])
        self.assertEqual(fieldschema.unknown_fields('nodes', {'metadata': {'labelz': {}}, 'spec': {}}),
                         ['metadata.labelz'])
        self.assertEqual(fieldschema.unknown_fields('events', {'whatever': 1}), [])
        fieldschema.unknown_fields('daemonsets', ds, drop=True)
        self.assertEqual(fieldschema.unknown_fields('daemonsets', ds), [])
        self.assertEqual(ds['spec']['template']['spec']['tolerations'], [{'key': 'k'}])


class LiveFieldValidationTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = simtest.LiveSim('--nodes', '2', '--time-scale', '0.02')

    @classmethod
    def tearDownClass(cls):
        assert cls.sim.stop() == 0

    def typo_ds(self, name):
        ds = simtest.daemonset(name=name, node_selector={'none': 'x'})
        ds['spec']['template']['spec']['containers'][0]['imagePolicy'] = 'Always'
        return ds

    def test_default_warns_and_drops(self):
        code, hdrs, body = self.sim.call('POST', '/apis/apps/v1/namespaces/default/daemonsets',
                                         self.typo_ds('warned'))
        self.assertEqual(code, 201)
        self.assertEqual(hdrs.get('warning'),
                         '299 - "unknown field \\"spec.template.spec.containers[0].imagePolicy\\""')
        log = [json.loads(x) for x in self.sim.call('GET', '/_sim/log?tail=1', token=False)[2].splitlines()]
        self.assertEqual(log[-1]['warnings'], [hdrs['warning']])
        code, hdrs, _ = self.sim.call('PATCH', '/api/v1/nodes/node-0001',
                                      {'metadata': {'labels': {'a': 'b'}}, 'spec': {'unschedulabel': True}},
                                      ctype='application/merge-patch+json')
        self.assertEqual((code, hdrs.get('warning')), (200, '299 - "unknown field \\"spec.unschedulabel\\""'))
        code, hdrs, _ = self.sim.call('PATCH', '/api/v1/nodes/node-0001', {'metadata': {'labels': {'a': 'c'}}},
                                      ctype='application/merge-patch+json')
        self.assertNotIn('warning', hdrs)       # the unknown field was dropped, not kept
        ds = self.sim.json('GET', '/apis/apps/v1/namespaces/default/daemonsets/warned')[1]
        self.assertNotIn('imagePolicy', ds['spec']['template']['spec']['containers'][0])

    def test_strict_refuses_and_ignore_is_silent(self):
        code, body = self.sim.json('POST', '/apis/apps/v1/namespaces/default/daemonsets?fieldValidation=Strict',
                                   self.typo_ds('strict'))
        self.assertEqual((code, body['reason']), (400, 'BadRequest'))
        self.assertEqual(body['message'], 'DaemonSet in version "v1" cannot be handled as a DaemonSet: strict '
                         'decoding error: unknown field "spec.template.spec.containers[0].imagePolicy"')
        self.assertEqual(self.sim.json('GET', '/apis/apps/v1/namespaces/default/daemonsets/strict')[0], 404)
        code, hdrs, _ = self.sim.call('POST', '/apis/apps/v1/namespaces/default/daemonsets?fieldValidation=Ignore',
                                      self.typo_ds('ignored'))
        self.assertEqual(code, 201)
        self.assertNotIn('warning', hdrs)
        code, body = self.sim.json('POST', '/apis/apps/v1/namespaces/default/daemonsets?fieldValidation=Loud',
                                   self.typo_ds('loud'))
        self.assertEqual(code, 422)
        self.assertIn('fieldValidation: Unsupported value: "Loud"', body['message'])
        ok = simtest.daemonset(name='clean', node_selector={'none': 'x'})
        code, hdrs, _ = self.sim.call('POST', '/apis/apps/v1/namespaces/default/daemonsets?fieldValidation=Strict', ok)
        self.assertEqual(code, 201)


if __name__ == '__main__':
    unittest.main()
