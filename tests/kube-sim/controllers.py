"""The DaemonSet controller and the garbage collector (owner references, finalizers,
pods of deleted nodes).  Both run in one thread that wakes on store changes."""

import hashlib
import random
import threading
import time

import admission
import apierrors
import nodes as nodemod
import scheduler as schedmod
import labelsel as sel
import validation
from store import target_node

BACKOFF_BASE, BACKOFF_MAX = 0.005, 1000.0   # client-go's per-item work queue back-off

AUTO_TOLERATIONS = [
    {'key': 'node.kubernetes.io/not-ready', 'operator': 'Exists', 'effect': 'NoExecute'},
    {'key': 'node.kubernetes.io/unreachable', 'operator': 'Exists', 'effect': 'NoExecute'},
    {'key': 'node.kubernetes.io/disk-pressure', 'operator': 'Exists', 'effect': 'NoSchedule'},
    {'key': 'node.kubernetes.io/memory-pressure', 'operator': 'Exists', 'effect': 'NoSchedule'},
    {'key': 'node.kubernetes.io/pid-pressure', 'operator': 'Exists', 'effect': 'NoSchedule'},
    {'key': 'node.kubernetes.io/unschedulable', 'operator': 'Exists', 'effect': 'NoSchedule'},
]
NETWORK_TOLERATION = {'key': 'node.kubernetes.io/network-unavailable', 'operator': 'Exists',
                      'effect': 'NoSchedule'}
NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789'


def tolerates(tol, taint):
    if tol.get('effect') and tol['effect'] != taint.get('effect'):
        return False
    if tol.get('operator', 'Equal') == 'Exists':
        return not tol.get('key') or tol['key'] == taint.get('key')
    return tol.get('key') == taint.get('key') and (tol.get('value') or '') == (taint.get('value') or '')


def daemon_tolerations(pspec):
    tols = list(pspec.get('tolerations') or [])
    extra = AUTO_TOLERATIONS + ([NETWORK_TOLERATION] if pspec.get('hostNetwork') else [])
    for t in extra:
        if not any(x.get('key') == t['key'] and x.get('effect') == t['effect'] for x in tols):
            tols.append(dict(t))
    return tols


def node_should_run(pspec, node):
    """(should_run, should_continue_running) for a daemon pod template on node."""
    labels = node['metadata'].get('labels') or {}
    for k, v in (pspec.get('nodeSelector') or {}).items():
        if labels.get(k) != v:
            return False, False
    req = ((pspec.get('affinity') or {}).get('nodeAffinity') or {}) \
        .get('requiredDuringSchedulingIgnoredDuringExecution')
    if req is not None and not sel.node_selector_terms_match(req.get('nodeSelectorTerms'), node):
        return False, False
    tols = daemon_tolerations(pspec)
    run = cont = True
    for taint in node.get('spec', {}).get('taints') or []:
        if taint.get('effect') not in ('NoSchedule', 'NoExecute'):
            continue
        if any(tolerates(t, taint) for t in tols):
            continue
        run = False
        if taint['effect'] == 'NoExecute':
            cont = False
    return run, cont


def max_unavailable(strategy, desired):
    v = ((strategy.get('rollingUpdate') or {}).get('maxUnavailable'))
    if v is None:
        return 1
    if isinstance(v, str) and v.endswith('%'):
        try:
            return max(1, -(-int(v[:-1]) * desired // 100))
        except ValueError:
            return 1
    try:
        return max(1, int(v))
    except (TypeError, ValueError):
        return 1


def pod_ready(pod):
    for c in pod.get('status', {}).get('conditions') or []:
        if c.get('type') == 'Ready':
            return c.get('status') == 'True'
    return False


def owner_uid(pod):
    for ref in pod['metadata'].get('ownerReferences') or []:
        if ref.get('controller'):
            return ref.get('uid')
    return None


def template_hash(tmpl):
    return hashlib.sha256(repr(sorted(str(tmpl))).encode()).hexdigest()[:10]


class Controllers:
    def __init__(self, store, sim):
        self.store = store
        self.sim = sim
        self.rng = random.Random()
        self.state = {}    # ds uid -> {'gen', 'fit': {node: (Entry, run, cont)}, 'per_node': {node: share}}
        self.seen = None   # store change position after the last reconcile
        self.stop = threading.Event()
        self.scheduler = schedmod.Scheduler(store, sim)

    def run(self):
        while not self.stop.is_set():
            self.store.dirty.wait(0.5)
            self.store.dirty.clear()
            try:
                self.reconcile()
            except Exception as e:  # a controller bug must not kill the simulator
                self.sim.log_error('controllers: %r' % (e,))
            time.sleep(0.02)

    # ---- what changed ---------------------------------------------------------------
    def changes_since_last(self):
        """The node names whose node or pods changed since the last reconcile (Events and
        this controller's own writes do not count), or None when everything must be
        looked at again (a DaemonSet or namespace changed, history was compacted)."""
        store = self.store
        first = store.change_count - len(store.history)
        if self.seen is None or self.seen < first:
            return None
        names = set()
        for ev in store.history[self.seen - first:]:
            if ev.res == 'events':
                continue
            if ev.res == 'nodes':
                names.add(ev.name)
            elif ev.res == 'pods':
                names.update(ev.nodes)
            else:
                return None
        return names

    def retry_due(self):
        """A DaemonSet whose pod creation failed is due for another try."""
        now = time.monotonic()
        return any(st.get('failures') and st.get('retry_at', 0.0) <= now for st in self.state.values())

    def reconcile(self):
        with self.store.lock:
            names = self.changes_since_last()
            self.scheduler.changed(self.history_since_last())
            if names is not None and self.retry_due():
                names = None
            if self.store.data['resourcequotas']:
                for ns in {ns for ns, _ in self.store.data['resourcequotas']}:
                    admission.refresh_quota_status(self.store, ns)
            if names is not None and not names and not self.scheduler.fresh and \
                    not self.scheduler.due(time.monotonic()):
                self.seen = self.store.change_count
                return          # an idle cluster of 10,000 pods costs nothing
            if names is None or (names and not self.sync_nodes(names)):
                self.sync_all()
            # the scheduler binds what the controller created (its own loop in a real cluster)
            self.scheduler.run_once()
            self.seen = self.store.change_count

    def history_since_last(self):
        store = self.store
        first = store.change_count - len(store.history)
        if self.seen is None or self.seen < first:
            return None
        return store.history[self.seen - first:]

    def sync_all(self):
        nodes = self.store.data['nodes']        # {('', name): Entry}, read under the lock
        by_owner = {}
        for p in self.store.values('pods'):
            node = target_node(p.obj)
            if node and ('', node) not in nodes:
                self.sim.remove_pod(p, force=True)
                continue
            by_owner.setdefault(owner_uid(p.obj), []).append(p)
        ds_uids = set()
        daemonsets = self.store.values('daemonsets')
        for uid in set(self.state) - {d.meta['uid'] for d in daemonsets}:
            del self.state[uid]
        for ds in daemonsets:
            ds_uids.add(ds.meta['uid'])
            self.gc_daemonset(ds, by_owner.get(ds.meta['uid'], []))
            if not ds.meta.get('deletionTimestamp'):
                self.sync_daemonset(ds, nodes, by_owner.get(ds.meta['uid'], []))
        for uid, pods in by_owner.items():
            if uid is not None and uid not in ds_uids:
                for p in pods:
                    self.sim.delete_pod(p)

    def sync_nodes(self, names):
        """Re-syncs only the named nodes for every DaemonSet; False when a full sync is
        needed instead (a DaemonSet being deleted, or one not synced yet)."""
        daemonsets = self.store.values('daemonsets')
        for ds in daemonsets:
            st = self.state.get(ds.meta['uid'])
            if ds.meta.get('deletionTimestamp') or st is None or \
                    st['gen'] != str(ds.meta.get('generation', 1)):
                return False
        nodes = self.store.data['nodes']
        pods_on = {}
        for p in self.store.data['pods'].values():
            node = target_node(p.obj)
            if node in names:
                pods_on.setdefault(node, []).append(p)
        for name in names:
            if ('', name) not in nodes:
                for p in pods_on.pop(name, ()):
                    self.sim.remove_pod(p, force=True)
        for ds in daemonsets:
            uid = ds.meta['uid']
            st = self.state[uid]
            pspec = ds.obj['spec']['template'].get('spec') or {}
            for name in names:
                n = nodes.get(('', name))
                if n is None:
                    st['fit'].pop(name, None)
                    st['per_node'].pop(name, None)
                    continue
                mine = [p for p in pods_on.get(name, ()) if owner_uid(p.obj) == uid]
                self.sync_node(ds, pspec, st, name, n, mine)
            self.finish(ds, st)
        return True

    # ---- DaemonSet controller -------------------------------------------------------
    def sync_daemonset(self, ds, nodes, pods):
        pspec = ds.obj['spec']['template'].get('spec') or {}
        on_node = {}
        for p in pods:
            on_node.setdefault(target_node(p.obj), []).append(p)
        gen = str(ds.meta.get('generation', 1))
        st = self.state.get(ds.meta['uid'])
        if st is None or st['gen'] != gen:
            old = st or {}
            st = self.state[ds.meta['uid']] = {'gen': gen, 'fit': {}, 'per_node': {},
                                               'failures': old.get('failures', 0),
                                               'retry_at': old.get('retry_at', 0.0)}
        st['per_node'] = {}
        for (_, name), n in nodes.items():
            self.sync_node(ds, pspec, st, name, n, on_node.get(name))
        self.finish(ds, st)

    def sync_node(self, ds, pspec, st, name, n, mine):
        """One node for one DaemonSet: creates or deletes its pod, records the node's
        share of the status counts in st['per_node'].  node_should_run is remembered per
        node Entry (entries are immutable and replaced on change)."""
        fit = st['fit']
        hit = fit.get(name)
        if hit is not None and hit[0] is n:
            run, cont = hit[1], hit[2]
        else:
            run, cont = node_should_run(pspec, n.obj)
            fit[name] = (n, run, cont)
        if not run and not mine:
            st['per_node'].pop(name, None)
            return
        have = [p for p in mine or () if not p.meta.get('deletionTimestamp')]
        if run and not have and st.get('retry_at', 0.0) <= time.monotonic():
            pod = self.create_pod(ds, name, st)
            have = [pod] if pod is not None else []
        elif not cont and have:
            for p in have:
                self.sim.delete_pod(p, reason='SuccessfulDelete', ds=ds)
            have = []
        for extra in have[1:]:
            self.sim.delete_pod(extra, reason='SuccessfulDelete', ds=ds)
        # (desired, current, ready, updated, misscheduled, outdated pod or None)
        if run and have:
            ready = pod_ready(have[0].obj)
            labels = have[0].meta.get('labels') or {}
            fresh = labels.get('pod-template-generation') == st['gen']
            share = (1, 1, ready, fresh, 0, None if fresh else have[0])
        elif run:
            share = (1, 0, 0, 0, 0, None)
        else:
            share = (0, 0, 0, 0, 1 if have else 0, None)
        st['per_node'][name] = share

    def finish(self, ds, st):
        counts = {'desired': 0, 'current': 0, 'mis': 0, 'ready': 0, 'updated': 0}
        outdated = []
        for d, cur, ready, upd, mis, old in st['per_node'].values():
            counts['desired'] += d
            counts['current'] += cur
            counts['ready'] += ready
            counts['updated'] += upd
            counts['mis'] += mis
            if old is not None:
                outdated.append((ready, old))
        self.rolling_update(ds, counts, outdated)
        self.update_status(ds, counts)

    def rolling_update(self, ds, st, outdated):
        """RollingUpdate without surge: outdated pods that are not ready go at once, ready
        ones while fewer than maxUnavailable pods are unavailable; the sync that follows
        creates their replacements.  OnDelete leaves them alone."""
        strategy = ds.obj['spec'].get('updateStrategy') or {}
        if not outdated or strategy.get('type', 'RollingUpdate') != 'RollingUpdate':
            return
        budget = max_unavailable(strategy, st['desired']) - (st['desired'] - st['ready'])
        for ready, p in sorted(outdated, key=lambda x: x[0]):
            if ready:
                if budget <= 0:
                    break
                budget -= 1
            self.sim.delete_pod(p, reason='SuccessfulDelete', ds=ds)

    def update_status(self, ds, st):
        status = {'currentNumberScheduled': st['current'], 'numberMisscheduled': st['mis'],
                  'desiredNumberScheduled': st['desired'], 'numberReady': st['ready'],
                  'observedGeneration': ds.meta.get('generation', 1),
                  'updatedNumberScheduled': st['updated'], 'numberAvailable': st['ready']}
        if st['desired'] - st['ready'] > 0:
            status['numberUnavailable'] = st['desired'] - st['ready']
        if not st['ready']:
            del status['numberAvailable']
        if not st['updated']:
            del status['updatedNumberScheduled']
        if ds.obj.get('status') == status:
            return
        obj = ds.copy()
        obj['status'] = status
        self.store.replace('daemonsets', obj)

    def create_pod(self, ds, node, st):
        """Creates the daemon pod for node through admission, as the real controller's API
        call does.  A refused pod gives a FailedCreate event (`Error creating: <the
        server's message>`) and puts the DaemonSet in the work queue's back-off (5 ms
        doubling to 1000 s, not scaled); returns None then."""
        meta = ds.meta
        pod = self.pod_for(ds, node)
        try:
            validation.default_pod_spec(pod['spec'], pod=True)
            admission.mutate_pod(self.store, pod, meta['name'] + '-')
            admission.validate_pod(self.store, pod, pod['metadata']['name'])
        except apierrors.ApiError as e:
            self.sim.controller_event(ds.obj, 'Warning', 'FailedCreate',
                                      'Error creating: %s' % e.status['message'], 'daemonset-controller')
            st['failures'] = st.get('failures', 0) + 1
            st['retry_at'] = time.monotonic() + min(BACKOFF_BASE * 2 ** (st['failures'] - 1), BACKOFF_MAX)
            return None
        st['failures'] = 0
        pod['status']['qosClass'] = qos_class(pod['spec'])
        entry = self.store.create('pods', pod)
        self.scheduler.note(entry)
        self.sim.controller_event(ds.obj, 'Normal', 'SuccessfulCreate', 'Created pod: %s' % pod['metadata']['name'],
                                  'daemonset-controller')
        admission.refresh_quota_status(self.store, meta['namespace'])
        return entry

    def pod_for(self, ds, node):
        meta = ds.meta
        tmpl = ds.obj['spec']['template']
        while True:
            name = '%s-%s' % (meta['name'], ''.join(self.rng.choice(NAME_CHARS) for _ in range(5)))
            if self.store.get('pods', meta['namespace'], name) is None:
                break
        tcopy = ds.copy()['spec']['template']
        labels = dict(tcopy['metadata'].get('labels') or {})
        labels['controller-revision-hash'] = template_hash(tmpl)
        labels['pod-template-generation'] = str(meta.get('generation', 1))
        pmeta = {'name': name, 'generateName': meta['name'] + '-', 'namespace': meta['namespace'],
                 'labels': labels,
                 'ownerReferences': [{'apiVersion': 'apps/v1', 'kind': 'DaemonSet',
                                      'name': meta['name'], 'uid': meta['uid'],
                                      'controller': True, 'blockOwnerDeletion': True}]}
        if tcopy['metadata'].get('annotations'):
            pmeta['annotations'] = tcopy['metadata']['annotations']
        pspec = tcopy.get('spec') or {}
        # no nodeName: the scheduler binds the pod (scheduler.py), as since Kubernetes 1.12
        pspec['tolerations'] = daemon_tolerations(pspec)
        aff = pspec.setdefault('affinity', {}).setdefault('nodeAffinity', {})
        aff['requiredDuringSchedulingIgnoredDuringExecution'] = {'nodeSelectorTerms': [{
            'matchFields': [{'key': 'metadata.name', 'operator': 'In', 'values': [node]}]}]}
        pspec.setdefault('serviceAccountName', 'default')
        pspec.setdefault('serviceAccount', pspec['serviceAccountName'])
        pspec.setdefault('enableServiceLinks', True)
        return {'apiVersion': 'v1', 'kind': 'Pod', 'metadata': pmeta, 'spec': pspec,
                'status': {'phase': 'Pending'}}

    # ---- garbage collector ----------------------------------------------------------
    def gc_daemonset(self, ds, pods):
        if not ds.meta.get('deletionTimestamp'):
            return
        fins = ds.meta.get('finalizers') or []
        if 'orphan' in fins:
            for p in pods:
                obj = p.copy()
                refs = [r for r in obj['metadata'].get('ownerReferences') or []
                        if r.get('uid') != ds.meta['uid']]
                if refs:
                    obj['metadata']['ownerReferences'] = refs
                else:
                    obj['metadata'].pop('ownerReferences', None)
                self.store.replace('pods', obj)
            self.drop_finalizer(ds, 'orphan')
        elif 'foregroundDeletion' in fins:
            for p in pods:
                self.sim.delete_pod(p)
            if not pods:
                self.drop_finalizer(ds, 'foregroundDeletion')

    def drop_finalizer(self, ds, fin):
        obj = ds.copy()
        fins = [f for f in obj['metadata'].get('finalizers') or [] if f != fin]
        if fins:
            obj['metadata']['finalizers'] = fins
            self.store.replace('daemonsets', obj)
        else:
            self.store.remove('daemonsets', ds.meta['namespace'], ds.meta['name'])


def qos_class(pspec):
    ctrs = (pspec.get('initContainers') or []) + (pspec.get('containers') or [])
    res = [c.get('resources') or {} for c in ctrs]
    if not any(r.get('requests') or r.get('limits') for r in res):
        return 'BestEffort'
    for r in res:
        lim = r.get('limits') or {}
        req = r.get('requests') or lim
        if not lim.get('cpu') or not lim.get('memory') or req != lim:
            return 'Burstable'
    return 'Guaranteed'


def node_is_ready(node):
    return nodemod.is_ready(node)
