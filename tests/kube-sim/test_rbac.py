"""RBAC from Kubernetes manifests: the YAML subset reader, the authorizer, service account
identities, 403 messages and SelfSubjectAccessReview/SelfSubjectRulesReview."""

import json
import os
import unittest

import rbacyaml
import simtest
import yamlsub
from rbacyaml import Attrs

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, 'testdata', 'rbac.yaml')
SHIPPED = os.path.join(HERE, '..', '..', 'etc', 'clyde', 'rbac.yaml')
SA = 'system:serviceaccount:clyde:clyde-seed'


class YamlSubsetTest(unittest.TestCase):
    def test_documents_and_collections(self):
        docs = yamlsub.load_all('---\n# only a comment\n---\na: 1\nb:\n- x\n-   y: 2\n    z: [3, "4"]\n'
                                '...\n---\n- {k: v, "q": \'it\'\'s\'}\n- - nested\n  - seq\n')
        self.assertEqual(docs, [{'a': 1, 'b': ['x', {'y': 2, 'z': [3, '4']}]},
                                [{'k': 'v', 'q': "it's"}, ['nested', 'seq']]])

    def test_sequence_at_key_indent_and_empty_values(self):
        doc = yamlsub.load('rules:\n- verbs: ["get","list"]\n  resources:\n  - pods\nempty:\nnext: ~\n')
        self.assertEqual(doc, {'rules': [{'verbs': ['get', 'list'], 'resources': ['pods']}],
                               'empty': None, 'next': None})

    def test_scalars(self):
        doc = yamlsub.load('a: "x # y"\nb: x # y\nc: \'#\'\nd: true\ne: "true"\nf: 10\ng: 1.5\n'
                           'h: "tab\\tnew\\nline\\u00e9"\ni: a:b\nj: http://x/y#z\nk: \'\'\nl: ""\n'
                           'm: -1\nn: "*"\n"quoted key": 1\n')
        self.assertEqual(doc, {'a': 'x # y', 'b': 'x', 'c': '#', 'd': True, 'e': 'true', 'f': 10,
                               'g': 1.5, 'h': 'tab\tnew\nline\u00e9', 'i': 'a:b', 'j': 'http://x/y#z',
                               'k': '', 'l': '', 'm': -1, 'n': '*', 'quoted key': 1})

    def test_multiline_flow_and_block_scalars(self):
        doc = yamlsub.load('v: ["get",\n    "list",\n    watch]\nlit: |\n  one\n    two\n\n  three\n'
                           'fold: >\n  a\n  b\n\n  c\nstrip: |-\n  s\nkeep: |+\n  k\n\nend: 1\n')
        self.assertEqual(doc, {'v': ['get', 'list', 'watch'], 'lit': 'one\n  two\n\nthree\n',
                               'fold': 'a b\nc\n', 'strip': 's', 'keep': 'k\n\n', 'end': 1})

    def test_errors_name_the_line(self):
        for text, line in (('a: 1\n  b: 2\n', 2), ('a: *ref\n', 1), ('a: &x 1\n', 1), ('a: [1, 2\n', 1),
                           ('a: 1\na: 2\n', 2), ('a: "open\n', 1), ('x:\n\t- a\n', 2), ('- a\nb: 1\n', 2)):
            with self.assertRaises(yamlsub.YamlError, msg=text) as cm:
                yamlsub.load_all(text)
            self.assertIn('line %d' % line, str(cm.exception), text)


class AuthorizerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.p = rbacyaml.Policy.from_file(FIXTURE)

    def allowed(self, ns, name, attrs):
        user, groups = rbacyaml.sa_user(ns, name)
        return self.p.authorize(user, groups, attrs)[0]

    def test_service_accounts(self):
        self.assertEqual(self.p.service_accounts, [('clyde', 'clyde-seed'), ('ops', 'auditor')])

    def test_cluster_role_binding(self):
        ok = lambda a: self.allowed('clyde', 'clyde-seed', a)  # noqa: E731
        self.assertTrue(ok(Attrs('patch', '', 'nodes', name='node-0007')))
        self.assertTrue(ok(Attrs('watch', '', 'nodes')))
        self.assertFalse(ok(Attrs('delete', '', 'nodes', name='node-0007')))
        self.assertFalse(ok(Attrs('patch', '', 'nodes', 'status', 'node-0007')))   # no subresource
        self.assertFalse(ok(Attrs('list', 'apps', 'nodes')))                       # wrong group

    def test_role_binding_only_in_its_namespace(self):
        ok = lambda a: self.allowed('clyde', 'clyde-seed', a)  # noqa: E731
        self.assertTrue(ok(Attrs('create', 'apps', 'daemonsets', namespace='clyde')))
        self.assertTrue(ok(Attrs('delete', 'apps', 'daemonsets', name='x', namespace='clyde')))
        self.assertFalse(ok(Attrs('update', 'apps', 'daemonsets', name='x', namespace='clyde')))
        self.assertFalse(ok(Attrs('create', 'apps', 'daemonsets', namespace='default')))
        self.assertFalse(ok(Attrs('list', 'apps', 'daemonsets')))                 # all namespaces
        self.assertFalse(ok(Attrs('delete', '', 'pods', name='p', namespace='clyde')))
        self.assertFalse(self.allowed('other', 'clyde-seed', Attrs('list', '', 'pods', namespace='clyde')))

    def test_subresource_wildcard_resource_names_and_groups(self):
        ok = lambda a: self.allowed('ops', 'auditor', a)  # noqa: E731
        self.assertTrue(ok(Attrs('get', '', 'pods', 'status', 'p', 'clyde')))
        self.assertTrue(ok(Attrs('get', '', 'nodes', 'status', 'node-0002')))
        self.assertFalse(ok(Attrs('get', '', 'pods', '', 'p', 'clyde')))
        self.assertTrue(ok(Attrs('patch', '', 'nodes', name='node-0001')))
        self.assertFalse(ok(Attrs('patch', '', 'nodes', name='node-0002')))
        self.assertFalse(ok(Attrs('list', '', 'nodes')))                          # resourceNames
        self.assertTrue(ok(Attrs('list', '', 'events', namespace='default')))     # group subject
        self.assertFalse(ok(Attrs('list', '', 'events', namespace='clyde')))

    def test_bootstrap_and_reasons(self):
        user, groups = rbacyaml.sa_user('clyde', 'clyde-seed')
        self.assertEqual(self.p.authorize(user, groups, Attrs('get', path='/apis/apps/v1')),
                         (True, 'RBAC: allowed by ClusterRoleBinding "system:discovery" of ClusterRole '
                          '"system:discovery" to Group "system:authenticated"'))
        self.assertEqual(self.p.authorize(user, groups, Attrs('post', path='/apis')), (False, ''))
        self.assertEqual(self.p.authorize(user, groups, Attrs('list', '', 'pods', namespace='clyde'))[1],
                         'RBAC: allowed by RoleBinding "clyde-seed-preload/clyde" of Role '
                         '"clyde-seed-preload" to ServiceAccount "clyde-seed/clyde"')
        self.assertFalse(self.p.authorize('someone', ['system:authenticated'],
                                          Attrs('get', '', 'nodes', name='n'))[0])

    def test_bad_manifests(self):
        for text, msg in (('kind: Role\nmetadata: {name: r}\nrules: [{verbs: [get]}]\n', 'resources'),
                          ('kind: Role\nmetadata: {name: r}\nrules: [{verbs: [get], resources: [pods]}]\n',
                           'api group'),
                          ('kind: ClusterRoleBinding\nmetadata: {name: b}\nroleRef: {kind: Role, name: r}\n',
                           'roleRef.kind'),
                          ('kind: Role\nmetadata: {name: r}\nrules:\n- verbs: [get]\n  nonResourceURLs: [/x]\n',
                           'namespaced rules'),
                          ('kind: Role\nrules: []\n', 'metadata.name')):
            with self.assertRaises(rbacyaml.PolicyError, msg=text) as cm:
                rbacyaml.Policy().load_text(text, 'x.yaml')
            self.assertIn(msg, str(cm.exception))
            self.assertIn('x.yaml: document 1', str(cm.exception))

    def test_shipped_rbac_yaml(self):
        p = rbacyaml.Policy.from_file(SHIPPED)
        self.assertTrue(p.service_accounts)
        ns, name = p.service_accounts[0]
        user, groups = rbacyaml.sa_user(ns, name)
        # Exactly what a cycle uses: nothing more.
        for verb in ('get', 'list', 'patch'):
            self.assertTrue(p.authorize(user, groups, Attrs(verb, '', 'nodes', name='n' if verb in (
                'get', 'patch') else ''))[0], verb)
        for verb in ('delete', 'watch'):
            self.assertFalse(p.authorize(user, groups, Attrs(verb, '', 'nodes', name='n'))[0], verb)
        for verb in ('create', 'get', 'list', 'delete'):
            self.assertTrue(p.authorize(user, groups, Attrs(verb, 'apps', 'daemonsets', namespace=ns))[0])
        self.assertFalse(p.authorize(user, groups, Attrs('watch', 'apps', 'daemonsets', namespace=ns))[0])
        for verb in ('list', 'watch'):
            self.assertTrue(p.authorize(user, groups, Attrs(verb, '', 'pods', namespace=ns))[0], verb)
        self.assertFalse(p.authorize(user, groups, Attrs('get', '', 'pods', name='p', namespace=ns))[0])
        self.assertFalse(p.authorize(user, groups, Attrs('list', 'apps', 'daemonsets', namespace='x' + ns))[0])


class LiveRbacTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = simtest.LiveSim('--nodes', '3', '--time-scale', '0.02', '--rbac-yaml', FIXTURE,
                                  '--sa-token', 'ops:auditor=auditor-token')
        with open(os.path.join(cls.sim.dir, 'token-sa-clyde-seed')) as f:
            cls.tok = f.read().strip()
        cls.sim.json('POST', '/api/v1/namespaces', {'metadata': {'name': 'clyde'}})

    @classmethod
    def tearDownClass(cls):
        assert cls.sim.stop() == 0

    def test_kubeconfig_for_the_service_account(self):
        with open(os.path.join(self.sim.dir, 'kubeconfig-sa-clyde-seed')) as f:
            text = f.read()
        self.assertIn('token: ' + self.tok, text)
        self.assertIn('namespace: clyde', text)
        self.assertIn('server: ' + self.sim.url, text)
        self.assertTrue(os.path.exists(os.path.join(self.sim.dir, 'kubeconfig-sa-auditor')))

    def test_allowed_and_forbidden_requests(self):
        call = lambda m, p, b=None, **kw: self.sim.json(m, p, b, token=self.tok, **kw)  # noqa: E731
        self.assertEqual(call('GET', '/api/v1/nodes?limit=1')[0], 200)
        self.assertEqual(call('GET', '/apis')[0], 200)
        code, _ = call('PATCH', '/api/v1/nodes/node-0001', {'metadata': {'labels': {'sa': 'yes'}}},
                       ctype='application/merge-patch+json')
        self.assertEqual(code, 200)
        code, body = call('GET', '/api/v1/namespaces/default/pods')
        self.assertEqual((code, body['message']), (403, 'pods is forbidden: User "%s" cannot list resource '
                                                   '"pods" in API group "" in the namespace "default"' % SA))
        self.assertEqual(body['details'], {'kind': 'pods'})
        code, body = call('PATCH', '/api/v1/nodes/node-0001/status', {}, ctype='application/merge-patch+json')
        self.assertEqual(body['message'], 'nodes "node-0001" is forbidden: User "%s" cannot patch resource '
                         '"nodes/status" in API group "" at the cluster scope' % SA)
        code, body = call('DELETE', '/apis/apps/v1/namespaces/clyde/daemonsets/x')
        self.assertEqual(code, 404)     # allowed, and missing
        code, body = call('GET', '/api/v1/namespaces/clyde')
        self.assertEqual(body['message'], 'namespaces "clyde" is forbidden: User "%s" cannot get resource '
                         '"namespaces" in API group "" in the namespace "clyde"' % SA)
        code, body = call('POST', '/apis/apps/v1/namespaces/clyde/daemonsets',
                          simtest.daemonset(name='sa-ds', node_selector={'none': 'x'}) | {'metadata': {
                              'name': 'sa-ds', 'namespace': 'clyde'}})
        self.assertEqual(code, 201, body)
        code, body = self.sim.json('GET', '/api/v1/nodes', token='auditor-token')
        self.assertEqual(body['message'], 'nodes is forbidden: User "system:serviceaccount:ops:auditor" '
                         'cannot list resource "nodes" in API group "" at the cluster scope')
        self.assertEqual(self.sim.json('GET', '/api/v1/nodes/node-0001', token='auditor-token')[0], 200)

    def review(self, token, attrs, key='resourceAttributes'):
        return self.sim.json('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
                             {'apiVersion': 'authorization.k8s.io/v1', 'kind': 'SelfSubjectAccessReview',
                              'spec': {key: attrs}}, token=token)

    def test_self_subject_access_review(self):
        code, body = self.review(self.tok, {'namespace': 'clyde', 'verb': 'create', 'group': 'apps',
                                            'resource': 'daemonsets'})
        self.assertEqual(code, 201)
        self.assertEqual(body['kind'], 'SelfSubjectAccessReview')
        self.assertEqual(body['spec']['resourceAttributes']['resource'], 'daemonsets')
        self.assertEqual(body['status'], {'allowed': True, 'reason': 'RBAC: allowed by RoleBinding '
                                          '"clyde-seed-preload/clyde" of Role "clyde-seed-preload" to '
                                          'ServiceAccount "clyde-seed/clyde"'})
        code, body = self.review(self.tok, {'namespace': 'default', 'verb': 'list', 'resource': 'pods'})
        self.assertEqual((code, body['status']), (201, {'allowed': False}))
        code, body = self.review(self.tok, {'verb': 'patch', 'resource': 'nodes', 'name': 'node-0002'})
        self.assertTrue(body['status']['allowed'])
        code, body = self.review(self.tok, {'verb': 'get', 'path': '/version'}, key='nonResourceAttributes')
        self.assertTrue(body['status']['allowed'])
        code, body = self.review(True, {'verb': 'delete', 'resource': 'nodes'})
        self.assertEqual(body['status'], {'allowed': True})         # system:masters
        code, body = self.sim.json('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
                                   {'spec': {}}, token=self.tok)
        self.assertEqual((code, body['reason']), (422, 'Invalid'))
        self.assertIn('exactly one of nonResourceAttributes or resourceAttributes must be specified',
                      body['message'])
        # authorization comes first (a list the service account may not do), then the method
        code, _ = self.sim.json('GET', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', token=self.tok)
        self.assertEqual(code, 403)
        code, _ = self.sim.json('GET', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews')
        self.assertEqual(code, 405)

    def test_rules_review_and_discovery(self):
        code, body = self.sim.json('POST', '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews',
                                   {'spec': {'namespace': 'clyde'}}, token=self.tok)
        self.assertEqual(code, 201)
        groups = [(tuple(r['apiGroups']), tuple(r['resources'])) for r in body['status']['resourceRules']]
        self.assertIn((('apps',), ('daemonsets',)), groups)
        self.assertIn((('',), ('nodes',)), groups)
        code, doc = self.sim.json('GET', '/apis', token=self.tok)
        self.assertIn('authorization.k8s.io', [g['name'] for g in doc['groups']])
        code, doc = self.sim.json('GET', '/apis/authorization.k8s.io/v1', token=self.tok)
        ssar = [r for r in doc['resources'] if r['name'] == 'selfsubjectaccessreviews'][0]
        self.assertEqual((ssar['kind'], ssar['verbs'], ssar['namespaced']),
                         ('SelfSubjectAccessReview', ['create'], False))


class LiveNoRbacTest(unittest.TestCase):
    def test_review_always_allowed_without_policy(self):
        sim = simtest.LiveSim('--nodes', '1')
        try:
            code, body = sim.json('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
                                  {'spec': {'resourceAttributes': {'verb': 'delete', 'resource': 'nodes'}}})
            self.assertEqual((code, body['status']), (201, {'allowed': True}))
        finally:
            self.assertEqual(sim.stop(), 0)


if __name__ == '__main__':
    unittest.main()
