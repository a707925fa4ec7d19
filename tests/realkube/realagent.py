"""Kubelets for a real API server: registers nodes shaped like kube-sim's (nodes.py), keeps
them alive with node Lease heartbeats (so the real node-lifecycle controller runs), plays
the kubelet for their pods with kube-sim's own kubelet (kubelet.py over RemoteStore), and
answers kube-sim's /_sim/ admin API (admin.py) where a real cluster can do the same.

Node states: 'ready' (Lease renewed, Ready=True), 'notready' (Lease renewed, the kubelet
reports Ready=False), 'unknown' (heartbeats stop: the node-lifecycle controller marks the
node Unknown and taints it unreachable after its grace period)."""

import collections
import json
import queue
import random
import sys
import threading
import time

import admin as simadmin
import nodes as nodemod
from cluster import Cluster, Stats
from faults import Faults, ImageRules
from kclient import PATCH_MERGE, PATCH_STRATEGIC, ApiError
from kubelet import Kubelet
from remotestore import RemoteStore
from store import rfc3339

LEASES = '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases'
# Taints the node controllers own: the admin API never writes them on a real cluster.
CONTROLLER_TAINTS = (nodemod.TAINT_NOT_READY, nodemod.TAINT_UNREACHABLE, nodemod.TAINT_UNSCHEDULABLE)


def micro_now():
    t = time.time()
    return time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(t)) + '.%06dZ' % (int(t * 1e6) % 1000000)


def merge_diff(old, new):
    """A JSON merge patch turning old into new (dicts recurse, anything else replaces)."""
    out = {}
    for k in set(old) | set(new):
        if k not in new:
            out[k] = None
        elif isinstance(old.get(k), dict) and isinstance(new[k], dict):
            sub = merge_diff(old[k], new[k])
            if sub:
                out[k] = sub
        elif old.get(k) != new[k]:
            out[k] = new[k]
    return out


def _own_taints(spec):
    spec = dict(spec)
    taints = [t for t in spec.get('taints') or [] if t['key'] not in CONTROLLER_TAINTS]
    spec.pop('taints', None)
    if taints:
        spec['taints'] = taints
    return spec


class Agent:
    event = Cluster.event       # kube-sim's Event objects, created through store.create

    def __init__(self, clients, opts, heartbeat):
        self.new_client = clients
        self.opts = opts
        self.heartbeat = heartbeat
        self.client = clients()                 # admin operations (under self.lock)
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.store = RemoteStore(clients(), self.log_error, self.post_event,
                                 [clients() for _ in range(4)])
        self.kubelet = Kubelet(self.store, self, opts.time_scale)
        self.kubelet.cause_in_status = not getattr(opts, 'kubelet_cause_in_events', False)
        self.kubelet.publish = getattr(opts, 'kubelet_publish', 'change')
        self.store.on_pod = self.pod_seen
        self.faults = Faults(opts.seed)
        self.image_rules = ImageRules()
        self.stats = Stats()
        self.reqlog = collections.deque(maxlen=200000)
        self.log_lock = threading.Lock()
        self.inflight_n = 0
        self.inflight_cv = threading.Condition()
        self.rng = random.Random(opts.seed)
        self.events_on = not opts.no_events
        self.events_q = queue.Queue(maxsize=10000)
        self.state = {}                          # node name -> ready | notready | unknown
        self.users = {}                          # bearer token -> user name (request log)
        self.errors = 0

    def log_error(self, msg):
        self.errors += 1
        if self.errors <= 200:
            print('realkube: %s' % msg, flush=True, file=sys.stderr)

    # ---- start-up -------------------------------------------------------------------
    def start(self, node_specs):
        self.specs = node_specs
        for res, path in (('nodes', '/api/v1/nodes'), ('pods', '/api/v1/pods')):
            threading.Thread(target=self.store.follow, args=(self.new_client(), res, path, self.stop),
                             daemon=True).start()
        for obj in node_specs:
            self.register(obj)
        for target in (self.kubelet.run, self.beat, self.poster):
            if target != self.beat or self.heartbeat:
                threading.Thread(target=target, daemon=True).start()

    def register(self, obj):
        """Creates the Node (status included, as a kubelet registers) and its Lease."""
        obj = json.loads(json.dumps(obj))
        obj['metadata'].pop('managedFields', None)
        name = obj['metadata']['name']
        with self.lock:
            created = self.client.call('POST', '/api/v1/nodes', obj)
            if not created.get('status', {}).get('conditions'):
                created = self.client.call('PUT', '/api/v1/nodes/%s/status' % name,
                                           dict(created, status=obj['status']))
            self.client.call('POST', LEASES, {
                'apiVersion': 'coordination.k8s.io/v1', 'kind': 'Lease',
                'metadata': {'name': name, 'ownerReferences': [{
                    'apiVersion': 'v1', 'kind': 'Node', 'name': name,
                    'uid': created['metadata']['uid']}]},
                'spec': {'holderIdentity': name, 'leaseDurationSeconds': 40,
                         'renewTime': micro_now()}})
            self.state[name] = 'ready'
        return created

    def wait_schedulable(self, names, seconds):
        """True once every node is in the cache Ready and without a not-ready taint."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with self.store.lock:
                ok = all(self._schedulable(self.store.get('nodes', '', n)) for n in names)
            if ok:
                return True
            time.sleep(0.2)
        return False

    @staticmethod
    def _schedulable(entry):
        if entry is None or not nodemod.is_ready(entry.obj):
            return False
        return not any(t['key'] in CONTROLLER_TAINTS for t in entry.obj['spec'].get('taints') or [])

    # ---- loops ----------------------------------------------------------------------
    def beat(self):
        client = self.new_client()
        while not self.stop.wait(self.heartbeat):
            with self.lock:
                alive = [n for n, s in self.state.items() if s != 'unknown']
            for name in alive:
                try:
                    client.call('PATCH', '%s/%s' % (LEASES, name),
                                {'spec': {'renewTime': micro_now()}}, PATCH_MERGE)
                except (ApiError, OSError) as e:
                    if getattr(e, 'code', 0) != 404:
                        self.log_error('lease %s: %s' % (name, e))

    def poster(self):
        client = self.new_client()
        while not self.stop.is_set():
            try:
                obj = self.events_q.get(timeout=0.5)
            except queue.Empty:
                continue
            ns = obj['metadata']['namespace']
            try:
                client.call('POST', '/api/v1/namespaces/%s/events' % ns, obj)
            except (ApiError, OSError) as e:
                self.log_error('event: %s' % e)

    def post_event(self, obj):
        try:
            self.events_q.put_nowait(obj)
        except queue.Full:
            pass

    def pod_seen(self, entry):
        with self.kubelet.lock:
            if entry.meta['uid'] not in self.kubelet.pods:
                self.kubelet.pod_added(entry)

    # ---- what kube-sim's admin.py calls ---------------------------------------------
    def set_ready(self, name, state):
        texts = {'True': ('KubeletReady', 'kubelet is posting ready status'),
                 'False': ('KubeletNotReady', 'container runtime network not ready: NetworkReady=false')}
        with self.lock:
            if name not in self.state:
                return None
            self.state[name] = {'True': 'ready', 'False': 'notready'}.get(state, 'unknown')
            if state == 'Unknown':
                return {'name': name, 'heartbeats': 'stopped'}
            reason, message = texts[state]
            now = rfc3339()
            cond = {'type': 'Ready', 'status': state, 'reason': reason, 'message': message,
                    'lastHeartbeatTime': now, 'lastTransitionTime': now}
            new = self.client.call('PATCH', '/api/v1/nodes/%s/status' % name,
                                   {'status': {'conditions': [cond]}}, PATCH_STRATEGIC)
        self.store._apply('nodes', 'MODIFIED', new)
        return {'name': name, 'resourceVersion': new['metadata']['resourceVersion']}

    def change_node(self, name, fn):
        """Applies fn to a copy of the node and sends labels and spec as a merge patch;
        the taints the node controllers own are theirs to write."""
        cur = self.store.get('nodes', '', name)
        if cur is None:
            return None
        obj = cur.copy()
        fn(obj)
        patch = merge_diff({'metadata': {'labels': cur.obj['metadata'].get('labels') or {}},
                            'spec': _own_taints(cur.obj['spec'])},
                           {'metadata': {'labels': obj['metadata'].get('labels') or {}},
                            'spec': _own_taints(obj['spec'])})
        with self.lock:
            new = self.client.call('PATCH', '/api/v1/nodes/' + name, patch, PATCH_MERGE)
        return self.store._apply('nodes', 'MODIFIED', new)

    def set_allocatable(self, name, alloc):
        """status.allocatable as a kubelet reports it (a merge patch of the node's status)."""
        if self.store.get('nodes', '', name) is None:
            return None
        with self.lock:
            new = self.client.call('PATCH', '/api/v1/nodes/%s/status' % name,
                                   {'status': {'allocatable': alloc}}, PATCH_MERGE)
        return self.store._apply('nodes', 'MODIFIED', new)

    def add_node(self, spec):
        with self.lock:
            index = len(self.state) + 1
        name = spec.get('name') or 'node-x%04d' % index
        obj = nodemod.make_node(name, index + 1000, spec.get('zone', nodemod.zone_name(index % max(self.opts.zones, 1))),
                                spec.get('arch', 'amd64'), bool(spec.get('controlPlane')),
                                int(spec.get('images', self.opts.images_per_node)), spec.get('labels'))
        for t in spec.get('taints') or []:
            obj['spec'].setdefault('taints', []).append(t)
        created = self.register(obj)
        return self.store._apply('nodes', 'MODIFIED', created)

    def delete_node(self, name):
        with self.lock:
            if self.state.pop(name, None) is None:
                return False
            try:
                self.client.call('DELETE', '/api/v1/nodes/' + name)
            except ApiError as e:
                if e.code != 404:
                    raise
                return False
        with self.kubelet.lock:
            self.kubelet.disk.pop(name, None)
        return True

    def reset_cluster(self):
        """Back to the starting state as kube-sim's reset does: DaemonSets and pods gone
        (pods forced), every node deleted and registered afresh with its Lease."""
        with self.lock:
            for ns in self._namespaces():
                base = '/apis/apps/v1/namespaces/%s/daemonsets' % ns
                self.client.call('DELETE', base + '?propagationPolicy=Background')
                self.client.call('DELETE', '/api/v1/namespaces/%s/pods' % ns,
                                 {'kind': 'DeleteOptions', 'apiVersion': 'v1', 'gracePeriodSeconds': 0})
            self.client.call('DELETE', '/api/v1/nodes')
            self.client.call('DELETE', LEASES)
            self.state.clear()
        self.kubelet.reset()
        deadline = time.monotonic() + 30
        while self.store.data['nodes'] and time.monotonic() < deadline:
            time.sleep(0.1)      # the watch has seen the deletions
        for obj in self.specs:
            self.register(obj)
        names = [o['metadata']['name'] for o in self.specs]
        if not self.wait_schedulable(names, 60):
            raise RuntimeError('nodes did not become Ready after the reset')

    def _namespaces(self):
        return [n['metadata']['name'] for n in self.client.get('/api/v1/namespaces')['items']
                if n['metadata']['name'] not in ('kube-system', 'kube-public', 'kube-node-lease')]

    # ---- the proxy's records --------------------------------------------------------
    def inflight(self, delta):
        with self.inflight_cv:
            self.inflight_n += delta
            self.inflight_cv.notify_all()

    def record(self, method, url, verb, resource, code, authz, started):
        self.stats.add(method, verb, resource.split('/')[0], code)
        user = self.users.get((authz or '')[7:].strip()) if authz else None
        rec = {'ts': time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(started))
               + '.%03dZ' % (int(started * 1000) % 1000),
               'method': method, 'path': url.path, 'query': url.query, 'verb': verb,
               'resource': resource, 'status': code, 'user': user,
               'ms': round((time.time() - started) * 1000, 1)}
        with self.log_lock:
            self.reqlog.append(json.dumps(rec, separators=(',', ':')))

    def settle(self, query):
        """kube-sim's GET /_sim/settle: until no proxied request is still to be logged."""
        try:
            timeout = float(query.get('timeout', ['10'])[0])
        except ValueError:
            return 400, {'error': 'timeout must be a number of seconds'}, 'application/json'
        with self.inflight_cv:
            self.inflight_cv.wait_for(lambda: self.inflight_n == 0, timeout=timeout)
            n = self.inflight_n
        return (200 if n == 0 else 504), {'inflight': n}, 'application/json'

    def admin(self, method, path, query, body):
        """kube-sim's admin API; Ready-state changes are heartbeats here."""
        parts = [p for p in path.split('/') if p][1:]
        if path.startswith(('/_sim/log', '/_sim/stats')):
            with self.inflight_cv:
                self.inflight_cv.wait_for(lambda: self.inflight_n == 0, timeout=2.0)
        if parts == ['settle'] and method == 'GET':
            return self.settle(query)
        try:
            if len(parts) == 3 and parts[0] == 'nodes' and parts[2] in simadmin.READY \
                    and method == 'POST':
                out = self.set_ready(parts[1], simadmin.READY[parts[2]])
                if out is None:
                    return 404, {'error': 'node %s not found' % parts[1]}, 'application/json'
                return 200, out, 'application/json'
            return simadmin.handle(self, method, path, query, body)
        except RuntimeError as e:
            return 500, {'error': str(e)}, 'application/json'
        except ApiError as e:
            return e.code, {'error': str(e), 'status': e.status}, 'application/json'
