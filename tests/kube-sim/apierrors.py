"""metav1.Status bodies shaped as the real API server sends them."""

import json

REASONS = {400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound',
           405: 'MethodNotAllowed', 406: 'NotAcceptable', 409: 'Conflict', 410: 'Expired',
           413: 'RequestEntityTooLarge', 415: 'UnsupportedMediaType', 422: 'Invalid',
           429: 'TooManyRequests', 500: 'InternalError', 503: 'ServiceUnavailable',
           504: 'Timeout'}


class ApiError(Exception):
    """An error answered with a Status body; .status is the dict, .code the HTTP code."""

    def __init__(self, code, message, reason=None, details=None, headers=None):
        super().__init__(message)
        self.code = code
        self.status = status_body(code, message, reason or REASONS.get(code, ''), details)
        self.headers = headers or {}


def status_body(code, message, reason, details=None):
    body = {'kind': 'Status', 'apiVersion': 'v1', 'metadata': {}, 'status': 'Failure',
            'message': message, 'reason': reason}
    if details:
        body['details'] = details
    body['code'] = code
    return body


def success_body(rinfo, name, uid):
    details = {'name': name}
    if rinfo.group:
        details['group'] = rinfo.group
    details['kind'] = rinfo.plural
    details['uid'] = uid
    return {'kind': 'Status', 'apiVersion': 'v1', 'metadata': {}, 'status': 'Success',
            'details': details}


def _details(rinfo, name=None):
    d = {}
    if name:
        d['name'] = name
    if rinfo.group:
        d['group'] = rinfo.group
    d['kind'] = rinfo.plural
    return d


def not_found(rinfo, name):
    return ApiError(404, '%s "%s" not found' % (rinfo.qualified, name), 'NotFound',
                    _details(rinfo, name))


def already_exists(rinfo, name):
    return ApiError(409, '%s "%s" already exists' % (rinfo.qualified, name), 'AlreadyExists',
                    _details(rinfo, name))


def conflict(rinfo, name):
    return ApiError(409, 'Operation cannot be fulfilled on %s "%s": the object has been modified; '
                    'please apply your changes to the latest version and try again'
                    % (rinfo.qualified, name), 'Conflict', _details(rinfo, name))


def bad_request(message):
    return ApiError(400, message, 'BadRequest')


def forbidden(rinfo, name, user, verb, namespace, subresource=''):
    what = '%s "%s"' % (rinfo.qualified, name) if name else rinfo.qualified
    scope = ('in the namespace "%s"' % namespace) if namespace else 'at the cluster scope'
    resource = rinfo.plural + ('/' + subresource if subresource else '')
    msg = '%s is forbidden: User "%s" cannot %s resource "%s" in API group "%s" %s' % (
        what, user, verb, resource, rinfo.group, scope)
    return ApiError(403, msg, 'Forbidden', _details(rinfo, name))


def forbidden_path(user, verb, path):
    return ApiError(403, 'forbidden: User "%s" cannot %s path "%s"' % (user, verb, path),
                    'Forbidden', {})


def unauthorized():
    return ApiError(401, 'Unauthorized', 'Unauthorized')


def expired_continue():
    return ApiError(410, 'The provided continue parameter is too old to display a consistent '
                    'list result. You can start a new list without the continue parameter.',
                    'Expired')


def too_old_rv(rv, current):
    return status_body(410, 'too old resource version: %d (%d)' % (rv, current), 'Expired')


def expired_watch_event(query):
    """The watch fault 'watch-expire': the one ERROR event (410 Expired) a real server
    sends when the requested resourceVersion has left its watch cache, as a whole body."""
    rv = (query.get('resourceVersion') or ['0'])[0]
    rv = int(rv) if rv.isdigit() else 0
    return json.dumps({'type': 'ERROR', 'object': too_old_rv(rv, rv + 1)}, separators=(',', ':')).encode() + b'\n'


def invalid(rinfo, name, errors):
    """errors: list of (reason, field, message) with message like 'Invalid value: "x": ...'."""
    parts = []
    for _, f, m in errors:      # ToAggregate: each message once, in first-seen order
        if '%s: %s' % (f, m) not in parts:
            parts.append('%s: %s' % (f, m))
    agg = parts[0] if len(parts) == 1 else '[' + ', '.join(parts) + ']'
    kind = rinfo.kind + ('.' + rinfo.group if rinfo.group else '')
    details = {'name': name}
    if rinfo.group:
        details['group'] = rinfo.group
    details['kind'] = rinfo.kind
    details['causes'] = [{'reason': r, 'message': m, 'field': f} for r, f, m in errors]
    return ApiError(422, '%s "%s" is invalid: %s' % (kind, name, agg), 'Invalid', details)


def invalid_options(kind, field, detail, reason='FieldValueNotSupported'):
    """422 for a bad request option (CreateOptions, DeleteOptions...), as the real server
    words it: one cause, no name."""
    return invalid_options_list(kind, [(reason, field, detail)])


def invalid_options_list(kind, errors):
    """422 for request options with the errors (reason, field, message) of validation.py."""
    parts = ['%s: %s' % (f, m) for _, f, m in errors]
    agg = parts[0] if len(parts) == 1 else '[' + ', '.join(parts) + ']'
    return ApiError(422, '%s.meta.k8s.io "" is invalid: %s' % (kind, agg), 'Invalid',
                    {'group': 'meta.k8s.io', 'kind': kind,
                     'causes': [{'reason': r, 'message': m, 'field': f} for r, f, m in errors]})


def internal_unknown(message, code=500):
    """An error the real server did not map to an API status (a storage layer's own
    error): code 500 and no reason."""
    err = ApiError(code, message, 'InternalError')
    del err.status['reason']
    return err


def too_large(limit):
    return ApiError(413, 'Request entity too large: limit is %d' % limit, 'RequestEntityTooLarge')


def unsupported_media(ctype, supported):
    return ApiError(415, 'the body of the request was in an unknown format - accepted media types '
                    'include: ' + ', '.join(supported), 'UnsupportedMediaType')


def method_not_allowed(method):
    return ApiError(405, 'the server does not allow this method on the requested resource',
                    'MethodNotAllowed')


def injected(code, retry_after=None):
    msgs = {500: ('Internal error occurred: injected fault', 'InternalError'),
            503: ('The server is currently unable to handle the request (injected fault)',
                  'ServiceUnavailable'),
            504: ('Timeout: request did not complete within requested timeout - '
                  'context deadline exceeded', 'Timeout'),
            409: ('Operation cannot be fulfilled: injected conflict', 'Conflict'),
            404: ('injected not found', 'NotFound'),
            403: ('forbidden: injected fault', 'Forbidden'),
            401: ('Unauthorized', 'Unauthorized'),
            410: ('The provided continue parameter is too old to display a consistent list '
                  'result. You can start a new list without the continue parameter.', 'Expired')}
    msg, reason = msgs.get(code, ('injected fault', REASONS.get(code, 'Unknown')))
    details = {'retryAfterSeconds': retry_after} if retry_after else None
    return ApiError(code, msg, reason, details,
                    {'Retry-After': str(retry_after)} if retry_after else None)
