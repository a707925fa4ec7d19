"""The OCI runtime spec for one container of a pod, as the kubelet and containerd's CRI
plugin would derive it: command and args over the image's entrypoint and cmd, the user
from the security context over the image's USER, read-only root, capabilities, the
pod's volumes, cgroup limits.  Pure functions over dicts."""

import os
import re


class ConfigError(Exception):
    """What the kubelet reports as CreateContainerConfigError."""


def quantity(q):
    """A Kubernetes quantity as a float (cpu in cores, memory in bytes)."""
    m = re.fullmatch(r'([0-9.]+)([a-zA-Z]*)', str(q).strip())
    if not m:
        raise ConfigError('invalid quantity %r' % q)
    mult = {'': 1, 'm': 1e-3, 'k': 1e3, 'M': 1e6, 'G': 1e9, 'T': 1e12,
            'Ki': 2 ** 10, 'Mi': 2 ** 20, 'Gi': 2 ** 30, 'Ti': 2 ** 40}.get(m.group(2))
    if mult is None:
        raise ConfigError('invalid quantity %r' % q)
    return float(m.group(1)) * mult


def process_args(c, img):
    """Kubernetes' rule: command replaces ENTRYPOINT (and drops CMD), args replace CMD."""
    entry, cmd = img.get('Entrypoint') or [], img.get('Cmd') or []
    if c.get('command'):
        return list(c['command']) + list(c.get('args') or [])
    return list(entry) + list(c['args'] if c.get('args') else cmd)


def _passwd(rootfs, path):
    try:
        with open(os.path.join(rootfs, path), errors='replace') as f:
            return [line.rstrip('\n').split(':') for line in f if line.count(':') >= 3]
    except OSError:
        return []


def resolve_user(pod, c, img, rootfs):
    """(uid, gid) the process runs as; ConfigError as the kubelet words it."""
    psc, csc = pod['spec'].get('securityContext') or {}, c.get('securityContext') or {}
    uid = csc.get('runAsUser', psc.get('runAsUser'))
    gid = csc.get('runAsGroup', psc.get('runAsGroup'))
    non_root = csc.get('runAsNonRoot', psc.get('runAsNonRoot'))
    where = '(pod: "%s_%s(%s)", container: %s)' % (pod['metadata']['name'], pod['metadata']['namespace'],
                                                    pod['metadata']['uid'], c['name'])
    if uid is None:
        user = (img.get('User') or '').split(':')
        name = user[0]
        if name and not name.isdigit():
            if non_root:
                raise ConfigError('container has runAsNonRoot and image has non-numeric user '
                                  '(%s), cannot verify user is non-root %s' % (name, where))
            ent = [e for e in _passwd(rootfs, 'etc/passwd') if e[0] == name]
            if not ent:
                raise ConfigError('unable to find user %s: no matching entries in passwd file' % name)
            uid, img_gid = int(ent[0][2]), int(ent[0][3])
        else:
            uid, img_gid = int(name or 0), None
        if gid is None and len(user) > 1 and user[1].isdigit():
            gid = int(user[1])
        elif gid is None:
            gid = img_gid
    if non_root and uid == 0:
        raise ConfigError('container has runAsNonRoot and image will run as root %s' % where)
    if gid is None:
        ent = [e for e in _passwd(rootfs, 'etc/passwd') if e[2] == str(uid)]
        gid = int(ent[0][3]) if ent else 0
    return int(uid), int(gid)


def capabilities(base, csc):
    caps = set(base)
    drop = (csc.get('capabilities') or {}).get('drop') or []
    add = (csc.get('capabilities') or {}).get('add') or []
    if 'ALL' in drop:
        caps = set()
    caps -= {'CAP_' + d for d in drop}
    caps |= {'CAP_' + a for a in add}
    return sorted(caps)


def mounts(pod, c, volume_dir):
    """Bind mounts for the container's volumeMounts (emptyDir only)."""
    vols = {v['name']: v for v in pod['spec'].get('volumes') or []}
    out = []
    for vm in c.get('volumeMounts') or []:
        v = vols.get(vm['name'])
        if v is None or 'emptyDir' not in v:
            raise ConfigError('cannot find volume "%s" to mount into container "%s"'
                              % (vm['name'], c['name']))
        out.append({'destination': vm['mountPath'], 'type': 'bind',
                    'source': os.path.join(volume_dir, vm['name']),
                    'options': ['rbind', 'rprivate', 'ro' if vm.get('readOnly') else 'rw']})
    return out


def resources(c):
    r = c.get('resources') or {}
    lim, req = r.get('limits') or {}, r.get('requests') or {}
    out = {}
    if 'memory' in lim:
        out['memory'] = {'limit': int(quantity(lim['memory']))}
    cpu = {}
    if 'cpu' in lim:
        cpu['period'] = 100000
        cpu['quota'] = max(int(quantity(lim['cpu']) * 100000), 1000)
    if 'cpu' in req or 'cpu' in lim:
        cpu['shares'] = max(int(quantity(req.get('cpu', lim.get('cpu'))) * 1024), 2)
    if cpu:
        out['cpu'] = cpu
    return out


def build(base, pod, c, img, rootfs, volume_dir, cgroup_path):
    """The spec: base is `ctr oci spec`'s default, img the image's config."""
    spec = base
    csc = c.get('securityContext') or {}
    uid, gid = resolve_user(pod, c, img, rootfs)
    args = process_args(c, img)
    if not args:
        raise ConfigError('no command specified')
    env = list(img.get('Env') or [])
    env += ['%s=%s' % (e['name'], e.get('value', '')) for e in c.get('env') or []]
    proc = spec['process']
    proc.update({'args': args, 'env': env, 'terminal': False,
                 'cwd': c.get('workingDir') or img.get('WorkingDir') or '/',
                 'user': {'uid': uid, 'gid': gid}})
    proc['noNewPrivileges'] = csc.get('allowPrivilegeEscalation') is False
    caps = capabilities(proc['capabilities']['bounding'], csc)
    proc['capabilities'] = {k: caps for k in ('bounding', 'effective', 'permitted')}
    spec['hostname'] = pod['metadata']['name']
    spec['root'] = {'path': rootfs, 'readonly': bool(csc.get('readOnlyRootFilesystem'))}
    spec['mounts'] = spec.get('mounts', []) + mounts(pod, c, volume_dir)
    spec['linux']['cgroupsPath'] = cgroup_path
    spec['linux']['resources'] = dict(spec['linux'].get('resources') or {}, **resources(c))
    return spec
