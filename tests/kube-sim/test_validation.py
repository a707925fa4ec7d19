import copy
import unittest

import simtest
import apierrors
import validation
from resources import RESOURCES


def check(mutate):
    ds = simtest.daemonset()
    mutate(ds)
    validation.default_daemonset(ds)
    return validation.daemonset(ds)


def fields(errs):
    return [(r, f) for r, f, _ in errs]


class DaemonSetValidationTest(unittest.TestCase):
    def test_valid(self):
        self.assertEqual(check(lambda d: None), [])

    def test_rules(self):
        def c(i):
            return lambda d: d['spec']['template']['spec']['containers'].__setitem__(i, None)
        cases = [
            ('name', lambda d: d['metadata'].update(name='Bad_Name'),
             [('FieldValueInvalid', 'metadata.name')]),
            ('no name', lambda d: d['metadata'].pop('name'), [('FieldValueRequired', 'metadata.name')]),
            ('label key', lambda d: d['metadata'].update(labels={'-x': 'a'}),
             [('FieldValueInvalid', 'metadata.labels')]),
            ('label value', lambda d: d['metadata'].update(labels={'x': 'a b'}),
             [('FieldValueInvalid', 'metadata.labels')]),
            ('label value long', lambda d: d['metadata'].update(labels={'x': 'a' * 64}),
             [('FieldValueInvalid', 'metadata.labels')]),
            # v1.26.0: a missing selector selects nothing, so it does not match the template
            ('no selector', lambda d: d['spec'].pop('selector'),
             [('FieldValueInvalid', 'spec.template.metadata.labels')]),
            ('min ready', lambda d: d['spec'].update(minReadySeconds=-1),
             [('FieldValueInvalid', 'spec.minReadySeconds')]),
            ('history limit', lambda d: d['spec'].update(revisionHistoryLimit=-1),
             [('FieldValueInvalid', 'spec.revisionHistoryLimit')]),
            ('update strategy', lambda d: d['spec'].update(updateStrategy={'type': 'Sometimes'}),
             [('FieldValueNotSupported', 'spec.updateStrategy')]),
            ('dns policy', lambda d: d['spec']['template']['spec'].update(dnsPolicy='Nope'),
             [('FieldValueNotSupported', 'spec.template.spec.dnsPolicy')]),
            ('hostname', lambda d: d['spec']['template']['spec'].update(hostname='Bad_Host'),
             [('FieldValueInvalid', 'spec.template.spec.hostname')]),
            ('env name', lambda d: d['spec']['template']['spec']['containers'][0].update(env=[{'name': '1 x'}]),
             [('FieldValueInvalid', 'spec.template.spec.containers[0].env[0].name')]),
            ('port protocol', lambda d: d['spec']['template']['spec']['containers'][0].update(
                ports=[{'containerPort': 80, 'protocol': 'SCTPX'}]),
             [('FieldValueNotSupported', 'spec.template.spec.containers[0].ports[0].protocol')]),
            ('selector mismatch', lambda d: d['spec']['selector']['matchLabels'].update(app='other'),
             [('FieldValueInvalid', 'spec.template.metadata.labels')]),
            ('restart policy', lambda d: d['spec']['template']['spec'].update(restartPolicy='Never'),
             [('FieldValueNotSupported', 'spec.template.spec.restartPolicy')]),
            ('container name', lambda d: d['spec']['template']['spec']['containers'][0].update(name='A'),
             [('FieldValueInvalid', 'spec.template.spec.containers[0].name')]),
            ('duplicate across init', lambda d: d['spec']['template']['spec'].update(
                initContainers=[{'name': 'c', 'image': 'busybox'}]),
             [('FieldValueDuplicate', 'spec.template.spec.initContainers[0].name')]),
            ('image required', lambda d: d['spec']['template']['spec']['containers'][0].pop('image'),
             [('FieldValueRequired', 'spec.template.spec.containers[0].image')]),
            ('pull policy', lambda d: d['spec']['template']['spec']['containers'][0].update(
                imagePullPolicy='Sometimes'),
             [('FieldValueNotSupported', 'spec.template.spec.containers[0].imagePullPolicy')]),
            ('no containers', lambda d: d['spec']['template']['spec'].update(containers=[]),
             [('FieldValueRequired', 'spec.template.spec.containers')]),
            ('annotations size', lambda d: d['metadata'].update(annotations={'a': 'x' * (256 * 1024)}),
             [('FieldValueTooLong', 'metadata.annotations')]),
            ('deadline', lambda d: d['spec']['template']['spec'].update(activeDeadlineSeconds=5),
             [('FieldValueForbidden', 'spec.template.spec.activeDeadlineSeconds')]),
        ]
        for name, mut, want in cases:
            with self.subTest(rule=name):
                self.assertEqual(fields(check(mut)), want)

    def test_real_message(self):
        errs = check(lambda d: d['spec']['template']['spec']['containers'][0].update(name='A'))
        e = apierrors.invalid(RESOURCES['daemonsets'], 'puller', errs)
        self.assertEqual(e.code, 422)
        self.assertEqual(e.status['message'],
                         'DaemonSet.apps "puller" is invalid: spec.template.spec.containers[0].name: '
                         'Invalid value: "A": a lowercase RFC 1123 label must consist of lower case '
                         "alphanumeric characters or '-', and must start and end with an alphanumeric "
                         "character (e.g. 'my-name',  or '123-abc', regex used for validation is "
                         "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
        self.assertEqual(e.status['details']['causes'][0]['field'],
                         'spec.template.spec.containers[0].name')
        self.assertEqual(e.status['details']['kind'], 'DaemonSet')
        self.assertEqual(e.status['details']['group'], 'apps')

    def test_two_errors_are_bracketed(self):
        errs = check(lambda d: d['spec']['template']['spec']['containers'][0].update(name='A', image=''))
        e = apierrors.invalid(RESOURCES['daemonsets'], 'puller', errs)
        self.assertIn('is invalid: [spec.template.spec.containers[0].name: Invalid value', e.status['message'])
        self.assertIn('spec.template.spec.containers[0].image: Required value]', e.status['message'])

    def test_defaults(self):
        ds = simtest.daemonset(containers=[{'name': 'a', 'image': 'nginx'},
                                           {'name': 'b', 'image': 'nginx:1.2'},
                                           {'name': 'c', 'image': 'nginx@sha256:' + 'a' * 64}])
        validation.default_daemonset(ds)
        ctrs = ds['spec']['template']['spec']['containers']
        self.assertEqual([c['imagePullPolicy'] for c in ctrs], ['Always', 'IfNotPresent', 'IfNotPresent'])
        self.assertEqual(ds['spec']['updateStrategy']['rollingUpdate'], {'maxUnavailable': 1, 'maxSurge': 0})
        self.assertEqual(ds['spec']['revisionHistoryLimit'], 10)

    def test_selector_immutable(self):
        old = simtest.daemonset()
        validation.default_daemonset(old)
        new = copy.deepcopy(old)
        new['spec']['selector']['matchLabels']['x'] = 'y'
        new['spec']['template']['metadata']['labels']['x'] = 'y'
        self.assertIn(('FieldValueInvalid', 'spec.selector'), fields(validation.daemonset_update(new, old)))


if __name__ == '__main__':
    unittest.main()
