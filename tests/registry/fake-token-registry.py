#!/usr/bin/env python3
"""A registry that speaks the distribution token flow, for tests (Python standard library):
manifests and blobs behind `WWW-Authenticate: Bearer realm=...,service=...,scope=...`, a
token endpoint that wants basic auth for private repositories and gives anonymous tokens
for public ones, and one 429 with Retry-After on the first request for seed/limited.
Prints "ready PORT" once listening; writes one JSON line per request to LOG (the
Authorization scheme only, never its value)."""
import base64
import hashlib
import json
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

USER, PASSWORD, TOKEN, ANON = 'clyde', 'pw-Tok3n-7', 'tok-SECRET-42', 'anon-tok-1'
CONFIG = json.dumps({'architecture': 'arm64', 'os': 'linux', 'rootfs': {'type': 'layers', 'diff_ids': []}}).encode()
CONFIG_DIGEST = 'sha256:' + hashlib.sha256(CONFIG).hexdigest()
MANIFEST = json.dumps({'schemaVersion': 2, 'mediaType': 'application/vnd.docker.distribution.manifest.v2+json',
                       'config': {'mediaType': 'application/vnd.docker.container.image.v1+json',
                                  'size': len(CONFIG), 'digest': CONFIG_DIGEST},
                       'layers': [{'mediaType': 'application/vnd.docker.image.rootfs.diff.tar.gzip',
                                   'size': 4242, 'digest': 'sha256:' + 'ab' * 32}]}).encode()
MANIFEST_DIGEST = 'sha256:' + hashlib.sha256(MANIFEST).hexdigest()
lock = threading.Lock()
state = {'limited': 0}


class H(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, *a):
        pass

    def record(self, status):
        auth = self.headers.get('Authorization', '')
        with lock, open(self.server.log, 'a') as f:
            f.write(json.dumps({'method': self.command, 'path': self.path, 'status': status,
                                'auth': auth.split(' ')[0] if auth else None}) + '\n')

    def send(self, status, body=b'', headers=None):
        self.record(status)
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(body)

    def token(self):
        q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        scope = q.get('scope', [''])[0]
        auth = self.headers.get('Authorization', '')
        good = 'Basic ' + base64.b64encode(('%s:%s' % (USER, PASSWORD)).encode()).decode()
        if auth == good:
            return self.send(200, json.dumps({'token': TOKEN, 'expires_in': 300}).encode())
        if auth == '' and 'seed/public' in scope:
            return self.send(200, json.dumps({'access_token': ANON}).encode())
        return self.send(401, b'{"details":"bad credentials"}')

    def registry(self):
        parts = self.path.split('/')
        repo = '/'.join(parts[2:-2])
        if repo == 'seed/limited':
            with lock:
                state['limited'] += 1
                first = state['limited'] == 1
            if first:
                return self.send(429, b'{}', {'Retry-After': '1'})
        want = ANON if repo == 'seed/public' else TOKEN
        if self.headers.get('Authorization') != 'Bearer ' + want:
            realm = 'http://127.0.0.1:%d/token' % self.server.server_port
            return self.send(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}', {
                'WWW-Authenticate': 'Bearer realm="%s",service="fake",scope="repository:%s:pull"' % (realm, repo)})
        if parts[-2] == 'manifests':
            return self.send(200, MANIFEST, {'Content-Type': 'application/vnd.docker.distribution.manifest.v2+json',
                                             'Docker-Content-Digest': MANIFEST_DIGEST})
        if parts[-2] == 'blobs' and parts[-1] == CONFIG_DIGEST:
            return self.send(200, CONFIG, {'Content-Type': 'application/octet-stream'})
        return self.send(404, b'{}')

    def do_GET(self):
        if self.path.startswith('/token'):
            return self.token()
        return self.registry()

    do_HEAD = do_GET


def main():
    srv = ThreadingHTTPServer(('127.0.0.1', 0), H)
    srv.log = sys.argv[1]
    print('ready %d %s' % (srv.server_port, MANIFEST_DIGEST), flush=True)
    srv.serve_forever()


if __name__ == '__main__':
    main()
