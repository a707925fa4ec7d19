"""Pod Security admission: the baseline and restricted policies of
staging/src/k8s.io/pod-security-admission/policy, with their messages.

Checks run in the real order: baseline checks sorted by ID, then restricted ones sorted
by ID; a restricted check replaces the baseline check it overrides (capabilities,
hostPath volumes, seccomp).  Not implemented (a pod using them passes): AppArmor
annotations, seLinuxOptions, procMount, sysctls, Windows hostProcess.
"""

LABEL = 'pod-security.kubernetes.io/'
LEVELS = ('privileged', 'baseline', 'restricted')
BASELINE_CAPS = {'AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD',
                 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT'}
ALLOWED_VOLUMES = ('configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral',
                   'persistentVolumeClaim', 'projected', 'secret')
RESTRICTED_VOLUMES = ('hostPath', 'gcePersistentDisk', 'awsElasticBlockStore', 'gitRepo', 'nfs', 'iscsi',
                      'glusterfs', 'rbd', 'flexVolume', 'cinder', 'cephfs', 'flocker', 'fc', 'azureFile',
                      'vsphereVolume', 'quobyte', 'azureDisk', 'photonPersistentDisk', 'portworxVolume',
                      'scaleIO', 'storageos')


def plural(one, many, n):
    return one if n == 1 else many


def join_quote(items):
    return '"' + '", "'.join(items) + '"' if items else ''


def containers(spec):
    """visitContainers: init containers, then containers."""
    return [c for c in (spec.get('initContainers') or []) + (spec.get('containers') or [])
            if isinstance(c, dict)]


def _sc(c):
    return c.get('securityContext') or {}


def _named(what, names):
    return '%s %s' % (plural(what, what + 's', len(names)), join_quote(names))


def host_namespaces(spec):
    found = ['%s=true' % k for k in ('hostNetwork', 'hostPID', 'hostIPC') if spec.get(k)]
    return ('host namespaces', ', '.join(found)) if found else None


def privileged(spec):
    bad = [c.get('name', '') for c in containers(spec) if _sc(c).get('privileged') is True]
    return ('privileged', '%s must not set securityContext.privileged=true' % _named('container', bad)) \
        if bad else None


def capabilities_baseline(spec):
    bad, caps = [], set()
    for c in containers(spec):
        extra = [x for x in (_sc(c).get('capabilities') or {}).get('add') or [] if x not in BASELINE_CAPS]
        if extra:
            bad.append(c.get('name', ''))
            caps.update(extra)
    if not bad:
        return None
    return ('non-default capabilities', '%s must not include %s in securityContext.capabilities.add'
            % (_named('container', bad), join_quote(sorted(caps))))


def host_path_volumes(spec):
    bad = [v.get('name', '') for v in spec.get('volumes') or [] if v.get('hostPath') is not None]
    return ('hostPath volumes', _named('volume', bad)) if bad else None


def host_ports(spec):
    bad, ports = [], set()
    for c in containers(spec):
        used = [str(p.get('hostPort')) for p in c.get('ports') or [] if p.get('hostPort')]
        if used:
            bad.append(c.get('name', ''))
            ports.update(used)
    if not bad:
        return None
    return ('hostPort', '%s %s %s %s' % (_named('container', bad), plural('uses', 'use', len(bad)),
                                         plural('hostPort', 'hostPorts', len(ports)),
                                         ', '.join(sorted(ports))))


def _valid_seccomp(t):
    return t in ('RuntimeDefault', 'Localhost')


def _seccomp_bad_setters(spec):
    setters, values = [], set()
    pod_sp = (spec.get('securityContext') or {}).get('seccompProfile')
    if pod_sp is not None and not _valid_seccomp(pod_sp.get('type')):
        setters.append('pod')
        values.add(pod_sp.get('type') or '')
    bad = []
    for c in containers(spec):
        sp = _sc(c).get('seccompProfile')
        if sp is not None and not _valid_seccomp(sp.get('type')):
            bad.append(c.get('name', ''))
            values.add(sp.get('type') or '')
    if bad:
        setters.append(_named('container', bad))
    return setters, values


def seccomp_baseline(spec):
    setters, values = _seccomp_bad_setters(spec)
    if setters:
        return ('seccompProfile', '%s must not set securityContext.seccompProfile.type to %s'
                % (' and '.join(setters), join_quote(sorted(values))))
    return None


def seccomp_restricted(spec):
    found = seccomp_baseline(spec)
    if found:
        return found
    pod_sp = (spec.get('securityContext') or {}).get('seccompProfile')
    if pod_sp is not None:
        return None
    implicit = [c.get('name', '') for c in containers(spec) if _sc(c).get('seccompProfile') is None]
    if implicit:
        return ('seccompProfile', 'pod or %s must set securityContext.seccompProfile.type to '
                '"RuntimeDefault" or "Localhost"' % _named('container', implicit))
    return None


def allow_privilege_escalation(spec):
    bad = [c.get('name', '') for c in containers(spec) if _sc(c).get('allowPrivilegeEscalation') is not False]
    if bad:
        return ('allowPrivilegeEscalation != false',
                '%s must set securityContext.allowPrivilegeEscalation=false' % _named('container', bad))
    return None


def capabilities_restricted(spec):
    missing, adding, caps = [], [], set()
    for c in containers(spec):
        cap = _sc(c).get('capabilities')
        if cap is None:
            missing.append(c.get('name', ''))
            continue
        if 'ALL' not in (cap.get('drop') or []):
            missing.append(c.get('name', ''))
        extra = [x for x in cap.get('add') or [] if x != 'NET_BIND_SERVICE']
        if extra:
            adding.append(c.get('name', ''))
            caps.update(extra)
    details = []
    if missing:
        details.append('%s must set securityContext.capabilities.drop=["ALL"]' % _named('container', missing))
    if adding:
        details.append('%s must not include %s in securityContext.capabilities.add'
                       % (_named('container', adding), join_quote(sorted(caps))))
    return ('unrestricted capabilities', '; '.join(details)) if details else None


def restricted_volumes(spec):
    bad, types = [], set()
    for v in spec.get('volumes') or []:
        if any(v.get(k) is not None for k in ALLOWED_VOLUMES):
            continue
        bad.append(v.get('name', ''))
        types.add(next((k for k in RESTRICTED_VOLUMES if v.get(k) is not None), 'unknown'))
    if not bad:
        return None
    return ('restricted volume types', '%s %s %s %s' % (
        _named('volume', bad), plural('uses', 'use', len(bad)),
        plural('restricted volume type', 'restricted volume types', len(types)), join_quote(sorted(types))))


def _explicit(spec, key, bad_value):
    setters = []
    if (spec.get('securityContext') or {}).get(key) == bad_value:
        setters.append('pod')
    bad = [c.get('name', '') for c in containers(spec) if _sc(c).get(key) == bad_value]
    if bad:
        setters.append(_named('container', bad))
    return setters


def run_as_non_root(spec):
    setters = _explicit(spec, 'runAsNonRoot', False)
    if setters:
        return ('runAsNonRoot != true', '%s must not set securityContext.runAsNonRoot=false'
                % ' and '.join(setters))
    pod_ok = (spec.get('securityContext') or {}).get('runAsNonRoot') is True
    implicit = [c.get('name', '') for c in containers(spec)
                if _sc(c).get('runAsNonRoot') is None and not pod_ok]
    if implicit:
        return ('runAsNonRoot != true', 'pod or %s must set securityContext.runAsNonRoot=true'
                % _named('container', implicit))
    return None


def run_as_user(spec):
    setters = _explicit(spec, 'runAsUser', 0)
    return ('runAsUser=0', '%s must not set runAsUser=0' % ' and '.join(setters)) if setters else None


# (id, level, minimum version, check, ids it overrides)
CHECKS = [
    ('capabilities_baseline', 'baseline', (1, 0), capabilities_baseline, ()),
    ('hostNamespaces', 'baseline', (1, 0), host_namespaces, ()),
    ('hostPathVolumes', 'baseline', (1, 0), host_path_volumes, ()),
    ('hostPorts', 'baseline', (1, 0), host_ports, ()),
    ('privileged', 'baseline', (1, 0), privileged, ()),
    ('seccompProfile_baseline', 'baseline', (1, 19), seccomp_baseline, ()),
    ('allowPrivilegeEscalation', 'restricted', (1, 8), allow_privilege_escalation, ()),
    ('capabilities_restricted', 'restricted', (1, 22), capabilities_restricted, ('capabilities_baseline',)),
    ('restrictedVolumes', 'restricted', (1, 0), restricted_volumes, ('hostPathVolumes',)),
    ('runAsNonRoot', 'restricted', (1, 0), run_as_non_root, ()),
    ('runAsUser', 'restricted', (1, 23), run_as_user, ()),
    ('seccompProfile_restricted', 'restricted', (1, 19), seccomp_restricted, ('seccompProfile_baseline',)),
]


def parse_version(text):
    """'latest' -> None; 'v1.24' -> (1, 24); anything else -> None (latest)."""
    if text and text.startswith('v1.') and text[3:].isdigit():
        return 1, int(text[3:])
    return None


def evaluate(level, version, spec):
    """The (reason, detail) failures of spec at level and version, in the real order."""
    if level not in ('baseline', 'restricted'):
        return []
    active = [c for c in CHECKS if (c[1] == 'baseline' or level == 'restricted')
              and (version is None or version >= c[2])]
    overridden = {o for c in active for o in c[4]}
    out = []
    for cid, _, _, fn, _ in active:
        if cid in overridden:
            continue
        found = fn(spec)
        if found:
            out.append(found)
    return out


def policy(ns_labels, mode):
    """(level, version, 'level:version' text) a namespace sets for mode (enforce, warn)."""
    labels = ns_labels or {}
    level = labels.get(LABEL + mode)
    if level not in LEVELS:
        return None
    vtext = labels.get(LABEL + mode + '-version') or 'latest'
    version = parse_version(vtext)
    return level, version, '%s:%s' % (level, vtext if version else 'latest')


def violation_text(failures):
    return ', '.join('%s (%s)' % f for f in failures)
