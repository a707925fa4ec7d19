#!/usr/bin/env python3
"""Tracker damage: a tracker that is truncated, garbage, valid JSON of the wrong shape,
empty, from a future version, another cluster's, or a symlink to elsewhere (also the
lock file). Each gets a clear message and a safe outcome: set aside as .corrupt-<time>
(bytes kept) and rebuilt from the cluster's labels with the seeder set unchanged, or a
refusal (exit 78) with no write sent to the API and the file untouched. A symlink is
never followed for writing: what it points to stays as it was."""

import glob
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rlib  # noqa: E402

tap = rlib.Tap()


def seed_cluster(ws):
    ws.sim.reset()
    ws.clean_state()
    for f in glob.glob(ws.tracker + '.corrupt-*'):
        os.unlink(f)
    p = ws.run()
    if p.returncode != 0:
        tap.bail('setup run failed (rc %d): %s' % (p.returncode, p.stderr[-800:]))
    with open(ws.tracker, 'rb') as f:
        good = f.read()
    return good, labelled(ws)


def labelled(ws):
    return sorted(n['metadata']['name'] for n in ws.sim.nodes(rlib.SEEDER_LABEL))


def write(path, data):
    with open(path, 'wb') as f:
        f.write(data)


def future(good):
    t = json.loads(good)
    t['version'] = 99
    return json.dumps(t).encode()


def other_cluster(good):
    t = json.loads(good)
    t['cluster']['uid'] = '00000000-1111-2222-3333-444444444444'
    return json.dumps(t).encode()


# name -> bytes written over the tracker, given a valid tracker from this cluster
SET_ASIDE = [
    ('truncated', lambda g: g[:len(g) // 2]),
    ('empty', lambda g: b''),
    ('garbage', lambda g: b'\x00\xff{{not json at all\x89PNG\r\n' * 40),
    ('wrong shape (array)', lambda g: b'[1, 2, 3]\n'),
    ('wrong shape (seeders is a string)',
     lambda g: b'{"version": 1, "cluster": null, "run": null, "seeders": "node-0001"}\n'),
    ('wrong shape (seeder without node)',
     lambda g: g.replace(b'"node": "node-0001"', b'"nod": "node-0001"')),
    ('future version', future),
]


def output(p):
    return p.stdout + p.stderr


def case_set_aside(ws, name, mangle):
    good, before = seed_cluster(ws)
    bad = mangle(good)
    write(ws.tracker, bad)
    p = ws.run()
    out = output(p)
    tap.is_eq(p.returncode, 0, '%s: the run goes on and exits 0' % name)
    tap.ok(ws.tracker in out and 'moved the damaged tracker' in out,
           '%s: the message names the file and says it was set aside' % name, out[-1500:])
    aside = glob.glob(ws.tracker + '.corrupt-*')
    tap.is_eq(len(aside), 1, '%s: one .corrupt-<time> file' % name)
    if aside:
        with open(aside[0], 'rb') as f:
            tap.ok(f.read() == bad, '%s: the damaged bytes are kept' % name)
        tap.is_eq(rlib.file_mode(aside[0]) & 0o077, 0, '%s: set-aside file not readable by others'
                  % name)
    tap.is_eq(labelled(ws), before, '%s: seeder labels unchanged (rebuilt from labels)' % name)
    problems = rlib.converged(ws, len(before))
    tap.ok(not problems, '%s: tracker rebuilt and converged' % name, '\n'.join(problems))


def case_other_cluster(ws):
    good, before = seed_cluster(ws)
    bad = other_cluster(good)
    write(ws.tracker, bad)
    ws.sim.admin('DELETE', 'stats')
    p = ws.run()
    out = output(p)
    name = "another cluster's tracker"
    tap.is_eq(p.returncode, rlib.EXIT_CONFIG, '%s: refused with exit 78' % name)
    tap.ok('00000000-1111-2222-3333-444444444444' in out and 'refusing' in out,
           '%s: the message names both clusters and refuses' % name, out[-1500:])
    tap.is_eq(ws.sim.writes(), 0, '%s: no POST/PUT/PATCH/DELETE reached the API' % name)
    with open(ws.tracker, 'rb') as f:
        tap.ok(f.read() == bad, '%s: the tracker is untouched' % name)
    tap.is_eq(glob.glob(ws.tracker + '.corrupt-*'), [], '%s: nothing set aside' % name)
    tap.is_eq(labelled(ws), before, '%s: labels unchanged' % name)


def case_symlink(ws, outside):
    good, before = seed_cluster(ws)
    precious = b'precious data that is not a tracker\n'
    write(outside, precious)
    os.chmod(outside, 0o644)
    os.unlink(ws.tracker)
    os.symlink(outside, ws.tracker)
    ws.sim.admin('DELETE', 'stats')
    p = ws.run()
    out = output(p)
    name = 'tracker is a symlink'
    with open(outside, 'rb') as f:
        tap.ok(f.read() == precious, '%s: the symlink target is not overwritten' % name)
    tap.is_eq(rlib.file_mode(outside), 0o644, '%s: the target keeps its mode' % name)
    tap.ok(ws.tracker in out, '%s: the message names the file' % name, out[-1500:])
    if p.returncode == 0:
        tap.ok(not os.path.islink(ws.tracker), '%s: rebuilt as a regular file' % name)
        tap.is_eq(labelled(ws), before, '%s: labels unchanged' % name)
        problems = rlib.converged(ws, len(before))
        tap.ok(not problems, '%s: converged' % name, '\n'.join(problems))
    else:
        tap.is_eq(p.returncode, rlib.EXIT_CONFIG, '%s: or refused with exit 78' % name)
        tap.is_eq(ws.sim.writes(), 0, '%s: refusal sent no write' % name)


def case_lock_symlink(ws, outside):
    seed_cluster(ws)
    precious = b'precious lock target\n'
    write(outside, precious)
    os.chmod(outside, 0o644)
    lock = ws.tracker + '.lock'
    if os.path.lexists(lock):
        os.unlink(lock)
    os.symlink(outside, lock)
    ws.sim.admin('DELETE', 'stats')
    p = ws.run()
    name = 'lock file is a symlink'
    with open(outside, 'rb') as f:
        tap.ok(f.read() == precious, '%s: the target is not written' % name)
    tap.is_eq(rlib.file_mode(outside), 0o644, '%s: the target keeps its mode' % name)
    tap.ok(p.returncode != 0 and 'lock' in output(p),
           '%s: the run refuses and names the lock' % name, output(p)[-1000:])
    tap.is_eq(ws.sim.writes(), 0, '%s: no write reached the API' % name)
    os.unlink(lock)


def main():
    d = rlib.workdir('damage')
    sim = rlib.Sim(os.path.join(d, 'sim'), nodes=12, zones=3)
    ws = rlib.Workspace(os.path.join(d, 'ws'), sim,
                        ini={'log': {'level': 'DEBUG', 'stdout': 'yes'}})
    outside = os.path.join(d, 'elsewhere')
    for name, mangle in SET_ASIDE:
        case_set_aside(ws, name, mangle)
    case_other_cluster(ws)
    case_symlink(ws, outside)
    case_lock_symlink(ws, outside)
    tap.exit()


if __name__ == '__main__':
    main()
