"""Shared helpers for the reliability suite: TAP output, kube-sim control, running
clyde-seed, and the convergence check. Python 3 standard library only.

Every script imports this module from its own directory:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import rlib
"""

import atexit
import json
import math
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

SEEDER_LABEL = 'p2p-seeder=true'
MANAGED_BY = 'app.kubernetes.io/managed-by=clyde-seed'
EXIT_UNAVAILABLE = 69
EXIT_LOCKED = 75
EXIT_NOPERM = 77
EXIT_CONFIG = 78


def full():
    """True when the full suite was asked for (make check-reliability)."""
    return os.environ.get('RELIABILITY_FULL', '') not in ('', '0')


def srcdir():
    d = os.environ.get('top_srcdir')
    if d:
        return d
    return os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))


def builddir():
    return os.environ.get('top_builddir') or srcdir()


def binary():
    b = os.environ.get('CLYDE_SEED')
    if b:
        return b
    return os.path.join(builddir(), 'clyde-seed')


class Tap:
    """TAP producer: the plan is printed at the end, so tests can be data driven."""

    def __init__(self):
        self.n = 0
        self.failed = 0
        atexit.register(self._finish)

    def ok(self, cond, name, detail=None):
        self.n += 1
        if not cond:
            self.failed += 1
        print('%sok %d - %s' % ('' if cond else 'not ', self.n, name), flush=True)
        if not cond and detail:
            self.diag(detail)
        return bool(cond)

    def is_eq(self, got, want, name):
        return self.ok(got == want, name, 'got %r, want %r' % (got, want))

    def skip(self, name, why):
        self.n += 1
        print('ok %d - %s # SKIP %s' % (self.n, name, why), flush=True)

    def skip_missing(self, name, why):
        """A check that needs a tool tools/deps installs: a counted skip, a failure in CI."""
        if os.environ.get('CI') == 'true':
            self.ok(False, '%s: %s (a failure with CI=true: tools/deps installs it)' % (name, why))
        else:
            self.skip(name, why)

    def diag(self, msg):
        for line in str(msg).splitlines() or ['']:
            print('# ' + line, flush=True)

    def bail(self, msg):
        print('Bail out! %s' % msg, flush=True)
        sys.exit(1)

    def _finish(self):
        print('1..%d' % self.n, flush=True)

    def exit(self):
        sys.exit(1 if self.failed else 0)


def skip_all(why):
    """The whole script is skipped: the TAP driver reports SKIP (exit 0, as it wants)."""
    print('1..0 # SKIP %s' % why, flush=True)
    os._exit(0)


def skip_all_missing(why):
    """The whole script needs a tool tools/deps installs: skipped, but a failure in CI."""
    if os.environ.get('CI') == 'true':
        print('Bail out! %s (a failure with CI=true: tools/deps installs it)' % why, flush=True)
        os._exit(1)
    skip_all(why)


_cleanups = []


def _run_cleanups():
    while _cleanups:
        fn = _cleanups.pop()
        try:
            fn()
        except Exception:  # noqa: BLE001 - a cleanup must never mask the result
            pass


atexit.register(_run_cleanups)


def _on_signal(signum, frame):
    _run_cleanups()
    sys.exit(128 + signum)


for _s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(_s, _on_signal)


def workdir(name):
    """A fresh private directory, removed at exit unless RELIABILITY_KEEP is set."""
    base = os.environ.get('TMPDIR', '/tmp')
    d = tempfile.mkdtemp(prefix='clyde-rel-%s-' % name, dir=base)
    if not os.environ.get('RELIABILITY_KEEP'):
        _cleanups.insert(0, lambda: shutil.rmtree(d, ignore_errors=True))
    return d


class Sim:
    """A kube-sim process in its own state directory, stopped at exit."""

    def __init__(self, state_dir, nodes=20, zones=3, time_scale=0.02, extra=()):
        self.dir = state_dir
        os.makedirs(state_dir, exist_ok=True)
        # CLYDE_TEST_BACKEND=real: a real control plane (tests/realkube) in its place
        self.real = os.environ.get('CLYDE_TEST_BACKEND') == 'real'
        prog = ('realkube', 'realkube.py') if self.real else ('kube-sim', 'kube_sim.py')
        cmd = [os.environ.get('PYTHON3') or sys.executable,
               os.path.join(srcdir(), 'tests', *prog),
               '--state-dir', state_dir, '--port', '0', '--nodes', str(nodes),
               '--zones', str(zones), '--time-scale', str(time_scale)] + list(extra)
        self.errlog = open(os.path.join(state_dir, 'sim.err'), 'w')
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.errlog,
                                     text=True, start_new_session=True)
        _cleanups.append(self.stop)
        line = self._ready_line(240 if self.real else 60)
        self.url = line.split()[-1]
        self.port = int(self.url.rsplit(':', 1)[1])
        with open(os.path.join(state_dir, 'token')) as f:
            self.token = f.read().strip()
        self.kubeconfig = os.path.join(state_dir, 'kubeconfig')
        self.ctx = ssl.create_default_context(cafile=os.path.join(state_dir, 'ca.crt'))

    def _ready_line(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if line.startswith(('kube-sim ready ', 'realkube ready ')):
                return line.split(' (')[0].strip()
            if not line and self.proc.poll() is not None:
                break
        self.stop()
        with open(os.path.join(self.dir, 'sim.err')) as f:
            raise RuntimeError('kube-sim did not start: ' + f.read()[-2000:])

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.errlog:
            self.errlog.close()
            self.errlog = None

    def request(self, method, path, body=None, auth=True, timeout=30):
        """Returns (status, parsed JSON or text). Never raises for HTTP errors."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            ctype = 'application/merge-patch+json' if method == 'PATCH' else 'application/json'
            req.add_header('Content-Type', ctype)
        if auth:
            req.add_header('Authorization', 'Bearer ' + self.token)
        try:
            with urllib.request.urlopen(req, context=self.ctx, timeout=timeout) as r:
                status, raw = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode(errors='replace')

    def admin(self, method, path, body=None):
        status, obj = self.request(method, '/_sim/' + path, body, auth=False)
        if status >= 300:
            raise RuntimeError('/_sim/%s: %s %r' % (path, status, obj))
        return obj

    def reset(self):
        self.admin('POST', 'reset?cluster=1')

    def faults(self, rules):
        self.admin('DELETE', 'faults')
        if rules:
            self.admin('POST', 'faults', rules)

    def stats(self):
        return self.admin('GET', 'stats')

    def nodes(self, selector=None):
        q = '?labelSelector=' + urllib.parse.quote(selector, safe='') if selector else ''
        status, obj = self.request('GET', '/api/v1/nodes' + q)
        if status != 200:
            raise RuntimeError('list nodes: %s %r' % (status, obj))
        return obj['items']

    def daemonsets(self, selector=MANAGED_BY):
        q = '?labelSelector=' + urllib.parse.quote(selector, safe='')
        status, obj = self.request('GET', '/apis/apps/v1/daemonsets' + q)
        if status != 200:
            raise RuntimeError('list daemonsets: %s %r' % (status, obj))
        return obj['items']

    def writes(self):
        """Count of mutating requests (POST/PUT/PATCH/DELETE) the API served or refused."""
        by_method = self.stats().get('by_method', {})
        return sum(v for k, v in by_method.items() if k in ('POST', 'PUT', 'PATCH', 'DELETE'))


def node_ready(node):
    for c in node.get('status', {}).get('conditions', []):
        if c.get('type') == 'Ready':
            return c.get('status') == 'True'
    return False


def eligible(node):
    """Mirrors the default eligibility rules for kube-sim's nodes."""
    md = node['metadata']
    labels = md.get('labels', {})
    if md.get('deletionTimestamp') or node.get('spec', {}).get('unschedulable'):
        return False
    if 'node-role.kubernetes.io/control-plane' in labels:
        return False
    if labels.get('kubernetes.io/os', 'linux') != 'linux':
        return False
    for t in node.get('spec', {}).get('taints', []) or []:
        if t.get('effect') in ('NoSchedule', 'NoExecute'):
            return False
    return node_ready(node)


def expected_target(sim, percentage=40.0, min_seeders=1):
    n = sum(1 for x in sim.nodes() if eligible(x))
    return min(n, max(min_seeders, math.ceil(percentage * n / 100.0 - 1e-9)))


class Workspace:
    """A base directory with images.txt and seeder.ini for one scenario."""

    def __init__(self, base, sim, images=('nginx:1.27', 'redis:7'), ini=None):
        self.base = base
        self.sim = sim
        os.makedirs(base, exist_ok=True)
        self.images = list(images)
        with open(os.path.join(base, 'images.txt'), 'w') as f:
            f.write(''.join(i + '\n' for i in self.images))
        self.ini = os.path.join(base, 'seeder.ini')
        self.set_ini(ini or {})
        self.tracker = os.path.join(base, 'seeder_tracker.json')
        self.log = os.path.join(base, 'seeder.log')

    def set_ini(self, sections):
        # [registry] resolve = no unless a scenario says otherwise: nothing here may reach
        # a registry outside the machine (the product default is yes).
        sections = dict(sections)
        sections['registry'] = dict({'resolve': 'no'}, **sections.get('registry', {}))
        with open(self.ini, 'w') as f:
            for sec, kv in sections.items():
                f.write('[%s]\n' % sec)
                for k, v in kv.items():
                    f.write('%s = %s\n' % (k, v))

    def args(self, kubeconfig=None, log_file=None):
        return ['--config', self.ini, '--kubeconfig', kubeconfig or self.sim.kubeconfig,
                '--base-dir', self.base, '--log-file', self.log if log_file is None else log_file]

    def clean_state(self):
        for name in os.listdir(self.base):
            if name.startswith('seeder_tracker.json') or name == 'seeder.log':
                os.unlink(os.path.join(self.base, name))

    def run(self, *cmd, env=None, timeout=120, kubeconfig=None, extra=(), umask=-1):
        return run(self.args(kubeconfig) + list(extra) + list(cmd), env=env, timeout=timeout,
                   umask=umask)

    def start(self, *cmd, env=None, kubeconfig=None, extra=()):
        return start(self.args(kubeconfig) + list(extra) + list(cmd), env=env)

    def status(self):
        """(rc, parsed tracker JSON or None, stderr)."""
        p = run(['--config', self.ini, '--base-dir', self.base, '--log-file', '',
                 '--json', 'status'], timeout=60)
        try:
            return p.returncode, json.loads(p.stdout), p.stderr
        except ValueError:
            return p.returncode, None, p.stdout + p.stderr


def _env(extra):
    env = dict(os.environ)
    env.pop('CLYDE_TEST_CRASH_AT_STEP', None)
    env.pop('NOTIFY_SOCKET', None)
    env.setdefault('ASAN_OPTIONS', 'detect_leaks=1')
    if extra:
        env.update(extra)
    return env


def run(args, env=None, timeout=120, umask=-1):
    p = subprocess.run([binary()] + args, env=_env(env), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=timeout, umask=umask)
    return p


def start(args, env=None):
    p = subprocess.Popen([binary()] + args, env=_env(env), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    _cleanups.append(lambda: p.poll() is None and (p.kill(), p.wait()))
    return p


def converged(ws, target):
    """The convergence check of the crash matrix. Returns a list of problems (empty when
    labels on nodes = tracker seeders = target, no DaemonSet of ours is left, the
    tracker is valid and records a digest for every image on every seeder)."""
    problems = []
    labelled = sorted(n['metadata']['name'] for n in ws.sim.nodes(SEEDER_LABEL))
    rc, tr, err = ws.status()
    if rc != 0 or not isinstance(tr, dict):
        return ['status --json failed (rc %d): %s' % (rc, err[-500:])]
    if tr.get('run') is not None:
        problems.append('tracker still has an unfinished run: %r' % tr['run'].get('phase'))
    seeders = tr.get('seeders') or []
    names = sorted(s.get('node') for s in seeders)
    if labelled != names:
        problems.append('labels %s != tracker %s' % (labelled, names))
    if len(labelled) != target:
        problems.append('%d labelled nodes, target %d' % (len(labelled), target))
    ds = [d['metadata']['name'] for d in ws.sim.daemonsets()]
    if ds:
        problems.append('DaemonSets left: %s' % ds)
    want = set(_normalise(i) for i in ws.images)
    for s in seeders:
        held = {i.get('ref'): i.get('digest') for i in s.get('images') or []}
        for ref in sorted(want):
            d = held.get(ref)
            if not d or not str(d).startswith('sha256:'):
                problems.append('seeder %s: no digest for %s' % (s.get('node'), ref))
    return problems


def _normalise(ref):
    name = ref
    first, _, rest = name.partition('/')
    if not rest or not ('.' in first or ':' in first or first == 'localhost'):
        name = 'docker.io/' + ('library/' + name if '/' not in name else name)
    if ':' not in name.rsplit('/', 1)[-1] and '@' not in name:
        name += ':latest'
    return name


def file_mode(path):
    return os.lstat(path).st_mode & 0o777


def grep_files(paths, needles):
    """Returns [(path, needle)] for every planted secret found in the files."""
    hits = []
    for p in paths:
        try:
            with open(p, 'rb') as f:
                data = f.read()
        except OSError:
            continue
        for n in needles:
            if n.encode() in data:
                hits.append((p, n))
    return hits
