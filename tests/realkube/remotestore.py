"""The part of kube-sim's Store that its kubelet (tests/kube-sim/kubelet.py) uses, kept
over a real API server: a cache of nodes and pods fed by list+watch, a change history the
kubelet wakes on, and writes that go to the server as a real kubelet sends them (status
patches; the final delete of a gracefully deleted pod with grace 0 and a UID
precondition).  So kube-sim's kubelet runs unchanged against a real control plane."""

import threading
import time

from kclient import PATCH_MERGE, ApiError
from store import Entry, dumps

HISTORY_MAX = 20000


class Change:
    """What kubelet.notice_changes reads of a change: resource, name, nodes involved."""
    __slots__ = ('res', 'name', 'nodes')

    def __init__(self, res, name, nodes):
        self.res, self.name, self.nodes = res, name, nodes


class Writer:
    """Pod writes off the kubelet's thread: one pending write per pod (a newer one replaces
    it; a delete replaces a status write), never two in flight for one pod."""

    def __init__(self, store, clients):
        self.store = store
        self.cv = threading.Condition()
        self.pending = {}           # key -> (method, path, body), in arrival order
        self.busy = set()
        for c in clients:
            threading.Thread(target=self.run, args=(c,), daemon=True).start()

    def put(self, key, op):
        with self.cv:
            self.pending.pop(key, None)
            self.pending[key] = op
            self.cv.notify()

    def take(self):
        with self.cv:
            while True:
                for key in self.pending:
                    if key not in self.busy:
                        self.busy.add(key)
                        return key, self.pending.pop(key)
                self.cv.wait()

    def run(self, client):
        while True:
            key, (method, path, body) = self.take()
            try:
                self.store._write(method, path, body() if callable(body) else body, key[2], client)
            finally:
                with self.cv:
                    self.busy.discard(key)
                    self.cv.notify_all()

    def idle(self):
        with self.cv:
            return not self.pending and not self.busy


def _key(obj):
    return obj['metadata'].get('namespace', ''), obj['metadata']['name']


class RemoteStore:
    def __init__(self, client, log, events=None, writer_clients=()):
        self.lock = threading.RLock()
        self.writer = Writer(self, writer_clients)
        self.client = client            # used under self.lock only
        self.log = log
        self.events = events            # callable(event object) posting it, or None
        self.data = {'nodes': {}, 'pods': {}}
        self.node_images = {}           # node name -> status.images as this kubelet has it
        self.history = []
        self.change_count = 0
        self.removed = set()            # uids this kubelet deleted: late events ignored
        self.on_pod = None              # callable(Entry) for a pod bound to a node
        self.synced = {'nodes': threading.Event(), 'pods': threading.Event()}

    @property
    def rv(self):
        return self.change_count

    # ---- what the kubelet calls -----------------------------------------------------
    def get(self, res, ns, name):
        return self.data[res].get((ns, name))

    def replace(self, res, obj):
        """Writes go to writer threads, the newest version of each object only, and the
        cache takes them now.  A pod's status is the kubelet's own state rendered; a
        node's status.images is this kubelet's (node_images), laid over every version of
        the node the watch brings, so a late event cannot take a pulled image away."""
        ns, name = _key(obj)
        if res == 'nodes':
            with self.lock:
                self.node_images[name] = obj['status'].get('images') or []
            self.writer.put(('', name, 'nodes'), ('PATCH', '/api/v1/nodes/%s/status' % name,
                                                  lambda: {'status': {'images': self.node_images.get(name, [])}}))
            return self._apply(res, 'MODIFIED', obj)
        patch = {'metadata': {'uid': obj['metadata']['uid']}, 'status': obj['status']}
        self.writer.put((ns, name, 'pods'), ('PATCH', '/api/v1/namespaces/%s/pods/%s/status' % (ns, name), patch))
        return self._apply(res, 'MODIFIED', obj)

    def _write(self, method, path, body, res, client=None):
        try:
            new = (client or self.client).call(method, path, body,
                                               PATCH_MERGE if method == 'PATCH' else 'application/json')
        except (ApiError, OSError) as e:
            if getattr(e, 'code', 0) not in (404, 409):
                self.log('kubelet: %s' % e)
            return None
        return self._apply(res, 'MODIFIED', new) if method == 'PATCH' else None

    def remove(self, res, ns, name):
        cur = self.get(res, ns, name)
        if res != 'pods' or cur is None:
            return None
        uid = cur.meta['uid']
        self.removed.add(uid)
        self.writer.put((ns, name, 'pods'), ('DELETE', '/api/v1/namespaces/%s/pods/%s' % (ns, name), {
            'kind': 'DeleteOptions', 'apiVersion': 'v1', 'gracePeriodSeconds': 0,
            'preconditions': {'uid': uid}}))
        return self._apply(res, 'DELETED', cur.obj)

    def create(self, res, obj):
        """Only events are created (kube-sim's Cluster.event); they go to the server."""
        if res == 'events' and self.events is not None:
            self.events(obj)

    # ---- fed by the watches ---------------------------------------------------------
    def _apply(self, res, etype, obj):
        key = _key(obj)
        with self.lock:
            old = self.data[res].get(key)
            if res == 'pods' and obj['metadata'].get('uid') in self.removed:
                if etype == 'DELETED' or old is None:
                    self.data[res].pop(key, None)
                    return None
            if old is not None and etype != 'DELETED' and \
                    int(old.meta.get('resourceVersion') or 0) > int(obj['metadata']['resourceVersion']):
                return old      # an older version than the one cached (a late watch event)
            if res == 'nodes' and etype != 'DELETED' and key[1] in self.node_images:
                obj = dict(obj, status=dict(obj.get('status') or {}, images=self.node_images[key[1]]))
            elif res == 'nodes' and etype == 'DELETED':
                self.node_images.pop(key[1], None)
            entry = Entry(obj, dumps(obj))
            if etype == 'DELETED':
                self.data[res].pop(key, None)
            else:
                self.data[res][key] = entry
            nodes = ()
            if res == 'pods':
                nodes = tuple({e.obj['spec'].get('nodeName') for e in (entry, old)
                               if e is not None and e.obj['spec'].get('nodeName')})
            self.history.append(Change(res, key[1], nodes))
            self.change_count += 1
            if len(self.history) > HISTORY_MAX:
                del self.history[:HISTORY_MAX // 2]
            if res == 'pods' and etype != 'DELETED' and self.on_pod and \
                    obj['spec'].get('nodeName') and not obj['metadata'].get('deletionTimestamp'):
                self.on_pod(entry)
            return entry

    def follow(self, client, res, path, stop):
        """List then watch path forever (relisting after 410 or a broken stream)."""
        while not stop.is_set():
            try:
                lst = client.get(path)
                with self.lock:
                    seen = set()
                    for obj in lst['items']:
                        self._apply(res, 'MODIFIED', obj)
                        seen.add(_key(obj))
                    for key, e in list(self.data[res].items()):
                        if key not in seen:
                            self._apply(res, 'DELETED', e.obj)
                self.synced[res].set()
                rv = lst['metadata']['resourceVersion']
                for etype, obj in client.watch(path, rv, 240):
                    if stop.is_set():
                        return
                    if etype == 'ERROR':
                        break
                    if etype == 'BOOKMARK':
                        continue
                    self._apply(res, etype, obj)
            except (ApiError, OSError, ValueError) as e:
                if not stop.is_set():
                    self.log('watch %s: %s' % (path, e))
                    time.sleep(0.5)
