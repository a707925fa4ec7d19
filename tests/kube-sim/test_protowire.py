"""protowire: the protobuf reviews kubectl sends (field numbers of k8s.io/api/authorization/v1)."""
import unittest

import protowire


def _len(num, payload):
    return bytes([num << 3 | 2, len(payload)]) + payload


def _str(num, s):
    return _len(num, s.encode())


def _envelope(kind, raw):
    meta = _str(1, 'authorization.k8s.io/v1') + _str(2, kind)
    return protowire.MAGIC + _len(1, meta) + _len(2, raw) + _str(4, 'application/vnd.kubernetes.protobuf')


class TestReviews(unittest.TestCase):
    def test_access_review(self):
        attrs = _str(1, 'clyde') + _str(2, 'create') + _str(3, 'apps') + _str(5, 'daemonsets')
        body = _envelope('SelfSubjectAccessReview', _len(1, b'') + _len(2, _len(1, attrs)))
        self.assertEqual(protowire.decode_review(body), {
            'apiVersion': 'authorization.k8s.io/v1', 'kind': 'SelfSubjectAccessReview',
            'spec': {'resourceAttributes': {'namespace': 'clyde', 'verb': 'create', 'group': 'apps',
                                            'resource': 'daemonsets'}}})

    def test_nonresource_and_rules(self):
        body = _envelope('SelfSubjectAccessReview', _len(2, _len(2, _str(1, '/healthz') + _str(2, 'get'))))
        self.assertEqual(protowire.decode_review(body)['spec'],
                         {'nonResourceAttributes': {'path': '/healthz', 'verb': 'get'}})
        body = _envelope('SelfSubjectRulesReview', _len(2, _str(1, 'default')))
        self.assertEqual(protowire.decode_review(body)['spec'], {'namespace': 'default'})

    def test_refusals(self):
        with self.assertRaises(protowire.DecodeError):
            protowire.decode_review(b'{"kind": "SelfSubjectAccessReview"}')
        with self.assertRaises(protowire.DecodeError):
            protowire.decode_review(_envelope('Pod', b''))
        with self.assertRaises(protowire.DecodeError):
            protowire.decode_review(protowire.MAGIC + bytes([0x0a, 0x7f]))   # length past the end


if __name__ == '__main__':
    unittest.main()
