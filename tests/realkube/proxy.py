"""A fault-injecting HTTPS proxy in front of the real kube-apiserver.

The tool under test talks to this proxy; it forwards every request unchanged (streaming
watch and chunked answers as they come), counts and logs it like kube-sim does, and
applies kube-sim's fault rules (faults.Faults: status codes such as 429, latency, closed
or reset connections, cut watches, expired continue tokens), which the real server cannot
be told to produce.  /_sim/ paths go to the agent's admin API instead."""

import http.client
import http.server
import socket
import ssl
import struct
import time
import urllib.parse

import apierrors
import authz
from server import TOO_MANY, route, verb_for
from store import dumps

HOP = {'connection', 'keep-alive', 'transfer-encoding', 'content-length', 'host',
       'proxy-connection', 'te', 'trailer', 'upgrade'}


class Proxy(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True

    def __init__(self, addr, agent, server_ctx, upstream, upstream_ctx):
        super().__init__(addr, Handler)
        self.agent = agent
        self.ssl_ctx = server_ctx
        self.upstream = upstream            # (host, port)
        self.upstream_ctx = upstream_ctx

    def handle_error(self, request, client_address):
        import sys
        if isinstance(sys.exc_info()[1], (OSError, ssl.SSLError)):
            return
        super().handle_error(request, client_address)


def classify(method, path, query):
    """(verb, resource) as kube-sim counts them."""
    target = route(path)
    review = authz.route(path) if target is None else None
    verb = verb_for(method, target[2] if target else 'x', query)
    if review is not None:
        return verb, review.plural
    if target is None:
        return verb, 'nonresource'
    return verb, target[0].plural + ('/' + target[3] if target[3] else '')


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    disable_nagle_algorithm = True
    server_version = 'realkube-proxy'
    sys_version = ''

    def setup(self):
        self.request.settimeout(300)
        self.request = self.server.ssl_ctx.wrap_socket(self.request, server_side=True)
        super().setup()
        self.upconn = None

    def finish(self):
        try:
            super().finish()
        finally:
            if self.upconn is not None:
                self.upconn.close()

    def handle(self):
        try:
            super().handle()
        except (ssl.SSLError, ConnectionError, socket.timeout, OSError):
            self.close_connection = True

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    def read_body(self):
        if self.headers.get('Transfer-Encoding', '').lower() == 'chunked':
            out = b''
            while True:
                size = int(self.rfile.readline(1024).strip().split(b';')[0], 16)
                if size == 0:
                    while self.rfile.readline(65536).strip():
                        pass
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get('Content-Length') or 0)
        return self.rfile.read(n) if n else b''

    def send_plain(self, code, body, ctype='application/json', headers=None):
        self.send_response(code)
        self.send_header('Content-Type', ctype)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.status_code = code

    def dispatch(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        agent = self.server.agent
        body = self.read_body()
        if url.path.startswith('/_sim/') or url.path == '/_sim':
            code, out, ctype = agent.admin(self.command, url.path, query, body)
            self.send_plain(code, out if isinstance(out, bytes) else dumps(out), ctype)
            return
        self.started = time.time()
        self.status_code = 0
        self.watch_cut = None
        self.fault_reset = False
        verb, resource = classify(self.command, url.path, query)
        counted = verb != 'watch'
        if counted:
            agent.inflight(+1)
        try:
            if not self.apply_faults(agent, verb, resource.split('/')[0], query):
                self.forward(body, verb == 'watch')
        except (ConnectionError, ssl.SSLError, BrokenPipeError, socket.timeout):
            self.close_connection = True
            self.status_code = self.status_code or 'aborted'
        finally:
            agent.record(self.command, url, verb, resource, self.status_code,
                         self.headers.get('Authorization'), self.started)
            if counted:
                agent.inflight(-1)

    def apply_faults(self, agent, verb, resource, query):
        for f in agent.faults.match(verb, resource):
            a = f['action']
            if a == 'latency':
                time.sleep(f['seconds'])
            elif a == 'status':
                if f['code'] == 429:
                    self.send_plain(429, TOO_MANY, 'text/plain; charset=utf-8',
                                    {'Retry-After': str(f['retryAfter']),
                                     'X-Content-Type-Options': 'nosniff'})
                else:
                    e = apierrors.injected(f['code'], f.get('retryAfter'))
                    self.send_plain(e.code, dumps(e.status), headers=e.headers)
                return True
            elif a == 'close':
                self.close_connection = True
                self.status_code = 'closed'
                try:
                    self.request.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return True
            elif a == 'reset':
                self.fault_reset = True
            elif a == 'watch-cut':
                self.watch_cut = f['afterEvents']
            elif a == 'expire-continue' and query.get('continue'):
                e = apierrors.expired_continue()
                self.send_plain(e.code, dumps(e.status))
                return True
            elif a == 'watch-expire' and verb == 'watch':
                self.send_plain(200, apierrors.expired_watch_event(query))
                return True
        return False

    def upstream(self, watch):
        if self.upconn is None or watch:
            host, port = self.server.upstream
            conn = http.client.HTTPSConnection(host, port, context=self.server.upstream_ctx,
                                               timeout=None if watch else 120)
            if watch:
                return conn
            self.upconn = conn
        return self.upconn

    def forward(self, body, watch):
        hdrs = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        if body or self.command in ('POST', 'PUT', 'PATCH'):
            hdrs['Content-Length'] = str(len(body))
        conn = self.upstream(watch)
        try:
            try:
                conn.request(self.command, self.path, body=body or None, headers=hdrs)
                resp = conn.getresponse()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                conn.close()        # a kept-alive upstream connection timed out: once more
                conn.request(self.command, self.path, body=body or None, headers=hdrs)
                resp = conn.getresponse()
            self.relay(resp)
        finally:
            if watch:
                conn.close()

    def relay(self, resp):
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in HOP:
                self.send_header(k, v)
        self.status_code = resp.status
        if not resp.chunked:
            data = resp.read()
            self.send_header('Content-Length', str(len(data)))
            self.end_headers()
            if self.command == 'HEAD':
                return
            if self.fault_reset:
                self.wfile.write(data[:max(1, len(data) // 2)])
                self.wfile.flush()
                return self.reset()
            self.wfile.write(data)
            return
        self.send_header('Transfer-Encoding', 'chunked')
        self.end_headers()
        self.stream(resp)

    def stream(self, resp):
        left = self.watch_cut
        while True:
            data = resp.read1(65536)
            if not data:
                break
            if left is not None:
                lines = data.split(b'\n')
                if len(lines) - 1 >= left:
                    data = b'\n'.join(lines[:left]) + b'\n' if left else b''
                    if data:
                        self.chunk(data)
                    break
                left -= len(lines) - 1
            self.chunk(data)
            if self.fault_reset:
                return self.reset()
        self.wfile.write(b'0\r\n\r\n')
        self.wfile.flush()

    def chunk(self, data):
        self.wfile.write(b'%x\r\n%s\r\n' % (len(data), data))
        self.wfile.flush()

    def reset(self):
        self.close_connection = True
        try:
            self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
            self.request.close()
        except OSError:
            pass
        self.status_code = 'reset'
