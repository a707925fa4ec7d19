"""authorization.k8s.io/v1: SelfSubjectAccessReview and SelfSubjectRulesReview.

POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews asks the same authorizer
that guards every request: "may I, the caller, do this?".  The answer is 201 with the
review echoed and status {allowed, reason}.
"""

import json
import types

import apierrors
import rbacyaml
from resources import ResourceInfo

GROUP = 'authorization.k8s.io'
SSAR = ResourceInfo('selfsubjectaccessreviews', 'SelfSubjectAccessReview', GROUP, False, [], (),
                    status=False)
SSRR = ResourceInfo('selfsubjectrulesreviews', 'SelfSubjectRulesReview', GROUP, False, [], (),
                    status=False)
BY_NAME = {r.plural: r for r in (SSAR, SSRR)}
PREFIX = '/apis/%s/v1/' % GROUP
RESOURCE_KEYS = ('namespace', 'verb', 'group', 'version', 'resource', 'subresource', 'name')


def route(path):
    """The ResourceInfo for an authorization.k8s.io review path, or None."""
    if not path.startswith(PREFIX):
        return None
    return BY_NAME.get(path[len(PREFIX):].strip('/'))


def _decode(body, rinfo):
    try:
        obj = json.loads(body or b'null')
    except ValueError as e:
        raise apierrors.bad_request("couldn't get version/kind; json parse error: %s" % e)
    if not isinstance(obj, dict):
        raise apierrors.bad_request("Object 'Kind' is missing in '%s'"
                                    % body[:100].decode('utf-8', 'replace'))
    if obj.get('kind') not in (None, '', rinfo.kind):
        raise apierrors.bad_request('the API version in the data (%s) does not match the expected '
                                    'API version (%s)' % (obj.get('apiVersion'), rinfo.api_version))
    spec = obj.get('spec')
    if spec is not None and not isinstance(spec, dict):
        raise apierrors.bad_request('spec must be an object')
    return obj, spec or {}


def _strings(d, keys):
    if d is None:
        return None
    if not isinstance(d, dict):
        raise apierrors.bad_request('attributes must be an object')
    return {k: d[k] for k in keys if isinstance(d.get(k), str) and d[k]}


def access_review(auth, user, body):
    """(code, body) for a SelfSubjectAccessReview create."""
    obj, spec = _decode(body, SSAR)
    ra = _strings(spec.get('resourceAttributes'), RESOURCE_KEYS)
    na = _strings(spec.get('nonResourceAttributes'), ('path', 'verb'))
    errs = []
    if ra is not None and na is not None:
        errs.append(('FieldValueInvalid', 'spec.nonResourceAttributes',
                     'Invalid value: %s: cannot be specified in combination with resourceAttributes'
                     % json.dumps(na, separators=(',', ':'))))
    if ra is None and na is None:
        errs.append(('FieldValueInvalid', 'spec.resourceAttributes',
                     'Invalid value: "null": exactly one of nonResourceAttributes or '
                     'resourceAttributes must be specified'))
    if errs:
        # the review's kind is empty by then (the decoded object's TypeMeta is cleared), so
        # v1.26.0 names it `.authorization.k8s.io ""`
        raise apierrors.invalid(types.SimpleNamespace(kind='', group=SSAR.group), '', errs)
    if ra is not None:
        attrs = rbacyaml.Attrs(ra.get('verb', ''), ra.get('group', ''), ra.get('resource', ''),
                               ra.get('subresource', ''), ra.get('name', ''), ra.get('namespace', ''))
        out_spec = {'resourceAttributes': ra}
    else:
        attrs = rbacyaml.Attrs(na.get('verb', ''), path=na.get('path', ''))
        out_spec = {'nonResourceAttributes': na}
    allowed, reason = auth.authorize(user[0], user[1], attrs)
    status = {'allowed': allowed}
    if reason:
        status['reason'] = reason
    return 201, {'kind': SSAR.kind, 'apiVersion': SSAR.api_version,
                 'metadata': {'creationTimestamp': None}, 'spec': out_spec, 'status': status}


def rules_review(auth, user, body):
    """(code, body) for a SelfSubjectRulesReview: the rules that apply in a namespace."""
    obj, spec = _decode(body, SSRR)
    ns = spec.get('namespace') or ''
    if not isinstance(ns, str) or not ns:
        raise apierrors.invalid(SSRR, '', [('FieldValueRequired', 'spec.namespace',
                                            'Required value')])
    res, nonres = auth.rules_for(user[0], user[1], ns)
    return 201, {'kind': SSRR.kind, 'apiVersion': SSRR.api_version,
                 'metadata': {'creationTimestamp': None}, 'spec': {'namespace': ns},
                 'status': {'resourceRules': res, 'nonResourceRules': nonres, 'incomplete': False}}


def handle(auth, rinfo, user, body):
    if rinfo is SSAR:
        return access_review(auth, user, body)
    return rules_review(auth, user, body)


def discovery(path):
    gv = {'groupVersion': GROUP + '/v1', 'version': 'v1'}
    if path == '/apis/' + GROUP:
        return {'kind': 'APIGroup', 'apiVersion': 'v1', 'name': GROUP, 'versions': [gv],
                'preferredVersion': gv}
    if path == '/apis/%s/v1' % GROUP:
        return {'kind': 'APIResourceList', 'apiVersion': 'v1', 'groupVersion': GROUP + '/v1',
                'resources': [{'name': r.plural, 'singularName': r.singular, 'namespaced': False,
                               'kind': r.kind, 'verbs': ['create']} for r in (SSAR, SSRR)]}
    return None


def group_entry():
    gv = {'groupVersion': GROUP + '/v1', 'version': 'v1'}
    return {'name': GROUP, 'versions': [gv], 'preferredVersion': gv}


NAMESPACE_SUBRESOURCES = ('status', 'finalize')


def request_info(method, path, query):
    """The resource attributes the real server's request-info resolver finds in a path
    under /api/v1 or /apis/GROUP/VERSION, known to kube-sim or not: it authorizes them
    before it routes, so a resource kube-sim does not serve is still a 403 to a user
    without the right.  Returns rbacyaml.Attrs or None (not a resource request)."""
    parts = [p for p in path.split('/') if p]
    if parts[:2] == ['api', 'v1']:
        group, rest = '', parts[2:]
    elif len(parts) >= 3 and parts[0] == 'apis':
        group, rest = parts[1], parts[3:]
    else:
        return None
    if not rest:
        return None
    ns = ''
    if rest[0] == 'namespaces' and len(rest) > 1:
        ns = rest[1]
        if len(rest) > 2 and rest[2] not in NAMESPACE_SUBRESOURCES:
            rest = rest[2:]
    name = rest[1] if len(rest) > 1 else ''
    sub = rest[2] if len(rest) > 2 else ''
    watch = (query.get('watch') or [''])[0]
    if method in ('GET', 'HEAD'):
        verb = 'watch' if watch and watch != '0' and watch.lower() != 'false' else ('get' if name else 'list')
    else:
        verb = {'POST': 'create', 'PUT': 'update', 'PATCH': 'patch',
                'DELETE': 'delete' if name else 'deletecollection'}.get(method, method.lower())
    return rbacyaml.Attrs(verb, group, rest[0], sub, name, ns)
