"""Server-side printing: meta.k8s.io Table responses, as `kubectl get` asks for them.

A client sending `Accept: application/json;as=Table;v=v1;g=meta.k8s.io` gets a Table
with the real server's columns (the printers of pkg/printers/internalversion) for
nodes, pods, daemonsets, namespaces and events.  Rows carry the object as
PartialObjectMetadata (default), the whole object (`includeObject=Object`) or nothing
(`includeObject=None`).
"""

import calendar
import time

import apierrors

TABLE_VERSIONS = ('v1', 'v1beta1')


def wanted(accept):
    """'v1' or 'v1beta1' when the first acceptable media type of Accept is a Table,
    None for plain JSON."""
    for part in (accept or '').split(','):
        fields = [f.strip() for f in part.split(';')]
        mtype = fields[0].lower()
        params = dict(f.split('=', 1) for f in fields[1:] if '=' in f)
        if params.get('as') == 'Table':
            if mtype in ('application/json', '*/*') and params.get('g') == 'meta.k8s.io' \
                    and params.get('v') in TABLE_VERSIONS:
                return params['v']
            continue
        if mtype in ('application/json', '*/*', 'application/*', '') and 'as' not in params:
            return None
    return None


def not_acceptable():
    return apierrors.ApiError(406, 'only the following media types are accepted: application/json, '
                              'application/yaml, application/vnd.kubernetes.protobuf', 'NotAcceptable')


# ---- formatting helpers, as apimachinery's -------------------------------------------
def human_duration(seconds):
    s = int(seconds)
    if s < -1:
        return '<invalid>'
    if s < 0:
        return '0s'
    if s < 120:
        return '%ds' % s
    minutes = s // 60
    if minutes < 10:
        return '%dm' % minutes if s % 60 == 0 else '%dm%ds' % (minutes, s % 60)
    if minutes < 180:
        return '%dm' % minutes
    hours = s // 3600
    if hours < 8:
        return '%dh' % hours if minutes % 60 == 0 else '%dh%dm' % (hours, minutes % 60)
    if hours < 48:
        return '%dh' % hours
    if hours < 24 * 8:
        return '%dd' % (hours // 24) if hours % 24 == 0 else '%dd%dh' % (hours // 24, hours % 24)
    if hours < 24 * 365 * 2:
        return '%dd' % (hours // 24)
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        return '%dy' % (hours // 24 // 365) if dy == 0 else '%dy%dd' % (hours // 24 // 365, dy)
    return '%dy' % (hours // 24 // 365)


def age(ts, now=None):
    if not ts:
        return '<unknown>'
    try:
        t = calendar.timegm(time.strptime(ts[:19], '%Y-%m-%dT%H:%M:%S'))
    except ValueError:
        return '<unknown>'
    return human_duration((time.time() if now is None else now) - t)


def format_labels(m):
    return ','.join('%s=%s' % (k, m[k]) for k in sorted(m or {})) or '<none>'


def format_selector(sel):
    if not sel:
        return '<none>'
    parts = ['%s=%s' % (k, v) for k, v in sorted((sel.get('matchLabels') or {}).items())]
    for e in sel.get('matchExpressions') or []:
        op, vals = e.get('operator'), ','.join(sorted(e.get('values') or []))
        if op == 'In':
            parts.append('%s in (%s)' % (e['key'], vals))
        elif op == 'NotIn':
            parts.append('%s notin (%s)' % (e['key'], vals))
        elif op == 'Exists':
            parts.append(e['key'])
        elif op == 'DoesNotExist':
            parts.append('!' + e['key'])
    return ','.join(parts) or '<none>'


def col(name, ctype='string', desc='', priority=0, fmt=''):
    return {'name': name, 'type': ctype, 'format': fmt, 'description': desc, 'priority': priority}


NAME = col('Name', fmt='name', desc='Name must be unique within a namespace.')
AGE = col('Age', desc='CreationTimestamp is a timestamp representing the server time when this '
          'object was created.')


# ---- nodes ---------------------------------------------------------------------------
def node_roles(labels):
    roles = set()
    for k, v in (labels or {}).items():
        if k.startswith('node-role.kubernetes.io/'):
            role = k[len('node-role.kubernetes.io/'):]
            if role:
                roles.add(role)
        elif k == 'kubernetes.io/role' and v:
            roles.add(v)
    return ','.join(sorted(roles)) or '<none>'


def node_row(n, now):
    st = n.get('status') or {}
    status = []
    for c in st.get('conditions') or []:
        if c.get('type') == 'Ready':
            status.append('Ready' if c.get('status') == 'True' else 'NotReady')
    status = status or ['Unknown']
    if (n.get('spec') or {}).get('unschedulable'):
        status.append('SchedulingDisabled')
    addrs = {a.get('type'): a.get('address') for a in st.get('addresses') or []}
    info = st.get('nodeInfo') or {}
    return [n['metadata']['name'], ','.join(status), node_roles(n['metadata'].get('labels')),
            age(n['metadata'].get('creationTimestamp'), now), info.get('kubeletVersion', ''),
            addrs.get('InternalIP') or '<none>', addrs.get('ExternalIP') or '<none>',
            info.get('osImage') or '<unknown>', info.get('kernelVersion') or '<unknown>',
            info.get('containerRuntimeVersion') or '<unknown>']


NODE_COLUMNS = [NAME, col('Status', desc='The status of the node'),
                col('Roles', desc='The roles of the node'), AGE,
                col('Version', desc='Kubelet Version reported by the node.'),
                col('Internal-IP', priority=1, desc='List of internal IPs for the node.'),
                col('External-IP', priority=1, desc='List of external IPs for the node.'),
                col('OS-Image', priority=1, desc='OS Image reported by the node from /etc/os-release.'),
                col('Kernel-Version', priority=1, desc="Kernel Version reported by the node from 'uname -r'."),
                col('Container-Runtime', priority=1, desc='Container Runtime Version reported by the node.')]


# ---- pods ----------------------------------------------------------------------------
def _terminated_reason(t, prefix=''):
    if t.get('reason'):
        return prefix + t['reason']
    if t.get('signal'):
        return '%sSignal:%d' % (prefix, t['signal'])
    return '%sExitCode:%d' % (prefix, t.get('exitCode', 0))


def pod_status(p):
    """(ready, total, reason, restarts) as `kubectl get pods` prints them."""
    spec, st = p.get('spec') or {}, p.get('status') or {}
    total = len(spec.get('containers') or [])
    reason = st.get('reason') or st.get('phase') or ''
    restarts, ready = 0, 0
    inits = st.get('initContainerStatuses') or []
    initializing = False
    for i, c in enumerate(inits):
        restarts += c.get('restartCount', 0)
        state = c.get('state') or {}
        term, wait = state.get('terminated'), state.get('waiting')
        if term and term.get('exitCode', 0) == 0:
            continue
        if term:
            reason = _terminated_reason(term, 'Init:')
        elif wait and wait.get('reason') and wait['reason'] != 'PodInitializing':
            reason = 'Init:' + wait['reason']
        else:
            reason = 'Init:%d/%d' % (i, len(spec.get('initContainers') or []))
        initializing = True
        break
    if not initializing:
        has_running = False
        for c in reversed(st.get('containerStatuses') or []):
            restarts += c.get('restartCount', 0)
            state = c.get('state') or {}
            if (state.get('waiting') or {}).get('reason'):
                reason = state['waiting']['reason']
            elif state.get('terminated'):
                reason = _terminated_reason(state['terminated'])
            elif state.get('running') is not None and c.get('ready'):
                has_running = True
                ready += 1
        if reason == 'Completed' and has_running:
            reason = 'Running'
    if p['metadata'].get('deletionTimestamp'):
        reason = 'Unknown' if st.get('reason') == 'NodeLost' else 'Terminating'
    return ready, total, reason, restarts


def pod_row(p, now):
    ready, total, reason, restarts = pod_status(p)
    st, spec = p.get('status') or {}, p.get('spec') or {}
    gates = spec.get('readinessGates') or []
    return [p['metadata']['name'], '%d/%d' % (ready, total), reason, str(restarts),
            age(p['metadata'].get('creationTimestamp'), now), st.get('podIP') or '<none>',
            spec.get('nodeName') or '<none>', st.get('nominatedNodeName') or '<none>',
            '<none>' if not gates else '0/%d' % len(gates)]


POD_COLUMNS = [NAME, col('Ready', desc='The aggregate readiness state of this pod for accepting traffic.'),
               col('Status', desc='The aggregate status of the containers in this pod.'),
               col('Restarts', desc='The number of times the containers in this pod have been restarted '
                   'and when the last container in this pod has restarted.'),
               AGE, col('IP', priority=1, desc='IP address allocated to the pod.'),
               col('Node', priority=1, desc='Name of the node the pod is assigned to.'),
               col('Nominated Node', priority=1, desc='Name of the node the pod is nominated to.'),
               col('Readiness Gates', priority=1, desc='The readiness gates of the pod.')]


# ---- daemonsets, namespaces, events --------------------------------------------------
def ds_row(d, now):
    spec, st = d.get('spec') or {}, d.get('status') or {}
    pspec = (spec.get('template') or {}).get('spec') or {}
    ctrs = pspec.get('containers') or []
    return [d['metadata']['name'], st.get('desiredNumberScheduled', 0), st.get('currentNumberScheduled', 0),
            st.get('numberReady', 0), st.get('updatedNumberScheduled', 0), st.get('numberAvailable', 0),
            format_labels(pspec.get('nodeSelector')), age(d['metadata'].get('creationTimestamp'), now),
            ','.join(c.get('name', '') for c in ctrs), ','.join(c.get('image', '') for c in ctrs),
            format_selector(spec.get('selector'))]


DS_COLUMNS = [NAME, col('Desired', 'integer', 'The desired number of nodes running the daemon pod.'),
              col('Current', 'integer', 'The number of nodes currently running the daemon pod.'),
              col('Ready', 'integer', 'The number of nodes with the daemon pod ready.'),
              col('Up-to-date', 'integer', 'The number of nodes running the updated daemon pod.'),
              col('Available', 'integer', 'The number of nodes with the daemon pod available.'),
              col('Node Selector', desc='NodeSelector is a selector which must be true for the pod to '
                  'fit on a node.'), AGE,
              col('Containers', priority=1, desc='Names of each container in the template.'),
              col('Images', priority=1, desc='Images referenced by each container in the template.'),
              col('Selector', priority=1, desc='A label query over pods that are managed by the daemon set.')]


def ns_row(n, now):
    return [n['metadata']['name'], (n.get('status') or {}).get('phase', ''),
            age(n['metadata'].get('creationTimestamp'), now)]


NS_COLUMNS = [NAME, col('Status', desc='The status of the namespace'), AGE]


def event_row(e, now):
    inv = e.get('involvedObject') or {}
    src = e.get('source') or {}
    source = src.get('component', '') + (', ' + src['host'] if src.get('host') else '')
    last = e.get('lastTimestamp') or e.get('eventTime') or e['metadata'].get('creationTimestamp')
    return [age(last, now), e.get('type', ''), e.get('reason', ''),
            '%s/%s' % ((inv.get('kind') or '').lower(), inv.get('name', '')), inv.get('fieldPath', ''),
            source, (e.get('message') or '').strip(), age(e.get('firstTimestamp') or last, now),
            e.get('count', 1), e['metadata']['name']]


EVENT_COLUMNS = [col('Last Seen', desc='The last time this event was seen.'),
                 col('Type', desc='The type of this event.'),
                 col('Reason', desc='The reason of this event.'),
                 col('Object', desc='The object this event is about.'),
                 col('Subobject', priority=1, desc='The subobject this event is about.'),
                 col('Source', priority=1, desc='The component reporting this event.'),
                 col('Message', desc='A human-readable description of the status of this operation.'),
                 col('First Seen', priority=1, desc='The first time this event was seen.'),
                 col('Count', 'integer', 'The number of times this event has occurred.', 1),
                 col('Name', priority=1, desc='The name of this event.')]

PRINTERS = {'nodes': (NODE_COLUMNS, node_row), 'pods': (POD_COLUMNS, pod_row),
            'daemonsets': (DS_COLUMNS, ds_row), 'namespaces': (NS_COLUMNS, ns_row),
            'events': (EVENT_COLUMNS, event_row)}


def _row_object(obj, include, version):
    if include == 'None':
        return None
    if include == 'Object':
        return obj
    return {'kind': 'PartialObjectMetadata', 'apiVersion': 'meta.k8s.io/' + version,
            'metadata': obj['metadata']}


def include_mode(query):
    mode = (query.get('includeObject') or ['Metadata'])[0] or 'Metadata'
    if mode not in ('None', 'Metadata', 'Object'):
        raise apierrors.bad_request('includeObject: Unsupported value: "%s": supported values: '
                                    '"Metadata", "None", "Object"' % mode)
    return mode


def build(resource, objs, version, include, list_meta=None, headers=True, now=None):
    """The Table dict for objs (dicts) of resource."""
    columns, row = PRINTERS[resource]
    now = time.time() if now is None else now
    rows = []
    for o in objs:
        r = {'cells': row(o, now)}
        obj = _row_object(o, include, version)
        if obj is not None:
            r['object'] = obj
        rows.append(r)
    out = {'kind': 'Table', 'apiVersion': 'meta.k8s.io/' + version, 'metadata': list_meta or {}}
    if headers:
        out['columnDefinitions'] = columns
    out['rows'] = rows
    return out
