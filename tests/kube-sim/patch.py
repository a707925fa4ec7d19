"""PATCH bodies: JSON merge patch (RFC 7386), strategic merge, JSON patch (RFC 6902)."""

import copy

import gojson

MERGE = 'application/merge-patch+json'
STRATEGIC = 'application/strategic-merge-patch+json'
JSONPATCH = 'application/json-patch+json'
APPLY = 'application/apply-patch+yaml'
SUPPORTED = [JSONPATCH, MERGE, STRATEGIC, APPLY]

# list fields merged by key in strategic merge patch (the patchMergeKey of the Go types)
MERGE_KEYS = {'containers': 'name', 'initContainers': 'name', 'ephemeralContainers': 'name',
              'env': 'name', 'volumes': 'name', 'volumeMounts': 'mountPath',
              'ports': 'containerPort', 'imagePullSecrets': 'name', 'conditions': 'type',
              'ownerReferences': 'uid', 'hostAliases': 'ip', 'addresses': 'type',
              'tolerations': None, 'finalizers': '$set'}


class PatchError(Exception):
    """A patch that cannot be applied; code is 400, 422 or 500 as the server answers."""

    def __init__(self, message, code=400):
        super().__init__(message)
        self.code = code


def merge_patch(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def strategic_merge(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get('$patch') == 'replace':
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != '$patch'}
    if patch.get('$patch') == 'delete':
        return None
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if k.startswith('$setElementOrder/') or k in ('$retainKeys', '$patch'):
            continue
        if k.startswith('$deleteFromPrimitiveList/'):
            field = k.split('/', 1)[1]
            out[field] = [x for x in out.get(field) or [] if x not in v]
            continue
        if v is None:
            out.pop(k, None)
        elif isinstance(v, list) and isinstance(out.get(k), list) and MERGE_KEYS.get(k):
            out[k] = _merge_list(out[k], v, MERGE_KEYS[k])
        else:
            out[k] = strategic_merge(out.get(k), v)
    return out


def _merge_list(cur, patch, key):
    if key == '$set':
        return list(cur) + [x for x in patch if x not in cur]
    out = [copy.deepcopy(x) for x in cur]
    for item in patch:
        if not isinstance(item, dict) or key not in item:
            if isinstance(item, dict) and item.get('$patch') == 'replace':
                return [x for x in patch if x is not item]
            out.append(copy.deepcopy(item))
            continue
        idx = next((i for i, x in enumerate(out) if isinstance(x, dict) and x.get(key) == item[key]), None)
        if item.get('$patch') == 'delete':
            if idx is not None:
                del out[idx]
        elif idx is None:
            out.append(strategic_merge({}, item))
        else:
            out[idx] = strategic_merge(out[idx], item)
    return out


def _pointer(path):
    if path == '':
        return []
    if not path.startswith('/'):
        raise PatchError('json patch path "%s" does not start with "/"' % path)
    return [p.replace('~1', '/').replace('~0', '~') for p in path[1:].split('/')]


def _walk(doc, parts):
    cur = doc
    for p in parts:
        if isinstance(cur, dict):
            if p not in cur:
                raise PatchError('doc is missing path: "/%s": missing value' % '/'.join(parts))
            cur = cur[p]
        elif isinstance(cur, list):
            try:
                cur = cur[int(p)]
            except (ValueError, IndexError):
                raise PatchError('doc is missing path: "/%s": missing value' % '/'.join(parts))
        else:
            raise PatchError('doc is missing path: "/%s"' % '/'.join(parts))
    return cur


def _add(doc, parts, value, replace=False):
    if not parts:
        return value
    parent = _walk(doc, parts[:-1])
    last = parts[-1]
    if isinstance(parent, dict):
        if replace and last not in parent:
            raise PatchError('replace operation does not apply: doc is missing key: /%s: missing value'
                             % '/'.join(parts))
        parent[last] = value
    elif isinstance(parent, list):
        if last == '-':
            parent.append(value)
            return doc
        try:
            i = int(last)
        except ValueError:
            raise PatchError('invalid array index "%s"' % last)
        if replace:
            if not 0 <= i < len(parent):
                raise PatchError('replace operation does not apply: doc is missing path')
            parent[i] = value
        else:
            if not 0 <= i <= len(parent):
                raise PatchError('add operation does not apply: doc is missing path')
            parent.insert(i, value)
    else:
        raise PatchError('doc is missing path: "/%s"' % '/'.join(parts))
    return doc


def _remove(doc, parts):
    if not parts:
        raise PatchError('cannot remove the whole document')
    parent = _walk(doc, parts[:-1])
    last = parts[-1]
    try:
        if isinstance(parent, dict):
            return parent.pop(last)
        if isinstance(parent, list):
            return parent.pop(int(last))
    except (KeyError, ValueError, IndexError):
        pass
    raise PatchError('remove operation does not apply: doc is missing path: "/%s": missing value'
                     % '/'.join(parts))


def json_patch(doc, ops):
    if not isinstance(ops, list):
        raise PatchError('json: cannot unmarshal object into Go value of type jsonpatch.Patch')
    doc = copy.deepcopy(doc)
    for op in ops:
        kind = op.get('op')
        parts = _pointer(op.get('path', ''))
        if kind == 'add':
            doc = _add(doc, parts, copy.deepcopy(op.get('value')))
        elif kind == 'remove':
            _remove(doc, parts)
        elif kind == 'replace':
            doc = _add(doc, parts, copy.deepcopy(op.get('value')), replace=True)
        elif kind in ('move', 'copy'):
            src = _pointer(op.get('from', ''))
            val = copy.deepcopy(_walk(doc, src))
            if kind == 'move':
                _remove(doc, src)
            doc = _add(doc, parts, val)
        elif kind == 'test':
            if _walk(doc, parts) != op.get('value'):
                raise PatchError('testing value /%s failed: test failed' % '/'.join(parts), 422)
        else:
            raise PatchError('Unexpected kind: %s' % kind)
    return doc


# v1.26.0 answers any JSON patch operation that fails (a test, a missing path, an unknown
# op) with a generic 422 without the reason (NewGenericServerResponse in patch.go)
GENERIC_422 = 'the server rejected our request due to an error in our request'


def apply(ctype, target, body):
    """Applies a patch body (bytes) of content type ctype to target (not modified); the
    decoding errors are Go's texts, prefixed as the real server prefixes them."""
    ctype = (ctype or '').split(';')[0].strip()
    prefix = 'error decoding patch: ' if ctype in (JSONPATCH, MERGE) else ''
    try:
        p = gojson.loads(body or b'')
    except gojson.GoJSONError as e:
        raise PatchError(prefix + str(e))
    if ctype == JSONPATCH:
        if not isinstance(p, list):
            raise PatchError(prefix + gojson.type_error(p, '[]handlers.jsonPatchOp'))
        for op in p:
            if not isinstance(op, dict):
                raise PatchError(prefix + gojson.type_error(op, 'handlers.jsonPatchOp'))
        try:
            return json_patch(target, p)
        except PatchError:
            raise PatchError(GENERIC_422, 422)
    if p is None:
        raise PatchError('patch body is null')
    if not isinstance(p, dict):
        raise PatchError(prefix + gojson.type_error(p, 'map[string]interface {}'))
    if ctype == MERGE:
        return merge_patch(target, p)
    return strategic_merge(target, p)
