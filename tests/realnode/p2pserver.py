#!/usr/bin/env python3
"""A node's read-only OCI distribution server (the P2P layer of tests/realnode, the way
Spegel serves peers): started by realnode.py --p2p inside the node's network namespace,
it answers other nodes' containerd from this node's containerd content store.

python3 p2pserver.py --root CONTAINERD_ROOT --socket SOCK --port PORT --stats FILE

GET /v2/                                       200 (API version check)
GET|HEAD /v2/NAME/manifests/REF[?ns=REGISTRY]  REF a tag (resolved in this node's image
                                               list, k8s.io namespace) or a digest
GET|HEAD /v2/NAME/blobs/DIGEST                 a blob of the content store (Range: bytes=A-[B])
Anything this node does not hold is 404, so containerd tries its next host (the registry).
containerd sends ?ns=HOST to a mirror; without it NAME is taken as a docker.io name.
Blobs are streamed with sendfile.  After each request FILE gets the cumulative counters
{"requests", "served", "not_found", "tx_bytes"} (body bytes sent), written atomically.
"""

import argparse
import http.server
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.parse

NAMESPACE = 'k8s.io'
DIGEST = re.compile(r'^sha256:([0-9a-f]{64})$')
TAG = re.compile(r'^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$')
OCI_INDEX = 'application/vnd.oci.image.index.v1+json'
OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
IMAGES_TTL = 1.0
CHUNK = 1 << 20


def parse_path(path):
    """('base',) | ('manifests'|'blobs', repository name, ref, registry) | None."""
    u = urllib.parse.urlsplit(path)
    if u.path in ('/v2', '/v2/'):
        return ('base',)
    reg = (urllib.parse.parse_qs(u.query).get('ns') or ['docker.io'])[0]
    m = re.match(r'^/v2/(.+)/(manifests|blobs)/([^/]+)$', u.path)
    if not m:
        return None
    name, kind, ref = m.group(1), m.group(2), urllib.parse.unquote(m.group(3))
    if reg == 'docker.io' and '/' not in name:
        name = 'library/' + name
    return (kind, name, ref, reg)


def manifest_type(doc):
    """The media type of a manifest blob: its own mediaType, else what its shape says."""
    if isinstance(doc, dict):
        if doc.get('mediaType'):
            return doc['mediaType']
        if 'manifests' in doc:
            return OCI_INDEX
    return OCI_MANIFEST


def parse_range(header, size):
    """(start, end inclusive) of a single 'bytes=A-[B]' range, None for no header, False
    when it cannot be satisfied."""
    if not header:
        return None
    m = re.match(r'^bytes=(\d+)-(\d*)$', header.strip())
    if not m:
        return False
    start = int(m.group(1))
    end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
    if start >= size or end < start:
        return False
    return (start, end)


class Store:
    """This node's containerd: its image list (tags) and content store (blobs)."""

    def __init__(self, root, socket):
        self.blobs = os.path.join(root, 'io.containerd.content.v1.content', 'blobs', 'sha256')
        self.socket = socket
        self.lock = threading.Lock()
        self.images, self.images_at = {}, -IMAGES_TTL

    def blob_path(self, digest):
        m = DIGEST.match(digest)
        return os.path.join(self.blobs, m.group(1)) if m else None

    def resolve(self, reg, name, tag):
        """(digest, media type) of reg/name:tag in the image list, or None."""
        with self.lock:
            if time.monotonic() - self.images_at >= IMAGES_TTL:
                p = subprocess.run(['ctr', '--address', self.socket, '--namespace', NAMESPACE,
                                    'images', 'ls'], capture_output=True, text=True)
                if p.returncode == 0:
                    self.images = {}
                    for line in p.stdout.splitlines()[1:]:
                        f = line.split()
                        if len(f) >= 3:
                            self.images[f[0]] = (f[2], f[1])
                    self.images_at = time.monotonic()
            return self.images.get('%s/%s:%s' % (reg, name, tag))


class Stats:
    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.c = {'requests': 0, 'served': 0, 'not_found': 0, 'tx_bytes': 0}
        self.write()

    def add(self, status, nbytes):
        with self.lock:
            self.c['requests'] += 1
            self.c['served'] += status in (200, 206)
            self.c['not_found'] += status == 404
            self.c['tx_bytes'] += nbytes
            self.write()

    def write(self):
        tmp = '%s.tmp' % self.path
        with open(tmp, 'w') as f:
            json.dump(self.c, f)
        os.replace(tmp, self.path)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'clyde-realnode-p2p/1'
    store = stats = None

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        self.answer(body=True)

    def do_HEAD(self):
        self.answer(body=False)

    def answer(self, body):
        status, sent = 500, 0
        try:
            status, sent = self.route(body)
        except (BrokenPipeError, ConnectionResetError) as e:
            status, sent = getattr(e, 'p2p_status', 200), getattr(e, 'p2p_sent', 0)
            self.close_connection = True
        finally:
            self.stats.add(status, sent)
            print('%s %s %d %d' % (self.command, self.path, status, sent), file=sys.stderr, flush=True)

    def route(self, body):
        what = parse_path(self.path)
        if what is None:
            return self.empty(404, 'application/json')
        if what[0] == 'base':
            return self.small(200, b'{}', 'application/json', body)
        kind, name, ref, reg = what
        if kind == 'manifests' and not DIGEST.match(ref):
            got = self.store.resolve(reg, name, ref) if TAG.match(ref) else None
            if got is None:
                return self.empty(404, 'application/json')
            ref = got[0]
        path = self.store.blob_path(ref)
        try:
            fd = os.open(path, os.O_RDONLY) if path else -1
        except OSError:
            fd = -1
        if fd < 0:
            return self.empty(404, 'application/json')
        try:
            if kind == 'manifests':
                with os.fdopen(os.dup(fd), 'rb') as f:
                    data = f.read()
                try:
                    ctype = manifest_type(json.loads(data))
                except ValueError:
                    return self.empty(404, 'application/json')
                return self.small(200, data, ctype, body, ref)
            return self.stream(fd, ref, body)
        finally:
            os.close(fd)

    def empty(self, status, ctype):
        self.send_response(status)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', '0')
        self.end_headers()
        return status, 0

    def small(self, status, data, ctype, body, digest=None):
        self.send_response(status)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(data)))
        self.send_header('Docker-Distribution-API-Version', 'registry/2.0')
        if digest:
            self.send_header('Docker-Content-Digest', digest)
        self.end_headers()
        if body:
            self.wfile.write(data)
            return status, len(data)
        return status, 0

    def stream(self, fd, digest, body):
        size = os.fstat(fd).st_size
        rng = parse_range(self.headers.get('Range'), size)
        if rng is False:
            self.send_response(416)
            self.send_header('Content-Range', 'bytes */%d' % size)
            self.send_header('Content-Length', '0')
            self.end_headers()
            return 416, 0
        start, end = rng or (0, size - 1)
        status = 206 if rng else 200
        self.send_response(status)
        self.send_header('Content-Type', 'application/octet-stream')
        self.send_header('Content-Length', str(end - start + 1))
        self.send_header('Docker-Content-Digest', digest)
        self.send_header('Accept-Ranges', 'bytes')
        if rng:
            self.send_header('Content-Range', 'bytes %d-%d/%d' % (start, end, size))
        self.end_headers()
        sent = 0
        if not body:
            return status, 0
        try:
            while start + sent <= end:
                n = os.sendfile(self.connection.fileno(), fd, start + sent, min(CHUNK, end - start - sent + 1))
                if n == 0:
                    break
                sent += n
        except OSError as e:
            e.p2p_status, e.p2p_sent = status, sent
            raise
        return status, sent


def main(argv=None):
    p = argparse.ArgumentParser(prog='p2pserver.py', description=__doc__.split('\n')[0])
    p.add_argument('--root', required=True, help="the node's containerd root")
    p.add_argument('--socket', required=True, help="the node's containerd socket")
    p.add_argument('--port', type=int, required=True)
    p.add_argument('--stats', required=True, help='file for the counters')
    o = p.parse_args(argv)
    Handler.store = Store(o.root, o.socket)
    Handler.stats = Stats(o.stats)
    srv = http.server.ThreadingHTTPServer(('0.0.0.0', o.port), Handler)
    srv.daemon_threads = True
    srv.serve_forever()


if __name__ == '__main__':
    sys.exit(main())
