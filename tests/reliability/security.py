#!/usr/bin/env python3
"""Security:
 - at DEBUG level no bearer token, password, client key or exec credential (token, the
   plugin's env and args) appears in stdout, stderr, the log file, the tracker or any
   other file clyde-seed writes, on success and on refusal (401);
 - the tracker, its lock, set-aside trackers and the log file get restrictive modes
   whatever the umask (run under umask 000): tracker 0600, log 0640 at most;
 - TLS verification is on: without the server's CA, or with another CA, nothing is
   sent to the cluster; insecure-skip-tls-verify works and warns on every run."""

import base64
import glob
import os
import re
import shutil
import stat
import subprocess
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rlib  # noqa: E402

tap = rlib.Tap()
INI = {'log': {'level': 'DEBUG', 'stdout': 'yes'}}


def outputs(ws, p):
    """Every byte clyde-seed produced: streams and all files in the base directory."""
    files = [f for f in glob.glob(os.path.join(ws.base, '*'))
             if os.path.isfile(f) and not f.startswith(os.path.join(ws.base, 'kubeconfig'))
             and not f.endswith('.sh')]
    stream = os.path.join(ws.base, 'streams.out')
    with open(stream, 'w') as f:
        f.write(p.stdout + p.stderr)
    return files + [stream]


def check_secrets(ws, p, name, secrets):
    hits = rlib.grep_files(outputs(ws, p), secrets)
    tap.ok(not hits, '%s: no planted secret in any output (%d secrets, %d files)'
           % (name, len(secrets), len(outputs(ws, p))),
           '\n'.join('%s contains %r' % (os.path.basename(f), s[:12] + '...') for f, s in hits))


def kubeconfig(ws, name, text):
    path = os.path.join(ws.base, 'kubeconfig-' + name)
    with open(path, 'w') as f:
        f.write(text)
    os.chmod(path, 0o600)
    return path


def user_kubeconfig(sim, user_yaml, cluster_extra='', ca=True):
    ca_line = '    certificate-authority: %s\n' % os.path.join(sim.dir, 'ca.crt') if ca else ''
    return ('apiVersion: v1\nkind: Config\nclusters:\n- name: sim\n  cluster:\n'
            '    server: %s\n%s%s'
            'users:\n- name: u\n  user:\n%s'
            'contexts:\n- name: c\n  context: {cluster: sim, user: u, namespace: default}\n'
            'current-context: c\n' % (sim.url, ca_line, cluster_extra, user_yaml))


def key_secrets(sim):
    """The client key as it sits in kubeconfig-cert, and its PEM body lines."""
    with open(os.path.join(sim.dir, 'kubeconfig-cert')) as f:
        m = re.search(r'client-key-data:\s*(\S+)', f.read())
    data = m.group(1)
    pem = base64.b64decode(data).decode()
    lines = [x for x in pem.splitlines() if x and not x.startswith('-----') and len(x) >= 16]
    return [data[:40], data[-40:]] + lines


def fresh(ws):
    ws.sim.reset()
    ws.clean_state()
    ws.set_ini(INI)


def case_token(ws):
    fresh(ws)
    p = ws.run()
    tap.is_eq(p.returncode, 0, 'bearer token: a cycle at DEBUG')
    check_secrets(ws, p, 'bearer token', [ws.sim.token])
    q = rlib.run(['--config', ws.ini, '--base-dir', ws.base, '--log-file', ws.log, 'status'])
    check_secrets(ws, q, 'bearer token, status', [ws.sim.token])


def case_bad_token(ws):
    fresh(ws)
    bad = 'bad-token-' + uuid.uuid4().hex
    kc = kubeconfig(ws, 'bad', user_kubeconfig(ws.sim, '    token: %s\n' % bad))
    p = ws.run(kubeconfig=kc)
    tap.ok(p.returncode != 0, 'refused token: the run fails (exit %d)' % p.returncode)
    check_secrets(ws, p, 'refused token', [bad])


def case_client_key(ws):
    fresh(ws)
    p = ws.run(kubeconfig=os.path.join(ws.sim.dir, 'kubeconfig-cert'))
    tap.is_eq(p.returncode, 0, 'client certificate: a cycle at DEBUG')
    check_secrets(ws, p, 'client key', key_secrets(ws.sim))


def case_password(ws):
    fresh(ws)
    pw = 'pw-' + uuid.uuid4().hex
    kc = kubeconfig(ws, 'basic', user_kubeconfig(
        ws.sim, '    username: clyde\n    password: %s\n' % pw))
    p = ws.run(kubeconfig=kc)
    tap.ok(p.returncode != 0, 'basic auth refused by the server (exit %d)' % p.returncode)
    check_secrets(ws, p, 'password', [pw, base64.b64encode(('clyde:' + pw).encode()).decode()])


def case_exec(ws):
    fresh(ws)
    env_secret = 'exec-env-' + uuid.uuid4().hex
    arg_secret = 'exec-arg-' + uuid.uuid4().hex
    plugin = os.path.join(ws.base, 'plugin.sh')
    with open(plugin, 'w') as f:
        f.write('#!/bin/sh\n'
                'printf \'{"apiVersion":"client.authentication.k8s.io/v1","kind":'
                '"ExecCredential","status":{"token":"%s"}}\\n\'\n' % ws.sim.token)
    os.chmod(plugin, 0o700)
    kc = kubeconfig(ws, 'exec', user_kubeconfig(ws.sim, (
        '    exec:\n      apiVersion: client.authentication.k8s.io/v1\n'
        '      command: %s\n      args: ["--secret=%s"]\n'
        '      env:\n      - name: PLUGIN_SECRET\n        value: %s\n'
        '      interactiveMode: Never\n') % (plugin, arg_secret, env_secret)))
    p = ws.run(kubeconfig=kc)
    tap.is_eq(p.returncode, 0, 'exec plugin: a cycle at DEBUG')
    check_secrets(ws, p, 'exec credential', [ws.sim.token, env_secret, arg_secret])


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def case_modes(ws):
    fresh(ws)
    p = ws.run(umask=0)
    tap.is_eq(p.returncode, 0, 'umask 000: a cycle')
    tap.is_eq(oct(mode(ws.tracker)), oct(0o600), 'umask 000: tracker is 0600')
    tap.ok(mode(ws.log) & 0o137 == 0, 'umask 000: log file is 0640 or tighter (%s)'
           % oct(mode(ws.log)))
    lock = ws.tracker + '.lock'
    tap.ok(os.path.exists(lock) and mode(lock) & 0o022 == 0,
           'umask 000: lock file not writable by others (%s)'
           % (oct(mode(lock)) if os.path.exists(lock) else 'missing'))
    with open(ws.tracker, 'w') as f:
        f.write('{ damaged')
    p = ws.run(umask=0)
    aside = glob.glob(ws.tracker + '.corrupt-*')
    tap.ok(aside and mode(aside[0]) & 0o077 == 0, 'umask 000: the set-aside tracker stays private')
    tap.is_eq(oct(mode(ws.tracker)), oct(0o600), 'umask 000: the rebuilt tracker is 0600')
    leftovers = [f for f in os.listdir(ws.base) if f.startswith('.') or '.tmp' in f
                 or re.search(r'json\.[A-Za-z0-9]{6}$', f)]
    tap.is_eq(leftovers, [], 'no temporary files left in the state directory')


def case_open_flags(ws):
    """The tracker's temp file is created with O_CREAT|O_EXCL|O_NOFOLLOW, the tracker and
    the lock are opened with O_NOFOLLOW (seen by strace)."""
    if not shutil.which('strace'):
        tap.skip_missing('open flags', 'strace not installed (apt-get install strace)')
        return
    fresh(ws)
    trace = os.path.join(ws.base, 'strace.out')
    env = dict(os.environ, ASAN_OPTIONS='detect_leaks=0')  # LeakSanitizer refuses ptrace
    p = subprocess.run(['strace', '-f', '-qq', '-e', 'trace=open,openat', '-o', trace,
                        rlib.binary()] + ws.args(), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=300, env=env)
    if p.returncode != 0 and 'ptrace' in p.stderr:
        tap.skip('open flags', 'ptrace not permitted here')
        return
    with open(trace) as f:
        calls = [x for x in f.read().splitlines() if 'seeder_tracker.json' in x]
    os.unlink(trace)
    base = os.path.basename(ws.tracker)
    tmp = [x for x in calls if re.search(r'/\.%s\.[0-9a-f]+"' % re.escape(base), x)]
    tap.ok(tmp and all(all(f in x for f in ('O_CREAT', 'O_EXCL', 'O_NOFOLLOW')) for x in tmp),
           "the tracker's temp file is opened O_CREAT|O_EXCL|O_NOFOLLOW (%d opens)" % len(tmp),
           '\n'.join(calls[:8]))
    plain = [x for x in calls if re.search(r'/%s(\.lock)?"' % re.escape(base), x)]
    tap.ok(plain and all('O_NOFOLLOW' in x for x in plain),
           'the tracker and its lock are opened O_NOFOLLOW (%d opens)' % len(plain),
           '\n'.join(x for x in plain if 'O_NOFOLLOW' not in x))


def case_tls(ws):
    fresh(ws)
    # No CA at all: the system trust store does not know kube-sim's CA.
    kc = kubeconfig(ws, 'noca', user_kubeconfig(ws.sim, '    token: %s\n' % ws.sim.token,
                                                ca=False))
    ws.sim.admin('DELETE', 'stats')
    p = ws.run(kubeconfig=kc)
    text = p.stdout + p.stderr
    tap.is_eq(p.returncode, rlib.EXIT_UNAVAILABLE, 'TLS: an unknown server certificate fails (69)')
    tap.ok(re.search(r'certificate|SSL|TLS', text), 'TLS: the message says why', text[-800:])
    tap.is_eq(ws.sim.stats().get('total', 0), 0, 'TLS: no request reached the server')
    # Another CA (a second, unrelated one).
    other = os.path.join(ws.base, 'other-ca.crt')
    with open(os.path.join(ws.sim.dir, 'client-ca.crt')) as f, open(other, 'w') as g:
        g.write(f.read())
    kc = kubeconfig(ws, 'otherca', user_kubeconfig(
        ws.sim, '    token: %s\n' % ws.sim.token, ca=False,
        cluster_extra='    certificate-authority: %s\n' % other))
    p = ws.run(kubeconfig=kc)
    tap.is_eq(p.returncode, rlib.EXIT_UNAVAILABLE, 'TLS: a certificate from another CA fails')
    tap.is_eq(ws.sim.stats().get('total', 0), 0, 'TLS: still no request reached the server')
    # insecure-skip-tls-verify: works, and says so on every run.
    kc = kubeconfig(ws, 'insecure', user_kubeconfig(
        ws.sim, '    token: %s\n' % ws.sim.token, ca=False,
        cluster_extra='    insecure-skip-tls-verify: true\n'))
    for i in (1, 2):
        p = ws.run(kubeconfig=kc)
        tap.is_eq(p.returncode, 0, 'insecure-skip-tls-verify: run %d works' % i)
        tap.ok(re.search(r'WARNING.*TLS verification.*OFF', p.stdout + p.stderr),
               'insecure-skip-tls-verify: run %d warns' % i)
    p = ws.run('plan', kubeconfig=kc)
    tap.ok(re.search(r'WARNING.*TLS verification.*OFF', p.stdout + p.stderr),
           'insecure-skip-tls-verify: plan warns too')
    p = ws.run()
    tap.ok(not re.search(r'TLS verification.*OFF', p.stdout + p.stderr),
           'no warning when verification is on')


def main():
    d = rlib.workdir('security')
    sim = rlib.Sim(os.path.join(d, 'sim'), nodes=8, zones=2)
    ws = rlib.Workspace(os.path.join(d, 'ws'), sim, ini=INI)
    case_token(ws)
    case_bad_token(ws)
    case_client_key(ws)
    case_password(ws)
    case_exec(ws)
    case_modes(ws)
    case_open_flags(ws)
    case_tls(ws)
    tap.exit()


if __name__ == '__main__':
    main()
