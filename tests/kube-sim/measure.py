#!/usr/bin/env python3
"""Measures kube-sim's own request rate: node list pages and label patches.

python3 tests/kube-sim/measure.py [--nodes 5000] [--page 500] [--rounds 2] [--patches 500]
[--clients 4] [--daemonset].  Starts its own simulator, prints figures, exits.  Not part of make check.
"""

import argparse
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import simtest  # noqa: E402


def list_all(sim, conn, page, gz):
    token, pages, nbytes, items = None, 0, 0, 0
    hdrs = {'Accept-Encoding': 'gzip'} if gz else {}
    while True:
        path = '/api/v1/nodes?limit=%d' % page + ('&continue=' + token if token else '')
        code, h, body = sim.call('GET', path, conn=conn, headers=hdrs)
        assert code == 200, code
        # decode only the list metadata: the client must not be the bottleneck
        at = body.find(b'"metadata":') + len('"metadata":')
        meta, _ = json.JSONDecoder().raw_decode(body[at:at + 4096].decode())
        pages += 1
        nbytes += len(body)
        items += body.count(b'{"kind":"Node","apiVersion":"v1","metadata":')
        token = meta.get('continue')
        if not token:
            return pages, nbytes, items


def patches(sim, names, out):
    conn = sim.conn()
    for i, name in enumerate(names):
        code, _, _ = sim.call('PATCH', '/api/v1/nodes/' + name,
                              {'metadata': {'labels': {'measure': str(i)}}},
                              ctype='application/merge-patch+json', conn=conn)
        assert code == 200, code
    conn.close()
    out.append(len(names))


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--nodes', type=int, default=5000)
    p.add_argument('--page', type=int, default=500)
    p.add_argument('--rounds', type=int, default=2)
    p.add_argument('--patches', type=int, default=500)
    p.add_argument('--clients', type=int, default=4)
    p.add_argument('--daemonset', action='store_true',
                   help='also a DaemonSet on every node, and patches beside it')
    a = p.parse_args()
    t0 = time.monotonic()
    sim = simtest.LiveSim('--nodes', str(a.nodes), '--no-events', '--time-scale', '0.02')
    print('start-up with %d nodes: %.1f s' % (a.nodes, time.monotonic() - t0))
    try:
        for gz in (False, True):
            conn = sim.conn()
            t = time.monotonic()
            tot_pages = tot_bytes = 0
            for _ in range(a.rounds):
                pages, nbytes, items = list_all(sim, conn, a.page, gz)
                assert items == a.nodes, items
                tot_pages += pages
                tot_bytes += nbytes
            dt = time.monotonic() - t
            conn.close()
            log = sim.call('GET', '/_sim/log?tail=%d' % tot_pages, token=False)[2].splitlines()
            server_s = sum(json.loads(x)['ms'] for x in log) / 1000.0
            print('  server-side time per page: %.1f ms (%.1f pages/s if the client were free)'
                  % (server_s * 1000 / tot_pages, tot_pages / server_s))
            print('list nodes limit=%d%s: %.1f pages/s, %.0f nodes/s, %.1f MB/s of JSON '
                  '(%d full lists in %.2f s)' % (a.page, ' gzip' if gz else '', tot_pages / dt,
                                                 a.rounds * a.nodes / dt, tot_bytes / dt / 1e6,
                                                 a.rounds, dt))
        width = max(4, len(str(a.nodes)))
        names = ['node-%0*d' % (width, i % a.nodes + 1) for i in range(a.patches)]
        for clients in (1, a.clients):
            done = []
            chunks = [names[i::clients] for i in range(clients)]
            th = [threading.Thread(target=patches, args=(sim, c, done)) for c in chunks]
            t = time.monotonic()
            for x in th:
                x.start()
            for x in th:
                x.join()
            dt = time.monotonic() - t
            print('label PATCH, %d client(s): %.0f patches/s (%d in %.2f s)'
                  % (clients, sum(done) / dt, sum(done), dt))
        if a.daemonset:
            daemonset_round(sim, a.nodes, names)
    finally:
        sim.stop()


def daemonset_round(sim, count, names):
    """A DaemonSet on every node (one image pull each), then label patches beside it."""
    ds = simtest.daemonset(name='measure', containers=[{'name': 'c', 'image': 'nginx:1.27'}])
    t = time.monotonic()
    assert sim.json('POST', '/apis/apps/v1/namespaces/default/daemonsets', ds)[0] == 201

    def ready():
        st = sim.json('GET', '/apis/apps/v1/namespaces/default/daemonsets/measure')[1]['status']
        return st.get('numberReady') == count
    sim.wait_for(ready, timeout=600, interval=0.5)
    print('DaemonSet on %d nodes: all pods ready after %.1f s' % (count, time.monotonic() - t))
    done = []
    t = time.monotonic()
    patches(sim, names, done)
    dt = time.monotonic() - t
    print('label PATCH beside it, 1 client: %.0f patches/s' % (sum(done) / dt))


if __name__ == '__main__':
    main()
