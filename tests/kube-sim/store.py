"""The object store: one global resourceVersion, cached JSON bytes, watch history.

Objects kept here are never mutated: a change stores a new dict (Entry) and appends
a watch event.  Entry.raw() serialises once and caches the bytes, so listing 5,000
nodes is a join of cached byte strings.  All methods take the store lock; callers that
need several steps to be atomic hold `store.lock` themselves (it is re-entrant).
"""

import base64
import bisect
import json
import os
import random
import threading
import time
import uuid
import zlib

import apierrors
import gojson
from resources import RESOURCES
import labelsel as sel


def dumps(obj):
    return json.dumps(obj, separators=(',', ':')).encode()


B64URL = frozenset('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_')
_UID_RNG = random.Random(int.from_bytes(os.urandom(16), 'big'))


def new_uid():
    """A random (version 4) UUID; uuid.uuid4() reads os.urandom each time, which made a
    quarter of the cost of creating 10,000 pods and their events."""
    return str(uuid.UUID(int=_UID_RNG.getrandbits(128), version=4))


def rfc3339(t=None):
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(time.time() if t is None else t))


def target_node(pod):
    """The node a pod is for: spec.nodeName, else the one node a single required
    `matchFields metadata.name In [x]` term names (a DaemonSet pod not yet scheduled; the
    DaemonSet controller's util.GetTargetNodeName), else None."""
    spec = pod.get('spec') or {}
    if spec.get('nodeName'):
        return spec['nodeName']
    req = (((spec.get('affinity') or {}).get('nodeAffinity') or {})
           .get('requiredDuringSchedulingIgnoredDuringExecution') or {})
    terms = req.get('nodeSelectorTerms') or []
    if len(terms) != 1:
        return None
    for r in terms[0].get('matchFields') or []:
        if r.get('key') == 'metadata.name' and r.get('operator') == 'In' and len(r.get('values') or []) == 1:
            return r['values'][0]
    return None


class Entry:
    """One version of an object.  While current it keeps the dict and, once asked, its
    JSON bytes.  A superseded version (kept only by the watch history) is retired: the
    dict is dropped and the bytes are compressed, parsed back on the rare demand; 50,000
    versions of 19 kB nodes were gigabytes otherwise."""
    __slots__ = ('_obj', '_raw', '_z')

    def __init__(self, obj, raw=None):
        self._obj = obj
        self._raw = raw
        self._z = None

    def raw(self):
        raw = self._raw
        if raw is None:
            z = self._z
            if z is not None:
                return zlib.decompress(z)
            raw = self._raw = dumps(self._obj)
        return raw

    @property
    def obj(self):
        o = self._obj
        if o is None:
            o = json.loads(self.raw())
        return o

    def retire(self):
        raw = self.raw()
        self._z = zlib.compress(raw, 1)
        self._raw = None
        self._obj = None

    def copy(self):
        """A private deep copy of the object, cheaper than copy.deepcopy."""
        return json.loads(self.raw())

    @property
    def meta(self):
        return self.obj['metadata']


class Event:
    """A watch event; name and (pods) the nodes involved are kept so readers of the
    history need not parse retired entries."""
    __slots__ = ('rv', 'type', 'res', 'ns', 'new', 'old', 'name', 'nodes')

    def __init__(self, rv, etype, res, ns, new, old):
        self.rv, self.type, self.res, self.ns, self.new, self.old = rv, etype, res, ns, new, old
        self.name = new.obj['metadata']['name']
        self.nodes = ()
        if res == 'pods':
            self.nodes = tuple({target_node(e.obj) for e in (new, old)
                                if e is not None and target_node(e.obj)})


class Store:
    def __init__(self, history=50000, continue_ttl=300.0, max_events=20000):
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.rv = 100
        self.data = {r: {} for r in RESOURCES}
        self._sorted = {r: None for r in RESOURCES}
        self.history = []
        self.history_max = history
        self.compacted_rv = self.rv
        self.continue_ttl = continue_ttl
        self.max_events = max_events
        self.dirty = threading.Event()
        self.change_count = 0

    # ---- single objects -------------------------------------------------------------
    def get(self, res, ns, name):
        with self.lock:
            return self.data[res].get((ns or '', name))

    def _next_rv(self):
        self.rv += 1
        return self.rv

    def _record(self, etype, res, ns, new, old):
        self.history.append(Event(self.rv, etype, res, ns, new, old))
        if len(self.history) > self.history_max * 2:
            cut = len(self.history) - self.history_max
            self.compacted_rv = self.history[cut - 1].rv
            del self.history[:cut]
        self.change_count += 1
        if res != 'events':
            self.dirty.set()
        self.cond.notify_all()

    def create(self, res, obj, now=None):
        """Stamps uid, resourceVersion, creationTimestamp (and generation) and stores obj.
        Raises ApiError 409 AlreadyExists."""
        rinfo = RESOURCES[res]
        meta = obj.setdefault('metadata', {})
        ns = meta.get('namespace', '') if rinfo.namespaced else ''
        if not rinfo.namespaced:
            meta.pop('namespace', None)
        key = (ns, meta['name'])
        with self.lock:
            if key in self.data[res]:
                raise apierrors.already_exists(rinfo, meta['name'])
            obj['apiVersion'] = rinfo.api_version
            obj['kind'] = rinfo.kind
            meta['uid'] = new_uid()
            meta['resourceVersion'] = str(self._next_rv())
            meta['creationTimestamp'] = rfc3339(now)
            if res == 'daemonsets':
                meta['generation'] = 1
            for k in ('deletionTimestamp', 'deletionGracePeriodSeconds'):
                meta.pop(k, None)
            entry = Entry(_ordered(obj))
            self.data[res][key] = entry
            self._sorted[res] = None
            self._record('ADDED', res, ns, entry, None)
            if res == 'events':
                self._trim_events()
            return entry

    def _trim_events(self):
        evs = self.data['events']
        while len(evs) > self.max_events:
            del evs[next(iter(evs))]
            self._sorted['events'] = None

    def replace(self, res, obj, expect_rv=None):
        """Stores a changed object under a new resourceVersion.  expect_rv: the version
        the change was computed from; a mismatch raises 409 Conflict.  Returns the Entry."""
        rinfo = RESOURCES[res]
        meta = obj['metadata']
        ns = meta.get('namespace', '') if rinfo.namespaced else ''
        key = (ns, meta['name'])
        with self.lock:
            old = self.data[res].get(key)
            if old is None:
                raise apierrors.not_found(rinfo, meta['name'])
            if expect_rv is not None and old.meta['resourceVersion'] != str(expect_rv):
                raise apierrors.conflict(rinfo, meta['name'])
            for k in ('uid', 'creationTimestamp'):
                meta[k] = old.meta[k]
            if 'generation' in old.meta:
                meta['generation'] = old.meta['generation']
                if res == 'daemonsets' and dumps(obj.get('spec')) != dumps(old.obj.get('spec')):
                    meta['generation'] += 1
            meta['resourceVersion'] = str(self._next_rv())
            entry = Entry(_ordered(obj))
            self.data[res][key] = entry
            self._record('MODIFIED', res, ns, entry, old)
            old.retire()
            return entry

    def remove(self, res, ns, name):
        """Deletes the object at once; returns the removed Entry (as last seen) or None."""
        rinfo = RESOURCES[res]
        key = ((ns or '') if rinfo.namespaced else '', name)
        with self.lock:
            old = self.data[res].pop(key, None)
            if old is None:
                return None
            self._sorted[res] = None
            obj = old.copy()
            obj['metadata']['resourceVersion'] = str(self._next_rv())
            gone = Entry(obj)
            self._record('DELETED', res, key[0], gone, old)
            old.retire()
            return gone

    def values(self, res, ns=None):
        """A snapshot list of entries (optionally in one namespace)."""
        with self.lock:
            if ns is None:
                return list(self.data[res].values())
            return [e for (n, _), e in self.data[res].items() if n == ns]

    # ---- lists ----------------------------------------------------------------------
    def _keys(self, res):
        if self._sorted[res] is None:
            self._sorted[res] = sorted(self.data[res])
        return self._sorted[res]

    def list(self, res, ns, labels, fields, limit, cont, now=None, raw=True):
        """Returns (raw items (Entries with raw=False), list rv, continue token or None,
        remaining count or None).
        Raises ApiError 400 for a bad token, 410 Expired for one older than continue_ttl."""
        now = time.time() if now is None else now
        with self.lock:
            if cont:
                list_rv, start, issued = self._decode_continue(cont, now)
            else:
                list_rv, start, issued = self.rv, None, now
            keys = self._keys(res)
            lo, hi = 0, len(keys)
            if ns:
                lo = bisect.bisect_left(keys, (ns, ''))
                hi = bisect.bisect_left(keys, (ns + '\x00', ''))
            if start is not None:
                lo = max(lo, bisect.bisect_right(keys, start))
            items, data, i = [], self.data[res], lo
            while i < hi and (not limit or len(items) < limit):
                e = data.get(keys[i])
                i += 1
                if e is None:
                    continue
                if labels and not sel.labels_match(labels, e.meta.get('labels')):
                    continue
                if fields and not sel.fields_match(fields, e.obj):
                    continue
                items.append(e.raw() if raw else e)
            token = remaining = None
            if limit and i < hi:
                token = self._encode_continue(list_rv, keys[i - 1], issued)
                if not labels and not fields:
                    remaining = hi - i
            return items, list_rv, token, remaining

    @staticmethod
    def _encode_continue(rv, key, issued):
        doc = {'v': 'meta.k8s.io/v1', 'rv': rv, 'start': list(key), 'ts': issued}
        return base64.urlsafe_b64encode(dumps(doc)).decode().rstrip('=')

    def _decode_continue(self, token, now):
        """The token's parse, failing with the real server's texts (Go's base64 and JSON
        decoders' errors) as far as they concern the token's encoding."""
        def bad(why):
            return apierrors.bad_request('invalid continue token: continue key is not valid: %s' % why)
        pos = next((i for i, ch in enumerate(token) if ch not in B64URL), None)
        if pos is None and len(token) % 4 == 1:
            pos = len(token) - 1
        if pos is not None:
            raise bad('illegal base64 data at input byte %d' % pos)
        try:
            doc = gojson.loads(base64.urlsafe_b64decode(token + '=' * (-len(token) % 4)))
        except gojson.GoJSONError as e:
            raise bad(e)
        try:
            rv, start, issued = int(doc['rv']), tuple(doc['start']), float(doc['ts'])
        except (ValueError, KeyError, TypeError) as e:
            raise bad(e)
        if now - issued > self.continue_ttl:
            raise apierrors.expired_continue()
        return rv, start, issued

    # ---- watch ----------------------------------------------------------------------
    def watch_start(self, rv):
        """Index into history of the first event after rv; None when rv is compacted."""
        with self.lock:
            if rv < self.compacted_rv:
                return None
            return self._abs(bisect.bisect_right(self.history, rv, key=lambda e: e.rv))

    def _abs(self, idx):
        # history indexes shift when it is trimmed; keep absolute positions
        return self.change_count - len(self.history) + idx

    def watch_next(self, pos, timeout):
        """Waits up to timeout for events after absolute position pos.  Returns
        (events, new pos) or (None, pos) when the watcher fell behind compaction."""
        with self.cond:
            first = self.change_count - len(self.history)
            if pos < first:
                return None, pos
            if pos >= self.change_count:
                self.cond.wait(timeout)
                first = self.change_count - len(self.history)
                if pos < first:
                    return None, pos
            evs = self.history[pos - first:]
            return evs, self.change_count


KEY_ORDER = ('kind', 'apiVersion', 'metadata', 'spec', 'status')


def _ordered(obj):
    """Puts kind/apiVersion/metadata/spec/status first, as the real server prints."""
    out = {k: obj[k] for k in KEY_ORDER if k in obj}
    for k, v in obj.items():
        if k not in out:
            out[k] = v
    return out
