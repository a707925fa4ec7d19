"""A small Kubernetes API client (standard library): bearer token or client certificate,
JSON requests, and a watch that yields events."""

import http.client
import json
import ssl
import threading
import urllib.parse


class ApiError(Exception):
    def __init__(self, code, body):
        self.code = code
        try:
            msg = json.loads(body).get('message', body)
        except (ValueError, AttributeError):
            msg = body
        super().__init__('HTTP %d: %s' % (code, msg))


class Api:
    def __init__(self, server, token=None, ca=None, cert=None, key=None):
        u = urllib.parse.urlsplit(server)
        self.host, self.port = u.hostname, u.port or 443
        self.ctx = ssl.create_default_context(cafile=ca) if ca else ssl._create_unverified_context()
        if cert:
            self.ctx.load_cert_chain(cert, key)
        self.token = token
        self.local = threading.local()

    @classmethod
    def from_kube_sim(cls, state_dir):
        """kube-sim's state directory: url, token and ca.crt."""
        def read(name):
            with open('%s/%s' % (state_dir, name)) as f:
                return f.read().strip()
        return cls(read('url'), token=read('token'), ca='%s/ca.crt' % state_dir)

    def _conn(self, timeout=30):
        return http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=timeout)

    def _headers(self, ctype=None):
        h = {'Accept': 'application/json', 'User-Agent': 'clyde-realnode-kubelet/1'}
        if self.token:
            h['Authorization'] = 'Bearer ' + self.token
        if ctype:
            h['Content-Type'] = ctype
        return h

    def call(self, method, path, body=None, ctype='application/json'):
        data = json.dumps(body).encode() if body is not None else None
        for attempt in (1, 2):
            conn = getattr(self.local, 'conn', None) or self._conn()
            self.local.conn = conn
            try:
                conn.request(method, path, body=data, headers=self._headers(ctype if data else None))
                r = conn.getresponse()
                raw = r.read()
                break
            except (OSError, http.client.HTTPException):
                conn.close()
                self.local.conn = None
                if attempt == 2:
                    raise
        if r.status >= 300:
            raise ApiError(r.status, raw.decode(errors='replace'))
        return json.loads(raw) if raw else None

    def get(self, path):
        return self.call('GET', path)

    def patch(self, path, body, kind='merge'):
        ctype = {'merge': 'application/merge-patch+json',
                 'strategic': 'application/strategic-merge-patch+json'}[kind]
        return self.call('PATCH', path, body, ctype)

    def watch(self, path, rv, timeout=60):
        """Yields watch events from resourceVersion rv until the server ends the stream."""
        sep = '&' if '?' in path else '?'
        conn = self._conn(timeout=timeout + 30)
        try:
            conn.request('GET', '%s%swatch=1&resourceVersion=%s&timeoutSeconds=%d&allowWatchBookmarks=true'
                         % (path, sep, rv, timeout), headers=self._headers())
            r = conn.getresponse()
            if r.status != 200:
                raise ApiError(r.status, r.read().decode(errors='replace'))
            while True:
                line = r.readline()
                if not line:
                    return
                if line.strip():
                    yield json.loads(line)
        finally:
            conn.close()
