"""The DaemonSet controller and the garbage collector (owner references, finalizers,
pods of deleted nodes).  Both run in one thread that wakes on store changes."""

import hashlib
import random
import threading
import time

import nodes as nodemod
import labelsel as sel
from store import rfc3339

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
        self.fit = {}      # ds uid -> (generation, {node name: (node Entry, run, cont)})
        self.seen = None   # store change position after the last reconcile
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            self.store.dirty.wait(0.5)
            self.store.dirty.clear()
            try:
                self.reconcile()
            except Exception as e:  # a controller bug must not kill the simulator
                self.sim.log_error('controllers: %r' % (e,))
            time.sleep(0.02)

    def changed_since_last(self):
        """False when nothing but Events and this controller's own writes happened since
        the last reconcile: an idle 10,000-pod DaemonSet then costs nothing."""
        store = self.store
        first = store.change_count - len(store.history)
        if self.seen is None or self.seen < first:
            return True
        return any(ev.res != 'events' for ev in store.history[self.seen - first:])

    def reconcile(self):
        with self.store.lock:
            if not self.changed_since_last():
                return
            self.sync_all()
            self.seen = self.store.change_count

    def sync_all(self):
        with self.store.lock:
            nodes = self.store.data['nodes']        # {('', name): Entry}, read under the lock
            by_owner = {}
            for p in self.store.values('pods'):
                node = p.obj['spec'].get('nodeName')
                if node and ('', node) not in nodes:
                    self.sim.remove_pod(p, force=True)
                    continue
                by_owner.setdefault(owner_uid(p.obj), []).append(p)
            ds_uids = set()
            daemonsets = self.store.values('daemonsets')
            for uid in set(self.fit) - {d.meta['uid'] for d in daemonsets}:
                del self.fit[uid]
            for ds in daemonsets:
                ds_uids.add(ds.meta['uid'])
                self.gc_daemonset(ds, by_owner.get(ds.meta['uid'], []))
                if not ds.meta.get('deletionTimestamp'):
                    self.sync_daemonset(ds, nodes, by_owner.get(ds.meta['uid'], []))
            for uid, pods in by_owner.items():
                if uid is not None and uid not in ds_uids:
                    for p in pods:
                        self.sim.delete_pod(p)

    # ---- DaemonSet controller -------------------------------------------------------
    def sync_daemonset(self, ds, nodes, pods):
        spec = ds.obj['spec']
        pspec = spec['template'].get('spec') or {}
        on_node = {}
        for p in pods:
            on_node.setdefault(p.obj['spec'].get('nodeName'), []).append(p)
        st = {'desired': 0, 'current': 0, 'mis': 0, 'ready': 0, 'updated': 0}
        gen = str(ds.meta.get('generation', 1))
        cached = self.fit.get(ds.meta['uid'])
        if cached is None or cached[0] != gen:
            cached = self.fit[ds.meta['uid']] = (gen, {})
        fit = cached[1]
        outdated = []
        # node_should_run is remembered per node Entry: entries are immutable and replaced
        # on change, so with 10,000 nodes a re-sync evaluates only the nodes that changed
        for (_, name), n in nodes.items():
            hit = fit.get(name)
            if hit is not None and hit[0] is n:
                run, cont = hit[1], hit[2]
            else:
                run, cont = node_should_run(pspec, n.obj)
                fit[name] = (n, run, cont)
            mine = on_node.get(name)
            if not run and not mine:
                continue
            have = [p for p in mine or () if not p.meta.get('deletionTimestamp')]
            if run and not have:
                have = [self.create_pod(ds, name)]
            elif not cont and have:
                for p in have:
                    self.sim.delete_pod(p, reason='SuccessfulDelete', ds=ds)
                have = []
            for extra in have[1:]:
                self.sim.delete_pod(extra, reason='SuccessfulDelete', ds=ds)
            if run:
                st['desired'] += 1
                if have:
                    st['current'] += 1
                    ready = pod_ready(have[0].obj)
                    st['ready'] += ready
                    labels = have[0].meta.get('labels') or {}
                    if labels.get('pod-template-generation') == gen:
                        st['updated'] += 1
                    else:
                        outdated.append((ready, have[0]))
            elif have:
                st['mis'] += 1
        self.rolling_update(ds, st, outdated)
        self.update_status(ds, st)

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

    def create_pod(self, ds, node):
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
        pspec['nodeName'] = node
        pspec['tolerations'] = daemon_tolerations(pspec)
        aff = pspec.setdefault('affinity', {}).setdefault('nodeAffinity', {})
        aff['requiredDuringSchedulingIgnoredDuringExecution'] = {'nodeSelectorTerms': [{
            'matchFields': [{'key': 'metadata.name', 'operator': 'In', 'values': [node]}]}]}
        pspec.setdefault('serviceAccountName', 'default')
        pspec.setdefault('serviceAccount', pspec['serviceAccountName'])
        pspec.setdefault('enableServiceLinks', True)
        pspec.setdefault('priority', 0)
        pspec.setdefault('preemptionPolicy', 'PreemptLowerPriority')
        pod = {'apiVersion': 'v1', 'kind': 'Pod', 'metadata': pmeta, 'spec': pspec,
               'status': {'phase': 'Pending', 'qosClass': qos_class(pspec),
                          'conditions': [{'type': 'PodScheduled', 'status': 'True',
                                          'lastProbeTime': None,
                                          'lastTransitionTime': rfc3339()}]}}
        entry = self.store.create('pods', pod)
        self.sim.event(ds.obj, 'Normal', 'SuccessfulCreate', 'Created pod: %s' % name,
                       'daemonset-controller')
        self.sim.kubelet.pod_added(entry)
        return entry

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
