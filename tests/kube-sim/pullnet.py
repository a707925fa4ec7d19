"""Image pulls through the bandwidth model (bandwidth.py), for the kubelets.

Off unless kube_sim.py gets --registry-rate or --node-rate.  Then a successful pull of an
image the node does not hold is a flow instead of size / 100 MB/s:
- its source is a peer when one exists: a node carrying the seeder label (--p2p-label,
  default p2p-seeder=true) that holds the image, is Ready and is not the puller.  Each
  node tries the labelled nodes in its own rotated order (node i starts at seeder
  i mod k, as a per-node rotated hosts.toml does) and takes the first that holds the
  image; otherwise the registry.  --no-p2p: always the registry.
- its rate is the max-min fair share of the registry's egress, the source's upload link
  and the puller's download link, re-computed when any pull starts or ends;
- when the bytes are in, the pull costs a fixed --pull-cost seconds more (resolve,
  unpack, start).
All durations are simulated seconds times --time-scale, as the kubelet's others.
The pulls are kept in a log (GET /_sim/pulls): node, image, source, bytes, wall-clock
start and end (time.monotonic of this process) and the simulated seconds they took.
"""

import collections

import bandwidth
import nodes as nodemod

DEFAULT_LABEL = 'p2p-seeder=true'
LOG_MAX = 200000


def parse_label(text):
    key, sep, value = (text or '').partition('=')
    if not sep or not key:
        raise ValueError('%r: expected KEY=VALUE, e.g. p2p-seeder=true' % text)
    return key, value


def rotated_peer(index, seeders, node, holds):
    """The peer that serves node (at position index among the sorted nodes): the first of
    seeders in its rotated order (starting at seeder index mod len(seeders)) that is not
    node and for which holds(peer) is true; None when there is none (the registry)."""
    for i in range(len(seeders)):
        peer = seeders[(index + i) % len(seeders)]
        if peer != node and holds(peer):
            return peer
    return None


class PullModel:
    def __init__(self, store, disk_of, registry_rate=None, node_rate=None, scale=1.0,
                 cost=0.0, label=DEFAULT_LABEL, p2p=True):
        """disk_of(node name): the set of image names on that node's disk."""
        self.store, self.disk_of = store, disk_of
        self.scale = scale
        self.registry_rate, self.node_rate = registry_rate, node_rate
        wall = (lambda r: None if r is None or scale <= 0 else r / scale)
        self.net = bandwidth.Network(wall(registry_rate), wall(node_rate))
        self.cost = max(cost, 0.0)
        self.label = parse_label(label)
        self.p2p = p2p
        self.log = collections.deque(maxlen=LOG_MAX)
        self.open = {}             # node -> its log entry while the bytes flow
        self._view = None          # (sorted node names, {name: index}, sorted seeders)

    def settings(self):
        return {'registry_rate': self.registry_rate, 'node_rate': self.node_rate,
                'pull_cost': self.cost, 'time_scale': self.scale,
                'p2p_label': '%s=%s' % self.label if self.p2p else None}

    def nodes_changed(self):
        self._view = None

    def view(self):
        if self._view is None:
            names, seeders = [], []
            key, value = self.label
            for e in self.store.values('nodes'):
                names.append(e.meta['name'])
                if (e.meta.get('labels') or {}).get(key) == value and nodemod.is_ready(e.obj):
                    seeders.append(e.meta['name'])
            names.sort()
            seeders.sort()
            self._view = (names, {n: i for i, n in enumerate(names)}, seeders)
        return self._view

    def source(self, node, ref):
        """The peer node that serves ref to node, or bandwidth.REGISTRY."""
        if not self.p2p:
            return bandwidth.REGISTRY
        _, index, seeders = self.view()
        if not seeders:
            return bandwidth.REGISTRY
        wanted = set(ref.names()) if ref.tag else {ref.image_id()}
        peer = rotated_peer(index.get(node, 0), seeders, node,
                            lambda p: bool(wanted & self.disk_of(p)))
        return bandwidth.REGISTRY if peer is None else peer

    def start(self, node, ref, size, now):
        """Starts node's pull of ref (size bytes) at wall time now; its end is reported by
        advance()."""
        src = self.source(node, ref)
        self.net.add(node, src, node, size, now)
        entry = {'node': node, 'image': ref.normalized, 'source': src, 'bytes': int(size),
                 'start': now, 'transfer_end': None, 'end': None,
                 'transfer_s': None, 'seconds': None}
        self.open[node] = entry
        self.log.append(entry)
        return src

    def advance(self, now):
        """[(node, wall time its pull ends)] for the transfers finished by now: the end of
        the bytes plus the pull cost."""
        out = []
        for node, t in self.net.advance(now):
            end = t + self.cost * self.scale
            entry = self.open.pop(node, None)
            if entry is not None:
                entry['transfer_end'], entry['end'] = t, end
                sim = (lambda w: w / self.scale if self.scale > 0 else 0.0)
                entry['transfer_s'] = sim(t - entry['start'])
                entry['seconds'] = sim(end - entry['start'])
            out.append((node, end))
        return out

    def reset(self):
        self.net.clear()
        self.open.clear()
        self.log.clear()
        self._view = None

    def report(self):
        """The log and the bytes each source sent (like realnode's GET /stats)."""
        sent = {}
        for e in self.log:
            if e['end'] is not None:
                sent[e['source']] = sent.get(e['source'], 0) + e['bytes']
        return {'settings': self.settings(), 'in_flight': len(self.open),
                'registry_tx_bytes': sent.pop(bandwidth.REGISTRY, 0),
                'peer_tx_bytes': dict(sorted(sent.items())), 'pulls': list(self.log)}
