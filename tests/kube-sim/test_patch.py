import json
import unittest

import simtest  # noqa: F401
import patch


class PatchTest(unittest.TestCase):
    def test_merge_patch_null_removes(self):
        doc = {'metadata': {'labels': {'a': '1', 'b': '2'}}, 'spec': {'x': [1, 2]}}
        out = patch.apply(patch.MERGE, doc, b'{"metadata":{"labels":{"a":null,"c":"3"}},"spec":{"x":[3]}}')
        self.assertEqual(out, {'metadata': {'labels': {'b': '2', 'c': '3'}}, 'spec': {'x': [3]}})
        self.assertEqual(doc['metadata']['labels'], {'a': '1', 'b': '2'})

    def test_strategic_merges_containers_by_name(self):
        doc = {'spec': {'containers': [{'name': 'a', 'image': 'x:1'}, {'name': 'b', 'image': 'y:1'}],
                        'tolerations': [{'key': 'k'}]}}
        p = {'spec': {'containers': [{'name': 'b', 'image': 'y:2'}, {'name': 'c', 'image': 'z'}],
                      'tolerations': [{'key': 'j'}]}}
        out = patch.apply(patch.STRATEGIC, doc, json.dumps(p).encode())
        self.assertEqual(out['spec']['containers'], [{'name': 'a', 'image': 'x:1'},
                                                     {'name': 'b', 'image': 'y:2'},
                                                     {'name': 'c', 'image': 'z'}])
        self.assertEqual(out['spec']['tolerations'], [{'key': 'j'}])
        p = {'spec': {'containers': [{'name': 'a', '$patch': 'delete'}]}}
        out = patch.apply(patch.STRATEGIC, out, json.dumps(p).encode())
        self.assertEqual([c['name'] for c in out['spec']['containers']], ['b', 'c'])

    def test_json_patch(self):
        doc = {'metadata': {'labels': {'a': '1'}}, 'l': [1, 2]}
        ops = [{'op': 'add', 'path': '/metadata/labels/b~1c', 'value': '2'},
               {'op': 'remove', 'path': '/metadata/labels/a'},
               {'op': 'replace', 'path': '/l/0', 'value': 9},
               {'op': 'add', 'path': '/l/-', 'value': 3},
               {'op': 'test', 'path': '/l/1', 'value': 2}]
        out = patch.apply(patch.JSONPATCH, doc, json.dumps(ops).encode())
        self.assertEqual(out, {'metadata': {'labels': {'b/c': '2'}}, 'l': [9, 2, 3]})
        with self.assertRaises(patch.PatchError):
            patch.apply(patch.JSONPATCH, doc, b'[{"op":"remove","path":"/nope"}]')
        with self.assertRaises(patch.PatchError) as cm:
            patch.apply(patch.JSONPATCH, doc, b'[{"op":"test","path":"/l/0","value":5}]')
        self.assertEqual(cm.exception.code, 422)


if __name__ == '__main__':
    unittest.main()
