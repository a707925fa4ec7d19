"""The default scheduler (kube-scheduler v1.26), as far as pods here need it.

Pods created without spec.nodeName (the DaemonSet controller's, since 1.12, pin their node
with a required `matchFields metadata.name In [node]` term) are bound to a node that passes
the filter plugins, in the order the default profile runs them: NodeUnschedulable,
TaintToleration, NodeAffinity (nodeSelector and required node affinity), NodeResourcesFit
(allocatable pods, cpu, memory against the requests of the pods bound there).  NodeAffinity's
PreFilter narrows the nodes looked at to the names of such terms, as the real one does.

A pod that fits nowhere gets PodScheduled=False, reason Unschedulable, and a FailedScheduling
event (events.k8s.io style: action Scheduling, reportingController default-scheduler), both
with the scheduler's aggregated message (framework.FitError):

    0/4 nodes are available: 1 Too many pods. preemption: 0/4 nodes are available:
    4 No preemption victims found for incoming pod..

It is tried again, after the scheduler's back-off (1 s doubling to 10 s), when its node or
a pod bound there changed.  Not modelled: preemption itself (every node a preemption could
help is reported "No preemption victims found", true when no pod there has a lower
priority), inter-pod affinity, topology spread, ports, volumes, extended resources.
"""

import socket
import time

import labelsel as sel
import quantity
from store import rfc3339, target_node  # noqa: F401 (target_node: for importers)

BACKOFF_INITIAL, BACKOFF_MAX = 1.0, 10.0
UNRESOLVABLE, UNSCHEDULABLE = 'UnschedulableAndUnresolvable', 'Unschedulable'
NOT_HELPFUL = 'Preemption is not helpful for scheduling'
NO_VICTIMS = 'No preemption victims found for incoming pod'
TERMINAL = ('Succeeded', 'Failed')


def _q(text, scale=1):
    try:
        return quantity.parse(text).value * scale
    except (quantity.QuantityError, TypeError):
        return 0


def pod_requests(spec):
    """(milli-cpu, memory bytes) the scheduler counts: the larger of the containers' sum and
    any one init container, plus the pod's overhead."""
    def req(c, name, scale):
        r = (c.get('resources') or {})
        # a limit without a request defaults the request (API defaulting)
        return _q((r.get('requests') or {}).get(name) or (r.get('limits') or {}).get(name) or '0', scale)

    out = []
    for name, scale in (('cpu', 1000), ('memory', 1)):
        total = sum(req(c, name, scale) for c in spec.get('containers') or [])
        for c in spec.get('initContainers') or []:
            total = max(total, req(c, name, scale))
        total += _q((spec.get('overhead') or {}).get(name) or '0', scale)
        out.append(total)
    return tuple(out)


def fit_reasons(spec, node, bound):
    """NodeResourcesFit: the reasons, in the plugin's order, that the pod does not fit."""
    alloc = node['status'].get('allocatable') or {}
    reasons = []
    if len(bound) + 1 > _q(alloc.get('pods', '0')):
        reasons.append('Too many pods')
    cpu, mem = pod_requests(spec)
    if cpu or mem:
        used_cpu = sum(pod_requests(p['spec'])[0] for p in bound)
        used_mem = sum(pod_requests(p['spec'])[1] for p in bound)
        if cpu and cpu > _q(alloc.get('cpu', '0'), 1000) - used_cpu:
            reasons.append('Insufficient cpu')
        if mem and mem > _q(alloc.get('memory', '0')) - used_mem:
            reasons.append('Insufficient memory')
    return reasons


def _tolerated(tols, taint):
    for t in tols:
        if t.get('effect') and t['effect'] != taint.get('effect'):
            continue
        if t.get('operator', 'Equal') == 'Exists':
            if not t.get('key') or t['key'] == taint.get('key'):
                return True
        elif t.get('key') == taint.get('key') and (t.get('value') or '') == (taint.get('value') or ''):
            return True
    return False


def filter_node(spec, node, bound):
    """(code, reasons) of the first filter plugin the node fails, or None when it passes."""
    tols = spec.get('tolerations') or []
    if node['spec'].get('unschedulable') and not _tolerated(
            tols, {'key': 'node.kubernetes.io/unschedulable', 'effect': 'NoSchedule'}):
        return UNRESOLVABLE, ['node(s) were unschedulable']
    for taint in node['spec'].get('taints') or []:
        if taint.get('effect') in ('NoSchedule', 'NoExecute') and not _tolerated(tols, taint):
            return UNRESOLVABLE, ['node(s) had untolerated taint {%s: %s}' % (taint.get('key'), taint.get('value', ''))]
    labels = node['metadata'].get('labels') or {}
    req = (((spec.get('affinity') or {}).get('nodeAffinity') or {})
           .get('requiredDuringSchedulingIgnoredDuringExecution'))
    if any(labels.get(k) != v for k, v in (spec.get('nodeSelector') or {}).items()) or \
            (req is not None and not sel.node_selector_terms_match(req.get('nodeSelectorTerms'), node)):
        return UNRESOLVABLE, ["node(s) didn't match Pod's node affinity/selector"]
    reasons = fit_reasons(spec, node, bound)
    return (UNSCHEDULABLE, reasons) if reasons else None


def prefilter_names(spec):
    """NodeAffinity PreFilter: the node names its terms pin, or None for every node."""
    req = (((spec.get('affinity') or {}).get('nodeAffinity') or {})
           .get('requiredDuringSchedulingIgnoredDuringExecution') or {})
    terms = req.get('nodeSelectorTerms') or []
    names = None
    for t in terms:
        tn = None
        for r in t.get('matchFields') or []:
            if r.get('key') == 'metadata.name' and r.get('operator') == 'In':
                s = set(r.get('values') or [])
                tn = s if tn is None else tn & s
        if tn is None:
            return None
        names = (names or set()) | tn
    return names


def _histogram(reasons):
    counts = {}
    for r in reasons:
        counts[r] = counts.get(r, 0) + 1
    return ', '.join(sorted('%d %s' % (n, r) for r, n in counts.items()))


def fit_error(spec, n_nodes, statuses, all_names):
    """The FitError message: filter reasons, then what preemption found (none here)."""
    reasons = [r for _, rs in statuses.values() for r in rs]
    msg = '0/%d nodes are available:' % n_nodes
    if reasons:
        msg += ' %s.' % _histogram(reasons)
    if spec.get('preemptionPolicy') == 'Never':
        post = 'not eligible due to preemptionPolicy=Never.'
    else:
        pre = [NOT_HELPFUL if statuses.get(n, (None,))[0] == UNRESOLVABLE else NO_VICTIMS for n in all_names]
        post = '0/%d nodes are available: %s.' % (len(pre), _histogram(pre))
    return msg + ' preemption: %s.' % post


class Scheduler:
    def __init__(self, store, sim):
        self.store = store
        self.sim = sim
        self.queue = {}     # pod uid -> {'attempts', 'retry_at', 'node', 'moved', 'pod'}
        self.fresh = set()   # (ns, name) of pods created since the last look
        self.full = True    # look at every pod (at start, after history was compacted)
        self.instance = 'default-scheduler-%s' % (socket.gethostname() or 'kube-sim')

    def note(self, entry):
        """A pod was created: look at it on the next run_once()."""
        self.fresh.add((entry.meta['namespace'], entry.meta['name']))

    def pending(self):
        """Pods not bound yet: the ones created since the last look and those waiting
        (every pod after a full resync), so that a cluster of 10,000 bound pods costs nothing."""
        if self.full:
            cands = self.store.values('pods')
        else:
            keys = self.fresh | {q['pod'] for q in self.queue.values()}
            cands = [e for e in (self.store.get('pods', ns, name) for ns, name in keys) if e is not None]
        self.full, self.fresh = False, set()
        return [p for p in cands if not p.obj['spec'].get('nodeName') and not p.meta.get('deletionTimestamp')]

    def due(self, now):
        return any(q['moved'] and q['retry_at'] <= now for q in self.queue.values())

    def changed(self, events):
        """Store changes since the last look (None: unknown, all of them): a pod waiting for
        a node whose node or other pods changed may fit now (its own updates and events do
        not count, as the real queue's cluster events do not)."""
        if events is None:
            self.full = True
        else:
            self.fresh.update((ev.ns, ev.name) for ev in events if ev.res == 'pods' and ev.type == 'ADDED')
        if not self.queue:
            return
        names = None
        if events is not None:
            names = set()
            waiting = {q['pod'] for q in self.queue.values()}
            for ev in events:
                if ev.res == 'nodes':
                    names.add(ev.name)
                elif ev.res == 'pods' and (ev.ns, ev.name) not in waiting:
                    names.update(ev.nodes)
        for q in self.queue.values():
            if names is None or q['node'] is None or q['node'] in names:
                q['moved'] = True

    def run_once(self, now=None):
        """Tries every pod not yet bound that is due. Returns the entries bound."""
        now = time.monotonic() if now is None else now
        pods = self.pending()
        live = {p.meta['uid'] for p in pods}
        for uid in set(self.queue) - live:
            del self.queue[uid]
        bound = []
        by_node = None
        for p in pods:
            q = self.queue.get(p.meta['uid'])
            if q is not None and (not q['moved'] or q['retry_at'] > now):
                continue
            if by_node is None:
                by_node = self.bound_pods()
            e = self.schedule(p, by_node, now)
            if e is not None:
                bound.append(e)
                by_node.setdefault(e.obj['spec']['nodeName'], []).append(e.obj)
        return bound

    def bound_pods(self):
        by_node = {}
        for p in self.store.values('pods'):
            node = p.obj['spec'].get('nodeName')
            if node and (p.obj.get('status') or {}).get('phase') not in TERMINAL:
                by_node.setdefault(node, []).append(p.obj)
        return by_node

    def schedule(self, p, by_node, now):
        spec = p.obj['spec']
        nodes = self.store.data['nodes']
        names = prefilter_names(spec)
        look = sorted(n for n in names if ('', n) in nodes) if names is not None \
            else sorted(name for _, name in nodes)
        statuses = {}
        for name in look:
            st = filter_node(spec, nodes[('', name)].obj, by_node.get(name, ()))
            if st is None:
                return self.bind(p, name)
            statuses[name] = st
        self.unschedulable(p, fit_error(spec, len(nodes), statuses, sorted(n for _, n in nodes)), now,
                           look[0] if len(look) == 1 else None)
        return None

    def bind(self, p, node):
        """What POST pods/NAME/binding does: nodeName and PodScheduled=True."""
        self.queue.pop(p.meta['uid'], None)
        obj = p.copy()
        obj['spec']['nodeName'] = node
        st = obj.setdefault('status', {})
        conds = [c for c in st.get('conditions') or [] if c.get('type') != 'PodScheduled']
        conds.append({'type': 'PodScheduled', 'status': 'True', 'lastProbeTime': None,
                      'lastTransitionTime': rfc3339()})
        st['conditions'] = conds
        entry = self.store.replace('pods', obj)
        self.sim.kubelet.pod_added(entry)
        return entry

    def unschedulable(self, p, message, now, node):
        q = self.queue.setdefault(p.meta['uid'], {'attempts': 0})
        q['attempts'] += 1
        q['retry_at'] = now + min(BACKOFF_INITIAL * 2 ** (q['attempts'] - 1), BACKOFF_MAX)
        q['node'], q['moved'] = node, False
        q['pod'] = (p.meta['namespace'], p.meta['name'])
        old = [c for c in (p.obj.get('status') or {}).get('conditions') or [] if c.get('type') == 'PodScheduled']
        cond = {'type': 'PodScheduled', 'status': 'False', 'lastProbeTime': None,
                'lastTransitionTime': rfc3339(), 'reason': 'Unschedulable', 'message': message}
        if old and old[0].get('status') == 'False':
            cond['lastTransitionTime'] = old[0].get('lastTransitionTime') or cond['lastTransitionTime']
        if not old or old[0] != cond:
            obj = p.copy()
            st = obj.setdefault('status', {})
            st['conditions'] = [c for c in st.get('conditions') or [] if c.get('type') != 'PodScheduled'] + [cond]
            st.setdefault('phase', 'Pending')
            p = self.store.replace('pods', obj)
        self.event(p, message)

    def event(self, p, message):
        """A FailedScheduling event as the scheduler's events.k8s.io recorder writes it."""
        if not self.sim.events_on:
            return
        meta = p.meta
        self.store.create('events', {
            'apiVersion': 'v1', 'kind': 'Event',
            'metadata': {'name': '%s.%x' % (meta['name'], time.time_ns()), 'namespace': meta['namespace']},
            'involvedObject': {'apiVersion': 'v1', 'kind': 'Pod', 'name': meta['name'],
                               'namespace': meta['namespace'], 'uid': meta['uid'],
                               'resourceVersion': meta.get('resourceVersion')},
            'reason': 'FailedScheduling', 'message': message, 'type': 'Warning',
            'source': {}, 'firstTimestamp': None, 'lastTimestamp': None,
            'eventTime': micro_time(time.time()),
            'action': 'Scheduling', 'reportingComponent': 'default-scheduler',
            'reportingInstance': self.instance})


def micro_time(t):
    """metav1.MicroTime as the API server writes it: 2026-12-02T05:22:18.567645Z."""
    return time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(t)) + '.%06dZ' % int((t % 1) * 1e6)
