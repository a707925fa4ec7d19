import unittest

import simtest  # noqa: F401  (sets sys.path)
import labelsel as sel

LABELS = {'app': 'web', 'tier': 'front', 'n': '5', 'empty': ''}


def m(s, labels=LABELS):
    return sel.labels_match(sel.parse_label_selector(s), labels)


class LabelSelectorTest(unittest.TestCase):
    def test_matching_table(self):
        cases = [('', True), ('app=web', True), ('app==web', True), ('app!=web', False),
                 ('app=db', False), ('missing!=x', True), ('app in (db,web)', True),
                 ('app notin (db,web)', False), ('missing notin (a)', True),
                 ('app', True), ('!app', False), ('!missing', True), ('missing', False),
                 ('app=web,tier=front', True), ('app=web,tier=back', False),
                 ('n>4', True), ('n<5', False), ('missing>1', False), ('empty=', True),
                 ('  app = web , tier in ( front ) ', True), ('app in (web,)', True),
                 ('example.com/key', False),
                 # kube-apiserver v1.26.0 reads '()' as the set {""} (measured: 200, not 400)
                 ('empty in ()', True), ('app in ()', False)]
        for s, want in cases:
            with self.subTest(selector=s):
                self.assertEqual(m(s), want)

    def test_parse_errors(self):
        for s in ['app=web,', 'app in (a', '=x', 'app ~ web', '-bad-=x',
                  'n>abc', 'app in a', 'a b', 'app=web)', 'app=bad value']:
            with self.subTest(selector=s):
                with self.assertRaises(sel.SelectorError):
                    sel.parse_label_selector(s)

    def test_parse_error_messages(self):
        # the texts kube-apiserver v1.26.0 answered (tests/realkube/fidelity.py)
        for s, msg in [('a in (b', "unable to parse requirement: found '', expected: ',' or ')'"),
                       ('!!a', "unable to parse requirement: found '!', expected: identifier"),
                       (',', "found ',', expected: !, identifier, or 'end of string'"),
                       ('a=b,', "found '', expected: identifier after ','"),
                       ('a in (', "unable to parse requirement: found '', expected: ',', ')' or identifier")]:
            with self.subTest(selector=s):
                with self.assertRaises(sel.SelectorError) as cm:
                    sel.parse_label_selector(s)
                self.assertEqual(str(cm.exception), msg)

    def test_requirement_shape(self):
        self.assertEqual(sel.parse_label_selector('a in (x, y),!b,c!=d'),
                         [('a', 'in', ['x', 'y']), ('b', '!', []), ('c', '!=', ['d'])])

    def test_struct_selector(self):
        reqs = sel.label_selector_from_struct({'matchLabels': {'app': 'web'},
                                               'matchExpressions': [{'key': 'tier', 'operator': 'In',
                                                                     'values': ['front']}]})
        self.assertTrue(sel.labels_match(reqs, LABELS))
        self.assertFalse(sel.labels_match(reqs, {'app': 'web'}))
        with self.assertRaises(sel.SelectorError):
            sel.label_selector_from_struct({'matchExpressions': [{'key': 'a', 'operator': 'Like'}]})

    def test_node_affinity_terms(self):
        node = {'metadata': {'name': 'n1', 'labels': {'zone': 'a'}}}
        t_fields = [{'matchFields': [{'key': 'metadata.name', 'operator': 'In', 'values': ['n1']}]}]
        t_not = [{'matchFields': [{'key': 'metadata.name', 'operator': 'NotIn', 'values': ['n1']}]}]
        t_expr = [{'matchExpressions': [{'key': 'zone', 'operator': 'In', 'values': ['b']}]},
                  {'matchExpressions': [{'key': 'zone', 'operator': 'Exists'}]}]
        self.assertTrue(sel.node_selector_terms_match(t_fields, node))
        self.assertFalse(sel.node_selector_terms_match(t_not, node))
        self.assertTrue(sel.node_selector_terms_match(t_expr, node))
        self.assertFalse(sel.node_selector_terms_match([{}], node))


class FieldSelectorTest(unittest.TestCase):
    def test_match_and_errors(self):
        allowed = ('metadata.name', 'metadata.namespace', 'spec.nodeName')
        pod = {'metadata': {'name': 'p', 'namespace': 'default'}, 'spec': {'nodeName': 'n1'}}
        r = sel.parse_field_selector('spec.nodeName=n1,metadata.name!=q', allowed)
        self.assertTrue(sel.fields_match(r, pod))
        r = sel.parse_field_selector('spec.nodeName==n2', allowed)
        self.assertFalse(sel.fields_match(r, pod))
        with self.assertRaisesRegex(sel.SelectorError, 'field label not supported: spec.foo'):
            sel.parse_field_selector('spec.foo=1', allowed)
        with self.assertRaises(sel.SelectorError):
            sel.parse_field_selector('nonsense', allowed)


if __name__ == '__main__':
    unittest.main()
