"""Validation as the real API server applies it, with its messages.

Each check returns a list of (reason, field, message) tuples; message is what
field.Error.ErrorBody() prints, e.g. 'Invalid value: "A": a lowercase RFC 1123 ...'.
apierrors.invalid() turns the list into a 422 Status.
"""

import json
import re

import labelsel as sel
import podvalidation
import quantity as qty

DNS1123_LABEL_RE = re.compile(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')
DNS1123_SUBDOMAIN_RE = sel.DNS1123_SUBDOMAIN_RE

LABEL_MSG = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters "
             "or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  "
             "or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                 "characters, '-' or '.', and must start and end with an alphanumeric character "
                 "(e.g. 'example.com', regex used for validation is "
                 "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
QNAME_MSG = ("name part must consist of alphanumeric characters, '-', '_' or '.', and must "
             "start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
             "'123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")
VALUE_MSG = ("a valid label must be an empty string or consist of alphanumeric characters, "
             "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. "
             "'MyValue',  or 'my_value',  or '12345', regex used for validation is "
             "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")
TOTAL_ANNOTATION_SIZE = 256 * 1024


def go_quote(v):
    return json.dumps(v, ensure_ascii=False)


def invalid(field, value, detail):
    if isinstance(value, str):
        shown = go_quote(value)
    else:
        shown = str(value)
    return ('FieldValueInvalid', field, 'Invalid value: %s: %s' % (shown, detail))


def required(field, detail=''):
    return ('FieldValueRequired', field, 'Required value' + (': ' + detail if detail else ''))


def not_supported(field, value, allowed):
    return ('FieldValueNotSupported', field, 'Unsupported value: %s: supported values: %s'
            % (go_quote(value), ', '.join(go_quote(a) for a in allowed)))


def duplicate(field, value):
    return ('FieldValueDuplicate', field, 'Duplicate value: %s' % go_quote(value))


def forbidden(field, detail):
    return ('FieldValueForbidden', field, 'Forbidden: ' + detail)


def too_long(field, limit):
    return ('FieldValueTooLong', field, 'Too long: must have at most %d bytes' % limit)


def dns1123_subdomain(field, v):
    errs = []
    if len(v) > 253:
        errs.append(invalid(field, v, 'must be no more than 253 characters'))
    if not DNS1123_SUBDOMAIN_RE.match(v):
        errs.append(invalid(field, v, SUBDOMAIN_MSG))
    return errs


def dns1123_label(field, v):
    errs = []
    if len(v) > 63:
        errs.append(invalid(field, v, 'must be no more than 63 characters'))
    if not DNS1123_LABEL_RE.match(v):
        errs.append(invalid(field, v, LABEL_MSG))
    return errs


def qualified_name(field, key):
    parts = key.split('/')
    if len(parts) > 2:
        return [invalid(field, key, "a qualified name must consist of alphanumeric characters, "
                        "'-', '_' or '.', and must start and end with an alphanumeric character "
                        "(e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation "
                        "is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS "
                        "subdomain prefix and '/' (e.g. 'example.com/MyName')")]
    errs = []
    name = parts[-1]
    if len(parts) == 2:
        prefix = parts[0]
        if not prefix:
            errs.append(invalid(field, key, 'prefix part must be non-empty'))
        else:
            if len(prefix) > 253:
                errs.append(invalid(field, key, 'prefix part must be no more than 253 characters'))
            if not DNS1123_SUBDOMAIN_RE.match(prefix):
                errs.append(invalid(field, key, 'prefix part ' + SUBDOMAIN_MSG))
    if not name:
        errs.append(invalid(field, key, 'name part must be non-empty'))
    elif len(name) > 63:
        errs.append(invalid(field, key, 'name part must be no more than 63 characters'))
    if not sel.LABEL_NAME_RE.match(name):
        errs.append(invalid(field, key, QNAME_MSG))
    return errs


def label_value_messages(v):
    """validation.IsValidLabelValue."""
    msgs = []
    if len(v) > 63:
        msgs.append('must be no more than 63 characters')
    if not sel.LABEL_VALUE_RE.match(v):
        msgs.append(VALUE_MSG)
    return msgs


def labels(field, labs):
    errs = []
    for k, v in (labs or {}).items():
        errs += qualified_name(field, k)
        if not isinstance(v, str):
            errs.append(invalid('%s[%s]' % (field, k), v, 'must be a string'))
            continue
        errs += [invalid(field, v, m) for m in label_value_messages(v)]
    return errs


def annotations(field, ann):
    errs = []
    total = 0
    for k, v in (ann or {}).items():
        errs += qualified_name(field, k.lower())
        total += len(k) + len(v or '')
    if total > TOTAL_ANNOTATION_SIZE:
        errs.append(too_long(field, TOTAL_ANNOTATION_SIZE))
    return errs


def object_meta(meta, namespaced, name_check=dns1123_subdomain):
    errs = []
    name = meta.get('name') or ''
    if not name and not meta.get('generateName'):
        errs.append(required('metadata.name', 'name or generateName is required'))
    elif name:
        errs += name_check('metadata.name', name)
    if namespaced:
        ns = meta.get('namespace') or ''
        if not ns:
            errs.append(required('metadata.namespace'))
        else:
            errs += dns1123_label('metadata.namespace', ns)
    errs += labels('metadata.labels', meta.get('labels'))
    errs += annotations('metadata.annotations', meta.get('annotations'))
    return errs


def go_map(labs):
    inner = ', '.join('%s:%s' % (go_quote(k), go_quote(v)) for k, v in sorted((labs or {}).items()))
    return 'map[string]string{%s}' % inner


def daemonset(ds):
    """Validates a defaulted DaemonSet; returns the error list."""
    meta = ds.get('metadata') or {}
    errs = object_meta(meta, True)
    spec = ds.get('spec')
    if not isinstance(spec, dict):
        spec = {}
    selector = spec.get('selector')
    tmpl = spec.get('template') or {}
    tmeta = tmpl.get('metadata') or {}
    tlabels = tmeta.get('labels') or {}
    if selector is None:
        errs.append(required('spec.selector'))
    else:
        if not selector.get('matchLabels') and not selector.get('matchExpressions'):
            errs.append(invalid('spec.selector', 'v1.LabelSelector{MatchLabels:map[string]string(nil), '
                                'MatchExpressions:[]v1.LabelSelectorRequirement(nil)}',
                                'empty selector is invalid for daemonset'))
        errs += labels('spec.selector.matchLabels', selector.get('matchLabels'))
        try:
            reqs = sel.label_selector_from_struct(selector)
        except sel.SelectorError as e:
            reqs = None
            errs.append(invalid('spec.selector', str(selector), str(e)))
        if reqs and not sel.labels_match(reqs, tlabels):
            errs.append(('FieldValueInvalid', 'spec.template.metadata.labels',
                         'Invalid value: %s: `selector` does not match template `labels`'
                         % go_map(tlabels)))
    errs += labels('spec.template.metadata.labels', tlabels)
    errs += annotations('spec.template.metadata.annotations', tmeta.get('annotations'))
    pspec = tmpl.get('spec') or {}
    errs += podvalidation.pod_spec('spec.template.spec', pspec)
    rp = pspec.get('restartPolicy')
    if rp != 'Always':
        errs.append(not_supported('spec.template.spec.restartPolicy', rp or '', ['Always']))
    if pspec.get('activeDeadlineSeconds') is not None:
        errs.append(forbidden('spec.template.spec.activeDeadlineSeconds',
                              'activeDeadlineSeconds in DaemonSet is not Supported'))
    us = (spec.get('updateStrategy') or {}).get('type')
    if us not in ('RollingUpdate', 'OnDelete'):
        errs.append(not_supported('spec.updateStrategy.type', us or '', ['OnDelete', 'RollingUpdate']))
    return errs


def daemonset_update(new, old):
    errs = daemonset(new)
    if json.dumps(new['spec'].get('selector'), sort_keys=True) != \
            json.dumps(old['spec'].get('selector'), sort_keys=True):
        errs.append(('FieldValueInvalid', 'spec.selector',
                     'Invalid value: %s: field is immutable' % 'v1.LabelSelector{...}'))
    return errs


def default_container(c, pod):
    """SetDefaults_Container; for a pod (not a template) also SetDefaults_Pod's requests
    copied from limits.  Quantities are stored in their canonical form."""
    if 'imagePullPolicy' not in c:
        img = c.get('image') or ''
        tagged_latest = '@' not in img and (img.rsplit('/', 1)[-1].find(':') < 0 or img.endswith(':latest'))
        c['imagePullPolicy'] = 'Always' if tagged_latest else 'IfNotPresent'
    c.setdefault('terminationMessagePath', '/dev/termination-log')
    c.setdefault('terminationMessagePolicy', 'File')
    res = c.setdefault('resources', {})
    if not isinstance(res, dict):
        return
    for part in ('limits', 'requests'):
        if isinstance(res.get(part), dict):
            res[part] = {k: qty.normalise(q) for k, q in res[part].items()}
    if pod and res.get('limits'):
        req = res.setdefault('requests', {})
        for k, q in res['limits'].items():
            req.setdefault(k, q)


def default_pod_spec(spec, pod=False):
    for c in (spec.get('initContainers') or []) + (spec.get('containers') or []):
        if isinstance(c, dict):
            default_container(c, pod)
    for vol in spec.get('volumes') or []:
        if isinstance(vol, dict) and not any(vol.get(k) is not None for k in podvalidation.VOLUME_TYPES):
            vol['emptyDir'] = {}
        ed = vol.get('emptyDir') if isinstance(vol, dict) else None
        if isinstance(ed, dict) and ed.get('sizeLimit') is not None:
            ed['sizeLimit'] = qty.normalise(ed['sizeLimit'])
    spec.setdefault('restartPolicy', 'Always')
    spec.setdefault('terminationGracePeriodSeconds', 30)
    spec.setdefault('dnsPolicy', 'ClusterFirst')
    spec.setdefault('securityContext', {})
    spec.setdefault('schedulerName', 'default-scheduler')


def default_daemonset(ds):
    spec = ds.setdefault('spec', {})
    if not isinstance(spec, dict):
        return
    us = spec.setdefault('updateStrategy', {'type': 'RollingUpdate'})
    if us.get('type', 'RollingUpdate') == 'RollingUpdate':
        us['type'] = 'RollingUpdate'
        ru = us.setdefault('rollingUpdate', {})
        ru.setdefault('maxUnavailable', 1)
        ru.setdefault('maxSurge', 0)
    spec.setdefault('revisionHistoryLimit', 10)
    tmpl = spec.setdefault('template', {})
    if isinstance(tmpl, dict):
        tmpl.setdefault('metadata', {})
        pspec = tmpl.setdefault('spec', {})
        if isinstance(pspec, dict):
            default_pod_spec(pspec)
    ds.setdefault('status', {'currentNumberScheduled': 0, 'numberMisscheduled': 0,
                             'desiredNumberScheduled': 0, 'numberReady': 0})


def namespace(ns):
    return object_meta(ns.get('metadata') or {}, False, dns1123_label)


def node(n):
    return object_meta(n.get('metadata') or {}, False)


def pod(p):
    """ValidatePodCreate: metadata, spec, and the pod-only image whitespace rule."""
    meta = p.get('metadata') or {}
    errs = object_meta(meta, True)
    spec = p.get('spec') or {}
    errs += podvalidation.pod_spec('spec', spec)
    for part in ('containers', 'initContainers'):
        for i, c in enumerate(spec.get(part) or []):
            image = (c or {}).get('image') or ''
            if image != image.strip():
                errs.append(invalid('spec.%s[%d].image' % (part, i), image,
                                    'must not have leading or trailing whitespace'))
    return errs
