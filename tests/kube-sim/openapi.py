"""A minimal OpenAPI v3 discovery: /openapi/v3 and one document per group-version.

Enough for `kubectl apply` to validate on the server: kubectl looks for the PATCH
operation of the object's group-version-kind (extension x-kubernetes-group-version-kind)
and, when it lists the `fieldValidation` query parameter, sends fieldValidation=Strict
and leaves validation to the server instead of downloading schemas.  There are no
component schemas, and PATCH does not advertise strategic-merge-patch, so kubectl's
client-side apply computes its patches from its built-in types (as it does for any
server without OpenAPI schemas).

/openapi/v2 is a Swagger 2.0 document without paths or definitions, as JSON or as the
protobuf older clients ask for: kubectl before 1.25 (Debian 12 ships 1.20) downloads it
for client-side validation and apply, finds no schema for the kind and leaves the
validation to the server.
"""

import hashlib
import json

import authz
from resources import RESOURCES

QUERY = {
    'fieldValidation': 'fieldValidation instructs the server on how to handle objects in the request '
                       'containing unknown or duplicate fields.',
    'fieldManager': 'fieldManager is a name associated with the actor or entity that is making these '
                    'changes.',
    'dryRun': 'When present, indicates that modifications should not be persisted.',
}
PATCH_TYPES = ('application/apply-patch+yaml', 'application/json-patch+json',
               'application/merge-patch+json')


def _param(name):
    return {'name': name, 'in': 'query', 'description': QUERY[name],
            'schema': {'type': 'string', 'uniqueItems': True}}


def _op(verb, rinfo, action, writes=False, body_types=None):
    gvk = {'group': rinfo.group, 'version': 'v1', 'kind': rinfo.kind}
    op = {'tags': [(rinfo.group.replace('.k8s.io', '') or 'core') + '_v1'],
          'description': '%s %s' % (action, rinfo.kind),
          'operationId': '%s%s%s' % (verb, (rinfo.group.split('.')[0].title() if rinfo.group else 'Core') + 'V1',
                                     rinfo.kind),
          'responses': {'200': {'description': 'OK', 'content': {'application/json': {'schema': {}}}},
                        '401': {'description': 'Unauthorized'}},
          'x-kubernetes-action': action, 'x-kubernetes-group-version-kind': gvk}
    if writes:
        op['parameters'] = [_param('dryRun'), _param('fieldManager'), _param('fieldValidation')]
        types = body_types or ('application/json',)
        op['requestBody'] = {'content': {t: {'schema': {}} for t in types}, 'required': True}
    return op


def _paths(rinfo):
    base = '/api/v1' if not rinfo.group else '/apis/%s/v1' % rinfo.group
    coll = base + ('/namespaces/{namespace}/' if rinfo.namespaced else '/') + rinfo.plural
    item = coll + '/{name}'
    name_p = [{'name': 'name', 'in': 'path', 'required': True, 'schema': {'type': 'string'}}]
    if rinfo.namespaced:
        name_p.append({'name': 'namespace', 'in': 'path', 'required': True, 'schema': {'type': 'string'}})
    out = {
        coll: {'get': _op('list', rinfo, 'list'), 'post': _op('create', rinfo, 'post', True),
               'delete': _op('deletecollection', rinfo, 'deletecollection'),
               'parameters': name_p[1:]},
        item: {'get': _op('read', rinfo, 'get'), 'put': _op('replace', rinfo, 'put', True),
               'patch': _op('patch', rinfo, 'patch', True, PATCH_TYPES),
               'delete': _op('delete', rinfo, 'delete'), 'parameters': name_p},
    }
    if rinfo.has_status:
        out[item + '/status'] = {'get': _op('read', rinfo, 'get'),
                                 'put': _op('replace', rinfo, 'put', True),
                                 'patch': _op('patch', rinfo, 'patch', True, PATCH_TYPES),
                                 'parameters': name_p}
    return out


def _document(gv, infos, review=False):
    paths = {}
    for r in infos:
        if review:
            base = '/apis/%s/v1/%s' % (r.group, r.plural)
            paths[base] = {'post': _op('create', r, 'post', True)}
        else:
            paths.update(_paths(r))
    return {'openapi': '3.0.0', 'info': {'title': 'Kubernetes', 'version': 'v1.26.0'},
            'paths': paths, 'components': {'schemas': {}}}


def _groups():
    return {
        'api/v1': lambda: _document('v1', [r for r in RESOURCES.values() if not r.group]),
        'apis/apps/v1': lambda: _document('apps/v1', [RESOURCES['daemonsets']]),
        'apis/scheduling.k8s.io/v1': lambda: _document('scheduling.k8s.io/v1',
                                                       [RESOURCES['priorityclasses']]),
        'apis/authorization.k8s.io/v1': lambda: _document('authorization.k8s.io/v1',
                                                          [authz.SSAR, authz.SSRR], review=True),
    }


_CACHE = {}


def document(path):
    """The JSON bytes for /openapi/v3 or /openapi/v3/<group-version>, or None."""
    if path in _CACHE:
        return _CACHE[path]
    groups = _groups()
    rel = path[len('/openapi/v3'):].strip('/')
    if not path.startswith('/openapi/v3') or (rel and rel not in groups):
        return None
    if rel:
        out = json.dumps(groups[rel](), separators=(',', ':')).encode()
    else:
        index = {}
        for gv in groups:
            h = hashlib.sha512(document('/openapi/v3/' + gv)).hexdigest()[:128].upper()
            index[gv] = {'serverRelativeURL': '/openapi/v3/%s?hash=%s' % (gv, h)}
        out = json.dumps({'paths': index}, separators=(',', ':')).encode()
    _CACHE[path] = out
    return out


V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf'
V2_INFO = {'title': 'Kubernetes', 'version': 'v1.26.0'}


def _varint(n):
    out = b''
    while True:
        low, n = n & 0x7f, n >> 7
        out += bytes([low | (0x80 if n else 0)])
        if not n:
            return out


def _pb(field, payload):
    """One length-delimited protobuf field (strings and messages)."""
    return _varint(field << 3 | 2) + _varint(len(payload)) + payload


def _v2_protobuf():
    # gnostic openapi_v2.Document: swagger = 1, info = 2 (title = 1, version = 2),
    # paths = 8, definitions = 9 (both present and empty)
    info = _pb(1, V2_INFO['title'].encode()) + _pb(2, V2_INFO['version'].encode())
    return _pb(1, b'2.0') + _pb(2, info) + _pb(8, b'') + _pb(9, b'')


def _accept_clauses(accept):
    out = []
    for i, part in enumerate((accept or '*/*').split(',')):
        fields = [f.strip() for f in part.split(';')]
        q = 1.0
        for f in fields[1:]:
            if f.startswith('q='):
                try:
                    q = float(f[2:])
                except ValueError:
                    q = 0.0
        if fields[0]:
            out.append((-q, i, fields[0]))
    return [m for _, _, m in sorted(out)]


def v2(accept):
    """/openapi/v2 for an Accept header: (bytes, content type), or None (406 Not
    Acceptable). As the real handler: the first acceptable type in the client's order of
    preference; the content type is what Go's http.ServeContent sniffs."""
    for mime in _accept_clauses(accept):
        t, _, sub = mime.partition('/')
        if t in ('application', '*') and sub in ('json', '*'):
            doc = {'swagger': '2.0', 'info': V2_INFO, 'paths': {}, 'definitions': {}}
            return json.dumps(doc, separators=(',', ':')).encode(), 'text/plain; charset=utf-8'
        if t in ('application', '*') and sub in (V2_PROTOBUF.split('/')[1], '*'):
            return _v2_protobuf(), 'application/octet-stream'
    return None
