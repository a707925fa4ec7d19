"""The kubelets' bandwidth model (off unless --registry-rate or --node-rate is given).

Every image pull is one flow from a source (the registry, or a peer node that carries the
seeder label and holds the image) to the pulling node.  Rates are max-min fair
(progressive filling) under three kinds of capacity: the registry's egress, each node's
download link and each node's upload link (the same rate, a full-duplex link).  They are
re-computed whenever a flow starts or ends, so a registry shared by n pullers gives each
R/n, more to the others when one is held below that by its own link, and the remainder to
everyone once a puller finishes.  Pure logic: time is whatever the caller passes.
"""

import math
import re

REGISTRY = 'registry'
_RATE_RE = re.compile(r'^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([a-zA-Z/]*)\s*$')
# tc's units: bit rates, and bytes per second spelt with "B" or "bps"
_RATE_UNITS = {'': 1.0, 'bit': 1 / 8, 'kbit': 1e3 / 8, 'mbit': 1e6 / 8, 'gbit': 1e9 / 8,
               'b/s': 1.0, 'kb/s': 1e3, 'mb/s': 1e6, 'gb/s': 1e9,
               'bps': 1.0, 'kbps': 1e3, 'mbps': 1e6, 'gbps': 1e9}
_SIZE_UNITS = {'': 1, 'b': 1, 'kb': 10 ** 3, 'mb': 10 ** 6, 'gb': 10 ** 9,
               'kib': 2 ** 10, 'mib': 2 ** 20, 'gib': 2 ** 30}
_EPS = 1e-9


def parse_rate(text):
    """'100mbit' -> 12500000.0 bytes/s ('50kbit', '12.5MB/s', '3mbps' = 3 MB/s as tc
    reads it, a plain number = bytes/s).  ValueError for anything else or <= 0."""
    m = _RATE_RE.match(text or '')
    unit = m.group(2).lower() if m else None
    if unit not in _RATE_UNITS:
        raise ValueError('%r: expected a rate such as 100mbit, 50kbit or 12.5MB/s' % text)
    v = float(m.group(1)) * _RATE_UNITS[unit]
    if v <= 0:
        raise ValueError('%r: a rate must be above 0' % text)
    return v


def parse_size(text):
    """'200MB' -> 200000000, '1.5GiB', '512kB', plain bytes."""
    m = _RATE_RE.match(text or '')
    unit = m.group(2).lower() if m else None
    if unit not in _SIZE_UNITS:
        raise ValueError('%r: expected a size such as 200MB, 1.5GiB or 123456' % text)
    v = int(float(m.group(1)) * _SIZE_UNITS[unit])
    if v <= 0:
        raise ValueError('%r: a size must be above 0' % text)
    return v


class Flow:
    __slots__ = ('key', 'src', 'dst', 'size', 'left', 'rate', 'start')

    def __init__(self, key, src, dst, size, start):
        self.key, self.src, self.dst = key, src, dst
        self.size = self.left = float(size)
        self.rate = 0.0
        self.start = start

    def resources(self):
        up = REGISTRY if self.src == REGISTRY else ('up', self.src)
        return (up, ('down', self.dst))


class Network:
    """Flows and their max-min fair rates.  registry_rate, node_rate: bytes per time unit
    of the caller's clock, None for unlimited (a flow with no limit at all is instant)."""

    def __init__(self, registry_rate=None, node_rate=None):
        self.registry_rate = registry_rate
        self.node_rate = node_rate
        self.flows = {}        # key -> Flow
        self.t = None          # the time the remaining bytes are accounted to
        self.dirty = False
        self.done = []         # [(key, end)] not yet returned by advance()

    def capacity(self, res):
        return self.registry_rate if res == REGISTRY else self.node_rate

    def add(self, key, src, dst, size, t):
        """Starts a flow of size bytes at t (rates are computed at the next advance)."""
        self._run(t)
        self.flows[key] = Flow(key, src, dst, size, t)
        self.dirty = True

    def add_many(self, flows, t):
        """add() for [(key, src, dst, size)] all starting at t, accounted once (a
        DaemonSet's thousands of pulls starting together cost one allocation, not one each)."""
        self._run(t)
        for key, src, dst, size in flows:
            self.flows[key] = Flow(key, src, dst, size, t)
            self.dirty = True

    def remove(self, key, t):
        self._run(t)
        if self.flows.pop(key, None) is not None:
            self.dirty = True

    def clear(self):
        self.flows.clear()
        self.t = None
        self.dirty = False
        self.done = []

    def uploads(self, node):
        """How many flows node serves now."""
        return sum(1 for f in self.flows.values() if f.src == node)

    def advance(self, t):
        """Moves the clock to t; returns [(key, finish time)] of the flows that ended on the
        way (also those found while adding or removing flows), in order, the rates
        re-computed after each end."""
        self._run(t)
        done, self.done = self.done, []
        return done

    def _run(self, t):
        done = self.done
        if self.t is None:
            self.t = t
        if self.dirty:
            self.allocate()
        while self.flows:
            end, first = self.next_end()
            if end > t:
                break
            self._drain(end - self.t)
            self.t = end
            for f in first:
                del self.flows[f.key]
                done.append((f.key, end))
            self.allocate()
        if t > self.t:
            self._drain(t - self.t)
            self.t = t

    def next_end(self):
        """(time the next flow ends, [flows ending then]); (inf, []) when none."""
        best, first = math.inf, []
        for f in self.flows.values():
            dt = 0.0 if f.left <= _EPS else (f.left / f.rate if f.rate > 0 else math.inf)
            end = (self.t or 0.0) + dt
            if end < best - _EPS:
                best, first = end, [f]
            elif abs(end - best) <= _EPS and end < math.inf:
                first.append(f)
        return best, first

    def _drain(self, dt):
        if dt <= 0:
            return
        for f in self.flows.values():
            if f.rate == math.inf:
                f.left = 0.0
            else:
                f.left = max(f.left - f.rate * dt, 0.0)

    def allocate(self):
        """Max-min fair rates by progressive filling: the most constrained resource fixes
        the rate of its flows, whose share is taken from their other resources, and so on."""
        self.dirty = False
        users, left = {}, {}
        for f in self.flows.values():
            f.rate = None
            for res in f.resources():
                cap = self.capacity(res)
                if cap is not None:
                    users.setdefault(res, []).append(f)
                    left[res] = cap
        active = {res: len(fs) for res, fs in users.items()}
        while active:
            share = min(left[res] / n for res, n in active.items())
            tight = [res for res, n in active.items() if left[res] / n <= share * (1 + 1e-12)]
            for res in tight:
                for f in users[res]:
                    if f.rate is not None:
                        continue
                    f.rate = share
                    for other in f.resources():
                        if other in active:
                            left[other] = max(left[other] - share, 0.0)
                            active[other] -= 1
                            if active[other] == 0:
                                del active[other]
                active.pop(res, None)
        for f in self.flows.values():
            if f.rate is None:
                f.rate = math.inf     # nothing limits it
