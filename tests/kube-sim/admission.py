"""Admission as a v1.26 API server runs it for pods, with the real messages.

Mutating, before validation (a 403 here comes before any 422):
  LimitRanger   defaults from a LimitRange's Container default/defaultRequest, with the
                `kubernetes.io/limit-ranger` annotation (plugin/pkg/admission/limitranger)
  Priority      priorityClassName -> spec.priority; unknown -> 403 `no PriorityClass with
                name X was found` (plugin/pkg/admission/priority)
  uid range     an EMULATION of OpenShift's restricted-v2 SCC, driven by the namespace
                annotation openshift.io/sa.scc.uid-range: START/SIZE: containers without
                runAsUser get START; a runAsUser outside the range is refused
Validating, after validation (the pod has its generated name by then):
  LimitRanger   Container min, max, maxLimitRequestRatio
  PodSecurity   namespace labels pod-security.kubernetes.io/enforce (403) and warn
                (Warning header); workloads (DaemonSets) get warnings only (psa.py)
  ResourceQuota `failed quota: Q: must specify ...` and `exceeded quota: Q, requested: ...`
                with usage counted from the pods in the namespace
Errors are raised as apierrors.ApiError; warnings are returned as texts.
"""

import math

import apierrors
import psa
import quantity as qty
from resources import RESOURCES

SYSTEM_PRIORITY_CLASSES = [('system-node-critical', 2000001000), ('system-cluster-critical', 2000000000)]
UID_RANGE = 'openshift.io/sa.scc.uid-range'
LIMIT_ANNOTATION = 'kubernetes.io/limit-ranger'
QUOTA_REQUIRED = ('cpu', 'memory', 'requests.cpu', 'requests.memory', 'limits.cpu', 'limits.memory')


def forbidden(name, message):
    return apierrors.ApiError(403, 'pods "%s" is forbidden: %s' % (name, message), 'Forbidden',
                              {'name': name, 'kind': 'pods'})


def aggregate(messages):
    """utilerrors.NewAggregate(...).Error(): duplicates dropped, brackets for several."""
    seen = []
    for m in messages:
        if m not in seen:
            seen.append(m)
    return seen[0] if len(seen) == 1 else '[' + ', '.join(seen) + ']'


def _ctrs(spec):
    return [c for c in (spec.get('containers') or []) if isinstance(c, dict)], \
        [c for c in (spec.get('initContainers') or []) if isinstance(c, dict)]


# ---- objects of the admission resources ---------------------------------------------
def system_priority_classes():
    return [{'apiVersion': 'scheduling.k8s.io/v1', 'kind': 'PriorityClass',
             'metadata': {'name': name}, 'value': value, 'preemptionPolicy': 'PreemptLowerPriority',
             'description': 'Used for system critical pods that must not be moved from their current node.'}
            for name, value in SYSTEM_PRIORITY_CLASSES]


def prepare_object(plural, obj):
    """Defaults and checks a PriorityClass, LimitRange or ResourceQuota; returns errors as
    validation.py tuples."""
    import validation as v
    if plural == 'priorityclasses':
        obj.setdefault('preemptionPolicy', 'PreemptLowerPriority')
        if not isinstance(obj.get('value'), int):
            return [v.required('value')] if obj.get('value') is None else \
                [v.invalid('value', str(obj['value']), 'must be an integer')]
        return []
    if plural in ('limitranges', 'resourcequotas'):
        spec = obj.setdefault('spec', {})
        lists = []
        if plural == 'limitranges':
            for lim in spec.get('limits') or []:
                lists += [lim.get(k) for k in ('min', 'max', 'default', 'defaultRequest', 'maxLimitRequestRatio')]
        else:
            lists.append(spec.get('hard'))
        for lst in lists:
            for k, q in list((lst or {}).items()):
                try:
                    lst[k] = str(qty.parse(q))
                except qty.QuantityError as e:
                    raise apierrors.bad_request('%s in version "v1" cannot be handled as a %s: %s'
                                                % (RESOURCES[plural].kind, RESOURCES[plural].kind, e))
        if plural == 'resourcequotas':
            obj['status'] = {'hard': dict(spec.get('hard') or {}), 'used': {}}
    return []


# ---- mutating ------------------------------------------------------------------------
def limit_ranger_defaults(ranges, pod):
    """mergePodResourceRequirements with the Container defaults of every LimitRange."""
    req_def, lim_def = {}, {}
    for lr in ranges:
        for lim in (lr.get('spec') or {}).get('limits') or []:
            if lim.get('type') == 'Container':
                req_def.update(lim.get('defaultRequest') or {})
                lim_def.update(lim.get('default') or {})
    if not req_def and not lim_def:
        return
    notes = []
    ctrs, inits = _ctrs(pod['spec'])
    for what, group in (('container', ctrs), ('init container', inits)):
        for c in group:
            res = c.setdefault('resources', {})
            limits, requests = res.setdefault('limits', {}), res.setdefault('requests', {})
            set_lim = sorted(k for k in lim_def if k not in limits)
            set_req = sorted(k for k in req_def if k not in requests)
            limits.update({k: lim_def[k] for k in set_lim})
            requests.update({k: req_def[k] for k in set_req})
            if set_req:
                notes.append('%s request for %s %s' % (', '.join(set_req), what, c.get('name', '')))
            if set_lim:
                notes.append('%s limit for %s %s' % (', '.join(set_lim), what, c.get('name', '')))
    if notes:
        pod['metadata'].setdefault('annotations', {})[LIMIT_ANNOTATION] = \
            'LimitRanger plugin set: ' + '; '.join(notes)


def priority(store, pod, name):
    spec = pod['spec']
    pcname = spec.get('priorityClassName') or ''
    value, policy = 0, 'PreemptLowerPriority'
    if pcname:
        pc = store.get('priorityclasses', '', pcname)
        if pc is None:
            raise forbidden(name, 'no PriorityClass with name %s was found' % pcname)
        value, policy = pc.obj.get('value', 0), pc.obj.get('preemptionPolicy', policy)
    else:
        for pc in store.values('priorityclasses'):
            if pc.obj.get('globalDefault'):
                pcname, value = pc.meta['name'], pc.obj.get('value', 0)
                policy = pc.obj.get('preemptionPolicy', policy)
                spec['priorityClassName'] = pcname
    if spec.get('priority') is not None and spec['priority'] != value:
        raise forbidden(name, 'the integer value of priority (%d) must not be provided in pod spec; '
                        'priority admission controller computed %d from the given PriorityClass name'
                        % (spec['priority'], value))
    spec['priority'] = value
    spec['preemptionPolicy'] = policy


def uid_range(ns_obj):
    """(first, size) from the namespace annotation, or None."""
    text = ((ns_obj or {}).get('metadata', {}).get('annotations') or {}).get(UID_RANGE)
    try:
        first, size = (int(x) for x in text.split('/'))
        return first, size
    except (AttributeError, ValueError):
        return None


def scc_uid_range(ns_obj, pod, name):
    """Emulates OpenShift's restricted-v2 SCC (MustRunAsRange): containers without a
    runAsUser (theirs or the pod's) get the first uid; any runAsUser outside the range
    is refused.  The message is modelled on OpenShift 4's."""
    rng = uid_range(ns_obj)
    if rng is None:
        return
    first, size = rng
    last = first + size - 1
    spec = pod['spec']
    errs = []
    psc = spec.get('securityContext') or {}
    if psc.get('runAsUser') is not None and not first <= psc['runAsUser'] <= last:
        errs.append('spec.securityContext.runAsUser: Invalid value: %d: must be in the ranges: [%d, %d]'
                    % (psc['runAsUser'], first, last))
    ctrs, inits = _ctrs(spec)
    for part, group in (('initContainers', inits), ('containers', ctrs)):
        for i, c in enumerate(group):
            uid = (c.get('securityContext') or {}).get('runAsUser')
            if uid is None and psc.get('runAsUser') is None:
                c.setdefault('securityContext', {})['runAsUser'] = first
            elif uid is not None and not first <= uid <= last:
                errs.append('spec.%s[%d].securityContext.runAsUser: Invalid value: %d: must be in the '
                            'ranges: [%d, %d]' % (part, i, uid, first, last))
    if errs:
        raise forbidden(name, 'unable to validate against any security context constraint: [%s]'
                        % ', '.join('provider "restricted-v2": ' + e for e in errs))


def mutate_pod(store, pod, name):
    """The mutating admission plugins, in the server's order."""
    ns = pod['metadata'].get('namespace', '')
    limit_ranger_defaults([e.obj for e in store.values('limitranges', ns)], pod)
    priority(store, pod, name)
    ns_entry = store.get('namespaces', '', ns)
    scc_uid_range(ns_entry.obj if ns_entry else None, pod, name)


# ---- validating ----------------------------------------------------------------------
def _milli(q):
    return math.ceil(qty.parse(q).value * 1000)


def _limit_errors(kind, lim, requests, limits):
    """minConstraint, maxConstraint and limitRequestRatioConstraint for one container
    (resource names sorted: Go walks a map)."""
    out = []
    for res, enforced in sorted((lim.get('min') or {}).items()):
        if res not in requests:
            out.append('minimum %s usage per %s is %s.  No request is specified' % (res, kind, enforced))
        elif _milli(requests[res]) < _milli(enforced):
            out.append('minimum %s usage per %s is %s, but request is %s' % (res, kind, enforced, requests[res]))
        elif res in limits and _milli(limits[res]) < _milli(enforced):
            out.append('minimum %s usage per %s is %s, but limit is %s' % (res, kind, enforced, limits[res]))
    for res, enforced in sorted((lim.get('max') or {}).items()):
        if res not in limits:
            out.append('maximum %s usage per %s is %s.  No limit is specified' % (res, kind, enforced))
        elif _milli(limits[res]) > _milli(enforced):
            out.append('maximum %s usage per %s is %s, but limit is %s' % (res, kind, enforced, limits[res]))
        elif res in requests and _milli(requests[res]) > _milli(enforced):
            out.append('maximum %s usage per %s is %s, but request is %s' % (res, kind, enforced, requests[res]))
    for res, enforced in sorted((lim.get('maxLimitRequestRatio') or {}).items()):
        req, limv = _milli(requests.get(res, '0')), _milli(limits.get(res, '0'))
        if not req:
            out.append('%s max limit to request ratio per %s is %s, but no request is specified or request '
                       'is 0' % (res, kind, enforced))
        elif not limv:
            out.append('%s max limit to request ratio per %s is %s, but no limit is specified or limit is 0'
                       % (res, kind, enforced))
        elif limv * 1000 / req > _milli(enforced):
            out.append('%s max limit to request ratio per %s is %s, but provided ratio is %f'
                       % (res, kind, enforced, limv / req))
    return out


def limit_ranger_validate(ranges, pod, name):
    """PodValidateLimitFunc for Container limits: containers, then init containers."""
    ctrs, inits = _ctrs(pod['spec'])
    for lr in ranges:
        errs = []
        for lim in (lr.get('spec') or {}).get('limits') or []:
            if lim.get('type') != 'Container':
                continue
            for c in ctrs + inits:
                res = c.get('resources') or {}
                errs += _limit_errors('Container', lim, res.get('requests') or {}, res.get('limits') or {})
        if errs:
            raise forbidden(name, aggregate(errs))


def pod_security(ns_obj, pod, name):
    """Enforce -> 403; warn -> warning texts."""
    labels = (ns_obj or {}).get('metadata', {}).get('labels') or {}
    enforce = psa.policy(labels, 'enforce')
    if enforce:
        failures = psa.evaluate(enforce[0], enforce[1], pod['spec'])
        if failures:
            raise forbidden(name, 'violates PodSecurity "%s": %s' % (enforce[2], psa.violation_text(failures)))
    warn = psa.policy(labels, 'warn')
    if warn:
        failures = psa.evaluate(warn[0], warn[1], pod['spec'])
        if failures:
            return ['would violate PodSecurity "%s": %s' % (warn[2], psa.violation_text(failures))]
    return []


def workload_warnings(store, ns, template_spec):
    """PodSecurity on a workload's pod template: warnings for enforce and warn levels."""
    ns_entry = store.get('namespaces', '', ns)
    labels = (ns_entry.obj.get('metadata', {}).get('labels') if ns_entry else None) or {}
    out = []
    for mode in ('enforce', 'warn'):
        pol = psa.policy(labels, mode)
        failures = psa.evaluate(pol[0], pol[1], template_spec or {}) if pol else []
        text = 'would violate PodSecurity "%s": %s' % (pol[2], psa.violation_text(failures)) if failures else None
        if text and text not in out:
            out.append(text)
    return out


def pod_usage(spec):
    """The quota usage of one pod: max(sum of containers, any init container) + pods=1."""
    ctrs, inits = _ctrs(spec)

    def one(c):
        res = c.get('resources') or {}
        u = {}
        for src, dst in (('requests', 'requests.'), ('limits', 'limits.')):
            for r in ('cpu', 'memory', 'ephemeral-storage'):
                q = (res.get(src) or {}).get(r)
                if q is not None:
                    u[dst + r] = qty.parse(q).value
                    if src == 'requests':
                        u[r] = qty.parse(q).value
        return u
    total = {}
    for c in ctrs:
        for k, val in one(c).items():
            total[k] = total.get(k, 0) + val
    for c in inits:
        for k, val in one(c).items():
            total[k] = max(total.get(k, 0), val)
    total['pods'] = 1
    total['count/pods'] = 1
    return total


def _counts(pod_obj):
    phase = (pod_obj.get('status') or {}).get('phase')
    return phase not in ('Succeeded', 'Failed')


def namespace_usage(store, ns):
    used = {}
    for p in store.values('pods', ns):
        if _counts(p.obj):
            for k, val in pod_usage(p.obj['spec']).items():
                used[k] = used.get(k, 0) + val
    return used


def _pretty(values):
    return ','.join('%s=%s' % (k, qty.Quantity(values.get(k, 0))) for k in sorted(values))


def resource_quota(store, pod, name):
    """The ResourceQuota admission for a pod create; returns the quotas to update."""
    ns = pod['metadata'].get('namespace', '')
    quotas = store.values('resourcequotas', ns)
    if not quotas:
        return []
    ctrs, inits = _ctrs(pod['spec'])
    for qe in quotas:
        hard = (qe.obj.get('spec') or {}).get('hard') or {}
        required = [r for r in QUOTA_REQUIRED if r in hard]
        missing = {}
        for c in ctrs + inits:
            have = pod_usage({'containers': [c]})
            for r in required:
                if r not in have:
                    missing.setdefault(r, set()).add(c.get('name', ''))
        if missing:
            raise forbidden(name, 'failed quota: %s: must specify %s' % (qe.meta['name'], '; '.join(
                '%s for: %s' % (r, ','.join(sorted(missing[r]))) for r in sorted(missing))))
    delta = pod_usage(pod['spec'])
    used = namespace_usage(store, ns)
    for qe in quotas:
        hard = {k: qty.parse(q).value for k, q in ((qe.obj.get('spec') or {}).get('hard') or {}).items()}
        requested = {k: delta[k] for k in hard if delta.get(k)}
        exceeded = [k for k in requested if used.get(k, 0) + requested[k] > hard[k]]
        if exceeded:
            raise forbidden(name, 'exceeded quota: %s, requested: %s, used: %s, limited: %s' % (
                qe.meta['name'], _pretty({k: requested[k] for k in exceeded}),
                _pretty({k: used.get(k, 0) for k in exceeded}), _pretty({k: hard[k] for k in exceeded})))
    return quotas


def refresh_quota_status(store, ns):
    """status.used of the namespace's quotas from its pods (the quota controller's job)."""
    quotas = store.values('resourcequotas', ns)
    if not quotas:
        return      # no quota: nothing to add up (1,000 pod creations were quadratic)
    used = namespace_usage(store, ns)
    for qe in quotas:
        hard = (qe.obj.get('spec') or {}).get('hard') or {}
        status = {'hard': dict(hard), 'used': {k: str(qty.Quantity(used.get(k, 0))) for k in hard}}
        if qe.obj.get('status') != status:
            obj = qe.copy()
            obj['status'] = status
            store.replace('resourcequotas', obj)


def validate_pod(store, pod, name):
    """The validating admission plugins, in the server's order; returns warnings."""
    ns = pod['metadata'].get('namespace', '')
    limit_ranger_validate([e.obj for e in store.values('limitranges', ns)], pod, name)
    ns_entry = store.get('namespaces', '', ns)
    warnings = pod_security(ns_entry.obj if ns_entry else None, pod, name)
    resource_quota(store, pod, name)
    return warnings
