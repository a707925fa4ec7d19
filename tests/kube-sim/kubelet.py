"""One simulated kubelet per node, all driven by one thread.

Each node pulls one image at a time (serializeImagePulls); a pod's init containers go
first, in order, each completing before the next; regular containers follow.  A pull
takes size / bandwidth seconds scaled by --time-scale; failures follow the image rules
(faults.ImageRules) with the kubelet's back-off (10 s doubling to 300 s, scaled).
A node that is not Ready makes no progress at all.

Two switches make it behave like a real kubelet where the default is kinder to a watcher
(set globally on the Kubelet, or per node in `styles`; see README.md, "Kubelet styles"):
- cause_in_status=False (a 1.26-1.31 kubelet seen by a watcher that misses the short
  ErrImagePull): a failed pull goes straight to ImagePullBackOff with the message
  `Back-off pulling image "x"`; the cause is only in the pod's `Failed` event.
- publish='sync' (a real kubelet's pod sync): a pod's images are pulled one after
  another in one sync and its status is written only when the sync ends (no pull running
  and none of its containers waiting to start), with Pulling/Pulled events per image.
"""

import threading
import time

import images
import nodes as nodemod
import pullnet
from store import rfc3339

BANDWIDTH = 100 * 1000 * 1000       # bytes per second
BACKOFF_START, BACKOFF_MAX = 10.0, 300.0
FAIL_AFTER = 0.3                    # seconds before a failing pull reports its error
BACKOFF_SHOW = 1.0                  # ErrImagePull shown this long before ImagePullBackOff
TERMINATE_AFTER = 0.5               # graceful pod deletion on a Ready node
EXTERNAL_ANNOTATION = 'kube-sim.clyde-seed.io/kubelet'   # "external": see external()


class Step:
    __slots__ = ('init', 'index', 'name', 'image', 'policy', 'state', 'reason', 'message',
                 'attempts', 'retry_at', 'shown_at', 'image_id', 'started', 'finished',
                 'restarts', 'exit_code', 'crashes')

    def __init__(self, init, index, c):
        self.init, self.index = init, index
        self.name, self.image = c.get('name', ''), c.get('image', '')
        self.policy = c.get('imagePullPolicy', 'IfNotPresent')
        self.state = 'pending'   # pending pulling failed backoff done invalid crashed crashloop
        self.reason = self.message = None
        self.attempts = 0
        self.retry_at = self.shown_at = 0.0
        self.image_id = ''
        self.started = self.finished = None
        self.restarts = self.exit_code = self.crashes = 0

    @property
    def field_path(self):
        return 'spec.%s{%s}' % ('initContainers' if self.init else 'containers', self.name)


class PodState:
    __slots__ = ('uid', 'ns', 'name', 'node', 'steps', 'seq', 'dirty', 'start', 'deleting_at')

    def __init__(self, entry, seq):
        meta, spec = entry.meta, entry.obj['spec']
        self.uid, self.ns, self.name = meta['uid'], meta['namespace'], meta['name']
        self.node = spec.get('nodeName')
        self.steps = [Step(True, i, c) for i, c in enumerate(spec.get('initContainers') or [])]
        self.steps += [Step(False, i, c) for i, c in enumerate(spec.get('containers') or [])]
        self.seq = seq
        self.dirty = True
        self.start = rfc3339()
        self.deleting_at = None

    def inits_done(self):
        return all(s.state == 'done' for s in self.steps if s.init)


class Kubelet:
    def __init__(self, store, sim, time_scale=1.0):
        self.now = 0.0
        self.store = store
        self.sim = sim
        self.scale = time_scale
        self.pods = {}          # uid -> PodState
        self.by_node = {}       # node -> [PodState]
        self.busy = {}          # node -> (PodState, Step, end, outcome)
        self.disk = {}          # node -> set of image names present
        self.dirty_nodes = {}   # node -> list of (Ref, size) to add to status.images
        self.seq = 0
        self.stop = threading.Event()
        self.lock = threading.RLock()
        self.wake = {}          # node -> monotonic time it next has something to do
        self.seen = None        # store change position the kubelet has looked at
        self.cause_in_status = True  # False: a 1.31 kubelet's back-off (cause only in events)
        self.publish = 'change'      # 'sync': pod status written once per pod sync
        self.styles = {}             # node -> {'cause_in_status': .., 'publish': ..}
        self.model = None            # pullnet.PullModel: the bandwidth model, when on

    def use_model(self, **kw):
        """Turns the bandwidth model on (pullnet.PullModel's keywords but store, disk_of
        and scale)."""
        self.model = pullnet.PullModel(self.store, self.disk_of, scale=self.scale, **kw)

    def disk_of(self, name):
        entry = self.store.get('nodes', '', name)
        return self.node_disk(entry) if entry is not None else set()

    def style(self, node, key):
        return self.styles.get(node, {}).get(key, getattr(self, key))

    def gc(self, node, keep=()):
        """Image garbage collection on node: removes every image no pod of the node uses
        (keep: names to spare). Returns the names removed."""
        with self.store.lock, self.lock:
            entry = self.store.get('nodes', '', node)
            if entry is None:
                return None
            used = set(keep)
            for ps in self.by_node.get(node, ()):
                for s in ps.steps:
                    ref = images.parse(s.image)
                    if ref is not None and ps.deleting_at is None:
                        used.update(ref.names())
            obj = with_own_images(entry.obj)
            kept, removed = [], []
            for e in obj['status'].get('images') or []:
                (kept if used & set(e['names']) else removed).append(e)
            obj['status']['images'] = kept
            disk = self.node_disk(entry)
            gone = set()
            for e in removed:
                gone.update(e['names'])
            for name in list(disk):
                if name not in used:
                    gone.add(name)
            disk.difference_update(gone)
            self.store.replace('nodes', obj)
            return sorted(gone)

    # ---- bookkeeping ----------------------------------------------------------------
    def pod_added(self, entry):
        if not entry.obj['spec'].get('nodeName'):
            return
        with self.lock:
            self.seq += 1
            ps = PodState(entry, self.seq)
            self.pods[ps.uid] = ps
            self.by_node.setdefault(ps.node, []).append(ps)

    def forget(self, ps):
        self.pods.pop(ps.uid, None)
        lst = self.by_node.get(ps.node, [])
        if ps in lst:
            lst.remove(ps)
        if not lst:
            self.by_node.pop(ps.node, None)

    def reset(self):
        with self.lock:
            self.wake.clear()
            self.pods.clear()
            self.by_node.clear()
            self.busy.clear()
            self.disk.clear()
            self.dirty_nodes.clear()
            if self.model:
                self.model.reset()

    def node_disk(self, node):
        d = self.disk.get(node.meta['name'])
        if d is None:
            d = set()
            for e in node.obj['status'].get('images') or []:
                d.update(e['names'])
            self.disk[node.meta['name']] = d
        return d

    # ---- the loop -------------------------------------------------------------------
    def run(self):
        while not self.stop.is_set():
            try:
                self.tick(time.monotonic())
            except Exception as e:
                self.sim.log_error('kubelet: %r' % (e,))
            time.sleep(0.03)

    def tick(self, now):
        self.now = now
        with self.store.lock, self.lock:
            self.notice_changes()
            if self.model:
                self.model_ends(now)
            for name in list(self.by_node):
                if self.wake.get(name, 0.0) > now:
                    continue        # nothing due: a cluster of 10,000 idle nodes costs nothing
                node = self.store.get('nodes', '', name)
                if node is None or not nodemod.is_ready(node.obj) or external(node.obj):
                    continue
                self.node_tick(node, now)
                self.wake[name] = self.next_due(name)
            self.flush(now)

    def notice_changes(self):
        """Wakes the nodes whose pods or node object changed since the last tick (a pod
        created or deleted, a node that became Ready), from the store's watch history."""
        store = self.store
        first = store.change_count - len(store.history)
        if self.seen is None or self.seen < first:
            self.wake.clear()
            if self.model:
                self.model.nodes_changed()
        else:
            for ev in store.history[self.seen - first:]:
                if ev.res == 'pods':
                    for node in ev.nodes:
                        self.wake.pop(node, None)
                elif ev.res == 'nodes':
                    self.wake.pop(ev.name, None)
                    if self.model:
                        self.model.nodes_changed()
        self.seen = store.change_count

    def model_ends(self, now):
        """Pulls whose bytes are in: due when their pull cost is paid."""
        for name, end in self.model.advance(now):
            busy = self.busy.get(name)
            if busy:
                self.busy[name] = (busy[0], busy[1], end, busy[3])
                self.wake.pop(name, None)

    def next_due(self, name):
        due = float('inf')
        busy = self.busy.get(name)
        if busy:
            due = busy[2]
        for ps in self.by_node.get(name, ()):
            if ps.deleting_at is not None:
                due = min(due, ps.deleting_at)
            for s in ps.steps:
                if s.state in ('failed', 'crashed'):
                    due = min(due, s.shown_at)
                elif s.state in ('backoff', 'crashloop'):
                    due = min(due, s.retry_at)
        # pending steps are blocked behind the busy puller or a step counted above
        return due

    def node_tick(self, node, now):
        name = node.meta['name']
        pods = sorted(self.by_node.get(name, []), key=lambda p: p.seq)
        for ps in pods:
            entry = self.store.get('pods', ps.ns, ps.name)
            if entry is None or entry.meta['uid'] != ps.uid:
                self.forget(ps)
            elif entry.meta.get('deletionTimestamp'):
                self.terminate(ps, now)
        busy = self.busy.get(name)
        if busy and now >= busy[2]:
            del self.busy[name]
            self.finish_pull(node, *busy)
        for ps in pods:
            for s in ps.steps:
                if s.state == 'failed' and now >= s.shown_at:
                    s.state, s.reason = 'backoff', 'ImagePullBackOff'
                    s.message = 'Back-off pulling image "%s"' % s.image
                    ps.dirty = True
                    self.event(ps, s, 'Normal', 'BackOff', s.message)
                elif s.state == 'crashed' and now >= s.shown_at:
                    self.crash_loop(ps, s)
        if name not in self.busy:
            self.start_next(node, pods, now)

    def next_step(self, ps, now):
        if ps.deleting_at is not None:
            return None
        for s in ps.steps:
            if s.init and s.state != 'done':
                return s if self.runnable(s, now) else None
        for s in ps.steps:
            if not s.init and self.runnable(s, now):
                return s
        return None

    @staticmethod
    def runnable(s, now):
        return s.state == 'pending' or (s.state in ('backoff', 'crashloop') and now >= s.retry_at)

    def start_next(self, node, pods, now):
        for ps in pods:
            s = self.next_step(ps, now)
            while s is not None:
                if self.start_pull(node, ps, s, now):
                    return
                s = self.next_step(ps, now)

    def start_pull(self, node, ps, s, now):
        """Returns True when the node's puller is now busy."""
        ps.dirty = True
        ref = images.parse(s.image)
        if ref is None:
            s.state, s.reason, s.message = 'invalid', 'InvalidImageName', images.invalid_message(s.image)
            self.event(ps, s, 'Warning', 'InspectFailed', s.message)
            self.event(ps, s, 'Warning', 'Failed', 'Error: InvalidImageName')
            return False
        disk = self.node_disk(node)
        present = bool(set(ref.names()) & disk) if ref.tag else ref.image_id() in disk
        if present and s.policy != 'Always':
            self.event(ps, s, 'Normal', 'Pulled',
                       'Container image "%s" already present on machine' % s.image)
            rule = self.sim.image_rules.lookup(ref)
            self.container_started(ps, s, ref, rule if images.pull_kind(rule, node.obj) == 'crash' else None)
            return False
        if s.policy == 'Never':
            s.state, s.reason = 'backoff', 'ErrImageNeverPull'
            s.message = 'Container image "%s" is not present with pull policy of Never' % s.image
            s.retry_at = float('inf')
            self.event(ps, s, 'Warning', 'ErrImageNeverPull', s.message)
            return False
        rule = self.sim.image_rules.lookup(ref)
        kind = images.pull_kind(rule, node.obj)
        if kind in ('ok', 'crash') and self.model and not present:
            dur = float('inf')      # until model_ends() knows
            self.model.start(node.meta['name'], ref, rule.get('size') or images.size_of(ref), now)
        elif kind in ('ok', 'crash'):
            size = rule.get('size') or images.size_of(ref)
            dur = (0.02 if present else size / BANDWIDTH) * self.scale
        elif kind == 'slow':
            dur = float(rule.get('seconds', 30))
        else:
            dur = FAIL_AFTER * self.scale
        s.state = 'pulling'
        s.attempts += 1
        s.started = now
        self.event(ps, s, 'Normal', 'Pulling', 'Pulling image "%s"' % s.image)
        self.busy[node.meta['name']] = (ps, s, now + dur, (kind, ref, rule))
        return True

    def finish_pull(self, node, ps, s, end, outcome):
        kind, ref, rule = outcome
        if ps.uid not in self.pods:
            if kind in ('ok', 'slow', 'crash'):
                self.image_pulled(node, ref, rule)
            return
        ps.dirty = True
        if kind in ('ok', 'slow', 'crash'):
            self.image_pulled(node, ref, rule)
            took = max(end - s.started, 0.0)
            self.event(ps, s, 'Normal', 'Pulled',
                       'Successfully pulled image "%s" in %.3fs (%.3fs including waiting). '
                       'Image size: %d bytes.' % (s.image, took, took,
                                                  rule.get('size') or images.size_of(ref)))
            self.container_started(ps, s, ref, rule if kind == 'crash' else None)
            return
        msg = {'not-found': images.not_found_message, 'unauthorized': images.unauthorized_message,
               'registry-unavailable': images.unavailable_message,
               'platform-mismatch': images.platform_message,
               'rate-limited': images.rate_limited_message}.get(kind, images.not_found_message)(ref)
        s.state, s.reason, s.message = 'failed', 'ErrImagePull', msg
        backoff = min(BACKOFF_START * (2 ** (s.attempts - 1)), BACKOFF_MAX) * self.scale
        s.retry_at = end + backoff
        # ErrImagePull stays visible for at least a few ticks (a real kubelet reports it
        # until its next sync), so a watcher always gets to see the pull error's message.
        shown = min(max(BACKOFF_SHOW * self.scale, 0.2), backoff / 2)
        s.shown_at = max(end, self.now) + shown
        self.event(ps, s, 'Warning', 'Failed', 'Failed to pull image "%s": %s' % (s.image, msg))
        self.event(ps, s, 'Warning', 'Failed', 'Error: ErrImagePull')
        if not self.style(ps.node, 'cause_in_status'):
            # what a watcher of a 1.31 kubelet is left with: no cause in the status
            s.state, s.reason = 'backoff', 'ImagePullBackOff'
            s.message = 'Back-off pulling image "%s"' % s.image
            self.event(ps, s, 'Normal', 'BackOff', s.message)

    def image_pulled(self, node, ref, rule):
        self.node_disk(node).update(ref.names())
        self.dirty_nodes.setdefault(node.meta['name'], []).append(
            (ref, rule.get('size') or images.size_of(ref)))

    def container_started(self, ps, s, ref, crash=None):
        """crash: the image rule when the container exits non-zero on this node."""
        s.image_id = ref.image_id()
        s.state, s.reason, s.message = 'done', None, None
        s.finished = rfc3339()
        self.event(ps, s, 'Normal', 'Created', 'Created container %s' % s.name)
        self.event(ps, s, 'Normal', 'Started', 'Started container %s' % s.name)
        if crash is not None:
            self.crashed(ps, s, crash)

    def crashed(self, ps, s, rule):
        """The container ran and exited non-zero (state.terminated reason Error: kubectl's
        Init:Error for an init container).  The kubelet restarts it at once the first time,
        then after its back-off (10 s doubling to 300 s, scaled) in CrashLoopBackOff."""
        s.crashes += 1
        if s.crashes > 1:
            s.restarts += 1
        s.state, s.reason, s.message = 'crashed', 'Error', None
        s.exit_code = int(rule.get('exit_code', 1))
        s.shown_at = self.now + max(BACKOFF_SHOW * self.scale, 0.2)
        s.retry_at = s.shown_at

    def crash_loop(self, ps, s):
        ps.dirty = True
        if s.crashes == 1:      # the first exit: restarted without a back-off
            s.state = 'pending'
            return
        delay = min(BACKOFF_START * 2 ** (s.crashes - 2), BACKOFF_MAX)
        pod = '%s_%s(%s)' % (ps.name, ps.ns, ps.uid)
        s.state, s.reason = 'crashloop', 'CrashLoopBackOff'
        s.message = 'back-off %ds restarting failed container=%s pod=%s' % (delay, s.name, pod)
        s.retry_at = self.now + delay * self.scale
        self.event(ps, s, 'Warning', 'BackOff', 'Back-off restarting failed container %s in pod %s' % (s.name, pod))

    def terminate(self, ps, now):
        if ps.deleting_at is None:
            ps.deleting_at = now + TERMINATE_AFTER * self.scale
            for s in ps.steps:
                if s.state == 'done' and not s.init:
                    self.event(ps, s, 'Normal', 'Killing', 'Stopping container %s' % s.name)
        elif now >= ps.deleting_at:
            self.store.remove('pods', ps.ns, ps.name)
            self.forget(ps)

    # ---- writing status -------------------------------------------------------------
    def flush(self, now):
        for name, pulled in self.dirty_nodes.items():
            node = self.store.get('nodes', '', name)
            if node is None:
                continue
            obj = with_own_images(node.obj)
            for ref, size in pulled:
                nodemod.add_image(obj, ref, size)
            self.store.replace('nodes', obj)
        self.dirty_nodes.clear()
        for ps in list(self.pods.values()):
            if not ps.dirty or ps.deleting_at is not None:
                continue
            if self.style(ps.node, 'publish') == 'sync' and in_sync(ps):
                continue    # a real kubelet writes the status when the pod sync ends
            node = self.store.get('nodes', '', ps.node)
            if node is None or not nodemod.is_ready(node.obj) or external(node.obj):
                continue    # a kubelet that is down reports nothing; an external one its own
            ps.dirty = False
            entry = self.store.get('pods', ps.ns, ps.name)
            if entry is None or entry.meta['uid'] != ps.uid:
                continue
            obj = entry.copy()
            obj['status'] = render_status(ps, obj, node.obj if node else None)
            self.store.replace('pods', obj)

    def event(self, ps, s, etype, reason, message):
        self.sim.event({'kind': 'Pod', 'apiVersion': 'v1',
                        'metadata': {'namespace': ps.ns, 'name': ps.name, 'uid': ps.uid}},
                       etype, reason, message, 'kubelet', ps.node, s.field_path)


def external(node):
    """A node whose kubelet is a real one elsewhere (tests/realnode): left alone here."""
    return (node['metadata'].get('annotations') or {}).get(EXTERNAL_ANNOTATION) == 'external'


def in_sync(ps):
    """Whether the pod's sync is still running: a pull of its own is under way, or its
    containers (init containers done) still wait for their turn to be pulled."""
    if any(s.state == 'pulling' for s in ps.steps):
        return True
    return ps.inits_done() and any(not s.init and s.state == 'pending' for s in ps.steps)


def with_own_images(node):
    """A copy of node that may be changed in metadata (the store stamps it) and in
    status.images, sharing everything else: a JSON round trip of a 19 kB node for every
    pulled image was the cost of a 10,000-node DaemonSet."""
    obj = dict(node)
    obj['metadata'] = dict(node['metadata'])
    obj['status'] = dict(node['status'])
    obj['status']['images'] = [{'names': list(e['names']), 'sizeBytes': e['sizeBytes']}
                               for e in node['status'].get('images') or []]
    return obj


def _terminated(s):
    return {'terminated': {'exitCode': s.exit_code, 'reason': 'Error', 'startedAt': s.finished,
                           'finishedAt': s.finished}}


def _container_status(ps, s, now):
    st = {'name': s.name, 'image': s.image, 'imageID': s.image_id, 'ready': False,
          'restartCount': s.restarts, 'started': False}
    if s.state in ('crashed', 'crashloop'):
        if s.state == 'crashed':
            st['state'] = _terminated(s)
        else:
            st['state'] = {'waiting': {'reason': s.reason, 'message': s.message}}
            st['lastState'] = _terminated(s)
        if s.init:
            del st['started']
        return st
    if s.state == 'done':
        if s.init:
            st['state'] = {'terminated': {'exitCode': 0, 'reason': 'Completed',
                                          'startedAt': s.finished, 'finishedAt': s.finished}}
            st['ready'] = True
            del st['started']
        else:
            st['state'] = {'running': {'startedAt': s.finished}}
            st['ready'] = st['started'] = True
        return st
    if s.reason:
        st['state'] = {'waiting': {'reason': s.reason, 'message': s.message}}
    else:
        reason = 'ContainerCreating' if ps.inits_done() else 'PodInitializing'
        st['state'] = {'waiting': {'reason': reason}}
    if s.init:
        del st['started']
    return st


def _cond(ctype, ok, now, reason=None, message=None):
    c = {'type': ctype, 'status': 'True' if ok else 'False', 'lastProbeTime': None,
         'lastTransitionTime': now}
    if not ok and reason:
        c['reason'], c['message'] = reason, message
    return c


def render_status(ps, pod, node):
    now = rfc3339()
    old = pod.get('status') or {}
    inits = [_container_status(ps, s, now) for s in ps.steps if s.init]
    ctrs = [_container_status(ps, s, now) for s in ps.steps if not s.init]
    init_done = ps.inits_done()
    not_ready = [c['name'] for c in ctrs if not c['ready']]
    unready_init = [c['name'] for c in inits if not c['ready']]
    waiting = any('waiting' in c['state'] for c in ctrs)
    conds = [_cond('PodReadyToStartContainers', True, now),
             _cond('Initialized', init_done, now, 'ContainersNotInitialized',
                   'containers with incomplete status: [%s]' % ' '.join(unready_init)),
             _cond('Ready', not not_ready, now, 'ContainersNotReady',
                   'containers with unready status: [%s]' % ' '.join(not_ready)),
             _cond('ContainersReady', not not_ready, now, 'ContainersNotReady',
                   'containers with unready status: [%s]' % ' '.join(not_ready)),
             _cond('PodScheduled', True, now)]
    oldc = {c['type']: c for c in old.get('conditions') or []}
    for c in conds:
        prev = oldc.get(c['type'])
        if prev and prev.get('status') == c['status']:
            c['lastTransitionTime'] = prev.get('lastTransitionTime', now)
    host_ip = ''
    for a in (node or {}).get('status', {}).get('addresses') or []:
        if a['type'] == 'InternalIP':
            host_ip = a['address']
    h = sum(ps.uid.encode()) % 250 + 2
    pod_ip = '10.244.%d.%d' % (int(host_ip.split('.')[-1] or 0) % 256 if host_ip else 0, h)
    status = {'phase': 'Running' if init_done and not waiting and ctrs else 'Pending',
              'conditions': conds, 'hostIP': host_ip, 'hostIPs': [{'ip': host_ip}],
              'podIP': pod_ip, 'podIPs': [{'ip': pod_ip}], 'startTime': ps.start}
    if inits:
        status['initContainerStatuses'] = inits
    status['containerStatuses'] = ctrs
    status['qosClass'] = old.get('qosClass', 'BestEffort')
    return status
