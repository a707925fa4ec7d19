"""A real Kubernetes control plane on loopback for one test run: etcd (Debian's
etcd-server), kube-apiserver, kube-controller-manager and kube-scheduler v1.26.0.

Binaries: $KUBE_ASSETS names a directory holding kube-apiserver, kube-controller-manager
and kube-scheduler (the envtest convention; an etcd there is used too, else etcd from
PATH).  Without it they are unpacked once from $KUBE_SHARED/bin/*.xz (default
$top_srcdir/../shared/kube), checked against its SHA256SUMS, into a cache directory.
Every port is chosen free at start, so several runs coexist on one machine."""

import base64
import ctypes
import hashlib
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import time
import urllib.request

BINARIES = ('kube-apiserver', 'kube-controller-manager', 'kube-scheduler')
ADMISSION = ('NamespaceLifecycle,LimitRanger,ServiceAccount,TaintNodesByCondition,PodSecurity,'
             'Priority,DefaultTolerationSeconds,RuntimeClass,MutatingAdmissionWebhook,'
             'ValidatingAdmissionWebhook,ResourceQuota,NodeRestriction')
CONTROLLERS = ('daemonset,deployment,replicaset,garbagecollector,namespace,serviceaccount,'
               'serviceaccount-token,root-ca-cert-publisher,podgc,resourcequota,nodelifecycle')
# How long a node may miss heartbeats before the node-lifecycle controller marks it
# Unknown (the default, 40 s); the agent renews every node's Lease four times as often.
NODE_GRACE = 40
# Client rate limits of the controller manager and scheduler (defaults 20/30 and 50/100):
# a test cluster's DaemonSets of dozens of pods should not wait on them.
QPS = ['--kube-api-qps=200', '--kube-api-burst=400']


class SetupError(Exception):
    """A missing or damaged asset, or a component that did not start."""


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            h.update(block)
    return h.hexdigest()


def _shared_dir():
    if os.environ.get('KUBE_SHARED'):
        return os.environ['KUBE_SHARED']
    top = os.environ.get('top_srcdir') or os.path.join(os.path.dirname(__file__), '..', '..')
    return os.path.join(top, '..', 'shared', 'kube')


def _cache_dir():
    if os.environ.get('KUBE_ASSETS_CACHE'):
        return os.environ['KUBE_ASSETS_CACHE']
    top = os.environ.get('top_builddir') or os.path.join(os.path.dirname(__file__), '..', '..')
    return os.path.join(top, 'tests', 'realkube', 'assets')


def assets():
    """The directory holding the three binaries; raises SetupError naming what is missing."""
    given = os.environ.get('KUBE_ASSETS')
    if given:
        missing = [b for b in BINARIES if not os.access(os.path.join(given, b), os.X_OK)]
        if missing:
            raise SetupError('KUBE_ASSETS=%s lacks %s' % (given, ', '.join(missing)))
        return given
    src = os.path.join(_shared_dir(), 'bin')
    sums_file = os.path.join(src, 'SHA256SUMS')
    if not os.path.exists(sums_file):
        raise SetupError('no Kubernetes binaries: set KUBE_ASSETS, or provide %s' % sums_file)
    sums = {}
    for line in open(sums_file):
        if line.strip():
            digest, name = line.split()
            sums[name] = digest
    tag = hashlib.sha256(open(sums_file, 'rb').read()).hexdigest()[:12]
    out = os.path.join(_cache_dir(), tag)
    os.makedirs(out, exist_ok=True)
    for b in BINARIES:
        dest = os.path.join(out, b)
        if os.access(dest, os.X_OK):
            continue
        xz = os.path.join(src, b + '.xz')
        if not os.path.exists(xz) or _sha256(xz) != sums.get(b + '.xz'):
            raise SetupError('%s is missing or does not match SHA256SUMS' % xz)
        tmp = '%s.%d.tmp' % (dest, os.getpid())
        with open(tmp, 'wb') as f:
            if subprocess.call(['xz', '-dc', xz], stdout=f) != 0:
                raise SetupError('xz -dc %s failed' % xz)
        os.chmod(tmp, 0o755)
        os.replace(tmp, dest)
    return out


def _die_with_parent():
    """Child side of fork: killed when the harness dies, even by SIGKILL."""
    os.setsid()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)   # PR_SET_PDEATHSIG


def _openssl(*args, cwd):
    r = subprocess.run(['openssl'] + list(args), cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SetupError('openssl %s: %s' % (args[0], r.stderr.strip()[-300:]))


def make_pki(d):
    """CA, a serving certificate for 127.0.0.1, the service-account key pair, static tokens
    for the admin (system:masters), the controller manager and the scheduler."""
    os.makedirs(d, exist_ok=True)
    _openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-days', '30',
             '-subj', '/CN=realkube-ca', '-out', 'ca.crt', cwd=d)
    with open(os.path.join(d, 'srv.ext'), 'w') as f:
        f.write('basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n'
                'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:10.96.0.1\n')
    _openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-subj',
             '/CN=kube-apiserver', '-out', 'server.csr', cwd=d)
    _openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key',
             '-CAcreateserial', '-days', '30', '-extfile', 'srv.ext', '-out', 'server.crt', cwd=d)
    # a client certificate of the admin group (the API server trusts the CA for clients)
    with open(os.path.join(d, 'client.ext'), 'w') as f:
        f.write('basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n')
    _openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'client.key', '-subj',
             '/O=system:masters/CN=realkube-cert-admin', '-out', 'client.csr', cwd=d)
    _openssl('x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key',
             '-CAcreateserial', '-days', '30', '-extfile', 'client.ext', '-out', 'client.crt', cwd=d)
    _openssl('genrsa', '-out', 'sa.key', '2048', cwd=d)
    _openssl('rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub', cwd=d)
    tokens = {u: secrets.token_hex(16) for u in ('admin', 'kcm', 'scheduler')}
    with open(os.path.join(d, 'tokens.csv'), 'w') as f:
        f.write('%s,admin,uid-admin,"system:masters"\n' % tokens['admin'])
        f.write('%s,system:kube-controller-manager,uid-kcm,"system:masters"\n' % tokens['kcm'])
        f.write('%s,system:kube-scheduler,uid-sched\n' % tokens['scheduler'])
    for name in os.listdir(d):
        if name.endswith('.key') or name == 'tokens.csv':
            os.chmod(os.path.join(d, name), 0o600)
    return tokens


def kubeconfig(path, url, cafile, user, token, namespace='default'):
    with open(path, 'w') as f:
        f.write('apiVersion: v1\nkind: Config\nclusters:\n- name: realkube\n  cluster:\n'
                '    server: "%s"\n    certificate-authority: "%s"\nusers:\n- name: %s\n'
                '  user:\n    token: "%s"\ncontexts:\n- name: %s@realkube\n  context:\n'
                '    cluster: realkube\n    user: %s\n    namespace: %s\n'
                'current-context: %s@realkube\n'
                % (url, cafile, user, token, user, user, namespace, user))
    os.chmod(path, 0o600)


def kubeconfig_cert(path, url, pki):
    """A kubeconfig with the admin client certificate, key and CA embedded (-data)."""
    def b64(name):
        with open(os.path.join(pki, name), 'rb') as f:
            return base64.b64encode(f.read()).decode()
    with open(path, 'w') as f:
        f.write('apiVersion: v1\nkind: Config\nclusters:\n- name: realkube\n  cluster:\n'
                '    server: "%s"\n    certificate-authority-data: %s\nusers:\n- name: admin-cert\n'
                '  user:\n    client-certificate-data: %s\n    client-key-data: %s\n'
                'contexts:\n- name: admin-cert@realkube\n  context:\n    cluster: realkube\n'
                '    user: admin-cert\n    namespace: default\ncurrent-context: admin-cert@realkube\n'
                % (url, b64('ca.crt'), b64('client.crt'), b64('client.key')))
    os.chmod(path, 0o600)


class ControlPlane:
    def __init__(self, state_dir):
        self.dir = os.path.abspath(state_dir)
        self.pki = os.path.join(self.dir, 'pki')
        self.logs = os.path.join(self.dir, 'logs')
        self.procs = []
        self.port = self.etcd_port = self.etcd_data = None
        self.tokens = {}
        self.node_grace = NODE_GRACE

    @property
    def url(self):
        return 'https://127.0.0.1:%d' % self.port

    @property
    def cafile(self):
        return os.path.join(self.pki, 'ca.crt')

    def _spawn(self, name, argv):
        log = open(os.path.join(self.logs, name + '.log'), 'wb')
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                             preexec_fn=_die_with_parent)
        log.close()
        self.procs.append((name, p))
        return p

    def _wait(self, name, proc, probe, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            try:
                if probe():
                    return
            except (OSError, ValueError):
                pass
            time.sleep(0.1)
        tail = open(os.path.join(self.logs, name + '.log'), errors='replace').read()[-1500:]
        raise SetupError('%s did not become ready in %ds (exit %s); log tail:\n%s'
                         % (name, seconds, proc.poll(), tail))

    def start(self, bindir):
        os.makedirs(self.logs, exist_ok=True)
        self.tokens = make_pki(self.pki)
        etcd = os.path.join(bindir, 'etcd')
        if not os.access(etcd, os.X_OK):
            etcd = shutil.which('etcd')
            if not etcd:
                raise SetupError('no etcd: apt-get install etcd-server (or put one in KUBE_ASSETS)')
        self._start_etcd(etcd)
        self._start_apiserver(os.path.join(bindir, 'kube-apiserver'))
        for u in ('kcm', 'scheduler'):
            kubeconfig(os.path.join(self.dir, u + '.kubeconfig'), self.url, self.cafile, u,
                       self.tokens[u])
        self._spawn('kube-controller-manager', [
            os.path.join(bindir, 'kube-controller-manager'),
            '--kubeconfig=' + os.path.join(self.dir, 'kcm.kubeconfig'), '--leader-elect=false',
            '--use-service-account-credentials=false', '--controllers=' + CONTROLLERS,
            '--service-account-private-key-file=' + os.path.join(self.pki, 'sa.key'),
            '--root-ca-file=' + self.cafile, '--secure-port=0', '--profiling=false', '--v=1',
            '--node-monitor-grace-period=%ds' % self.node_grace, '--node-monitor-period=2s'] + QPS)
        self._spawn('kube-scheduler', [
            os.path.join(bindir, 'kube-scheduler'),
            '--kubeconfig=' + os.path.join(self.dir, 'scheduler.kubeconfig'),
            '--leader-elect=false', '--secure-port=0', '--profiling=false', '--v=1'] + QPS)

    def _start_etcd(self, etcd):
        self.etcd_port, peer = free_port(), free_port()
        data = self.etcd_data = os.path.join(self.dir, 'etcd-data.%d' % os.getpid())
        shutil.rmtree(data, ignore_errors=True)
        p = self._spawn('etcd', [
            etcd, '--name', 'realkube', '--data-dir', data,
            '--listen-client-urls', 'http://127.0.0.1:%d' % self.etcd_port,
            '--advertise-client-urls', 'http://127.0.0.1:%d' % self.etcd_port,
            '--listen-peer-urls', 'http://127.0.0.1:%d' % peer,
            '--initial-advertise-peer-urls', 'http://127.0.0.1:%d' % peer,
            '--initial-cluster', 'realkube=http://127.0.0.1:%d' % peer,
            '--quota-backend-bytes=2147483648'])
        url = 'http://127.0.0.1:%d/health' % self.etcd_port
        self._wait('etcd', p, lambda: urllib.request.urlopen(url, timeout=2).status == 200, 30)

    def _start_apiserver(self, binary):
        self.port = free_port()
        p = self._spawn('kube-apiserver', [
            binary, '--etcd-servers=http://127.0.0.1:%d' % self.etcd_port,
            '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1',
            '--secure-port=%d' % self.port, '--endpoint-reconciler-type=none',
            '--tls-cert-file=' + os.path.join(self.pki, 'server.crt'),
            '--tls-private-key-file=' + os.path.join(self.pki, 'server.key'),
            '--client-ca-file=' + self.cafile,
            '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
            '--service-account-key-file=' + os.path.join(self.pki, 'sa.pub'),
            '--service-account-signing-key-file=' + os.path.join(self.pki, 'sa.key'),
            '--service-cluster-ip-range=10.96.0.0/12', '--authorization-mode=Node,RBAC',
            '--token-auth-file=' + os.path.join(self.pki, 'tokens.csv'),
            '--enable-admission-plugins=' + ADMISSION, '--allow-privileged=true',
            '--profiling=false', '--v=1'])
        ctx = ssl.create_default_context(cafile=self.cafile)
        url = self.url + '/readyz'
        self._wait('kube-apiserver', p,
                   lambda: urllib.request.urlopen(url, context=ctx, timeout=2).status == 200, 120)

    def stop(self):
        """Kills every component at once: the cluster is thrown away with its etcd data."""
        for name, p in reversed(self.procs):
            if p.poll() is None:
                p.kill()
        for name, p in self.procs:
            p.wait()
        self.procs = []
        if self.etcd_data:
            shutil.rmtree(self.etcd_data, ignore_errors=True)

    def dead(self):
        """Names of components that exited."""
        return [name for name, p in self.procs if p.poll() is not None]


if __name__ == '__main__':
    # `controlplane.py check`: exit 0 when the binaries and etcd are there (unpacking them
    # into the cache if needed), else 69 with the reason (tests/realkube/tier.sh)
    import sys
    try:
        d = assets()
        if not (os.access(os.path.join(d, 'etcd'), os.X_OK) or shutil.which('etcd')):
            raise SetupError('no etcd: apt-get install etcd-server (or put one in KUBE_ASSETS)')
    except SetupError as e:
        print(e)
        sys.exit(69)
    sys.exit(0)
