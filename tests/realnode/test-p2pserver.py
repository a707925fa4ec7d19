#!/usr/bin/env python3
"""The P2P layer's pieces without root or containerd (TAP): p2pserver.py on loopback over
a content store directory made here (tag resolution fed as if from `ctr images ls`),
and p2p.py's peer order and hosts.toml text."""

import hashlib
import http.client
import json
import os
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import p2p  # noqa: E402
import p2pserver  # noqa: E402

N = 0
FAILED = 0


def check(cond, name, got=None):
    global N, FAILED
    N += 1
    FAILED += not cond
    print('%s %d - %s' % ('ok' if cond else 'not ok', N, name))
    if not cond and got is not None:
        print('#   got %r' % (got,))


def put(blobs, data):
    h = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, h), 'wb') as f:
        f.write(data)
    return 'sha256:' + h


def serve(tmp):
    root = os.path.join(tmp, 'root')
    blobs = os.path.join(root, 'io.containerd.content.v1.content', 'blobs', 'sha256')
    os.makedirs(blobs)
    layer = os.urandom(3 * p2pserver.CHUNK + 123)        # several sendfile rounds
    ld, cd = put(blobs, layer), put(blobs, b'{"config":{}}')
    man = json.dumps({'schemaVersion': 2, 'mediaType': p2pserver.OCI_MANIFEST,
                      'config': {'digest': cd, 'size': 13}, 'layers': [{'digest': ld, 'size': len(layer)}]})
    md = put(blobs, man.encode())
    store = p2pserver.Store(root, os.path.join(tmp, 'no.sock'))
    store.images = {'registry.test/clyde/app:1': (md, p2pserver.OCI_MANIFEST),
                    'docker.io/library/busybox:1': (md, p2pserver.OCI_MANIFEST)}
    store.images_at = time.monotonic() + 3600           # no `ctr images ls` here
    p2pserver.Handler.store = store
    p2pserver.Handler.stats = p2pserver.Stats(os.path.join(tmp, 'stats.json'))
    srv = p2pserver.http.server.ThreadingHTTPServer(('127.0.0.1', 0), p2pserver.Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, {'layer': layer, 'ld': ld, 'md': md, 'man': man.encode()}


def main():
    with tempfile.TemporaryDirectory(prefix='p2p-test-') as tmp:
        srv, x = serve(tmp)
        conn = http.client.HTTPConnection('127.0.0.1', srv.server_address[1], timeout=30)

        def req(method, path, headers=None):
            conn.request(method, path, headers=headers or {})
            r = conn.getresponse()
            return r, r.read()
        r, body = req('GET', '/v2/')
        check(r.status == 200, 'GET /v2/ answers 200', r.status)
        r, body = req('HEAD', '/v2/clyde/app/manifests/1?ns=registry.test')
        check((r.status, r.getheader('Docker-Content-Digest'), r.getheader('Content-Type'),
               r.getheader('Content-Length'), body) ==
              (200, x['md'], p2pserver.OCI_MANIFEST, str(len(x['man'])), b''),
              'HEAD of a tag (ns=registry.test): digest, type and length of the manifest, no body',
              (r.status, r.getheaders()))
        r, body = req('GET', '/v2/busybox/manifests/%s' % x['md'])
        check(r.status == 200 and body == x['man'], 'GET of a manifest by digest (no ns: docker.io)')
        r, body = req('HEAD', '/v2/clyde/app/manifests/2?ns=registry.test')
        check(r.status == 404, 'a tag this node does not hold: 404', r.status)
        r, body = req('GET', '/v2/clyde/app/blobs/%s?ns=registry.test' % x['ld'])
        check(r.status == 200 and body == x['layer'] and r.getheader('Docker-Content-Digest') == x['ld'],
              'GET of a blob: all of it, with its digest', (r.status, len(body)))
        r, body = req('GET', '/v2/clyde/app/blobs/%s' % x['ld'], {'Range': 'bytes=100-'})
        check((r.status, body, r.getheader('Content-Range')) ==
              (206, x['layer'][100:], 'bytes 100-%d/%d' % (len(x['layer']) - 1, len(x['layer']))),
              'Range bytes=100-: 206 and the rest', (r.status, r.getheader('Content-Range')))
        r, body = req('GET', '/v2/clyde/app/blobs/%s' % x['ld'], {'Range': 'bytes=%d-' % len(x['layer'])})
        check(r.status == 416, 'a range past the end: 416', r.status)
        r, body = req('GET', '/v2/clyde/app/blobs/sha256:' + '0' * 64)
        check(r.status == 404, 'a blob this node does not hold: 404', r.status)
        r, body = req('GET', '/v2/clyde/app/blobs/sha256:../../etc')
        check(r.status == 404, 'a malformed digest: 404, no path outside the store', r.status)
        want = {'requests': 9, 'served': 5, 'not_found': 3,
                'tx_bytes': len(x['man']) + len(x['layer']) + len(x['layer']) - 100 + 2}
        for _ in range(100):        # a request is counted just after its answer is sent
            with open(os.path.join(tmp, 'stats.json')) as f:
                st = json.load(f)
            if st['requests'] >= want['requests']:
                break
            time.sleep(0.02)
        check(st == want, 'counters: requests, served, 404s and body bytes (%s)' % want, st)
        srv.shutdown()
    got = [p2p.peer_order(i, {0, 2, 5}, 6) for i in range(6)]
    check(all(i not in got[i] and sorted(got[i]) == sorted({0, 2, 5} - {i}) for i in range(6)),
          'each node lists every seeder but itself', got)
    check(p2p.peer_order(0, {0}, 3) == [], 'a lone seeder lists no peer', p2p.peer_order(0, {0}, 3))
    firsts = [p2p.peer_order(i, {1, 3}, 6)[0] for i in (0, 2, 4, 5)]
    check(sorted(firsts) == [1, 1, 3, 3], "the 4 non-seeders' first choices spread evenly over 2 seeders", firsts)
    firsts = [p2p.peer_order(i, {0, 1, 2}, 3)[0] for i in range(3)]
    check(sorted(firsts) == [0, 1, 2], "3 seeders: each one another's first choice", firsts)
    text = p2p.hosts_text('http://r:5000', ['http://a:5050', 'http://b:5050'])
    order = [ln for ln in text.splitlines() if ln.startswith('[host.')]
    check(text.startswith('server = "http://r:5000"\n') and
          order == ['[host."http://a:5050"]', '[host."http://b:5050"]', '[host."http://r:5000"]'],
          'hosts.toml: the peers in order, then the registry', text)
    print('1..%d' % N)
    return 1 if FAILED else 0


if __name__ == '__main__':
    sys.exit(main())
