"""The Go texts kube-sim repeats (JSON decoder errors, strconv, list options, patch
errors): each expected text was answered by kube-apiserver v1.26.0 (tests/realkube/fidelity.py)."""

import base64
import unittest

import simtest  # noqa: F401  (sets sys.path)
import api
import apierrors
import gojson
import patch
from resources import RESOURCES


def go_error(data):
    try:
        gojson.loads(data)
    except gojson.GoJSONError as e:
        return str(e)
    return None


def request(query, plural='nodes'):
    return api.Request(RESOURCES[plural], '', '', '', {k: [v] for k, v in query.items()})


def api_error(fn, *args, **kw):
    try:
        fn(*args, **kw)
    except apierrors.ApiError as e:
        return e.code, e.status.get('reason', ''), e.status['message']
    return None


class GoJSONTest(unittest.TestCase):
    def test_syntax_errors(self):
        cases = [(b'{not json', "invalid character 'n' looking for beginning of object key string"),
                 (b'', 'unexpected end of JSON input'),
                 (b'{"kind":', 'unexpected end of JSON input'),
                 (b'{"a" 1}', "invalid character '1' after object key"),
                 (b'{"a":1 x', "invalid character 'x' after object key:value pair"),
                 (b'[1 2]', "invalid character '2' after array element"),
                 (b'[1,]', "invalid character ']' looking for beginning of value"),
                 (b'01', "invalid character '1' after top-level value"),
                 (b'trux', "invalid character 'x' in literal true (expecting 'e')"),
                 (b'"a\\q"', "invalid character 'q' in string escape code"),
                 (b'\x81', "invalid character '\\u0081' looking for beginning of value")]
        for data, want in cases:
            with self.subTest(data=data):
                self.assertEqual(go_error(data), want)
        self.assertIsNone(go_error(b' {"a": [1, -2.5e+3, true, null, "\\u00e9"]} '))
        self.assertEqual(gojson.loads(b'{"a": [1, false]}'), {'a': [1, False]})

    def test_type_names(self):
        self.assertEqual(gojson.type_error([], 'map[string]interface {}'),
                         'json: cannot unmarshal array into Go value of type map[string]interface {}')
        self.assertEqual([gojson.type_name(v) for v in ('x', 1, 1.5, True, {})],
                         ['string', 'number', 'number', 'bool', 'object'])


class ListOptionsTest(unittest.TestCase):
    def test_integers_are_go_parsed(self):
        self.assertEqual(api_error(api.list_options, request({'limit': 'abc'})),
                         (400, 'BadRequest', 'strconv.ParseInt: parsing "abc": invalid syntax'))
        self.assertEqual(api_error(api.list_options, request({'timeoutSeconds': ' 5'})),
                         (400, 'BadRequest', 'strconv.ParseInt: parsing " 5": invalid syntax'))
        self.assertEqual(api.list_options(request({'limit': '+7', 'timeoutSeconds': '3'}))[2:], (3, 7))

    def test_resource_version_match(self):
        code, reason, msg = api_error(api.list_options, request({'resourceVersionMatch': 'Exact'}))
        self.assertEqual((code, reason), (422, 'Invalid'))
        self.assertEqual(msg, 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: '
                         'resourceVersionMatch is forbidden unless resourceVersion is provided')
        _, _, msg = api_error(api.list_options, request({'resourceVersionMatch': 'Soon', 'resourceVersion': '1'}),
                              watch=True)
        self.assertTrue(msg.startswith('ListOptions.meta.k8s.io "" is invalid: [resourceVersionMatch: Forbidden: '
                                       'resourceVersionMatch is forbidden for watch, '), msg)

    def test_bad_resource_version_is_a_bare_500(self):
        err = None
        try:
            api.resource_version('abc')
        except apierrors.ApiError as e:
            err = e
        self.assertEqual(err.code, 500)
        self.assertNotIn('reason', err.status)
        self.assertEqual(err.status['message'],
                         'resourceVersion: Invalid value: "abc": strconv.ParseUint: parsing "abc": invalid syntax')
        self.assertEqual(api.resource_version('42'), 42)

    def test_watch_flag(self):
        self.assertTrue(api.is_watch({'watch': ['maybe']}))
        self.assertTrue(api.is_watch({'watch': ['1']}))
        self.assertFalse(api.is_watch({'watch': ['FALSE']}))
        self.assertFalse(api.is_watch({'watch': ['0']}))
        self.assertFalse(api.is_watch({}))

    def test_namespace_field_only_when_namespaced(self):
        self.assertEqual(api_error(api.list_options, request({'fieldSelector': 'metadata.namespace='})),
                         (400, 'BadRequest', 'field label not supported: metadata.namespace'))
        api.list_options(request({'fieldSelector': 'metadata.namespace=default'}, 'pods'))


class ContinueTokenTest(unittest.TestCase):
    def test_texts(self):
        import store
        s = store.Store()
        for token, why in (('garbage', "invalid character '\\u0081' looking for beginning of value"),
                           ('a*b', 'illegal base64 data at input byte 1')):
            with self.subTest(token=token):
                with self.assertRaises(apierrors.ApiError) as cm:
                    s._decode_continue(token, 0)
                self.assertEqual(cm.exception.status['message'],
                                 'invalid continue token: continue key is not valid: ' + why)
        self.assertEqual(base64.urlsafe_b64decode('garbage=')[:1], b'\x81')


class PatchTextsTest(unittest.TestCase):
    def test_decoding_and_failed_operations(self):
        node = {'metadata': {'labels': {'a': '1'}}}
        cases = [(patch.MERGE, b'[]', 400, 'error decoding patch: json: cannot unmarshal array into Go value '
                  'of type map[string]interface {}'),
                 (patch.STRATEGIC, b'"x"', 400, 'json: cannot unmarshal string into Go value of type '
                  'map[string]interface {}'),
                 (patch.MERGE, b'', 400, 'error decoding patch: unexpected end of JSON input'),
                 (patch.JSONPATCH, b'{"op": "add"}', 400, 'error decoding patch: json: cannot unmarshal object '
                  'into Go value of type []handlers.jsonPatchOp'),
                 (patch.JSONPATCH, b'[{"op": "remove", "path": "/metadata/labels/nope"}]', 422,
                  patch.GENERIC_422)]
        for ctype, body, code, msg in cases:
            with self.subTest(body=body):
                with self.assertRaises(patch.PatchError) as cm:
                    patch.apply(ctype, node, body)
                self.assertEqual((cm.exception.code, str(cm.exception)), (code, msg))


class NodeUpdateTest(unittest.TestCase):
    def test_metadata_rules_run_four_times(self):
        import nodes
        import validation
        old = nodes.make_node('node-0001', 0, 'zone-a', 'amd64')
        new = {'metadata': dict(old['metadata'], labels={'bad key!': 'x'}, uid='other'), 'spec': dict(old['spec'])}
        errs = validation.update_common(new, old) + validation.node(new) + validation.node_update(new, old)
        self.assertEqual(sum(1 for e in errs if e[1] == 'metadata.labels'), 4)
        self.assertEqual([e[2] for e in errs if e[1] == 'metadata.uid'],
                         ['Invalid value: "other": field is immutable'] * 2)
        e = apierrors.invalid(RESOURCES['nodes'], 'node-0001', errs)
        self.assertEqual(e.status['message'].count('bad key!'), 1)
        self.assertEqual(len(e.status['details']['causes']), 6)

    def test_pod_cidr_and_provider_are_set_once(self):
        import nodes
        import validation
        old = nodes.make_node('node-0001', 0, 'zone-a', 'amd64')
        new = {'metadata': old['metadata'], 'spec': dict(old['spec'], podCIDR='10.9.0.0/24')}
        self.assertEqual([e[1] for e in validation.node_update(new, old)], ['spec.podCIDRs'])
        self.assertEqual([e[1] for e in validation.node_update({'metadata': old['metadata']}, old)],
                         ['spec.podCIDRs', 'spec.providerID'])


if __name__ == '__main__':
    unittest.main()
