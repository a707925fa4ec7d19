#!/usr/bin/env python3
"""Crash matrix: SIGKILL clyde-seed after every persisted tracker write
(CLYDE_TEST_CRASH_AT_STEP=1..N until a run completes) and at random instants, in three
scenarios (first run, replacing failed seeders, shrinking the seeder set). After each
kill a fresh run must converge (see rlib.converged).

make check: the first-run scenario at every step plus a few random instants, and two
steps of the replace scenario (a regression).
RELIABILITY_FULL=1: all three scenarios, every step and 30 random instants each.
RELIABILITY_SEED=S replays the random instants."""

import os
import random
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rlib  # noqa: E402

MAX_STEPS = 200
tap = rlib.Tap()


def ini(pct):
    return {'seeder': {'percentage': pct, 'node_down_grace': '1s'},
            'log': {'level': 'DEBUG', 'stdout': 'no'}}


def setup_first(ws):
    ws.set_ini(ini(40))


def setup_seeded(ws):
    ws.set_ini(ini(40))
    p = ws.run()
    if p.returncode != 0:
        raise RuntimeError('setup run failed (rc %d): %s' % (p.returncode, p.stderr[-800:]))
    return sorted(n['metadata']['name'] for n in ws.sim.nodes(rlib.SEEDER_LABEL))


def setup_replace(ws):
    seeders = setup_seeded(ws)
    # One seeder goes NotReady past node_down_grace, another one disappears.
    ws.sim.admin('POST', 'nodes/%s/notready' % seeders[0])
    ws.sim.admin('DELETE', 'nodes/%s' % seeders[1])
    time.sleep(1.3)


def setup_shrink(ws):
    setup_seeded(ws)
    ws.set_ini(ini(20))


SCENARIOS = [
    ('first-run', setup_first, 40),
    ('replace', setup_replace, 40),
    ('shrink', setup_shrink, 20),
]


def prepare(ws, setup):
    ws.sim.reset()
    ws.clean_state()
    setup(ws)


def check_after_kill(ws, pct, label):
    """A fresh run without the hook must finish and converge."""
    p = ws.run()
    if not tap.ok(p.returncode == 0, '%s: fresh run exits 0' % label,
                  'rc %d\n%s' % (p.returncode, p.stderr[-1500:])):
        return False
    problems = rlib.converged(ws, rlib.expected_target(ws.sim, pct))
    return tap.ok(not problems, '%s: converged' % label, '\n'.join(problems))


def step_matrix(ws, name, setup, pct, steps=None):
    killed = converged = 0
    for step in steps or range(1, MAX_STEPS):
        prepare(ws, setup)
        p = ws.run(env={'CLYDE_TEST_CRASH_AT_STEP': str(step)})
        if p.returncode == 0:
            tap.ok(step > 1, '%s: run completes without the hook after %d steps'
                   % (name, step - 1))
            break
        if not tap.ok(p.returncode == -signal.SIGKILL,
                      '%s step %d: killed by the hook' % (name, step),
                      'rc %d\n%s' % (p.returncode, p.stderr[-1500:])):
            break
        killed += 1
        converged += check_after_kill(ws, pct, '%s step %d' % (name, step))
    return killed, converged


def measure(ws, setup):
    prepare(ws, setup)
    t0 = time.monotonic()
    ws.run()
    return time.monotonic() - t0


def random_matrix(ws, name, setup, pct, count, rng):
    killed = converged = finished = 0
    span = max(0.2, measure(ws, setup) * 0.8)
    i = 0
    # count kills: a draw that lands after the run finished is checked, then drawn again
    while killed < count and i < 2 * count:
        i += 1
        prepare(ws, setup)
        delay = rng.uniform(0.0, span)
        p = ws.start()
        time.sleep(delay)
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
        p.communicate(timeout=60)
        label = '%s random %d (%.3f s)' % (name, i, delay)
        if p.returncode != -signal.SIGKILL:
            # The run finished before the kill: it must have converged on its own. The
            # first duration was a single sample on a noisy machine: draw shorter delays.
            finished += 1
            span *= 0.8
            tap.ok(p.returncode == 0, '%s: finished before the kill, exit 0' % label,
                   'rc %d' % p.returncode)
            problems = rlib.converged(ws, rlib.expected_target(ws.sim, pct))
            tap.ok(not problems, '%s: converged' % label, '\n'.join(problems))
            continue
        killed += 1
        converged += check_after_kill(ws, pct, label)
    return killed, converged, finished


def hooks_built():
    """Whether the binary under test was configured with --enable-test-hooks."""
    with open(os.path.join(rlib.builddir(), 'autoconfig.h')) as f:
        return '#define ENABLE_TEST_HOOKS 1' in f.read()


def main():
    if not hooks_built():
        # Not a skip: without the hook nothing below could kill the runs it counts.
        print('Bail out! clyde-seed was built without --enable-test-hooks '
              '(tools/build and make distcheck turn it on)', flush=True)
        sys.exit(1)
    seed = int(os.environ.get('RELIABILITY_SEED') or time.time_ns() % 1000000)
    rng = random.Random(seed)
    tap.diag('random seed %d (RELIABILITY_SEED=%d replays it)' % (seed, seed))
    full = rlib.full()
    scenarios = SCENARIOS if full else SCENARIOS[:1]
    nrandom = 30 if full else 3
    d = rlib.workdir('crash')
    sim = rlib.Sim(os.path.join(d, 'sim'), nodes=20, zones=3)
    ws = rlib.Workspace(os.path.join(d, 'ws'), sim)
    total_k = total_c = 0
    for name, setup, pct in scenarios:
        k, c = step_matrix(ws, name, setup, pct)
        tap.diag('%s: persisted steps killed %d, converged %d' % (name, k, c))
        rk, rc, fin = random_matrix(ws, name, setup, pct, nrandom, rng)
        tap.diag('%s: random instants killed %d, converged %d, finished before the kill %d'
                 % (name, rk, rc, fin))
        total_k += k + rk
        total_c += c + rc
    if not full:
        # Regression: resuming at preload read the seeders' images into an array that
        # was freed as NULL-terminated (heap overflow under ASan).
        k, c = step_matrix(ws, 'replace', setup_replace, 40, steps=[2, 3])
        total_k += k
        total_c += c
    print('# kill points: %d, converged: %d' % (total_k, total_c), flush=True)
    tap.ok(total_k > 0 and total_k == total_c, 'every kill point converged')
    tap.exit()


if __name__ == '__main__':
    main()
