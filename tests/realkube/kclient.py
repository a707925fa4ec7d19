"""A small Kubernetes API client over http.client (Python standard library only).

One Client per thread: it keeps one kept-alive HTTPS connection and reconnects when the
server closed it.  Errors come back as ApiError carrying the Status object."""

import http.client
import json
import ssl
import urllib.parse

PATCH_MERGE = 'application/merge-patch+json'
PATCH_STRATEGIC = 'application/strategic-merge-patch+json'


class ApiError(Exception):
    def __init__(self, code, status, method, path):
        self.code, self.status = code, status if isinstance(status, dict) else {}
        msg = self.status.get('message') if self.status else str(status)[:300]
        super().__init__('%s %s: %d %s' % (method, path, code, msg))

    @property
    def reason(self):
        return self.status.get('reason', '')


def ssl_context(cafile):
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.set_alpn_protocols(['http/1.1'])
    return ctx


class Client:
    def __init__(self, url, token, cafile, timeout=30.0):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port or 443
        self.token, self.timeout = token, timeout
        self.ctx = ssl_context(cafile)
        self.conn = None

    def _connect(self, timeout=None):
        return http.client.HTTPSConnection(self.host, self.port, context=self.ctx,
                                           timeout=timeout or self.timeout)

    def raw(self, method, path, body=None, ctype='application/json', headers=None):
        """(code, headers, body bytes); retries once on a connection the server closed."""
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        hdrs = {'Accept': 'application/json'}
        if self.token:
            hdrs['Authorization'] = 'Bearer ' + self.token
        if data is not None:
            hdrs['Content-Type'] = ctype
        hdrs.update(headers or {})
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = self._connect()
            try:
                self.conn.request(method, path, body=data, headers=hdrs)
                resp = self.conn.getresponse()
                out = resp.read()
                return resp.status, dict(resp.getheaders()), out
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
                    http.client.CannotSendRequest):
                self.close()
                if attempt:
                    raise
        raise AssertionError('unreachable')

    def call(self, method, path, body=None, ctype='application/json'):
        """The decoded JSON answer; raises ApiError for any status >= 300."""
        code, _, out = self.raw(method, path, body, ctype)
        try:
            doc = json.loads(out) if out.strip() else None
        except ValueError:
            doc = out.decode(errors='replace')
        if code >= 300:
            raise ApiError(code, doc, method, path)
        return doc

    def get(self, path):
        return self.call('GET', path)

    def watch(self, path, rv, timeout_seconds=300):
        """Yields (type, object) from a watch starting after rv; ends when the server ends
        the stream.  Uses its own connection."""
        sep = '&' if '?' in path else '?'
        full = '%s%swatch=1&allowWatchBookmarks=true&resourceVersion=%s&timeoutSeconds=%d' % (
            path, sep, rv, timeout_seconds)
        conn = self._connect(timeout=timeout_seconds + 30)
        try:
            conn.request('GET', full, headers={'Authorization': 'Bearer ' + self.token,
                                               'Accept': 'application/json'})
            resp = conn.getresponse()
            if resp.status != 200:
                body = resp.read()
                try:
                    doc = json.loads(body)
                except ValueError:
                    doc = body.decode(errors='replace')
                raise ApiError(resp.status, doc, 'WATCH', path)
            while True:
                line = resp.readline()
                if not line:
                    return
                if line.strip():
                    ev = json.loads(line)
                    yield ev['type'], ev['object']
        finally:
            conn.close()

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None
