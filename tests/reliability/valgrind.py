#!/usr/bin/env python3
"""valgrind memcheck over one seeding cycle against kube-sim (plus status and plan, and a
run that resumes after a failed one), on a build without ASan: configured once in
$top_builddir/valgrind-build and reused. No error, nothing definitely lost
(--error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite).
Runs with RELIABILITY_FULL=1 (make check-reliability) or RELIABILITY_VALGRIND=1; skipped
otherwise, because the extra build does not fit make check's time."""

import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rlib  # noqa: E402

VG = ['valgrind', '--error-exitcode=99', '--leak-check=full',
      '--errors-for-leak-kinds=definite', '--show-leak-kinds=definite',
      '--track-origins=yes', '--num-callers=30']


def build():
    """Returns the path of a non-ASan clyde-seed, building it when needed."""
    d = os.environ.get('VALGRIND_BUILD') or os.path.join(rlib.builddir(), 'valgrind-build')
    os.makedirs(d, exist_ok=True)
    log = open(os.path.join(d, 'build.log'), 'a')
    if not os.path.exists(os.path.join(d, 'Makefile')):
        subprocess.run([os.path.join(rlib.srcdir(), 'configure'), '-q', '--enable-werror'],
                       cwd=d, stdout=log, stderr=log, check=True)
    subprocess.run(['make', '-s', '-j2', 'clyde-seed'], cwd=d, stdout=log, stderr=log,
                   check=True)
    return os.path.join(d, 'clyde-seed')


def vg_run(tap, binary, ws, name, cmd, env=None, want=(0,)):
    logf = os.path.join(ws.base, 'vg-%s.log' % name.replace(' ', '-'))
    args = VG + ['--log-file=' + logf, binary] + cmd
    e = dict(os.environ)
    e.pop('CLYDE_TEST_CRASH_AT_STEP', None)
    e.update(env or {})
    p = subprocess.run(args, env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=900)
    with open(logf) as f:
        report = f.read()
    summary = [x for x in report.splitlines() if 'ERROR SUMMARY' in x or 'definitely lost' in x]
    tap.ok(p.returncode != 99 and 'ERROR SUMMARY: 0 errors' in report,
           '%s: no memcheck error, nothing definitely lost' % name,
           '\n'.join(summary) + '\n' + report[-4000:])
    tap.ok(p.returncode in want, '%s: exit %d' % (name, p.returncode), p.stdout[-1500:])
    for x in summary:
        tap.diag('%s: %s' % (name, x.split('== ', 1)[-1]))
    return p


def main():
    if not (rlib.full() or os.environ.get('RELIABILITY_VALGRIND')):
        rlib.skip_all('valgrind runs in make check-reliability (or RELIABILITY_VALGRIND=1)')
    if not shutil.which('valgrind'):
        rlib.skip_all_missing('valgrind not installed (apt-get install valgrind)')
    tap = rlib.Tap()
    binary = build()
    d = rlib.workdir('valgrind')
    sim = rlib.Sim(os.path.join(d, 'sim'), nodes=12, zones=3)
    ws = rlib.Workspace(os.path.join(d, 'ws'), sim,
                        ini={'log': {'level': 'DEBUG', 'stdout': 'yes'}})
    ws.images.append('docker.io/library/does-not-exist:1')
    with open(os.path.join(ws.base, 'images.txt'), 'a') as f:
        f.write('docker.io/library/does-not-exist:1\n')
    ws.set_ini({'log': {'level': 'DEBUG', 'stdout': 'yes'}, 'preload': {'pull_timeout': '5s'}})
    # A cycle with one image that cannot be pulled: exit 1 (partial), every path walked.
    vg_run(tap, binary, ws, 'full cycle', ws.args(), want=(0, 1))
    vg_run(tap, binary, ws, 'status', ['--config', ws.ini, '--base-dir', ws.base,
                                       '--log-file', '', '--json', 'status'])
    vg_run(tap, binary, ws, 'plan', ws.args() + ['plan'])
    # The API failing label patches: exit 69, then a run that resumes and finishes.
    sim.reset()
    ws.clean_state()
    sim.faults([{'verb': 'patch', 'resource': 'nodes', 'action': 'status', 'code': 503}])
    ws.set_ini({'log': {'level': 'DEBUG', 'stdout': 'yes'},
                'kubernetes': {'retry_attempts': 2, 'api_deadline': '5s'}})
    vg_run(tap, binary, ws, 'failing API', ws.args(), want=(rlib.EXIT_UNAVAILABLE,))
    sim.faults([])
    vg_run(tap, binary, ws, 'resumed run', ws.args(), want=(0, 1))
    tap.exit()


if __name__ == '__main__':
    main()
