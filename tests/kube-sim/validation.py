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


def qualified_name(field, key, shown=None):
    """validation.IsQualifiedName(key); the errors show `shown` (default: key)."""
    if shown is not None:
        return [(r, f, m.replace('Invalid value: %s:' % go_quote(key), 'Invalid value: %s:' % go_quote(shown), 1))
                for r, f, m in qualified_name(field, key)]
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
        errs += qualified_name(field, k.lower(), k)
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


def go_selector(selector):
    """A metav1.LabelSelector as Go's %#v prints it (requirements elided)."""
    ml, me = selector.get('matchLabels'), selector.get('matchExpressions')
    labs = 'map[string]string(nil)' if ml is None else go_map(ml)
    exprs = '[]v1.LabelSelectorRequirement(nil)' if me is None else \
        '[]v1.LabelSelectorRequirement{%s}' % ', '.join('v1.LabelSelectorRequirement{...}' for _ in me)
    return 'v1.LabelSelector{MatchLabels:%s, MatchExpressions:%s}' % (labs, exprs)


def nonnegative(field, value):
    """ValidateNonnegativeField."""
    if isinstance(value, int) and value < 0:
        return [('FieldValueInvalid', field, 'Invalid value: %d: must be greater than or equal to 0' % value)]
    return []


def daemonset_selector(selector, tlabels):
    """ValidateDaemonSetSpec's selector checks, in its order: the selector itself, whether
    it matches the template's labels (only when it converts: a missing selector matches
    nothing), and that it is not empty."""
    errs = []
    reqs = None
    if selector is not None:
        errs += labels('spec.selector.matchLabels', selector.get('matchLabels'))
        try:
            reqs = None if errs else sel.label_selector_from_struct(selector)
        except sel.SelectorError as e:
            reqs = None
            errs.append(invalid('spec.selector', str(selector), str(e)))
    if selector is None:
        mismatch = True         # LabelSelectorAsSelector(nil) is labels.Nothing()
    else:
        mismatch = reqs is not None and not sel.labels_match(reqs, tlabels)
    if mismatch:
        errs.append(('FieldValueInvalid', 'spec.template.metadata.labels',
                     'Invalid value: %s: `selector` does not match template `labels`' % go_map(tlabels)))
    if selector is not None and not selector.get('matchLabels') and not selector.get('matchExpressions'):
        errs.append(('FieldValueInvalid', 'spec.selector', 'Invalid value: %s: empty selector is invalid '
                     'for daemonset' % go_selector(selector)))
    return errs


def update_strategy(us):
    """ValidateDaemonSetUpdateStrategy (an unknown type is shown as Go prints the struct)."""
    us = us if isinstance(us, dict) else {}
    kind = us.get('type') or ''
    if kind == 'RollingUpdate' and us.get('rollingUpdate') is None:
        return [required('spec.updateStrategy.rollingUpdate')]
    if kind in ('RollingUpdate', 'OnDelete'):
        return []
    shown = 'apps.DaemonSetUpdateStrategy{Type:%s, RollingUpdate:%s}' % (
        go_quote(kind), podvalidation._ptr('apps.RollingUpdateDaemonSet', us.get('rollingUpdate')))
    return [('FieldValueNotSupported', 'spec.updateStrategy', 'Unsupported value: %s: supported values: '
             '"RollingUpdate", "OnDelete"' % shown)]


def daemonset(ds):
    """ValidateDaemonSet on a defaulted DaemonSet; returns the error list."""
    return object_meta(ds.get('metadata') or {}, True) + daemonset_spec(ds)


def daemonset_spec(ds):
    """ValidateDaemonSetSpec."""
    errs = []
    spec = ds.get('spec')
    if not isinstance(spec, dict):
        spec = {}
    tmpl = spec.get('template') or {}
    tmeta = tmpl.get('metadata') or {}
    tlabels = tmeta.get('labels') or {}
    errs += daemonset_selector(spec.get('selector'), tlabels)
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
    errs += nonnegative('spec.minReadySeconds', spec.get('minReadySeconds'))
    errs += update_strategy(spec.get('updateStrategy'))
    errs += nonnegative('spec.revisionHistoryLimit', spec.get('revisionHistoryLimit'))
    return errs


def daemonset_update(new, old):
    """The strategy's ValidateUpdate: ValidateDaemonSet, then ValidateDaemonSetUpdate (the
    metadata update rules and the spec again), then the selector's immutability."""
    errs = daemonset(new) + meta_update(new.get('metadata') or {}, old.get('metadata') or {})
    errs += daemonset_spec(new)
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
    for port in c.get('ports') or []:
        if isinstance(port, dict) and not port.get('protocol'):
            port['protocol'] = 'TCP'
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


def meta_update(meta, old):
    """ValidateObjectMetaAccessorUpdate: the UID is immutable (the name and namespace are
    the URL's by now; a missing UID is the old one), then the labels and annotations."""
    errs = []
    uid = meta.get('uid')
    if uid and uid != old.get('uid'):
        errs.append(invalid('metadata.uid', uid, 'field is immutable'))
    return errs + labels('metadata.labels', meta.get('labels')) + \
        annotations('metadata.annotations', meta.get('annotations'))


def update_common(new, old):
    """rest.BeforeUpdate's validateCommonFields for every update: the new metadata
    (ValidateObjectMetaAccessor; the name is the old one), then meta_update.  The
    resource's own update rules run after it and check the metadata again, so a bad label
    is a cause several times over (the message lists it once)."""
    meta, ometa = new.get('metadata') or {}, old.get('metadata') or {}
    return labels('metadata.labels', meta.get('labels')) + \
        annotations('metadata.annotations', meta.get('annotations')) + meta_update(meta, ometa)


EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute']


def node_taints(taints):
    """validateNodeTaints, called with the path metadata.taints as v1.26 does (not the
    duplicate key/effect check)."""
    errs = []
    for i, t in enumerate(taints if isinstance(taints, list) else []):
        t = t if isinstance(t, dict) else {}
        path = 'metadata.taints[%d]' % i
        errs += qualified_name(path + '.key', t.get('key') or '')
        value = t.get('value') or ''
        msgs = label_value_messages(value)
        if msgs:
            errs.append(invalid(path + '.value', value, ';'.join(msgs)))
        effect = t.get('effect') or ''
        if not effect:
            errs.append(required(path + '.effect'))
        elif effect not in EFFECTS:
            errs.append(not_supported(path + '.effect', effect, EFFECTS))
    return errs


def pod_cidrs(spec):
    """The internal PodCIDRs after conversion from v1: podCIDR wins when it differs."""
    cidrs = list(spec.get('podCIDRs') or [])
    one = spec.get('podCIDR') or ''
    if one and (not cidrs or cidrs[0] != one):
        cidrs = [one]
    return cidrs


def node(n):
    """ValidateNode (metadata and taints)."""
    errs = object_meta(n.get('metadata') or {}, False)
    spec = n.get('spec') if isinstance(n.get('spec'), dict) else {}
    return errs + node_taints(spec.get('taints'))


def node_update(new, old):
    """ValidateNodeUpdate: podCIDRs and providerID may only be set once."""
    errs = meta_update(new.get('metadata') or {}, old.get('metadata') or {})
    spec = new.get('spec') if isinstance(new.get('spec'), dict) else {}
    ospec = old.get('spec') or {}
    old_cidrs, new_cidrs = pod_cidrs(ospec), pod_cidrs(spec)
    change = forbidden('spec.podCIDRs', 'node updates may not change podCIDR except from "" to valid')
    if old_cidrs and len(old_cidrs) != len(new_cidrs):
        errs.append(change)
    elif old_cidrs:
        errs += [change for a, b in zip(old_cidrs, new_cidrs) if a != b]
    if ospec.get('providerID') and ospec.get('providerID') != spec.get('providerID'):
        errs.append(forbidden('spec.providerID', 'node updates may not change providerID except from "" to valid'))
    return errs + node_taints(spec.get('taints'))


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
