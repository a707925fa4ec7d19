"""Pod spec validation as pkg/apis/core/validation (ValidatePodSpec) does it, in its order.

Each function names the upstream Go function it mirrors.  Messages, field paths and
reasons are what a v1.26 server returns (checked against one: testdata/real-422.json).
Values the server prints with Go's %#v (a whole toleration or security context) are
rendered the same way, pointers as (*T)(0xc...) addresses.
"""

import itertools
import re

import quantity as qty
import validation as v

_addr = itertools.count(0xc000100000, 8)


def go_str(s):
    return v.go_quote(s if s is not None else '')


def _ptr(typ, val):
    return '(*%s)(nil)' % typ if val is None else '(*%s)(0x%x)' % (typ, next(_addr))


def go_toleration(t):
    return ('core.Toleration{Key:%s, Operator:%s, Value:%s, Effect:%s, TolerationSeconds:%s}'
            % (go_str(t.get('key')), go_str(t.get('operator')), go_str(t.get('value')),
               go_str(t.get('effect')), _ptr('int64', t.get('tolerationSeconds'))))


SC_FIELDS = [('Capabilities', 'capabilities', 'core.Capabilities'), ('Privileged', 'privileged', 'bool'),
             ('SELinuxOptions', 'seLinuxOptions', 'core.SELinuxOptions'),
             ('WindowsOptions', 'windowsOptions', 'core.WindowsSecurityContextOptions'),
             ('RunAsUser', 'runAsUser', 'int64'), ('RunAsGroup', 'runAsGroup', 'int64'),
             ('RunAsNonRoot', 'runAsNonRoot', 'bool'),
             ('ReadOnlyRootFilesystem', 'readOnlyRootFilesystem', 'bool'),
             ('AllowPrivilegeEscalation', 'allowPrivilegeEscalation', 'bool'),
             ('ProcMount', 'procMount', 'core.ProcMountType'),
             ('SeccompProfile', 'seccompProfile', 'core.SeccompProfile')]


def go_security_context(sc):
    return 'core.SecurityContext{%s}' % ', '.join(
        '%s:%s' % (go, _ptr(typ, sc.get(js))) for go, js, typ in SC_FIELDS)


def go_seccomp(sp):
    return 'core.SeccompProfile{Type:%s, LocalhostProfile:%s}' % (
        go_str(sp.get('type')), _ptr('string', sp.get('localhostProfile')))


def raw_invalid(field, shown, detail):
    """field.Invalid for a value Go prints without quotes (numbers, %#v structs)."""
    return ('FieldValueInvalid', field, 'Invalid value: %s: %s' % (shown, detail))


def not_found(field, value):
    return ('FieldValueNotFound', field, 'Not found: %s' % v.go_quote(value))


def _seq(x):
    return x if isinstance(x, list) else []


def _map(x):
    return x if isinstance(x, dict) else {}


# ---- volumes -----------------------------------------------------------------------
VOLUME_TYPES = ['hostPath', 'emptyDir', 'gcePersistentDisk', 'awsElasticBlockStore', 'gitRepo',
                'secret', 'nfs', 'iscsi', 'glusterfs', 'persistentVolumeClaim', 'rbd', 'flexVolume',
                'cinder', 'cephfs', 'flocker', 'downwardAPI', 'fc', 'azureFile', 'configMap',
                'vsphereVolume', 'quobyte', 'azureDisk', 'photonPersistentDisk', 'projected',
                'portworxVolume', 'scaleIO', 'storageos', 'csi', 'ephemeral']
# validateVolumeSource checks the sources in this order
SOURCE_ORDER = ['emptyDir', 'hostPath', 'gitRepo', 'gcePersistentDisk', 'awsElasticBlockStore',
                'secret', 'nfs', 'iscsi', 'glusterfs', 'flocker', 'persistentVolumeClaim', 'rbd',
                'cinder', 'cephfs', 'quobyte', 'downwardAPI', 'fc', 'flexVolume', 'configMap',
                'azureFile', 'vsphereVolume', 'photonPersistentDisk', 'portworxVolume', 'azureDisk',
                'storageos', 'projected', 'scaleIO', 'csi', 'ephemeral']


def volume_source(path, vol):
    """validateVolumeSource: one source; emptyDir.sizeLimit not negative.  (Other sources'
    own fields are not looked into.)"""
    errs = []
    count = 0
    for src in SOURCE_ORDER:
        if vol.get(src) is None:
            continue
        if count:
            errs.append(v.forbidden('%s.%s' % (path, src), 'may not specify more than 1 volume type'))
            continue
        count += 1
        if src == 'emptyDir':
            limit = _map(vol[src]).get('sizeLimit')
            if limit is not None and qty.parse(limit).value < 0:
                errs.append(v.forbidden(path + '.emptyDir.sizeLimit',
                                        'SizeLimit field must be a valid resource quantity'))
    return errs


def volumes(path, vols):
    """ValidateVolumes: returns (names of the valid volumes, errors)."""
    errs, names = [], set()
    for i, vol in enumerate(_seq(vols)):
        p = '%s[%d]' % (path, i)
        vol = _map(vol)
        name = vol.get('name') or ''
        el = volume_source(p, vol)
        if not name:
            el.append(v.required(p + '.name'))
        else:
            el += v.dns1123_label(p + '.name', name)
        if name in names:
            el.append(v.duplicate(p + '.name', name))
        if not el:
            names.add(name)
        errs += el
    return names, errs


def volume_mounts(path, mounts, vols):
    """ValidateVolumeMounts."""
    errs, seen = [], set()
    for i, m in enumerate(_seq(mounts)):
        p = '%s[%d]' % (path, i)
        m = _map(m)
        name, mpath = m.get('name') or '', m.get('mountPath') or ''
        if not name:
            errs.append(v.required(p + '.name'))
        if name not in vols:
            errs.append(not_found(p + '.name', name))
        if not mpath:
            errs.append(v.required(p + '.mountPath'))
        if mpath in seen:
            errs.append(v.invalid(p + '.mountPath', mpath, 'must be unique'))
        seen.add(mpath)
    return errs


# ---- resources ---------------------------------------------------------------------
STANDARD_CONTAINER = ('cpu', 'memory', 'ephemeral-storage')
STANDARD = STANDARD_CONTAINER + ('requests.cpu', 'requests.memory', 'requests.ephemeral-storage',
                                 'limits.cpu', 'limits.memory', 'limits.ephemeral-storage', 'pods',
                                 'services', 'replicationcontrollers', 'resourcequotas', 'secrets',
                                 'configmaps', 'persistentvolumeclaims', 'requests.storage')


def is_native(name):
    return '/' not in name or name.startswith('kubernetes.io/')


def is_extended(name):
    """helper.IsExtendedResourceName."""
    if is_native(name) or name.startswith('requests.'):
        return False
    return not v.qualified_name('x', 'requests.' + name)


def overcommit_allowed(name):
    return is_native(name) and not name.startswith('hugepages-')


def resource_name(path, name):
    """validateContainerResourceName (with validateResourceName)."""
    errs = v.qualified_name(path, name)
    if errs:
        return errs
    if '/' not in name:
        if name not in STANDARD and not name.startswith('hugepages-'):
            errs.append(v.invalid(path, name, 'must be a standard resource type or fully qualified'))
        if name not in STANDARD_CONTAINER and not name.startswith('hugepages-'):
            errs.append(v.invalid(path, name, 'must be a standard resource for containers'))
    elif not is_native(name) and not is_extended(name):
        errs.append(v.invalid(path, name, "doesn't follow extended resource name standard"))
    return errs


def quantity_value(path, name, q):
    """ValidateResourceQuantityValue: not negative; an integer for extended resources."""
    if q.value < 0:
        return [v.invalid(path, str(q), 'must be greater than or equal to 0')]
    if is_extended(name) and not q.is_integer():
        return [v.invalid(path, str(q), 'must be an integer')]
    return []


def resources(path, res):
    """ValidateResourceRequirements (names sorted; Go walks a map)."""
    res = _map(res)
    lim, req = _map(res.get('limits')), _map(res.get('requests'))
    errs = []
    for name in sorted(lim):
        p = '%s.limits[%s]' % (path, name)
        errs += resource_name(p, name) + quantity_value(p, name, qty.parse(lim[name]))
    for name in sorted(req):
        p = '%s.requests[%s]' % (path, name)
        q = qty.parse(req[name])
        errs += resource_name(p, name) + quantity_value(p, name, q)
        if name in lim:
            limit = qty.parse(lim[name])
            if q != limit and not overcommit_allowed(name):
                errs.append(v.invalid(path + '.requests', str(q), 'must be equal to %s limit' % name))
            elif limit < q:
                errs.append(v.invalid(path + '.requests', str(q),
                                      'must be less than or equal to %s limit' % name))
        elif not overcommit_allowed(name):
            errs.append(v.required(path + '.limits', 'Limit must be set for non overcommitable resources'))
    return errs


# ---- security contexts -------------------------------------------------------------
ID_RANGE = 'must be between 0 and 2147483647, inclusive'


def _id(path, value):
    if isinstance(value, int) and not 0 <= value <= 2147483647:
        return [raw_invalid(path, value, ID_RANGE)]
    return []


def seccomp_profile(path, sp):
    """validateSeccompProfileField."""
    if sp is None:
        return []
    sp = _map(sp)
    errs = []
    t = sp.get('type') or ''
    if not t:
        errs.append(v.required(path + '.type', 'type is required when seccompProfile is set'))
    elif t not in ('Localhost', 'RuntimeDefault', 'Unconfined'):
        errs.append(v.not_supported(path + '.type', t, ['Localhost', 'RuntimeDefault', 'Unconfined']))
    if t == 'Localhost':
        if sp.get('localhostProfile') is None:
            errs.append(v.required(path + '.localhostProfile', 'must be set when seccomp type is Localhost'))
    elif sp.get('localhostProfile') is not None:
        errs.append(raw_invalid(path + '.localhostProfile', go_seccomp(sp),
                                'can only be set when seccomp type is Localhost'))
    return errs


def security_context(path, sc):
    """ValidateSecurityContext (a container's).  Privileged containers are allowed, as on
    API servers started with --allow-privileged=true (kubeadm and most distributions)."""
    if sc is None:
        return []
    sc = _map(sc)
    errs = _id(path + '.runAsUser', sc.get('runAsUser')) + _id(path + '.runAsGroup', sc.get('runAsGroup'))
    errs += seccomp_profile(path + '.seccompProfile', sc.get('seccompProfile'))
    if sc.get('allowPrivilegeEscalation') is False:
        if sc.get('privileged') is True:
            errs.append(raw_invalid(path, go_security_context(sc),
                                    'cannot set `allowPrivilegeEscalation` to false and `privileged` to true'))
        for cap in _seq(_map(sc.get('capabilities')).get('add')):
            if cap == 'CAP_SYS_ADMIN':
                errs.append(raw_invalid(path, go_security_context(sc), 'cannot set `allowPrivilegeEscalation` '
                                        'to false and `capabilities.Add` CAP_SYS_ADMIN'))
    return errs


def pod_security_context(path, sc):
    """ValidatePodSecurityContext."""
    sc = _map(sc)
    errs = _id(path + '.fsGroup', sc.get('fsGroup')) + _id(path + '.runAsUser', sc.get('runAsUser'))
    errs += _id(path + '.runAsGroup', sc.get('runAsGroup'))
    for i, g in enumerate(_seq(sc.get('supplementalGroups'))):
        errs += _id('%s.supplementalGroups[%d]' % (path, i), g)
    return errs + seccomp_profile(path + '.seccompProfile', sc.get('seccompProfile'))


# ---- containers --------------------------------------------------------------------
PULL_POLICIES = ['Always', 'IfNotPresent', 'Never']
MESSAGE_POLICIES = ['File', 'FallbackToLogsOnError']


PROTOCOLS = ['SCTP', 'TCP', 'UDP']


def _ports(path, ports):
    """validateContainerPorts (containerPort and protocol; the protocol is defaulted to TCP)."""
    errs = []
    for j, port in enumerate(_seq(ports)):
        p = '%s[%d].containerPort' % (path, j)
        cp = _map(port).get('containerPort')
        if not cp:
            errs.append(v.required(p))
        elif not isinstance(cp, int) or not 1 <= cp <= 65535:
            errs.append(raw_invalid(p, cp, 'must be between 1 and 65535, inclusive'))
        errs += _required_choice('%s[%d].protocol' % (path, j), _map(port).get('protocol'), PROTOCOLS)
    return errs


ENV_NAME_RE = re.compile(r'^[-._a-zA-Z][-._a-zA-Z0-9]*$')
ENV_NAME_MSG = ("a valid environment variable name must consist of alphabetic characters, digits, "
                "'_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or "
                "'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is "
                "'[-._a-zA-Z][-._a-zA-Z0-9]*')")


def env_name_messages(name):
    """validation.IsEnvVarName: the pattern, then hasChDirPrefix."""
    msgs = [] if ENV_NAME_RE.match(name) else [ENV_NAME_MSG]
    if name in ('.', '..'):
        msgs.append("must not be '%s'" % name)
    elif name.startswith('..'):
        msgs.append("must not start with '..'")
    return msgs


def env(path, evs):
    """ValidateEnv (names; valueFrom is not checked)."""
    errs = []
    for i, ev in enumerate(_seq(evs)):
        p = '%s[%d].name' % (path, i)
        name = _map(ev).get('name') or ''
        if not name:
            errs.append(v.required(p))
        else:
            errs += [v.invalid(p, name, m) for m in env_name_messages(name)]
    return errs


def _required_choice(path, value, choices):
    """A field the server defaults, then requires to be one of choices."""
    if not value:
        return [v.required(path)]
    return [] if value in choices else [v.not_supported(path, value, choices)]


def container_common(path, c, vols):
    """validateContainerCommon."""
    errs = []
    name = c.get('name') or ''
    if not name:
        errs.append(v.required(path + '.name'))
    else:
        errs += v.dns1123_label(path + '.name', name)
    if not c.get('image'):
        errs.append(v.required(path + '.image'))
    errs += _required_choice(path + '.terminationMessagePolicy', c.get('terminationMessagePolicy'),
                             MESSAGE_POLICIES)
    errs += _ports(path + '.ports', c.get('ports'))
    errs += env(path + '.env', c.get('env'))
    errs += volume_mounts(path + '.volumeMounts', c.get('volumeMounts'), vols)
    errs += _required_choice(path + '.imagePullPolicy', c.get('imagePullPolicy'), PULL_POLICIES)
    errs += resources(path + '.resources', c.get('resources'))
    return errs + security_context(path + '.securityContext', c.get('securityContext'))


def containers(path, ctrs, vols):
    """validateContainers: at least one, names unique among regular containers."""
    if not _seq(ctrs):
        return [v.required(path)]
    errs, names = [], set()
    for i, c in enumerate(ctrs):
        p = '%s[%d]' % (path, i)
        c = _map(c)
        errs += container_common(p, c, vols)
        name = c.get('name') or ''
        if name in names:
            errs.append(v.duplicate(p + '.name', name))
        names.add(name)
    return errs


def init_containers(path, ctrs, regular, vols):
    """validateInitContainers: names unique among init and regular containers; no probes
    or lifecycle."""
    errs = []
    names = {_map(c).get('name') or '' for c in _seq(regular)}
    for i, c in enumerate(_seq(ctrs)):
        p = '%s[%d]' % (path, i)
        c = _map(c)
        errs += container_common(p, c, vols)
        name = c.get('name') or ''
        if name in names:
            errs.append(v.duplicate(p + '.name', name))
        elif name:
            names.add(name)
        for k in ('lifecycle', 'livenessProbe', 'readinessProbe', 'startupProbe'):
            if c.get(k) is not None:
                errs.append(v.forbidden('%s.%s' % (p, k), 'may not be set for init containers'))
    return errs


# ---- scheduling --------------------------------------------------------------------
def node_selector_requirement(path, rq):
    """ValidateNodeSelectorRequirement (a Gt/Lt value is not checked to be an integer
    there: the scheduler treats a non-integer as no match)."""
    errs = []
    op, values = rq.get('operator') or '', _seq(rq.get('values'))
    if op in ('In', 'NotIn'):
        if not values:
            errs.append(v.required(path + '.values', "must be specified when `operator` is 'In' or 'NotIn'"))
    elif op in ('Exists', 'DoesNotExist'):
        if values:
            errs.append(v.forbidden(path + '.values',
                                    "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
    elif op in ('Gt', 'Lt'):
        if len(values) != 1:
            errs.append(v.required(path + '.values',
                                   "must be specified single value when `operator` is 'Lt' or 'Gt'"))
    else:
        errs.append(v.invalid(path + '.operator', op, 'not a valid selector operator'))
    return errs + v.qualified_name(path + '.key', rq.get('key') or '')


def node_field_selector_requirement(path, rq):
    """ValidateNodeFieldSelectorRequirement: In/NotIn with exactly one value, key
    metadata.name, each value a node name."""
    errs = []
    op, values, key = rq.get('operator') or '', _seq(rq.get('values')), rq.get('key') or ''
    if op in ('In', 'NotIn'):
        if len(values) != 1:
            errs.append(v.required(path + '.values', "must be only one value when `operator` is 'In' or "
                                   "'NotIn' for node field selector"))
    else:
        errs.append(v.invalid(path + '.operator', op, 'not a valid selector operator'))
    if key != 'metadata.name':
        errs.append(v.invalid(path + '.key', key, 'not a valid field selector key'))
    else:
        for i, val in enumerate(values):
            errs += v.dns1123_subdomain('%s.values[%d]' % (path, i), val if isinstance(val, str) else '')
    return errs


def node_selector(path, ns):
    """ValidateNodeSelector and ValidateNodeSelectorTerm."""
    terms = _seq(_map(ns).get('nodeSelectorTerms'))
    if not terms:
        return [v.required(path + '.nodeSelectorTerms', 'must have at least one node selector term')]
    errs = []
    for i, term in enumerate(terms):
        p = '%s.nodeSelectorTerms[%d]' % (path, i)
        term = _map(term)
        for j, rq in enumerate(_seq(term.get('matchExpressions'))):
            errs += node_selector_requirement('%s.matchExpressions[%d]' % (p, j), _map(rq))
        for j, rq in enumerate(_seq(term.get('matchFields'))):
            errs += node_field_selector_requirement('%s.matchFields[%d]' % (p, j), _map(rq))
    return errs


def affinity(path, aff):
    """validateAffinity / validateNodeAffinity (pod affinity is not looked into)."""
    na = _map(_map(aff).get('nodeAffinity'))
    errs = []
    req = na.get('requiredDuringSchedulingIgnoredDuringExecution')
    if req is not None:
        errs += node_selector(path + '.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution', req)
    for i, pref in enumerate(_seq(na.get('preferredDuringSchedulingIgnoredDuringExecution'))):
        p = '%s.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[%d]' % (path, i)
        w = _map(pref).get('weight')
        if not isinstance(w, int) or not 1 <= w <= 100:
            errs.append(raw_invalid(p + '.weight', w, 'must be in the range 1-100'))
        pterm = _map(_map(pref).get('preference'))
        for j, rq in enumerate(_seq(pterm.get('matchExpressions'))):
            errs += node_selector_requirement('%s.preference.matchExpressions[%d]' % (p, j), _map(rq))
        for j, rq in enumerate(_seq(pterm.get('matchFields'))):
            errs += node_field_selector_requirement('%s.preference.matchFields[%d]' % (p, j), _map(rq))
    return errs


EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute']


def tolerations(path, tols):
    """ValidateTolerations."""
    errs = []
    for i, t in enumerate(_seq(tols)):
        p = '%s[%d]' % (path, i)
        t = _map(t)
        key, op, value, effect = (t.get('key') or '', t.get('operator') or '', t.get('value') or '',
                                  t.get('effect') or '')
        if key:
            errs += v.qualified_name(p + '.key', key)
        if not key and op != 'Exists':
            errs.append(v.invalid(p + '.operator', op, 'operator must be Exists when `key` is empty, '
                                  'which means "match all values and all keys"'))
        if t.get('tolerationSeconds') is not None and effect != 'NoExecute':
            errs.append(v.invalid(p + '.effect', effect, "effect must be 'NoExecute' when "
                                  "`tolerationSeconds` is set"))
        if op in ('Equal', ''):
            msgs = v.label_value_messages(value)
            if msgs:
                errs.append(v.invalid(p + '.operator', value, ';'.join(msgs)))
        elif op == 'Exists':
            if value:
                errs.append(raw_invalid(p + '.operator', go_toleration(t),
                                        "value must be empty when `operator` is 'Exists'"))
        else:
            errs.append(v.not_supported(p + '.operator', op, ['Equal', 'Exists']))
        if effect and effect not in EFFECTS:
            errs.append(v.not_supported(p + '.effect', effect, EFFECTS))
    return errs


# ---- the pod spec ------------------------------------------------------------------
RESTART_POLICIES = ['Always', 'OnFailure', 'Never']
DNS_POLICIES = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None']


def pod_spec(path, spec):
    """ValidatePodSpec, in its order (the fields clyde-seed and kubectl users set)."""
    spec = _map(spec)
    vols, errs = volumes(path + '.volumes', spec.get('volumes'))
    errs += containers(path + '.containers', spec.get('containers'), vols)
    errs += init_containers(path + '.initContainers', spec.get('initContainers'),
                            spec.get('containers'), vols)
    rp = spec.get('restartPolicy') or ''
    if not rp:
        errs.append(v.required(path + '.restartPolicy'))
    elif rp not in RESTART_POLICIES:
        errs.append(v.not_supported(path + '.restartPolicy', rp, RESTART_POLICIES))
    errs += _required_choice(path + '.dnsPolicy', spec.get('dnsPolicy'), DNS_POLICIES)
    errs += v.labels(path + '.nodeSelector', spec.get('nodeSelector'))
    errs += pod_security_context(path + '.securityContext', spec.get('securityContext'))
    errs += affinity(path + '.affinity', spec.get('affinity'))
    if spec.get('nodeName'):
        errs += v.dns1123_subdomain(path + '.nodeName', spec['nodeName'])
    ads = spec.get('activeDeadlineSeconds')
    if isinstance(ads, int) and not 1 <= ads <= 2147483647:
        errs.append(raw_invalid(path + '.activeDeadlineSeconds', ads, 'must be between 1 and 2147483647, inclusive'))
    for key in ('hostname', 'subdomain'):
        if spec.get(key):
            errs += v.dns1123_label('%s.%s' % (path, key), spec[key])
    errs += tolerations(path + '.tolerations', spec.get('tolerations'))
    if spec.get('priorityClassName'):
        errs += v.dns1123_subdomain(path + '.priorityClassName', spec['priorityClassName'])
    return errs


def quantity_errors(spec):
    """The quantities that do not parse: the server refuses the body before validating
    (400 `... cannot be handled as a Pod: quantities must match ...`).  Returns the
    message of the first, or None."""
    spec = _map(spec)
    found = []
    for vol in _seq(spec.get('volumes')):
        found.append(_map(_map(vol).get('emptyDir')).get('sizeLimit'))
    for c in _seq(spec.get('initContainers')) + _seq(spec.get('containers')):
        res = _map(_map(c).get('resources'))
        for part in ('limits', 'requests'):
            found += list(_map(res.get(part)).values())
    for q in found:
        if q is None:
            continue
        try:
            qty.parse(q)
        except qty.QuantityError as e:
            return str(e)
    return None


def warnings(path, spec):
    """The warnings (pkg/api/pod/warnings.go) for the fields clyde-seed sets."""
    out = []
    for i, s in enumerate(_seq(_map(spec).get('imagePullSecrets'))):
        if not _map(s).get('name'):
            out.append('%s.imagePullSecrets[%d].name: invalid empty name ""' % (path, i))
    return out
