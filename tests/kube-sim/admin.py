"""The admin API under /_sim/ (no authentication; see README.md for the reference)."""

import json

import faults as faultsmod
import nodes as nodemod
from store import rfc3339

JSON = 'application/json'


def _err(code, msg):
    return code, {'error': msg}, JSON


def handle(c, method, path, query, body):
    """Returns (code, body dict or bytes, content type)."""
    parts = [p for p in path.split('/') if p][1:]
    try:
        doc = json.loads(body) if body else None
    except ValueError as e:
        return _err(400, 'invalid JSON: %s' % e)
    key = parts[0] if parts else ''
    try:
        if key == 'stats':
            return stats(c, method)
        if key == 'log':
            return log(c, method, query)
        if key == 'settle' and method == 'GET':
            return settle(c, query)
        if key == 'reset' and method == 'POST':
            return reset(c, query, doc)
        if key == 'nodes':
            return node_ops(c, method, parts[1:], doc)
        if key == 'kubelet':
            return kubelet_style(c, method, doc)
        if key == 'faults':
            return rules(c.faults, method, doc, c.faults.add)
        if key == 'images':
            return rules(c.image_rules, method, doc, c.image_rules.set)
        if key == 'pulls':
            return pulls(c, method)
        if key == 'health':
            return 200, {'ok': True, 'resourceVersion': c.store.rv}, JSON
    except faultsmod.RuleError as e:
        return _err(400, str(e))
    return _err(404, 'unknown admin endpoint %s %s' % (method, path))


def stats(c, method):
    if method == 'DELETE':
        c.stats.reset()
        return 200, {'reset': True}, JSON
    return 200, c.stats.snapshot(), JSON


def pulls(c, method):
    """The bandwidth model's pull log and bytes per source; DELETE clears the log."""
    model = c.kubelet.model
    if model is None:
        return _err(404, 'the bandwidth model is off (start with --registry-rate or --node-rate)')
    with c.store.lock, c.kubelet.lock:
        if method == 'DELETE':
            model.log.clear()
            return 200, {'reset': True}, JSON
        return 200, model.report(), JSON


def settle(c, query):
    """Waits until no answered non-watch request is still to be logged (default deadline
    10 s): 200 {"inflight": 0}, or 504 with the number still in flight."""
    try:
        timeout = float(query.get('timeout', ['10'])[0])
    except ValueError:
        return _err(400, 'timeout must be a number of seconds')
    with c.inflight_cv:
        c.inflight_cv.wait_for(lambda: c.inflight == 0, timeout=timeout)
        n = c.inflight
    return (200 if n == 0 else 504), {'inflight': n}, JSON


def log(c, method, query):
    with c.log_lock:
        if method == 'DELETE':
            c.reqlog.clear()
            return 200, {'reset': True}, JSON
        lines = list(c.reqlog)
    tail = query.get('tail', [''])[0]
    if tail.isdigit():
        lines = lines[-int(tail):] if int(tail) else []
    return 200, ''.join(line + '\n' for line in lines).encode(), 'application/x-ndjson'


def reset(c, query, doc):
    c.stats.reset()
    with c.log_lock:
        c.reqlog.clear()
    c.faults.clear()
    c.image_rules.clear()
    full = query.get('cluster', [''])[0] in ('1', 'true') or (doc or {}).get('cluster')
    if full:
        c.reset_cluster()
    return 200, {'reset': True, 'cluster': bool(full)}, JSON


def rules(holder, method, doc, add):
    if method == 'GET':
        return 200, {'rules': holder.snapshot()}, JSON
    if method == 'DELETE':
        holder.clear()
        return 200, {'rules': []}, JSON
    if method == 'POST':
        items = doc if isinstance(doc, list) else [doc]
        return 201, {'rules': [add(r) for r in items]}, JSON
    return _err(405, 'use GET, POST or DELETE')


READY = {'ready': 'True', 'notready': 'False', 'unknown': 'Unknown'}


def node_ops(c, method, parts, doc):
    if not parts:
        if method != 'POST':
            return _err(405, 'POST /_sim/nodes adds nodes')
        doc = doc or {}
        count = int(doc.get('count', 1))
        added = []
        for i in range(count):
            spec = dict(doc)
            if count > 1 and doc.get('name'):
                spec['name'] = '%s-%d' % (doc['name'], i + 1)
            try:
                added.append(c.add_node(spec).meta['name'])
            except Exception as e:
                return _err(409, str(e))
        return 201, {'added': added}, JSON
    name = parts[0]
    if len(parts) == 1 and method == 'DELETE':
        gone = c.delete_node(name)
        return (200, {'deleted': name}, JSON) if gone else _err(404, 'node %s not found' % name)
    if len(parts) == 1 and method == 'GET':
        with c.kubelet.lock:
            disk = sorted(c.kubelet.disk.get(name, ()))
        return 200, {'name': name, 'imagesOnDisk': disk}, JSON
    if len(parts) != 2 or method != 'POST':
        return _err(404, 'unknown node operation')
    op = parts[1]
    if op == 'gc':
        gone = c.kubelet.gc(name, (doc or {}).get('keep') or ())
        if gone is None:
            return _err(404, 'node %s not found' % name)
        return 200, {'name': name, 'removed': gone}, JSON
    if op == 'allocatable':
        entry = c.set_allocatable(name, {k: str(v) for k, v in (doc or {}).items()})
        if entry is None:
            return _err(404, 'node %s not found' % name)
        return 200, {'name': name, 'resourceVersion': entry.meta['resourceVersion']}, JSON
    now = rfc3339()
    if op in READY:
        fn = lambda n: nodemod.set_ready(n, READY[op], now)  # noqa: E731
    elif op in ('cordon', 'uncordon'):
        fn = lambda n: nodemod.set_unschedulable(n, op == 'cordon')  # noqa: E731
    elif op == 'labels':
        fn = lambda n: _set_labels(n, doc or {})  # noqa: E731
    elif op == 'taints':
        fn = lambda n: _set_taints(n, doc or [])  # noqa: E731
    else:
        return _err(404, 'unknown node operation %s' % op)
    entry = c.change_node(name, fn)
    if entry is None:
        return _err(404, 'node %s not found' % name)
    return 200, {'name': name, 'resourceVersion': entry.meta['resourceVersion']}, JSON


STYLE_KEYS = {'cause_in_status': (True, False), 'publish': ('change', 'sync')}


def kubelet_style(c, method, doc):
    """GET: the kubelet styles; POST {"node": optional, "cause_in_status": bool,
    "publish": "change"|"sync"}: sets them for one node or for all."""
    k = c.kubelet
    if method == 'POST':
        doc = dict(doc or {})
        node = doc.pop('node', None)
        for key, value in doc.items():
            if key not in STYLE_KEYS or value not in STYLE_KEYS[key]:
                return _err(400, 'kubelet style %s=%r: keys and values are %r' % (key, value, STYLE_KEYS))
        with k.lock:
            if node:
                k.styles.setdefault(node, {}).update(doc)
            else:
                for key, value in doc.items():
                    setattr(k, key, value)
    elif method != 'GET':
        return _err(405, 'GET or POST /_sim/kubelet')
    with k.lock:
        return 200, {'cause_in_status': k.cause_in_status, 'publish': k.publish,
                     'nodes': dict(k.styles)}, JSON


def _set_labels(node, labels):
    lab = node['metadata'].setdefault('labels', {})
    for k, v in labels.items():
        if v is None:
            lab.pop(k, None)
        else:
            lab[k] = v


def _set_taints(node, taints):
    if taints:
        node['spec']['taints'] = taints
    else:
        node['spec'].pop('taints', None)
