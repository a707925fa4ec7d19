"""One node's container runtime: its own containerd, driven through `ctr`.

Pulls run inside the node's network namespace (in containerd 1.6 `ctr` fetches, the daemon
stores).  Containers are created the way the CRI plugin does it, in pieces `ctr` offers: a
snapshot prepared on the image's layer chain, mounted as the rootfs, an OCI spec written by
specs.py from the pod (ctr 1.6 has no --user), `ctr containers create --config`, and
`ctr tasks start` whose exit status is the container's.
"""

import base64
import hashlib
import json
import os
import platform
import shutil
import subprocess
import tempfile
import threading
import time

import netenv

NAMESPACE = 'k8s.io'
INDEX_TYPES = ('application/vnd.oci.image.index.v1+json',
               'application/vnd.docker.distribution.manifest.list.v2+json')
ARCH = {'x86_64': 'amd64', 'aarch64': 'arm64'}.get(platform.machine(), platform.machine())


class RuntimeError_(Exception):
    """A failure with containerd's own text."""


def normalize(ref):
    """containerd's normalised name: docker.io/library/x:latest for x."""
    name, digest = ref, ''
    if '@' in ref:
        name, digest = ref.split('@', 1)
    first, _, rest = name.partition('/')
    if not rest or not ('.' in first or ':' in first or first == 'localhost'):
        name = 'docker.io/' + name
    dom, _, path = name.partition('/')
    if dom == 'docker.io' and '/' not in path:
        name = 'docker.io/library/' + path
    last = name.rsplit('/', 1)[-1]
    if ':' not in last and not digest:
        name += ':latest'
    return name + ('@' + digest if digest else '')


def repository(ref):
    name = ref.split('@', 1)[0]
    head, _, last = name.rpartition('/')
    return head + '/' + last.split(':', 1)[0]


class Runtime:
    def __init__(self, node, socket, netns, hosts_dir, base, cgroup_parent, write_hosts):
        self.node, self.socket, self.netns = node, socket, netns
        self.write_hosts = write_hosts
        self.hosts_dir, self.base, self.cgroup_parent = hosts_dir, base, cgroup_parent
        self.pull_lock = threading.Lock()       # serializeImagePulls, the kubelet's default
        self.content_cache = {}
        self.base_spec = None
        self.image_list = None                  # images(), until a pull or rm changes it
        self.image_lock = threading.Lock()

    def ctr(self, *args, check=True, net=False, timeout=600):
        cmd = ['ctr', '--address', self.socket, '--namespace', NAMESPACE] + list(args)
        if net:
            cmd = netenv.in_ns(self.netns, cmd)
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if check and p.returncode != 0:
            raise RuntimeError_(error_text(p.stderr))
        return p

    # ---- images --------------------------------------------------------------------
    def images(self):
        """{normalised ref: digest of what it points to (index or manifest)}.  Cached:
        only this runtime's pulls and removals change the list."""
        with self.image_lock:
            if self.image_list is None:
                out = {}
                for line in self.ctr('images', 'ls').stdout.splitlines()[1:]:
                    f = line.split()
                    if len(f) >= 3:
                        out[f[0]] = f[2]
                self.image_list = out
            return dict(self.image_list)

    def images_changed(self):
        with self.image_lock:
            self.image_list = None

    def pull(self, ref, auth=None):
        """Pulls ref (normalised) for this node's platform; auth is (registry host,
        user, password) or None.  Returns the seconds the pull itself took (not the wait
        for the node's puller).  Raises RuntimeError_ with ctr's text on failure."""
        with self.pull_lock:
            start = time.monotonic()
            had = ref in self.images()
            hosts = self.hosts_dir
            tmp = None
            if auth:
                tmp = tempfile.mkdtemp(prefix='hosts-', dir=self.base)
                cred = base64.b64encode(('%s:%s' % (auth[1], auth[2])).encode()).decode()
                self.write_hosts(tmp, 'Basic ' + cred, auth[0])
                hosts = tmp
            try:
                self.ctr('images', 'pull', '--hosts-dir', hosts, '--platform', 'linux/' + ARCH,
                         ref, net=True)
                return time.monotonic() - start
            except RuntimeError_:
                if not had:     # ctr records the image before it unpacks it
                    self.ctr('images', 'rm', ref, check=False)
                raise
            finally:
                self.images_changed()
                if tmp:
                    shutil.rmtree(tmp, ignore_errors=True)

    def content(self, digest):
        """(parsed JSON, size in bytes) of a blob in the content store."""
        got = self.content_cache.get(digest)
        if got is None:
            p = subprocess.run(['ctr', '--address', self.socket, '--namespace', NAMESPACE,
                                'content', 'get', digest], capture_output=True)
            if p.returncode != 0:
                raise RuntimeError_(error_text(p.stderr.decode(errors='replace')))
            got = self.content_cache[digest] = (json.loads(p.stdout), len(p.stdout))
        return got

    def image_info(self, digest):
        """{'digest', 'size', 'config', 'chain'} of a pulled image.  size is what
        containerd's image.Size() counts: the index (if any), this platform's manifest,
        its config and layers."""
        top, size = self.content(digest)
        man = top
        if top.get('mediaType') in INDEX_TYPES or 'manifests' in top:
            for m in top['manifests']:
                p = m.get('platform') or {}
                if p.get('os') == 'linux' and p.get('architecture') == ARCH:
                    man, msize = self.content(m['digest'])
                    size += msize
                    break
            else:
                raise RuntimeError_('no match for platform in manifest %s: not found' % digest)
        size += man['config']['size'] + sum(layer['size'] for layer in man.get('layers') or [])
        cfg = self.content(man['config']['digest'])[0]
        chain = None
        for d in cfg.get('rootfs', {}).get('diff_ids') or []:
            chain = d if chain is None else 'sha256:' + hashlib.sha256(
                ('%s %s' % (chain, d)).encode()).hexdigest()
        return {'digest': digest, 'size': size, 'config': cfg.get('config') or {}, 'chain': chain}

    def remove_image(self, *refs):
        try:
            self.ctr('images', 'rm', '--sync', *refs)
        finally:
            self.images_changed()

    def version(self):
        if getattr(self, '_version', None) is None:
            v = 'unknown'
            lines = self.ctr('version').stdout.splitlines()
            for i, line in enumerate(lines):
                if line.strip() == 'Server:' and i + 1 < len(lines):
                    v = lines[i + 1].split(':', 1)[-1].strip()
            self._version = 'containerd://' + v
        return self._version

    # ---- containers ----------------------------------------------------------------
    def oci_spec(self):
        if self.base_spec is None:
            self.base_spec = json.loads(self.ctr('oci', 'spec').stdout)
        return json.loads(json.dumps(self.base_spec))

    def rootfs_dir(self, cid):
        return os.path.join(self.base, 'rootfs', cid)

    def prepare_rootfs(self, cid, chain):
        """Prepares snapshot cid on the image's layer chain and mounts it (as the CRI
        plugin's shim would)."""
        target = self.rootfs_dir(cid)
        os.makedirs(target, exist_ok=True)
        mounts = json.loads(self.ctr('snapshots', 'prepare', '--mounts', cid, chain).stdout)
        for m in mounts:
            p = subprocess.run(['mount', '-t', m['Type'], m['Source'], target, '-o',
                                ','.join(m['Options'])], capture_output=True, text=True)
            if p.returncode != 0:
                self.ctr('snapshots', 'rm', cid, check=False)
                raise RuntimeError_('mount rootfs: %s' % p.stderr.strip())
        return target

    def create(self, cid, spec):
        path = os.path.join(self.base, 'specs', cid + '.json')
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w') as f:
            json.dump(spec, f)
        self.ctr('containers', 'create', '--config', path, cid)

    def start(self, cid, log_path):
        """Starts the task; the returned process exits with the container's status (its
        standard error carries ctr's text when the task could not start)."""
        return subprocess.Popen(['ctr', '--address', self.socket, '--namespace', NAMESPACE,
                                 'tasks', 'start', '--log-uri', 'file://' + log_path, cid],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, text=True)

    def kill(self, cid, sig='SIGTERM'):
        self.ctr('tasks', 'kill', '--all', '--signal', sig, cid, check=False)

    def remove(self, cid):
        """Removes task, container, rootfs mount and snapshot; each may already be gone."""
        self.ctr('tasks', 'delete', '--force', cid, check=False)
        self.ctr('containers', 'delete', cid, check=False)
        target = self.rootfs_dir(cid)
        if os.path.ismount(target):
            subprocess.run(['umount', target], capture_output=True)
        self.ctr('snapshots', 'rm', cid, check=False)
        try:
            os.rmdir(target)
        except OSError:
            pass

    def containers(self):
        return [line.split()[0] for line in self.ctr('containers', 'ls').stdout.splitlines()[1:]
                if line.strip()]

    def tasks(self):
        out = {}
        for line in self.ctr('tasks', 'ls').stdout.splitlines()[1:]:
            f = line.split()
            if len(f) >= 3:
                out[f[0]] = f[2]
        return out


def error_text(stderr):
    """ctr's own error: its last `ctr: ` line without that prefix."""
    lines = [ln for ln in (stderr or '').splitlines() if ln.strip()]
    for ln in reversed(lines):
        if ln.startswith('ctr: '):
            return ln[5:]
    return lines[-1] if lines else 'ctr failed without a message'
