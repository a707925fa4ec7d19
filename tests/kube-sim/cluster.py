"""The simulated cluster: the store plus its controllers, kubelets, rules and records."""

import collections
import gc
import json
import random
import sys
import threading
import time

import admission
import events
import nodes as nodemod
from controllers import Controllers
from faults import Faults, ImageRules
from kubelet import Kubelet
from store import Store, rfc3339

SYSTEM_NAMESPACES = ('default', 'kube-system', 'kube-public', 'kube-node-lease')


class Stats:
    """Request counters by verb, resource, status code and HTTP method."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.total = 0
            self.counts = {k: collections.Counter() for k in
                           ('verb', 'resource', 'code', 'method', 'verb_resource', 'verb_resource_code')}

    def add(self, method, verb, resource, code):
        with self.lock:
            self.total += 1
            c = self.counts
            c['verb'][verb] += 1
            c['resource'][resource] += 1
            c['code'][str(code)] += 1
            c['method'][method] += 1
            c['verb_resource']['%s %s' % (verb, resource)] += 1
            c['verb_resource_code']['%s %s %s' % (verb, resource, code)] += 1

    def snapshot(self):
        with self.lock:
            out = {'total': self.total}
            for k, v in self.counts.items():
                out['by_' + k] = dict(sorted(v.items()))
            return out


class Cluster:
    def __init__(self, opts):
        self.opts = opts
        self.store = Store(history=opts.watch_history, continue_ttl=opts.continue_ttl,
                           max_events=opts.max_events)
        self.faults = Faults(opts.seed)
        self.image_rules = ImageRules()
        self.kubelet = Kubelet(self.store, self, opts.time_scale)
        self.controllers = Controllers(self.store, self)
        self.stats = Stats()
        self.reqlog = collections.deque(maxlen=200000)
        self.log_lock = threading.Lock()
        # Requests answered but not yet logged: /_sim/log and /_sim/stats wait for them, so a
        # client that reads them right after its own request always finds it there.
        self.inflight = 0
        self.inflight_cv = threading.Condition()
        self.rng = random.Random(opts.seed)
        self.events_on = not opts.no_events
        self.correlator = events.Correlator()
        self.populate()

    def populate(self):
        # the initial objects are many and acyclic: no collector passes while making them,
        # and none over them afterwards (gc.freeze); refcounting still frees old versions
        enabled = gc.isenabled()
        gc.disable()
        try:
            self._populate()
        finally:
            if enabled:
                gc.enable()
        gc.freeze()

    def _populate(self):
        with self.store.lock:
            for ns in SYSTEM_NAMESPACES:
                self.store.create('namespaces', {'metadata': {
                    'name': ns, 'labels': {'kubernetes.io/metadata.name': ns}},
                    'spec': {'finalizers': ['kubernetes']}, 'status': {'phase': 'Active'}})
            for pc in admission.system_priority_classes():
                self.store.create('priorityclasses', pc)
            for n in nodemod.initial_nodes(self.opts.nodes, self.opts.zones, self.opts.arch,
                                           self.opts.control_plane, self.opts.images_per_node):
                self.store.create('nodes', n)

    def start(self):
        for target in (self.controllers.run, self.kubelet.run):
            threading.Thread(target=target, daemon=True).start()

    def reset_cluster(self):
        """Back to the starting state: initial nodes and namespaces, no workloads."""
        with self.store.lock:
            for res in list(self.store.data):
                for e in self.store.values(res):
                    self.store.remove(res, e.meta.get('namespace', ''), e.meta['name'])
            self.kubelet.reset()
            self.populate()

    # ---- helpers used by controllers, kubelet and the API ---------------------------
    def log_error(self, msg):
        print('kube-sim: %s' % msg, file=sys.stderr, flush=True)

    def log_request(self, rec):
        with self.log_lock:
            self.reqlog.append(json.dumps(rec, separators=(',', ':')))

    def event(self, involved, etype, reason, message, component, host=None, field_path=None):
        if not self.events_on:
            return
        meta = involved['metadata']
        now = rfc3339()
        obj = {'apiVersion': 'v1', 'kind': 'Event',
               'metadata': {'name': '%s.%016x' % (meta['name'], self.rng.getrandbits(64)),
                            'namespace': meta.get('namespace') or 'default'},
               'involvedObject': {'kind': involved.get('kind'), 'apiVersion': involved.get('apiVersion'),
                                  'namespace': meta.get('namespace'), 'name': meta['name'],
                                  'uid': meta.get('uid')},
               'reason': reason, 'message': message,
               'source': {'component': component}, 'firstTimestamp': now, 'lastTimestamp': now,
               'count': 1, 'type': etype, 'eventTime': None,
               'reportingComponent': component, 'reportingInstance': host or ''}
        if field_path:
            obj['involvedObject']['fieldPath'] = field_path
        if host:
            obj['source']['host'] = host
        self.store.create('events', obj)

    def controller_event(self, involved, etype, reason, message, component):
        """An event as a controller's recorder writes it: name <object>.<hex nanoseconds>,
        involvedObject with apiVersion and resourceVersion, no reportingComponent, and
        client-go's correlation (events.py: spam filter, aggregation, counting)."""
        if not self.events_on:
            return
        meta = involved['metadata']
        now = time.time()
        ts = rfc3339(now)
        ev = {'apiVersion': 'v1', 'kind': 'Event',
              'metadata': {'name': '%s.%x' % (meta['name'], time.time_ns()),
                           'namespace': meta.get('namespace') or 'default'},
              'involvedObject': {'kind': involved.get('kind'), 'namespace': meta.get('namespace'),
                                 'name': meta['name'], 'uid': meta.get('uid'),
                                 'apiVersion': involved.get('apiVersion'),
                                 'resourceVersion': meta.get('resourceVersion')},
              'reason': reason, 'message': message, 'source': {'component': component},
              'firstTimestamp': ts, 'lastTimestamp': ts, 'count': 1, 'type': etype,
              'eventTime': None, 'reportingComponent': '', 'reportingInstance': ''}
        with self.store.lock:
            seen = self.correlator.observe(ev, now)
            if seen is None:
                return
            if seen[0] == 'create':
                self.store.create('events', ev)
                return
            _, name, count, first = seen
            cur = self.store.get('events', ev['metadata']['namespace'], name)
            if cur is None:
                return
            obj = cur.copy()
            obj.update(count=count, lastTimestamp=ts, message=ev['message'])
            self.store.replace('events', obj)

    def delete_pod(self, entry, grace=None, reason=None, ds=None):
        """Graceful deletion: the kubelet finishes it; an unbound pod or one whose node is
        gone goes at once.  Returns the Entry now stored (or the removed one)."""
        with self.store.lock:
            cur = self.store.get('pods', entry.meta['namespace'], entry.meta['name'])
            if cur is None or cur.meta['uid'] != entry.meta['uid']:
                return None
            if cur.meta.get('deletionTimestamp'):
                # a kubelet finishes a graceful deletion with gracePeriodSeconds=0
                return self.remove_pod(cur, force=True) if grace == 0 else cur
            if ds is not None and reason:
                self.controller_event(ds.obj, 'Normal', reason, 'Deleted pod: %s' % cur.meta['name'],
                                      'daemonset-controller')
            node = cur.obj['spec'].get('nodeName')
            if grace == 0 or not node or self.store.get('nodes', '', node) is None:
                return self.remove_pod(cur, force=True)
            obj = cur.copy()
            g = grace if grace is not None else obj['spec'].get('terminationGracePeriodSeconds', 30)
            obj['metadata']['deletionTimestamp'] = rfc3339(time.time() + g)
            obj['metadata']['deletionGracePeriodSeconds'] = g
            return self.store.replace('pods', obj)

    def remove_pod(self, entry, force=True):
        return self.store.remove('pods', entry.meta['namespace'], entry.meta['name'])

    # ---- admin operations on nodes --------------------------------------------------
    def change_node(self, name, fn):
        with self.store.lock:
            cur = self.store.get('nodes', '', name)
            if cur is None:
                return None
            obj = cur.copy()
            fn(obj)
            return self.store.replace('nodes', obj)

    def set_allocatable(self, name, alloc):
        """What a kubelet reports as status.allocatable (pods, cpu, memory, ...)."""
        return self.change_node(name, lambda n: n['status'].setdefault('allocatable', {}).update(alloc))

    def add_node(self, spec):
        with self.store.lock:
            index = len(self.store.data['nodes']) + 1
            name = spec.get('name') or 'node-x%04d' % index
            arch = spec.get('arch', 'amd64')
            zone = spec.get('zone', nodemod.zone_name(index % max(self.opts.zones, 1)))
            obj = nodemod.make_node(name, index + 1000, zone, arch, bool(spec.get('controlPlane')),
                                    int(spec.get('images', self.opts.images_per_node)),
                                    spec.get('labels'))
            for t in spec.get('taints') or []:
                obj['spec'].setdefault('taints', []).append(t)
            return self.store.create('nodes', obj)

    def delete_node(self, name):
        with self.store.lock:
            gone = self.store.remove('nodes', '', name)
            self.kubelet.disk.pop(name, None)
            return gone
