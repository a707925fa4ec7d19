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


def _key(obj):
    return obj['metadata'].get('namespace', ''), obj['metadata']['name']


class RemoteStore:
    def __init__(self, client, log, events=None):
        self.lock = threading.RLock()
        self.client = client            # used under self.lock only
        self.log = log
        self.events = events            # callable(event object) posting it, or None
        self.data = {'nodes': {}, 'pods': {}}
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
        ns, name = _key(obj)
        if res == 'nodes':
            path = '/api/v1/nodes/%s/status' % name
            patch = {'status': {'images': obj['status'].get('images') or []}}
        else:
            path = '/api/v1/namespaces/%s/pods/%s/status' % (ns, name)
            patch = {'metadata': {'uid': obj['metadata']['uid']}, 'status': obj['status']}
        try:
            new = self.client.call('PATCH', path, patch, PATCH_MERGE)
        except ApiError as e:
            if e.code not in (404, 409):
                self.log('kubelet: %s' % e)
            return None
        return self._apply(res, 'MODIFIED', new)

    def remove(self, res, ns, name):
        cur = self.get(res, ns, name)
        if res != 'pods' or cur is None:
            return None
        uid = cur.meta['uid']
        self.removed.add(uid)
        try:
            self.client.call('DELETE', '/api/v1/namespaces/%s/pods/%s' % (ns, name),
                             {'kind': 'DeleteOptions', 'apiVersion': 'v1', 'gracePeriodSeconds': 0,
                              'preconditions': {'uid': uid}})
        except ApiError as e:
            if e.code not in (404, 409):
                self.log('kubelet: %s' % e)
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
