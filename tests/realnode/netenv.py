"""The machinery around the real nodes: prerequisites, network namespaces on a bridge,
rate limits, the registries and one containerd per node, and a teardown that leaves no
netns, mount, cgroup or process behind.

Nothing lives in the root network namespace: a bridge in its own namespace, the registry
in another, each node's pulls in a third.  Tools enter a namespace with `nsenter --net`
(not `ip netns exec`, which also remounts /sys and would hide the cgroup hierarchies from
containerd's shims).
"""

import json
import os
import shutil
import signal
import subprocess
import time

COMMANDS = {'containerd': 'containerd', 'ctr': 'containerd', 'runc': 'runc',
            'containerd-shim-runc-v2': 'containerd', 'docker-registry': 'docker-registry',
            'skopeo': 'skopeo', 'umoci': 'umoci', 'ip': 'iproute2', 'tc': 'iproute2',
            'nsenter': 'util-linux', 'mount': 'mount'}
SUBNET = '10.213.%d.%d'
REGISTRY_PORT, PRIVATE_PORT = 5000, 5001
CGROUP_ROOT = '/sys/fs/cgroup'


class SetupError(Exception):
    pass


def missing_prerequisites():
    """Every missing prerequisite, each as one line saying what and how to get it."""
    out = []
    if os.geteuid() != 0:
        out.append('root: run as root (network namespaces, mounts, containerd)')
    pkgs = {}
    for cmd, pkg in COMMANDS.items():
        if shutil.which(cmd) is None:
            pkgs.setdefault(pkg, []).append(cmd)
    for pkg, cmds in sorted(pkgs.items()):
        out.append('command %s: install the Debian package %s (tools/deps)' % (', '.join(cmds), pkg))
    if not os.access('/bin/busybox', os.X_OK):
        out.append('/bin/busybox: install the Debian package busybox-static (tools/deps)')
    if not _has_cgroups():
        out.append('cgroups: no memory controller under %s (cgroup v1 hierarchy or cgroup2 '
                   'with the memory controller needed by runc)' % CGROUP_ROOT)
    if not _has_fs('overlay'):
        out.append('overlayfs: "overlay" is not in /proc/filesystems (modprobe overlay)')
    return out


def _has_cgroups():
    if os.path.isdir(os.path.join(CGROUP_ROOT, 'memory')):
        return True
    try:
        with open(os.path.join(CGROUP_ROOT, 'cgroup.controllers')) as f:
            return 'memory' in f.read().split()
    except OSError:
        return False


def _has_fs(name):
    def listed():
        try:
            with open('/proc/filesystems') as f:
                return any(line.split()[-1] == name for line in f if line.strip())
        except OSError:
            return False
    if listed():
        return True
    if shutil.which('modprobe'):
        subprocess.run(['modprobe', name], capture_output=True)
    return listed()


def run(cmd, check=True, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if check and p.returncode != 0:
        raise SetupError('%s: %s' % (' '.join(cmd), (p.stderr or p.stdout).strip()))
    return p


def in_ns(ns, cmd):
    return ['nsenter', '--net=/run/netns/' + ns] + cmd


class Env:
    """The namespaces, registries and containerds of one realnode instance."""

    def __init__(self, state, nodes, prefix, registry_rate=None, node_rate=None, node_up_rate=None):
        self.state = os.path.abspath(state)
        self.nodes = list(nodes)
        self.prefix = prefix
        self.registry_rate, self.node_rate = registry_rate, node_rate
        self.node_up_rate = node_up_rate    # what a node sends (its P2P server's uploads)
        self.namespaces = []
        self.procs = []         # (name, Popen)
        self.cgroup_parent = '/clyde-realnode-' + prefix
        self.registry_ip = SUBNET % (0, 2)

    # ---- network -------------------------------------------------------------------
    def ns(self, what):
        return '%s-%s' % (self.prefix, what)

    def add_ns(self, name):
        run(['ip', 'netns', 'add', name])
        self.namespaces.append(name)
        run(in_ns(name, ['ip', 'link', 'set', 'lo', 'up']))

    def link(self, ns, bridge_end, addr, rate_out=None, rate_in=None):
        """A veth pair: eth0 in ns with addr, bridge_end on the bridge.  rate_out limits
        what leaves ns, rate_in what arrives in it (tbf on each side's egress)."""
        br = self.ns('br')
        run(['ip', 'link', 'add', bridge_end, 'netns', br, 'type', 'veth', 'peer', 'name', 'eth0',
             'netns', ns])
        run(in_ns(br, ['ip', 'link', 'set', bridge_end, 'master', 'br0', 'up']))
        run(in_ns(ns, ['ip', 'addr', 'add', addr + '/16', 'dev', 'eth0']))
        run(in_ns(ns, ['ip', 'link', 'set', 'eth0', 'up']))
        if rate_out:
            self.tbf(ns, 'eth0', rate_out)
        if rate_in:
            self.tbf(br, bridge_end, rate_in)

    def tbf(self, ns, dev, rate):
        p = run(in_ns(ns, ['tc', 'qdisc', 'add', 'dev', dev, 'root', 'tbf', 'rate', rate,
                           'burst', '256kb', 'latency', '100ms']), check=False)
        if p.returncode != 0:
            raise SetupError('rate limit %s on %s: tc tbf failed: %s (kernel module sch_tbf?)'
                             % (rate, dev, p.stderr.strip()))

    def setup_network(self):
        br = self.ns('br')
        self.add_ns(br)
        run(in_ns(br, ['ip', 'link', 'add', 'br0', 'type', 'bridge']))
        run(in_ns(br, ['ip', 'link', 'set', 'br0', 'up']))
        self.add_ns(self.ns('reg'))
        self.link(self.ns('reg'), 'vreg', self.registry_ip, rate_out=self.registry_rate)
        for i, node in enumerate(self.nodes):
            ns = self.node_ns(i)
            self.add_ns(ns)
            self.link(ns, 'vn%d' % i, self.node_ip(i), rate_out=self.node_up_rate, rate_in=self.node_rate)

    def node_ip(self, i):
        return SUBNET % (1 + i // 200, 10 + i % 200)

    def node_ns(self, i):
        return self.ns('n%d' % i)

    # ---- processes -----------------------------------------------------------------
    def spawn(self, name, cmd, ns=None):
        log = open(os.path.join(self.state, 'logs', name + '.log'), 'ab')
        p = subprocess.Popen(in_ns(ns, cmd) if ns else cmd, stdout=log, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        self.procs.append((name, p))
        return p

    def start_registries(self, htpasswd):
        reg = os.path.join(self.state, 'registry')
        for name, port, auth in (('registry', REGISTRY_PORT, None),
                                 ('registry-private', PRIVATE_PORT, htpasswd)):
            cfg = {'version': 0.1, 'log': {'level': 'warn'},
                   'storage': {'filesystem': {'rootdirectory': os.path.join(reg, name)},
                               'delete': {'enabled': True}},
                   'http': {'addr': '0.0.0.0:%d' % port}}
            if auth:
                cfg['auth'] = {'htpasswd': {'realm': 'clyde-realnode', 'path': auth}}
            path = os.path.join(reg, name + '.yml')
            with open(path, 'w') as f:
                json.dump(cfg, f)      # YAML is a superset of JSON
            self.spawn(name, ['docker-registry', 'serve', path], ns=self.ns('reg'))
        for port in (REGISTRY_PORT, PRIVATE_PORT):
            self.wait_port(self.ns('reg'), port)

    def wait_port(self, ns, port, timeout=20.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            p = run(in_ns(ns, ['bash', '-c', 'exec 3<>/dev/tcp/127.0.0.1/%d' % port]), check=False)
            if p.returncode == 0:
                return
            self.check_alive()
            time.sleep(0.1)
        raise SetupError('nothing listens on port %d in %s after %.0f s' % (port, ns, timeout))

    def check_alive(self):
        for name, p in self.procs:
            if p.poll() is not None:
                raise SetupError('%s exited with %s (see %s)' % (
                    name, p.returncode, os.path.join(self.state, 'logs', name + '.log')))

    def containerd_paths(self, i):
        base = os.path.join(self.state, 'nodes', self.nodes[i])
        return {'root': os.path.join(base, 'root'), 'state': os.path.join(base, 'state'),
                'socket': os.path.join(base, 'containerd.sock'), 'config': os.path.join(base, 'config.toml'),
                'base': base}

    def start_containerds(self):
        for i, node in enumerate(self.nodes):
            p = self.containerd_paths(i)
            os.makedirs(p['base'], exist_ok=True)
            with open(p['config'], 'w') as f:
                f.write('version = 2\nroot = "%s"\nstate = "%s"\n'
                        'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
                        '[grpc]\n  address = "%s"\n[ttrpc]\n  address = "%s.ttrpc"\n'
                        '[debug]\n  level = "warn"\n'
                        % (p['root'], p['state'], p['socket'], p['socket']))
            # containerd itself stays in the root namespaces: ctr does the network part of
            # a pull (containerd 1.6), and the shims need the host's /sys/fs/cgroup
            self.spawn('containerd-' + node, ['containerd', '--config', p['config']])
        for i in range(len(self.nodes)):
            sock = self.containerd_paths(i)['socket']
            end = time.monotonic() + 20
            while run(['ctr', '--address', sock, 'version'], check=False).returncode != 0:
                self.check_alive()
                if time.monotonic() > end:
                    raise SetupError('containerd for %s did not answer on %s' % (self.nodes[i], sock))
                time.sleep(0.1)

    def write_hosts(self, hosts_dir, auth_header=None, auth_host=None):
        """containerd's hosts.toml: docker.io and registry.test to the public registry,
        private.test to the private one; auth_header (a Basic credential) for auth_host."""
        targets = {'docker.io': REGISTRY_PORT, 'registry.test': REGISTRY_PORT,
                   'private.test': PRIVATE_PORT}
        for host, port in targets.items():
            url = 'http://%s:%d' % (self.registry_ip, port)
            d = os.path.join(hosts_dir, host)
            os.makedirs(d, mode=0o700, exist_ok=True)
            text = 'server = "%s"\n[host."%s"]\n  capabilities = ["pull", "resolve"]\n' % (url, url)
            if auth_header and host == auth_host:
                text += '  [host."%s".header]\n    Authorization = "%s"\n' % (url, auth_header)
            fd = os.open(os.path.join(d, 'hosts.toml'), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, 'w') as f:
                f.write(text)

    # ---- teardown ------------------------------------------------------------------
    def stop_processes(self):
        for name, p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for name, p in reversed(self.procs):
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        self.procs = []

    def teardown(self):
        """Stops what setup started and removes what it made; safe to call twice."""
        errors = []
        self.stop_processes()
        kill_shims(self.state)
        for mnt in mounts_under(self.state):
            p = run(['umount', '-l', mnt], check=False)
            if p.returncode != 0:
                errors.append('umount %s: %s' % (mnt, p.stderr.strip()))
        errors += remove_cgroups(self.cgroup_parent)
        for ns in reversed(self.namespaces):
            p = run(['ip', 'netns', 'del', ns], check=False)
            if p.returncode != 0:
                errors.append('ip netns del %s: %s' % (ns, p.stderr.strip()))
        self.namespaces = []
        return errors


def mounts_under(path):
    """Mount points at or below path, deepest first."""
    out = []
    with open('/proc/self/mountinfo') as f:
        for line in f:
            mnt = line.split()[4].replace('\\040', ' ')
            if mnt == path or mnt.startswith(path.rstrip('/') + '/'):
                out.append(mnt)
    return sorted(out, key=len, reverse=True)


def cgroup_dirs(parent):
    """The directories of cgroup parent in every hierarchy."""
    out = []
    try:
        hier = os.listdir(CGROUP_ROOT)
    except OSError:
        return out
    for h in hier:
        d = os.path.join(CGROUP_ROOT, h, parent.lstrip('/'))
        if os.path.isdir(d):
            out.append(d)
    if os.path.isdir(os.path.join(CGROUP_ROOT, parent.lstrip('/'))):
        out.append(os.path.join(CGROUP_ROOT, parent.lstrip('/')))
    return out


def remove_cgroups(parent):
    errors = []
    for top in cgroup_dirs(parent):
        for d, subdirs, _ in sorted(os.walk(top), key=lambda t: -len(t[0])):
            try:
                os.rmdir(d)
            except OSError as e:
                errors.append('rmdir %s: %s' % (d, e.strerror))
    return errors


def kill_shims(state):
    """Shims outlive containerd; those whose command line names our state directory go."""
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            with open('/proc/%s/cmdline' % pid, 'rb') as f:
                cmd = f.read().split(b'\0')
        except OSError:
            continue
        if cmd and cmd[0].endswith(b'containerd-shim-runc-v2') and any(state.encode() in a for a in cmd):
            try:
                os.kill(int(pid), signal.SIGKILL)
            except OSError:
                pass


def namespaces_with_prefix(prefix):
    try:
        return [n for n in os.listdir('/run/netns') if n.startswith(prefix + '-')]
    except OSError:
        return []
