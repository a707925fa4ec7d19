"""The REST verbs on resources: get, list, create, update, patch, delete.

Each function takes the Cluster and a Request and returns (code, body, headers) where
body is bytes (already JSON) or a dict; errors are raised as apierrors.ApiError.
Watch streams live in server.py because they write to the socket as they go.
"""

import json
import random
import re
import time

import admission
import apierrors
import fieldschema
import gojson
import patch as patchmod
import podvalidation
import table
import labelsel as sel
import validation
from store import dumps, rfc3339

MAX_BODY = 3 * 1024 * 1024
NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789'


class Request:
    __slots__ = ('rinfo', 'ns', 'name', 'sub', 'query', 'body', 'ctype', 'user', 'verb')

    def __init__(self, rinfo, ns, name, sub, query, body=b'', ctype='', user=None, verb=''):
        self.rinfo, self.ns, self.name, self.sub = rinfo, ns, name, sub
        self.query, self.body, self.ctype, self.user, self.verb = query, body, ctype, user, verb

    def q(self, key, default=None):
        v = self.query.get(key)
        return v[0] if v else default


def parse_selectors(req):
    try:
        labels = sel.parse_label_selector(req.q('labelSelector', ''))
    except sel.SelectorError as e:
        raise apierrors.bad_request(str(e))
    try:
        fields = sel.parse_field_selector(req.q('fieldSelector', ''), req.rinfo.fields)
    except sel.SelectorError as e:
        raise apierrors.bad_request(str(e))
    return labels, fields


GO_INT = re.compile(r'^[+-]?[0-9]+$')


def go_int(text):
    """strconv.ParseInt(text, 10, 64), with its errors as 400s."""
    if not GO_INT.match(text):
        raise apierrors.bad_request('strconv.ParseInt: parsing %s: invalid syntax' % validation.go_quote(text))
    value = int(text)
    if not -2 ** 63 <= value < 2 ** 63:
        raise apierrors.bad_request('strconv.ParseInt: parsing %s: value out of range' % validation.go_quote(text))
    return value


def is_watch(query):
    """runtime.Convert_Slice_string_To_bool on ?watch=: present and not 0/false."""
    v = query.get('watch')
    return bool(v) and v[0] != '0' and v[0].lower() != 'false'


def list_options(req, watch=False):
    """ListOptions as v1.26.0 decodes and validates them, in its order: the integers (400,
    Go's strconv text), the selectors (400), ValidateListOptions (422).  Returns
    (labels, fields, timeoutSeconds or None, limit)."""
    ints = [go_int(req.query[k][0]) if req.query.get(k) else None for k in ('timeoutSeconds', 'limit')]
    labels, fields = parse_selectors(req)
    match = req.q('resourceVersionMatch') or ''
    errs = []
    if match:
        why = [(watch, 'resourceVersionMatch is forbidden for watch'),
               (not req.q('resourceVersion'), 'resourceVersionMatch is forbidden unless resourceVersion is provided'),
               (bool(req.q('continue')), 'resourceVersionMatch is forbidden when continue is provided')]
        errs += [validation.forbidden('resourceVersionMatch', text) for bad, text in why if bad]
        if match not in ('Exact', 'NotOlderThan'):
            errs.append(validation.not_supported('resourceVersionMatch', match, ['Exact', 'NotOlderThan', '']))
        if match == 'Exact' and req.q('resourceVersion') == '0':
            errs.append(validation.forbidden('resourceVersionMatch', 'resourceVersionMatch "exact" is '
                                             'forbidden for resourceVersion "0"'))
    if errs:
        raise apierrors.invalid_options_list('ListOptions', errs)
    return labels, fields, ints[0], ints[1] or 0


def resource_version(text):
    """The storage layer's parse of ?resourceVersion= (0 when empty): a 500 without a
    reason when it is not a number, as v1.26.0 answers."""
    if not text:
        return 0
    if not text.isdigit() or int(text) >= 2 ** 64:
        raise apierrors.internal_unknown('resourceVersion: Invalid value: %s: strconv.ParseUint: parsing %s: '
                                         '%s' % (validation.go_quote(text), validation.go_quote(text),
                                                 'invalid syntax' if not text.isdigit() else 'value out of range'))
    return int(text)


def get_entry(c, req):
    e = c.store.get(req.rinfo.plural, req.ns, req.name)
    if e is None:
        raise apierrors.not_found(req.rinfo, req.name)
    return e


def do_get(c, req):
    return 200, get_entry(c, req).raw(), None


def list_items(c, req, raw=True):
    """(items, list metadata) for a list request: raw JSON bytes, or Entries."""
    labels, fields, _, limit = list_options(req)
    resource_version(req.q('resourceVersion'))
    cont = req.q('continue')
    if cont and req.q('resourceVersion') not in (None, ''):
        raise apierrors.bad_request('specifying resource version is not allowed when using continue')
    items, rv, token, remaining = c.store.list(req.rinfo.plural, req.ns, labels, fields,
                                               max(limit, 0), cont, raw=raw)
    meta = {'resourceVersion': str(rv)}
    if token:
        meta['continue'] = token
    if remaining is not None:
        meta['remainingItemCount'] = remaining
    return items, meta


def do_list(c, req):
    items, meta = list_items(c, req)
    head = '{"kind":"%sList","apiVersion":"%s","metadata":%s,"items":[' % (
        req.rinfo.kind, req.rinfo.api_version, json.dumps(meta, separators=(',', ':')))
    return 200, head.encode() + b','.join(items) + b']}', None


BODY_TYPES = ('application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf')


def decode_body(req):
    ctype = (req.ctype or '').split(';')[0].strip()
    if ctype and ctype not in BODY_TYPES:
        raise apierrors.unsupported_media(ctype, BODY_TYPES)
    if len(req.body) > MAX_BODY:
        raise apierrors.too_large(MAX_BODY)
    try:
        obj = gojson.loads(req.body or b'')
    except gojson.GoJSONError as e:
        raise apierrors.bad_request("the object provided is unrecognized (must be of type %s): couldn't get "
                                    "version/kind; json parse error: %s (%s)" % (req.rinfo.kind, e, summarize(req.body)))
    if not isinstance(obj, dict):
        raise apierrors.bad_request('Object \'Kind\' is missing in \'%s\'' % req.body[:100].decode('utf-8', 'replace'))
    return obj


OPTIONS_KIND = {'create': 'CreateOptions', 'update': 'UpdateOptions', 'patch': 'PatchOptions'}


def field_validation(req, obj):
    """Unknown fields of obj under the request's fieldValidation directive: Strict -> 400,
    Warn (the default) -> Warning headers (returned as a headers dict), Ignore -> none."""
    directive = req.q('fieldValidation') or 'Warn'
    kind = OPTIONS_KIND.get(req.verb, 'CreateOptions')
    if directive not in fieldschema.DIRECTIVES:
        raise apierrors.invalid_options(kind, 'fieldValidation', 'Unsupported value: "%s": supported '
                                        'values: "", "Ignore", "Strict", "Warn"' % directive)
    dry = req.query.get('dryRun') or []
    if any(d != 'All' for d in dry):
        raise apierrors.invalid_options(kind, 'dryRun', 'Unsupported value: []string{%s}: supported '
                                        'values: "All"' % ', '.join('"%s"' % d for d in dry))
    if req.sub:
        return None
    unknown = fieldschema.unknown_fields(req.rinfo.plural, obj, drop=directive != 'Strict')
    if not unknown or directive == 'Ignore':
        return None
    texts = ['unknown field "%s"' % p for p in unknown]
    if directive == 'Strict':
        kind = req.rinfo.kind
        raise apierrors.bad_request('%s in version "v1" cannot be handled as a %s: strict decoding '
                                    'error: %s' % (kind, kind, ', '.join(texts)))
    return {'Warning': ['299 - "%s"' % t.replace('"', '\\"') for t in texts]}


def summarize(body, limit=30):
    """handlers.summarizeData: a JSON object's start, anything else in hex."""
    body = bytes(body or b'')
    if not body:
        return '<empty>'
    text = body[:limit].decode('utf-8', 'replace') if body[:1] == b'{' else body[:limit].hex()
    return text + (' ...' if len(body) > limit else '')


# kinds the real server's scheme knows in the versions kube-sim serves (beside its own)
OTHER_KINDS = {'v1': ('ConfigMap', 'Service', 'ServiceAccount', 'Endpoints', 'PersistentVolume',
                      'PersistentVolumeClaim', 'LimitRange', 'ResourceQuota', 'ReplicationController'),
               'apps/v1': ('Deployment', 'ReplicaSet', 'StatefulSet', 'ControllerRevision')}


def known_kind(api_version, kind):
    from resources import RESOURCES
    return kind in OTHER_KINDS.get(api_version, ()) or \
        any(r.api_version == api_version and r.kind == kind for r in RESOURCES.values())


def check_kind(req, obj):
    """A body of another kind than the URL's is not converted (400); one of the right kind
    in another version is refused by version."""
    kind, version = obj.get('kind'), obj.get('apiVersion') or req.rinfo.api_version
    if kind in (None, '', req.rinfo.kind):
        if version != req.rinfo.api_version:
            raise apierrors.bad_request('the API version in the data (%s) does not match the expected '
                                        'API version (%s)' % (version, req.rinfo.api_version))
        return
    if known_kind(version, kind):
        internal = (req.rinfo.group.split('.')[0] or 'core') if req.rinfo.group else 'core'
        raise apierrors.bad_request('%s in version "%s" cannot be handled as a %s: converting (%s.%s) to '
                                    '(%s.%s): unknown conversion' % (
                                        kind, version.split('/')[-1], req.rinfo.kind,
                                        version.split('/')[-1], kind, internal, req.rinfo.kind))
    raise apierrors.bad_request('the API version in the data (%s) does not match the expected '
                                'API version (%s)' % (version, req.rinfo.api_version))


def check_quantities(req, obj):
    """A quantity that does not parse fails the decoding of the body: 400."""
    spec = obj.get('spec') if isinstance(obj.get('spec'), dict) else {}
    if req.rinfo.plural == 'daemonsets':
        spec = ((spec.get('template') or {}).get('spec') or {}) if isinstance(spec.get('template'), dict) else {}
    elif req.rinfo.plural != 'pods':
        return
    msg = podvalidation.quantity_errors(spec)
    if msg:
        kind = req.rinfo.kind
        raise apierrors.bad_request('%s in version "v1" cannot be handled as a %s: %s' % (kind, kind, msg))


def pod_warnings(req, obj):
    """Warning headers the server adds for a pod or a workload's pod template."""
    spec = obj.get('spec') or {}
    if req.rinfo.plural == 'daemonsets':
        return podvalidation.warnings('spec.template.spec', (spec.get('template') or {}).get('spec'))
    if req.rinfo.plural == 'pods':
        return podvalidation.warnings('spec', spec)
    return []


def add_warnings(headers, texts):
    if not texts:
        return headers
    headers = dict(headers or {})
    headers['Warning'] = list(headers.get('Warning') or []) + \
        ['299 - "%s"' % t.replace('"', '\\"') for t in texts]
    return headers


def prepare(c, req, obj, old=None, admit_as=None):
    """Defaults, admits (a pod create: admit_as is the name admission errors show) and
    validates obj for its resource; raises 400 (undecodable quantities), 403 (admission)
    or 422.  Returns the admission's warning texts."""
    res = req.rinfo.plural
    check_quantities(req, obj)
    warnings = []
    if res == 'daemonsets':
        validation.default_daemonset(obj)
        errs = validation.daemonset(obj) if old is None else \
            validation.update_common(obj, old) + validation.daemonset_update(obj, old)
        if old is None and not errs:
            warnings = admission.workload_warnings(c.store, req.ns, obj['spec']['template'].get('spec'))
    elif res == 'pods':
        validation.default_pod_spec(obj.setdefault('spec', {}), pod=True)
        if admit_as is not None:
            admission.mutate_pod(c.store, obj, admit_as)
        errs = validation.pod(obj)
        if admit_as is not None and not errs:
            warnings = admission.validate_pod(c.store, obj, obj['metadata'].get('name', ''))
    elif res == 'namespaces':
        obj.setdefault('spec', {'finalizers': ['kubernetes']})
        obj.setdefault('status', {'phase': 'Active'})
        obj['metadata'].setdefault('labels', {})['kubernetes.io/metadata.name'] = obj['metadata'].get('name', '')
        errs = validation.namespace(obj)
    elif res == 'nodes':
        obj.setdefault('spec', {})
        obj.setdefault('status', {})
        errs = validation.node(obj) if old is None else \
            validation.update_common(obj, old) + validation.node(obj) + validation.node_update(obj, old)
    else:
        errs = validation.object_meta(obj.get('metadata') or {}, req.rinfo.namespaced)
        errs += admission.prepare_object(res, obj)
    if errs:
        raise apierrors.invalid(req.rinfo, obj['metadata'].get('name', ''), errs)
    return warnings


def do_create(c, req):
    obj = decode_body(req)
    check_kind(req, obj)
    warnings = field_validation(req, obj)
    meta = obj.setdefault('metadata', {})
    if not isinstance(meta, dict):
        raise apierrors.bad_request('metadata must be an object')
    if req.rinfo.namespaced:
        if meta.get('namespace') and meta['namespace'] != req.ns:
            raise apierrors.bad_request('the namespace of the provided object does not match the '
                                        'namespace sent on the request')
        meta['namespace'] = req.ns
        if c.store.get('namespaces', '', req.ns) is None:
            from resources import RESOURCES
            raise apierrors.not_found(RESOURCES['namespaces'], req.ns)
    admit_as = meta.get('name') or meta.get('generateName') or ''
    if not meta.get('name') and meta.get('generateName'):
        meta['name'] = meta['generateName'] + ''.join(random.choice(NAME_CHARS) for _ in range(5))
    for k in ('uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'generation'):
        meta.pop(k, None)
    with c.store.lock:      # admission reads quotas and usage: no other create in between
        texts = prepare(c, req, obj, admit_as=admit_as if req.rinfo.plural == 'pods' else None)
        warnings = add_warnings(warnings, pod_warnings(req, obj) + texts)
        if req.q('dryRun') == 'All':
            return 201, obj, warnings
        entry = c.store.create(req.rinfo.plural, obj)
        if req.rinfo.plural == 'pods':
            c.kubelet.pod_added(entry)
            admission.refresh_quota_status(c.store, req.ns)
    return 201, entry.raw(), warnings


def _merge_update(req, old, new):
    """Keeps what the request may not change: status on the main resource, everything
    but status on /status, and the identity fields."""
    res = req.rinfo.plural
    if req.sub == 'status':
        out = json.loads(old.raw())
        out['status'] = new.get('status', {})
        if 'resourceVersion' in (new.get('metadata') or {}):
            out['metadata']['resourceVersion'] = new['metadata']['resourceVersion']
        return out
    if req.rinfo.has_status and res != 'namespaces':
        new['status'] = json.loads(dumps(old.obj.get('status', {})))
    new.setdefault('metadata', {})
    new['kind'], new['apiVersion'] = req.rinfo.kind, req.rinfo.api_version
    new['metadata']['name'] = old.meta['name']
    if req.rinfo.namespaced:
        new['metadata']['namespace'] = old.meta['namespace']
    if old.meta.get('deletionTimestamp'):
        new['metadata']['deletionTimestamp'] = old.meta['deletionTimestamp']
        if 'deletionGracePeriodSeconds' in old.meta:
            new['metadata']['deletionGracePeriodSeconds'] = old.meta['deletionGracePeriodSeconds']
    return new


def _store_update(c, req, old, new, precondition):
    warnings = field_validation(req, new)
    name = (new.get('metadata') or {}).get('name')
    if name and name != req.name:
        raise apierrors.bad_request('the name of the object (%s) does not match the name on the URL (%s)'
                                    % (name, req.name))
    if precondition and precondition != old.meta['resourceVersion']:
        raise apierrors.conflict(req.rinfo, req.name)
    new = _merge_update(req, old, new)
    if req.sub != 'status':
        prepare(c, req, new, old.obj)
    if req.q('dryRun') == 'All':
        return 200, new, warnings
    entry = c.store.replace(req.rinfo.plural, new, expect_rv=old.meta['resourceVersion'])
    if req.rinfo.plural == 'daemonsets' and new['metadata'].get('deletionTimestamp') \
            and not new['metadata'].get('finalizers'):
        c.store.remove('daemonsets', req.ns, req.name)
    return 200, entry.raw(), warnings


def do_update(c, req):
    obj = decode_body(req)
    check_kind(req, obj)
    meta = obj.setdefault('metadata', {})
    if meta.get('name') and meta['name'] != req.name:
        raise apierrors.bad_request('the name of the object (%s) does not match the name on the URL (%s)'
                                    % (meta['name'], req.name))
    with c.store.lock:
        old = get_entry(c, req)
        return _store_update(c, req, old, obj, meta.get('resourceVersion'))


def do_patch(c, req):
    ctype = (req.ctype or '').split(';')[0].strip()
    if ctype not in patchmod.SUPPORTED:
        # v1.26.0 words a PATCH of another type tersely (measured, tests/realkube/fidelity.py)
        raise apierrors.ApiError(415, '415: Unsupported Media Type', 'UnsupportedMediaType')
    if len(req.body) > MAX_BODY:
        raise apierrors.too_large(MAX_BODY)
    if ctype == patchmod.APPLY and not req.q('fieldManager'):
        raise apierrors.invalid_options('PatchOptions', 'fieldManager', 'Required value: is required for '
                                        'apply patch', 'FieldValueRequired')
    with c.store.lock:
        old = c.store.get(req.rinfo.plural, req.ns, req.name)
        if old is None:
            if ctype == patchmod.APPLY:
                req.body = req.body or b'{}'
                req.ctype = ''      # the apply body is decoded as a create's
                return do_create(c, req)
            raise apierrors.not_found(req.rinfo, req.name)
        try:
            new = patchmod.apply(ctype, json.loads(old.raw()), req.body)
        except patchmod.PatchError as e:
            if e.code == 422:
                raise apierrors.ApiError(422, str(e), 'Invalid')
            raise apierrors.bad_request(str(e))
        if not isinstance(new, dict) or not isinstance(new.get('metadata'), dict):
            raise apierrors.bad_request('patch produced an object without metadata')
        pre = new['metadata'].get('resourceVersion')
        return _store_update(c, req, old, new, pre)


def delete_options(req):
    opts = {}
    if req.body:
        try:
            opts = gojson.loads(req.body) or {}
        except gojson.GoJSONError as e:     # v1.26.0 answers this with a bare 500
            raise apierrors.internal_unknown("couldn't get version/kind; json parse error: %s" % e)
        if not isinstance(opts, dict):
            raise apierrors.bad_request('invalid DeleteOptions body')
    policy = req.q('propagationPolicy') or opts.get('propagationPolicy')
    if opts.get('orphanDependents') is True:
        policy = policy or 'Orphan'
    grace = req.q('gracePeriodSeconds')
    grace = int(grace) if grace is not None else opts.get('gracePeriodSeconds')
    if policy not in (None, 'Background', 'Foreground', 'Orphan'):
        raise apierrors.invalid_options('DeleteOptions', 'propagationPolicy',
                                        'Unsupported value: "%s": supported values: "Foreground", '
                                        '"Background", "Orphan", "nil"' % policy)
    return policy, grace, opts.get('preconditions') or {}


def precondition_check(req, pre, cur):
    """storage.Preconditions.Check: a 409 naming the precondition that failed."""
    for key, label, after in (('uid', 'UID', 'deleted and then recreated'),
                              ('resourceVersion', 'ResourceVersion', 'modified')):
        if pre.get(key) and pre[key] != cur.meta[key]:
            kind = req.rinfo.kind + ('.' + req.rinfo.group if req.rinfo.group else '')
            raise apierrors.ApiError(409, 'Operation cannot be fulfilled on %s "%s": the %s in the precondition '
                                     '(%s) does not match the %s in record (%s). The object might have been %s'
                                     % (kind, req.name, label, pre[key], label, cur.meta[key], after),
                                     'Conflict', {'name': req.name, 'group': req.rinfo.group, 'kind': req.rinfo.kind})


def do_delete(c, req):
    policy, grace, pre = delete_options(req)
    res = req.rinfo.plural
    with c.store.lock:
        cur = get_entry(c, req)
        precondition_check(req, pre, cur)
        if req.q('dryRun') == 'All':
            return 200, cur.raw(), None
        if res == 'pods':
            e = c.delete_pod(cur, grace=grace)
            return 200, e.raw(), None
        if res == 'namespaces':
            return delete_namespace(c, req, cur)
        if res == 'daemonsets' and policy in ('Foreground', 'Orphan'):
            if cur.meta.get('deletionTimestamp'):
                return 200, cur.raw(), None
            obj = cur.copy()
            obj['metadata']['deletionTimestamp'] = rfc3339()
            obj['metadata']['deletionGracePeriodSeconds'] = 0
            fin = 'foregroundDeletion' if policy == 'Foreground' else 'orphan'
            obj['metadata']['finalizers'] = (obj['metadata'].get('finalizers') or []) + [fin]
            return 200, c.store.replace(res, obj).raw(), None
        if cur.meta.get('finalizers'):
            obj = cur.copy()
            obj['metadata'].setdefault('deletionTimestamp', rfc3339())
            return 200, c.store.replace(res, obj).raw(), None
        gone = c.store.remove(res, req.ns, req.name)
        if res == 'nodes':
            c.kubelet.disk.pop(req.name, None)
    return 200, apierrors.success_body(req.rinfo, req.name, gone.meta['uid']), None


def delete_namespace(c, req, cur):
    if req.name in ('default', 'kube-system', 'kube-public'):
        raise apierrors.ApiError(403, 'namespaces "%s" is forbidden: this namespace may not be deleted'
                                 % req.name, 'Forbidden', {'name': req.name, 'kind': 'namespaces'})
    for res in ('daemonsets', 'pods', 'events'):
        for e in c.store.values(res, req.name):
            c.store.remove(res, req.name, e.meta['name'])
    obj = cur.copy()
    obj['metadata']['deletionTimestamp'] = rfc3339()
    obj['status'] = {'phase': 'Terminating'}
    c.store.remove('namespaces', '', req.name)
    return 200, obj, None


def do_table(c, req, version):
    """A get or list answered as a meta.k8s.io Table."""
    include = table.include_mode(req.query)
    if req.verb == 'get':
        e = get_entry(c, req)
        return 200, table.build(req.rinfo.plural, [e.obj], version, include,
                                {'resourceVersion': e.meta['resourceVersion']}), None
    items, meta = list_items(c, req, raw=False)
    return 200, table.build(req.rinfo.plural, [e.obj for e in items], version, include, meta), None


VERBS = {'get': do_get, 'list': do_list, 'create': do_create, 'update': do_update,
         'patch': do_patch, 'delete': do_delete}


def now_ms():
    return int(time.time() * 1000)
