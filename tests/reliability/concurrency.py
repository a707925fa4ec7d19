#!/usr/bin/env python3
"""Concurrency and churn:
 - two runs started together: one works, the other exits 75 at once naming the holder;
 - a lock left by a killed run, or a lock file naming a dead pid, does not block;
 - seeders deleted, cordoned or made NotReady during label, preload and verify: the run
   finishes for the others and names them; the next run replaces them and converges.
make check: label and verify churn; RELIABILITY_FULL=1 adds preload."""

import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rlib  # noqa: E402

tap = rlib.Tap()

INI = {'seeder': {'node_down_grace': '1s'},
       'preload': {'pull_timeout': '12s'},
       'log': {'level': 'DEBUG', 'stdout': 'yes'}}


def fresh(ws):
    ws.sim.faults([])
    ws.sim.admin('DELETE', 'images')
    ws.sim.reset()
    ws.clean_state()
    ws.set_ini(INI)


def tracker(ws):
    import json
    try:
        with open(ws.tracker) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def wait_phase(ws, p, phase, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and p.poll() is None:
        t = tracker(ws)
        if t and t.get('run') and t['run'].get('phase') == phase:
            return t
        time.sleep(0.02)
    return None


def case_two_runs(ws):
    fresh(ws)
    # Slow pulls keep the winner busy in verify for a few seconds.
    ws.sim.admin('POST', 'images', {'image': 'docker.io/library/redis:7', 'behaviour': 'slow',
                                    'seconds': 4})
    a = ws.start()
    b = ws.start()
    t0 = time.monotonic()
    procs = {a.pid: a, b.pid: b}
    loser = None
    while loser is None and time.monotonic() - t0 < 60:
        for p in procs.values():
            if p.poll() is not None:
                loser = p
                break
        time.sleep(0.01)
    took = time.monotonic() - t0
    winner = a if loser is b else b
    out = loser.communicate()
    wout = winner.communicate(timeout=120)
    text = out[0] + out[1]
    tap.is_eq(loser.returncode, rlib.EXIT_LOCKED, 'two runs: the second exits 75')
    tap.ok(took < 30, 'two runs: at once (%.1f s), not after the first finished' % took)
    m = re.search(r'pid (\d+)', text)
    tap.ok(m and int(m.group(1)) == winner.pid, 'two runs: the message names the holder pid %d'
           % winner.pid, text[-600:])
    tap.is_eq(winner.returncode, 0, 'two runs: the first one works and exits 0')
    tap.is_eq(ws.sim.writes() > 0, True, 'two runs: the winner wrote to the cluster')
    problems = rlib.converged(ws, rlib.expected_target(ws.sim))
    tap.ok(not problems, 'two runs: converged', '\n'.join(problems) + wout[0][-800:])
    ws.sim.admin('DELETE', 'images')


def case_killed_lock(ws):
    fresh(ws)
    # A slow pull keeps the holder in verify. A kubelet finishes a pull it started even
    # when the pod goes (kube-sim and a v1.26 kubelet alike), so whether the kill comes
    # before or after a node started it, a pull in flight ends within 'seconds': shorter
    # than pull_timeout (12 s), so the next run's outcome does not depend on that race.
    ws.sim.admin('POST', 'images', {'image': 'docker.io/library/redis:7', 'behaviour': 'slow',
                                    'seconds': 8})
    p = ws.start()
    tap.ok(wait_phase(ws, p, 'verify') is not None, 'killed holder: run reached verify')
    p.send_signal(signal.SIGKILL)
    p.communicate()
    ws.sim.admin('DELETE', 'images')
    tap.ok(os.path.exists(ws.tracker + '.lock'), 'killed holder: its lock file is left behind')
    t0 = time.monotonic()
    q = ws.run()
    tap.is_eq(q.returncode, 0, 'killed holder: the next run is not blocked, exit 0')
    tap.ok(time.monotonic() - t0 < 60, 'killed holder: and does not wait for it')
    # It adopts the holder's DaemonSet (its pods keep their pulls) rather than replacing it.
    tap.ok(re.search(r'adopted 1 of the DaemonSets', q.stdout) and
           not re.search(r"DaemonSet '[^']*': batch", q.stdout),
           'killed holder: the next run adopts the recorded DaemonSet, creates none',
           q.stdout[-1500:])
    problems = rlib.converged(ws, rlib.expected_target(ws.sim))
    tap.ok(not problems, 'killed holder: converged', '\n'.join(problems))
    # A lock file naming a pid that is gone (a crash, a reboot) must not block either.
    with open(ws.tracker + '.lock', 'w') as f:
        f.write('999999\n')
    q = ws.run()
    tap.is_eq(q.returncode, 0, 'lock file naming a dead pid: the run goes on')


def pulled_on(ws, container):
    """Pods whose container called container has an imageID (its image is on the node)."""
    status, obj = ws.sim.request('GET', '/api/v1/pods')
    items = obj.get('items', []) if status == 200 else []
    return [x for x in items for cs in (x.get('status', {}).get('containerStatuses') or [])
            if cs.get('name') == container and cs.get('imageID')]


def case_killed_mid_pull(ws):
    """Killed while a 30 s pull is in flight on every seeder (pull_timeout 12 s): the next
    run adopts the DaemonSet, so what the old pods pulled counts; the pull in flight cannot
    be shortened by any run, so it times out honestly (exit 1)."""
    fresh(ws)
    ws.sim.admin('POST', 'images', {'image': 'docker.io/library/redis:7', 'behaviour': 'slow',
                                    'seconds': 30})
    p = ws.start()
    t = wait_phase(ws, p, 'verify')
    n = len([e for e in (t or {}).get('run', {}).get('plan', []) if e['action'] in ('add', 'keep', 'adopt')])
    deadline = time.monotonic() + 30
    while t and time.monotonic() < deadline and len(pulled_on(ws, 'nginx-1-27')) < n:
        time.sleep(0.05)
    p.send_signal(signal.SIGKILL)
    p.communicate()
    ws.sim.admin('DELETE', 'images')
    if not tap.ok(t and len(pulled_on(ws, 'nginx-1-27')) == n,
                  'killed mid pull: nginx on all %d seeders, redis in flight, at the kill' % n):
        return
    q = ws.run()
    text = q.stdout
    tap.ok(re.search(r'adopted 1 of the DaemonSets', text) and
           not re.search(r"DaemonSet '[^']*': batch", text),
           'killed mid pull: the next run adopts the DaemonSet, creates none', text[-1500:])
    # The killed run may have recorded some nginx pulls; the rest come from the old pods
    # (a replaced DaemonSet's new pods would queue behind the 30 s pull and time out).
    nginx_ok = [x['node'] for x in (tracker(ws) or {}).get('seeders', [])
                if any(i.get('ref') == 'docker.io/library/nginx:1.27' for i in x.get('images') or [])]
    tap.is_eq(len(nginx_ok), n, 'killed mid pull: nginx, pulled by the old pods, counts on all seeders')
    tap.is_eq(len(re.findall(r"redis:7 failed: Timeout", text)), n,
              'killed mid pull: the 30 s pull in flight times out (pull_timeout 12 s)')
    tap.is_eq(q.returncode, 1, 'killed mid pull: exit 1 (partial)')


def perturb(ws, nodes):
    deleted, cordoned, notready = nodes
    ws.sim.admin('DELETE', 'nodes/%s' % deleted)
    ws.sim.admin('POST', 'nodes/%s/cordon' % cordoned)
    ws.sim.admin('POST', 'nodes/%s/notready' % notready)


def case_churn(ws, phase):
    fresh(ws)
    name = 'churn during %s' % phase
    if phase == 'label':
        ws.sim.faults([{'verb': 'patch', 'resource': 'nodes', 'action': 'latency', 'seconds': 1.5}])
    elif phase == 'preload':
        ws.sim.faults([{'verb': 'create', 'resource': 'daemonsets', 'action': 'latency',
                        'seconds': 1.5}])
    else:
        ws.sim.admin('POST', 'images', {'image': 'docker.io/library/redis:7', 'behaviour': 'slow',
                                        'seconds': 3})
    p = ws.start()
    t = wait_phase(ws, p, phase)
    if not tap.ok(t is not None, '%s: the run reached %s' % (name, phase)):
        p.kill()
        p.communicate()
        return
    seeders = [e['node'] for e in t['run']['plan'] if e['action'] in ('add', 'keep', 'adopt')]
    victims = seeders[:3]
    perturb(ws, victims)
    out, err = p.communicate(timeout=300)
    ws.sim.faults([])
    ws.sim.admin('DELETE', 'images')
    text = out + err
    tap.ok(p.returncode in (0, 1), '%s: the run finishes (exit %d)' % (name, p.returncode),
           text[-1500:])
    # The others got every image.
    st = tracker(ws)
    healthy = [s for s in (st or {}).get('seeders', []) if s['node'] not in victims]
    full = [s['node'] for s in healthy if len(s.get('images') or []) == len(ws.images)]
    tap.ok(healthy and len(full) == len(healthy),
           '%s: the other seeders hold every image (%d of %d)' % (name, len(full), len(healthy)))
    # The run names the nodes it lost (deleted, NotReady); the next run says why the
    # cordoned and the NotReady one stop being seeders.
    for v, why in ((victims[0], 'deleted'), (victims[2], 'not ready')):
        tap.ok(re.search(r"(WARNING|ERROR).*'%s'.*%s" % (v, why), text, re.I),
               "%s: the run reports '%s' (%s)" % (name, v, why))
    time.sleep(1.2)  # past node_down_grace
    q = ws.run()
    for v, why in zip(victims[1:], ('cordoned', 'NotReady')):
        tap.ok(re.search(r"'%s'.*(%s)" % (v, why), q.stdout),
               "%s: the next run replaces '%s' (%s)" % (name, v, why), q.stdout[-1500:])
    tap.is_eq(q.returncode, 0, '%s: the next run exits 0' % name)
    labelled = [n['metadata']['name'] for n in ws.sim.nodes(rlib.SEEDER_LABEL)]
    tap.ok(not set(victims) & set(labelled), '%s: the next run replaced %s' % (name, victims),
           'still labelled: %s' % sorted(set(victims) & set(labelled)))
    problems = rlib.converged(ws, rlib.expected_target(ws.sim))
    tap.ok(not problems, '%s: converged' % name, '\n'.join(problems) + q.stdout[-1500:])


def main():
    d = rlib.workdir('conc')
    sim = rlib.Sim(os.path.join(d, 'sim'), nodes=20, zones=3)
    ws = rlib.Workspace(os.path.join(d, 'ws'), sim)
    case_two_runs(ws)
    case_killed_lock(ws)
    case_killed_mid_pull(ws)
    for phase in (('label', 'preload', 'verify') if rlib.full() else ('label', 'verify')):
        case_churn(ws, phase)
    tap.exit()


if __name__ == '__main__':
    main()
