"""HTTPS transport: routing, authentication, faults, stats, gzip and watch streams."""

import gzip
import http.server
import json
import socket
import ssl
import struct
import time
import types
import urllib.parse

import admin
import api
import apierrors
import authz
import rbac
import rbacyaml
import labelsel as sel
import openapi
import protowire
import table
from resources import RESOURCES, discovery
from store import dumps

GZIP_MIN = 128 * 1024
TOO_MANY = b'Too many requests, please try again later.\n'


ANONYMOUS = ('system:anonymous', ['system:unauthenticated'])


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True

    def __init__(self, addr, cluster, ssl_ctx, auth, bookmark_interval=5.0):
        super().__init__(addr, Handler)
        self.cluster = cluster
        self.ssl_ctx = ssl_ctx
        self.auth = auth
        self.bookmark_interval = bookmark_interval

    def handle_error(self, request, client_address):
        """A client that goes away mid-handshake is not worth a traceback."""
        import sys
        if isinstance(sys.exc_info()[1], (OSError, ssl.SSLError)):
            return
        super().handle_error(request, client_address)


def route(path):
    """Returns (rinfo, namespace, name, subresource) or None."""
    parts = [p for p in path.split('/') if p]
    if parts[:2] == ['api', 'v1']:
        rest, group = parts[2:], ''
    elif parts[:3] == ['apis', 'apps', 'v1']:
        rest, group = parts[3:], 'apps'
    elif parts[:3] == ['apis', 'scheduling.k8s.io', 'v1']:
        rest, group = parts[3:], 'scheduling.k8s.io'
    else:
        return None
    ns = ''
    if len(rest) >= 3 and rest[0] == 'namespaces':
        ns, rest = rest[1], rest[2:]
    elif len(rest) in (1, 2) and rest[0] == 'namespaces' and not group:
        return RESOURCES['namespaces'], '', rest[1] if len(rest) == 2 else '', ''
    if not rest or rest[0] not in RESOURCES or RESOURCES[rest[0]].group != group:
        return None
    rinfo = RESOURCES[rest[0]]
    if ns and not rinfo.namespaced:
        return None
    name = rest[1] if len(rest) > 1 else ''
    sub = rest[2] if len(rest) > 2 else ''
    if len(rest) > 3 or (sub and (sub != 'status' or not rinfo.has_status)):
        return None
    return rinfo, ns, name, sub


def verb_for(method, name, query):
    if method == 'GET':
        if api.is_watch(query):
            return 'watch'
        return 'get' if name else 'list'
    return {'POST': 'create', 'PUT': 'update', 'PATCH': 'patch',
            'DELETE': 'delete' if name else 'deletecollection'}.get(method, method.lower())


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    disable_nagle_algorithm = True      # headers and body are separate writes
    server_version = 'kube-sim'
    sys_version = ''

    def setup(self):
        self.request.settimeout(300)
        self.request = self.server.ssl_ctx.wrap_socket(self.request, server_side=True)
        super().setup()

    def handle(self):
        try:
            super().handle()
        except (ssl.SSLError, ConnectionError, socket.timeout, OSError):
            self.close_connection = True

    def log_message(self, fmt, *args):
        pass

    def send_error(self, code, message=None, explain=None):
        """Malformed requests: plain text and a closed connection, as Go's net/http
        answers them (never the stdlib's HTML page)."""
        self.close_connection = True
        body = ('%d %s' % (code, message or self.responses.get(code, ('',))[0])).encode()
        try:
            self.send_response(code, message)
            self.send_header('Content-Type', 'text/plain; charset=utf-8')
            self.send_header('Connection', 'close')
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            if self.command != 'HEAD' and code >= 200 and code not in (204, 304):
                self.wfile.write(body)
        except OSError:
            pass

    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    # ---- responses ------------------------------------------------------------------
    def send_body(self, code, body, headers=None, ctype='application/json'):
        if isinstance(body, (dict, list)):
            body = dumps(body)
        hdrs = {'Content-Type': ctype, 'Cache-Control': 'no-cache, private',
                'Audit-Id': self.audit_id}
        hdrs.update(headers or {})
        if len(body) >= GZIP_MIN and 'gzip' in (self.headers.get('Accept-Encoding') or ''):
            body = gzip.compress(body, 1)
            hdrs['Content-Encoding'] = 'gzip'
            hdrs['Vary'] = 'Accept-Encoding'
        self.send_response(code)
        for k, v in hdrs.items():
            for one in (v if isinstance(v, list) else [v]):
                self.send_header(k, one)
        if hdrs.get('Warning'):
            self.warnings = hdrs['Warning']
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        if self.command != 'HEAD':
            if self.fault_reset:
                self.wfile.write(body[:max(1, len(body) // 2)])
                self.wfile.flush()
                self.reset_connection()
                return
            self.wfile.write(body)
        self.status_code = code

    def send_status(self, err):
        self.send_body(err.code, err.status, err.headers)
        self.status_code = err.code

    def reset_connection(self):
        self.close_connection = True
        try:
            self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
            sock = self.request
            sock.close()
        except OSError:
            pass
        self.status_code = 'reset'

    def read_body(self):
        """The whole request body (Content-Length or chunked); raises 413 after draining
        what is reasonable, 400 (closing the connection) for a malformed framing."""
        try:
            return self._read_body()
        except ValueError:
            self.close_connection = True
            raise apierrors.bad_request('malformed request body framing')

    def _read_body(self):
        if self.headers.get('Transfer-Encoding', '').lower() == 'chunked':
            out = b''
            while True:
                size = int(self.rfile.readline(1024).strip().split(b';')[0], 16)
                if size < 0:
                    raise ValueError('negative chunk size')
                if size == 0:
                    while self.rfile.readline(65536).strip():
                        pass        # trailer fields, up to the blank line
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
                if len(out) > api.MAX_BODY:
                    self.close_connection = True
                    raise apierrors.too_large(api.MAX_BODY)
        n = int(self.headers.get('Content-Length') or 0)
        if n < 0:
            raise ValueError('negative Content-Length')
        if n > api.MAX_BODY:
            self.close_connection = True
            # drain (within reason) so the client sees the 413, not a broken pipe
            left = n if n <= 64 * 1024 * 1024 else 0
            while left > 0:
                got = self.rfile.read(min(left, 1 << 20))
                if not got:
                    break
                left -= len(got)
            raise apierrors.too_large(api.MAX_BODY)
        return self.rfile.read(n) if n else b''

    # ---- the request path -----------------------------------------------------------
    def dispatch(self):
        self.audit_id = '%08x' % (id(self) & 0xffffffff)
        self.status_code = 0
        self.fault_reset = False
        self.watch_cut = None
        self.warnings = None
        self.body = b''
        self.started = time.time()
        url = urllib.parse.urlsplit(self.path)
        self.query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        cluster = self.server.cluster
        if url.path.startswith('/_sim/') or url.path == '/_sim':
            body = self.read_body_safe()
            if body is None:
                return
            if url.path.startswith(('/_sim/log', '/_sim/stats')):
                with cluster.inflight_cv:
                    cluster.inflight_cv.wait_for(lambda: cluster.inflight == 0, timeout=2.0)
            code, out, ctype = admin.handle(cluster, self.command, url.path, self.query, body)
            self.fault_reset = False
            self.send_body(code, out if isinstance(out, bytes) else dumps(out), ctype=ctype)
            return
        target = route(url.path)
        review = authz.route(url.path) if target is None else None
        # a review's collection has no names: GET on it is a list, as the real server says
        verb = verb_for(self.command, target[2] if target else ('' if review is not None else 'x'), self.query)
        resource = target[0].plural + ('/' + target[3] if target[3] else '') if target else 'nonresource'
        if review is not None:
            resource = review.plural
        self.counted = verb != 'watch'   # a watch may stay open for minutes
        if self.counted:
            with cluster.inflight_cv:
                cluster.inflight += 1
        user = None
        try:
            # the body is read before anything can answer (auth, faults, errors): on a
            # kept-alive connection an unread body would be parsed as the next request
            self.body = self.read_body()
            user = self.authenticate()
            if self.apply_faults(cluster, verb, target[0].plural if target else resource):
                return
            if review is not None:
                self.serve_review(review, verb, user)
            elif target is None:
                self.check_path(user, url.path)
                self.serve_nonresource(url.path)
            else:
                self.serve_resource(cluster, target, verb, resource, user)
        except apierrors.ApiError as e:
            self.send_status(e)
        except (ConnectionError, ssl.SSLError, BrokenPipeError):
            self.close_connection = True
            self.status_code = self.status_code or 'aborted'
        except Exception as e:
            cluster.log_error('request %s %s: %r' % (self.command, self.path, e))
            self.send_status(apierrors.ApiError(500, 'Internal error occurred: %s' % e, 'InternalError'))
        finally:
            self.record(cluster, url, verb, resource, user)

    def read_body_safe(self):
        try:
            return self.read_body()
        except apierrors.ApiError as e:
            self.send_status(e)
            return None

    def record(self, cluster, url, verb, resource, user):
        code = self.status_code
        cluster.stats.add(self.command, verb, resource.split('/')[0], code)
        cluster.log_request({'ts': time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(self.started))
                             + '.%03dZ' % (int(self.started * 1000) % 1000),
                             'method': self.command, 'path': url.path, 'query': url.query,
                             'verb': verb, 'resource': resource, 'status': code,
                             'user': user[0] if user else None,
                             'ms': round((time.time() - self.started) * 1000, 1)}
                            | ({'warnings': self.warnings} if self.warnings else {}))
        if self.counted:
            with cluster.inflight_cv:
                cluster.inflight -= 1
                cluster.inflight_cv.notify_all()

    def authenticate(self):
        authz = self.headers.get('Authorization') or ''
        if authz.startswith('Bearer '):
            who = self.server.auth.user_for_token(authz[7:].strip())
            if who:
                return who
            raise apierrors.unauthorized()
        try:
            who = rbac.cert_user(self.request.getpeercert())
        except (ValueError, AttributeError):
            who = None
        if who:
            return who
        # no credentials it knows: the real server's anonymous authentication (on by
        # default) makes it system:anonymous, whom RBAC then refuses (403)
        return ANONYMOUS

    def apply_faults(self, cluster, verb, resource):
        """Applies fault rules; returns True when the request is answered already."""
        for f in cluster.faults.match(verb, resource):
            a = f['action']
            if a == 'latency':
                time.sleep(f['seconds'])
            elif a == 'status':
                if f['code'] == 429:
                    self.send_body(429, TOO_MANY, {'Retry-After': str(f['retryAfter']),
                                                   'X-Content-Type-Options': 'nosniff'},
                                   ctype='text/plain; charset=utf-8')
                else:
                    self.send_status(apierrors.injected(f['code'], f.get('retryAfter')))
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
            elif a == 'expire-continue' and self.query.get('continue'):
                raise apierrors.expired_continue()
            elif a == 'watch-expire' and verb == 'watch':
                self.send_body(200, apierrors.expired_watch_event(self.query))
                return True
        return False

    def check_path(self, user, path):
        attrs = authz.request_info(self.command, path, self.query)
        if attrs is not None:       # a resource kube-sim does not serve: authorized first
            ok, _ = self.server.auth.authorize(user[0], user[1], attrs)
            if not ok:
                info = types.SimpleNamespace(plural=attrs.resource, group=attrs.group, qualified=attrs.resource
                                             + ('.' + attrs.group if attrs.group else ''))
                raise apierrors.forbidden(info, attrs.name, user[0], attrs.verb, attrs.namespace,
                                          attrs.subresource)
            return
        verb = 'get' if self.command == 'HEAD' else self.command.lower()
        ok, _ = self.server.auth.authorize(user[0], user[1], rbacyaml.Attrs(verb, path=path))
        if not ok:
            raise apierrors.forbidden_path(user[0], verb, path)

    def serve_review(self, rinfo, verb, user):
        ok, _ = self.server.auth.authorize(user[0], user[1],
                                           rbacyaml.Attrs(verb, rinfo.group, rinfo.plural))
        if not ok:
            raise apierrors.forbidden(rinfo, '', user[0], verb, '')
        if verb != 'create':
            raise apierrors.method_not_allowed(self.command)
        body = self.body
        if (self.headers.get('Content-Type') or '').startswith('application/vnd.kubernetes.protobuf'):
            # kubectl sends reviews as protobuf to a v1.26 server; the answer is JSON
            try:
                body = json.dumps(protowire.decode_review(body)).encode()
            except (protowire.DecodeError, UnicodeDecodeError) as e:
                raise apierrors.bad_request('the body of the request could not be decoded: %s' % e)
        code, out = authz.handle(self.server.auth, rinfo, user, body)
        self.send_body(code, out)

    def serve_nonresource(self, path):
        if path in ('/healthz', '/readyz', '/livez'):
            self.send_body(200, b'ok', ctype='text/plain; charset=utf-8')
            return
        if path == '/openapi/v2':
            doc = openapi.v2(self.headers.get('Accept'))
            if doc is None:
                self.send_body(406, b'', ctype='text/plain; charset=utf-8')
            else:
                self.send_body(200, doc[0], ctype=doc[1])
            return
        if path.startswith('/openapi/'):
            doc = openapi.document(path)
            if doc is None:
                raise apierrors.ApiError(404, 'the server could not find the requested resource', 'NotFound')
            self.send_body(200, doc)
            return
        doc = discovery(path) or authz.discovery(path)
        if doc is None and path.startswith(('/api/', '/apis/')):
            # an unknown group, version or resource: a Status without causes (the
            # UnexpectedServerResponse cause is what client-go makes of the text below)
            raise apierrors.ApiError(404, 'the server could not find the requested resource', 'NotFound')
        if doc is None:
            self.send_body(404, b'404 page not found\n', ctype='text/plain; charset=utf-8')
            return
        self.send_body(200, doc)

    def serve_resource(self, cluster, target, verb, resource, user):
        rinfo, ns, name, sub = target
        # as the real request-info resolver: /api/v1/namespaces/NAME is in namespace NAME
        authz_ns = name if rinfo.plural == 'namespaces' and name else ns
        ok, _ = self.server.auth.authorize(user[0], user[1], rbacyaml.Attrs(
            verb, rinfo.group, rinfo.plural, sub, name, authz_ns))
        if not ok:
            raise apierrors.forbidden(rinfo, name, user[0], verb, authz_ns, sub)
        if verb == 'watch':
            self.serve_watch(cluster, rinfo, ns, name)
            return
        if verb not in api.VERBS or (verb in ('create',) and name) or \
                (verb in ('get', 'update', 'patch', 'delete') and not name):
            raise apierrors.method_not_allowed(self.command)
        req = api.Request(rinfo, ns, name, sub, self.query, self.body, self.headers.get('Content-Type'),
                          user, verb)
        tv = table.wanted(self.headers.get('Accept')) if verb in ('get', 'list') and not sub else None
        if tv:
            code, out, headers = api.do_table(cluster, req, tv)
        else:
            code, out, headers = api.VERBS[verb](cluster, req)
        self.send_body(code, out, headers)

    # ---- watch ----------------------------------------------------------------------
    def write_chunk(self, data):
        self.wfile.write(b'%x\r\n%s\r\n' % (len(data), data))
        self.wfile.flush()

    def serve_watch(self, cluster, rinfo, ns, name):
        req = api.Request(rinfo, ns, name, '', self.query)
        labels, fields, timeout, _ = api.list_options(req, watch=True)
        if name:
            fields = fields + [('metadata.name', False, name)]
        store = cluster.store
        timeout = timeout or 1800
        bookmarks = req.q('allowWatchBookmarks') in ('1', 'true')
        rv = api.resource_version(req.q('resourceVersion') or '')
        tv = table.wanted(self.headers.get('Accept'))
        table_mode = (tv, table.include_mode(self.query) if tv else None)
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Transfer-Encoding', 'chunked')
        self.send_header('Cache-Control', 'no-cache, private')
        self.end_headers()
        self.status_code = 200
        w = Watch(self, store, rinfo, ns, labels, fields, self.watch_cut)
        w.table, w.include = table_mode
        if rv == 0:
            with store.lock:
                pos = store.change_count
                initial = [e for e in store.values(rinfo.plural, ns or None) if w.matches(e)]
                w.last_rv = store.rv
            for e in initial:
                w.send_entry('ADDED', e)
        else:
            pos = store.watch_start(rv)
            w.last_rv = rv
            if pos is None:
                w.send('ERROR', dumps(apierrors.too_old_rv(rv, store.compacted_rv)))
                self.end_stream()
                return
        w.loop(pos, time.monotonic() + timeout, bookmarks, self.server.bookmark_interval)
        self.end_stream()

    def end_stream(self):
        try:
            self.wfile.write(b'0\r\n\r\n')
            self.wfile.flush()
        except OSError:
            self.close_connection = True


class Watch:
    def __init__(self, handler, store, rinfo, ns, labels, fields, cut_after):
        self.h, self.store, self.rinfo, self.ns = handler, store, rinfo, ns
        self.labels, self.fields = labels, fields
        self.cut_after = cut_after
        self.sent = 0
        self.last_rv = 0
        self.cut = False
        self.table = self.include = None

    def matches(self, entry):
        if entry is None:
            return False
        if not self.labels and not self.fields:
            return True         # no need to parse a retired version
        return sel.labels_match(self.labels, entry.meta.get('labels')) and \
            sel.fields_match(self.fields, entry.obj)

    def send_entry(self, etype, entry):
        if not self.table:
            self.send(etype, entry.raw())
            return
        t = table.build(self.rinfo.plural, [entry.obj], self.table, self.include,
                        {'resourceVersion': entry.meta['resourceVersion']}, headers=not self.sent)
        self.send(etype, dumps(t))

    def send(self, etype, raw):
        if self.cut:
            return
        self.h.write_chunk(b'{"type":"%s","object":%s}\n' % (etype.encode(), raw))
        self.sent += 1
        if self.cut_after is not None and self.sent >= self.cut_after:
            self.cut = True

    def translate(self, ev):
        new_ok = self.matches(ev.new) if ev.type != 'DELETED' else False
        old_ok = self.matches(ev.old) if ev.old is not None else False
        if ev.type == 'DELETED':
            return 'DELETED' if old_ok else None
        if ev.type == 'ADDED':
            return 'ADDED' if new_ok else None
        if new_ok:
            return 'MODIFIED' if old_ok else 'ADDED'
        return 'DELETED' if old_ok else None

    def loop(self, pos, deadline, bookmarks, interval):
        next_bm = time.monotonic() + interval
        while not self.cut:
            now = time.monotonic()
            if now >= deadline:
                return
            evs, pos = self.store.watch_next(pos, min(deadline, next_bm) - now)
            if evs is None:
                self.send('ERROR', dumps(apierrors.too_old_rv(self.last_rv, self.store.compacted_rv)))
                return
            for ev in evs:
                self.last_rv = ev.rv
                if ev.res != self.rinfo.plural or (self.ns and ev.ns != self.ns):
                    continue
                etype = self.translate(ev)
                if etype:
                    self.send_entry(etype, ev.new)
                    if self.cut:
                        return
            if bookmarks and time.monotonic() >= next_bm:
                bm = {'kind': self.rinfo.kind, 'apiVersion': self.rinfo.api_version,
                      'metadata': {'resourceVersion': str(self.last_rv or self.store.rv)}}
                self.send('BOOKMARK', dumps(bm))
                next_bm = time.monotonic() + interval
