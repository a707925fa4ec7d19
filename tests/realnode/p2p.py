"""realnode.py --p2p: the P2P layer (as Spegel does it).  Every real node runs
p2pserver.py in its network namespace; each node's containerd mirror configuration
(its own hosts directory) lists the nodes that carry the seeder label, read from the API
every POLL seconds, before the registry: rotated per node to spread the load, never the
node itself.  Also the counters of GET /stats (link counters and the P2P servers')."""

import json
import os
import sys
import threading
import urllib.parse

import agent
import netenv

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, 'p2pserver.py')
PORT = 5050
POLL = 1.0
MIRRORED = ('docker.io', 'registry.test')


def peer_order(me, seeders):
    """The peers node index `me` tries, in order: the seeders but itself, rotated by its
    index so that the nodes' first choices spread over the seeders."""
    peers = sorted(s for s in seeders if s != me)
    if not peers:
        return []
    k = me % len(peers)
    return peers[k:] + peers[:k]


def hosts_text(registry_url, peer_urls):
    """hosts.toml: the peers (pull and resolve), then the registry; containerd 1.6 wants
    at least one [host] table, so the registry is one too (and the server)."""
    text = 'server = "%s"\n' % registry_url
    for u in peer_urls + [registry_url]:
        text += '[host."%s"]\n  capabilities = ["pull", "resolve"]\n' % u
    return text


def parse_label(spec):
    key, sep, value = spec.partition('=')
    if not key or not sep:
        raise ValueError('--p2p-label %r: KEY=VALUE expected' % spec)
    return key, value


class P2P:
    def __init__(self, env, api, nodes, state, label='p2p-seeder=true'):
        self.env, self.api, self.nodes = env, api, list(nodes)
        self.label = parse_label(label)
        self.dir = os.path.join(state, 'p2p')
        self.seeders = None         # indexes of the labelled real nodes, as last written
        self.error = None

    def hosts_dir(self, node):
        return os.path.join(self.dir, 'hosts', node)

    def stats_file(self, node):
        return os.path.join(self.dir, 'stats', node + '.json')

    def peer_url(self, i):
        return 'http://%s:%d' % (self.env.node_ip(i), PORT)

    def start_servers(self):
        os.makedirs(os.path.join(self.dir, 'stats'), exist_ok=True)
        for i, node in enumerate(self.nodes):
            p = self.env.containerd_paths(i)
            self.env.spawn('p2p-' + node, [sys.executable, SERVER, '--root', p['root'], '--socket',
                                           p['socket'], '--port', str(PORT), '--stats', self.stats_file(node)],
                           ns=self.env.node_ns(i))
        for i in range(len(self.nodes)):
            self.env.wait_port(self.env.node_ns(i), PORT)

    def labelled(self):
        """Indexes of our nodes that carry the seeder label, from the API."""
        sel = urllib.parse.quote('%s=%s' % self.label, safe='')
        items = self.api.get('/api/v1/nodes?labelSelector=' + sel)['items']
        names = {n['metadata']['name'] for n in items}
        return frozenset(i for i, n in enumerate(self.nodes) if n in names)

    def write(self, seeders):
        """Every node's hosts directory for this set of seeders (each file replaced
        atomically); private.test as realnode writes it (not mirrored)."""
        reg = 'http://%s:%d' % (self.env.registry_ip, netenv.REGISTRY_PORT)
        for i, node in enumerate(self.nodes):
            d = self.hosts_dir(node)
            if self.seeders is None:
                self.env.write_hosts(d)
            peers = [self.peer_url(j) for j in peer_order(i, seeders)]
            for host in MIRRORED:
                os.makedirs(os.path.join(d, host), mode=0o700, exist_ok=True)
                path = os.path.join(d, host, 'hosts.toml')
                with open(path + '.tmp', 'w') as f:
                    f.write(hosts_text(reg, peers))
                os.replace(path + '.tmp', path)
        self.seeders = seeders

    def refresh(self):
        seeders = self.labelled()
        if seeders != self.seeders:
            self.write(seeders)
            agent.log('p2p: seeders %s' % (','.join(self.nodes[i] for i in sorted(seeders)) or 'none'))

    def loop(self, stop):
        while not stop.wait(POLL):
            try:
                self.refresh()
                self.error = None
            except Exception as e:      # the API restarting: keep the last configuration
                if str(e) != self.error:
                    agent.log('p2p: reading the seeder label: %s' % e)
                self.error = str(e)

    def start(self, stop):
        self.start_servers()
        self.refresh()
        t = threading.Thread(target=self.loop, args=(stop,), daemon=True)
        t.start()
        return t

    def server_stats(self, node):
        try:
            with open(self.stats_file(node)) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}


def link_counters(env):
    """{veth name on the bridge: (rx_bytes, tx_bytes)} from the bridge namespace."""
    out = netenv.run(netenv.in_ns(env.ns('br'), ['ip', '-j', '-s', 'link', 'show'])).stdout
    got = {}
    for link in json.loads(out):
        s = link.get('stats64') or link.get('stats') or {}
        got[link['ifname']] = (s.get('rx', {}).get('bytes', 0), s.get('tx', {}).get('bytes', 0))
    return got


def stats(env, nodes, p2p=None):
    """GET /stats: registry tx bytes (what its link carried out of its namespace: the
    bridge end received it), per node rx bytes (what its bridge end sent into it) and, with
    --p2p, what its P2P server served.  Cumulative counters."""
    links = link_counters(env)
    doc = {'registry': {'tx_bytes': links.get('vreg', (0, 0))[0]}, 'nodes': {}}
    for i, node in enumerate(nodes):
        s = p2p.server_stats(node) if p2p else {}
        doc['nodes'][node] = {'peer_tx_bytes': s.get('tx_bytes', 0), 'peer_requests': s.get('served', 0),
                              'peer_not_found': s.get('not_found', 0),
                              'rx_bytes': links.get('vn%d' % i, (0, 0))[1]}
    return doc
