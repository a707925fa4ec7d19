"""The bandwidth model: fair shares (bandwidth.py) and the kubelets' pulls through it
(pullnet.py), stepped by hand: no wall clock involved."""

import math
import unittest

import bandwidth
import kube_sim
import simtest
from bandwidth import REGISTRY, Network
from test_scheduling import create_ds

MB = 1000 * 1000


class ParseTest(unittest.TestCase):
    def test_rates(self):
        self.assertEqual(bandwidth.parse_rate('100mbit'), 12.5 * MB)
        self.assertEqual(bandwidth.parse_rate('50kbit'), 6250.0)
        self.assertEqual(bandwidth.parse_rate('12.5MB/s'), 12.5 * MB)
        self.assertEqual(bandwidth.parse_rate('3mbps'), 3 * MB)
        self.assertEqual(bandwidth.parse_rate('800'), 800.0)
        for bad in ('', 'fast', '10 furlongs', '0mbit', '-5mbit'):
            with self.assertRaises(ValueError, msg=bad):
                bandwidth.parse_rate(bad)

    def test_sizes(self):
        self.assertEqual(bandwidth.parse_size('200MB'), 200 * MB)
        self.assertEqual(bandwidth.parse_size('1.5GiB'), 3 * 2 ** 29)
        self.assertEqual(bandwidth.parse_size('4096'), 4096)
        for bad in ('', '0MB', '12 parsecs'):
            with self.assertRaises(ValueError, msg=bad):
                bandwidth.parse_size(bad)

    def test_command_line(self):
        o = kube_sim.parse_args(['--state-dir', '/nonexistent', '--registry-rate', '100mbit',
                                 '--node-rate', '50mbit', '--pull-cost', '1.5',
                                 '--image-size', 'r.local/app:1=100MB'])
        self.assertEqual((o.registry_rate, o.node_rate, o.pull_cost), (12.5 * MB, 6.25 * MB, 1.5))
        self.assertEqual(o.image_size, [('r.local/app:1', 100 * MB)])
        o = kube_sim.parse_args(['--state-dir', '/nonexistent'])
        self.assertEqual((o.registry_rate, o.node_rate), (None, None))


def ends(net, until=1e9):
    return dict(net.advance(until))


class ShareTest(unittest.TestCase):
    def test_registry_shared_equally(self):
        net = Network(registry_rate=100.0)
        for n in 'abcd':
            net.add(n, REGISTRY, n, 1000, 0.0)
        self.assertEqual(ends(net), {n: 40.0 for n in 'abcd'})

    def test_add_many_is_add_each(self):
        # a alone for 5 s, then b and c added together: the same ends as three add()s
        one, many = Network(registry_rate=10.0), Network(registry_rate=10.0)
        for net in (one, many):
            net.add('a', REGISTRY, 'a', 100, 0.0)
        one.add('b', REGISTRY, 'b', 100, 5.0)
        one.add('c', REGISTRY, 'c', 50, 5.0)
        many.add_many([('b', REGISTRY, 'b', 100), ('c', REGISTRY, 'c', 50)], 5.0)
        self.assertEqual(many.advance(100.0), one.advance(100.0))
        self.assertEqual([k for k, _ in many.flows.items()], [])

    def test_share_recomputed_when_pullers_come_and_go(self):
        # a alone at 10 B/s for 5 s (50 B left), then a and b at 5 B/s each: a ends at
        # 15 with b 50 B short, which b then pulls alone in 5 s
        net = Network(registry_rate=10.0)
        net.add('a', REGISTRY, 'a', 100, 0.0)
        self.assertEqual(net.advance(5.0), [])
        net.add('b', REGISTRY, 'b', 100, 5.0)
        self.assertEqual(net.advance(100.0), [('a', 15.0), ('b', 20.0)])

    def test_node_link_caps_and_max_min(self):
        net = Network(registry_rate=100.0, node_rate=10.0)
        for n in 'abc':
            net.add(n, REGISTRY, n, 100, 0.0)
        net.advance(0.0)
        self.assertEqual([f.rate for f in net.flows.values()], [10.0] * 3)
        # 20 pullers: the registry (5 each) is the limit, not the links
        net = Network(registry_rate=100.0, node_rate=10.0)
        for i in range(20):
            net.add(i, REGISTRY, i, 100, 0.0)
        net.advance(0.0)
        self.assertEqual({f.rate for f in net.flows.values()}, {5.0})

    def test_slow_link_leaves_its_share_to_the_others(self):
        net = Network(registry_rate=100.0)
        net.node_rate = None
        net.add('slow', REGISTRY, 'slow', 100, 0.0)
        net.add('fast', REGISTRY, 'fast', 900, 0.0)
        net.capacity = lambda res: {REGISTRY: 100.0, ('down', 'slow'): 10.0}.get(res)
        net.advance(0.0)
        self.assertEqual((net.flows['slow'].rate, net.flows['fast'].rate), (10.0, 90.0))
        self.assertEqual(ends(net), {'slow': 10.0, 'fast': 10.0})

    def test_seeder_upload_shared_by_its_peers(self):
        # one seeder with a 30 B/s link serves three peers: 10 B/s each; a second seeder
        # serving one peer gives it the whole 30
        net = Network(registry_rate=5.0, node_rate=30.0)
        for n in ('p1', 'p2', 'p3'):
            net.add(n, 's1', n, 300, 0.0)
        net.add('p4', 's2', 'p4', 300, 0.0)
        net.add('r', REGISTRY, 'r', 50, 0.0)
        self.assertEqual(ends(net), {'p1': 30.0, 'p2': 30.0, 'p3': 30.0, 'p4': 10.0, 'r': 10.0})

    def test_end_found_while_adding_is_reported(self):
        # b's add() moves the clock past a's (instant) end: advance() still reports it
        net = Network(registry_rate=10.0)
        net.add('a', 's', 'a', 100, 1.0)
        net.add('b', 's', 'b', 100, 1.0)
        net.add('c', REGISTRY, 'c', 100, 1.0)
        self.assertEqual(net.advance(20.0), [('a', 1.0), ('b', 1.0), ('c', 11.0)])

    def test_unlimited_is_instant(self):
        net = Network()
        net.add('a', 's', 'a', 10 ** 9, 3.0)
        self.assertEqual(net.advance(3.0), [('a', 3.0)])
        self.assertEqual(net.next_end(), (math.inf, []))


class KubeletModelTest(unittest.TestCase):
    """Four simulated nodes, 100 MB images, registry 10 MB/s, links 5 MB/s, pull cost 2 s."""
    IMAGE = 'r.local/app:1'

    def setUp(self):
        self.c = simtest.make_cluster(nodes=4, images_per_node=3)
        self.c.kubelet.use_model(registry_rate=10 * MB, node_rate=5 * MB, cost=2.0)
        self.c.image_rules.set({'image': 'r.local/*', 'size': 100 * MB})
        self.t = 0.0

    def run_until(self, seconds, step=0.25):
        end = self.t + seconds
        while self.t < end:
            self.c.controllers.reconcile()
            self.c.kubelet.tick(self.t)
            self.t += step

    def running(self, ds):
        return sorted(p.obj['spec']['nodeName'] for p in self.c.store.values('pods')
                      if p.obj['metadata']['name'].startswith(ds)
                      and p.obj.get('status', {}).get('phase') == 'Running')

    def pulls(self, image=IMAGE):
        return [e for e in self.c.kubelet.model.report()['pulls'] if e['image'] == image]

    def test_all_from_the_registry(self):
        create_ds(self.c, simtest.daemonset(name='w', containers=[{'name': 'a', 'image': self.IMAGE}]))
        self.run_until(41)
        self.assertEqual(self.running('w'), [])
        self.run_until(2)
        self.assertEqual(len(self.running('w')), 4)
        p = self.pulls()
        # 4 pullers share 10 MB/s: 2.5 MB/s each (below the 5 MB/s link): 40 s + 2 s
        self.assertEqual({e['source'] for e in p}, {REGISTRY})
        self.assertEqual({round(e['transfer_s'], 6) for e in p}, {40.0})
        self.assertEqual({round(e['seconds'], 6) for e in p}, {42.0})
        self.assertEqual(self.c.kubelet.model.report()['registry_tx_bytes'], 400 * MB)

    def test_peers_pull_from_the_seeder(self):
        self.c.change_node('node-0002', lambda n: n['metadata']['labels'].update({'p2p-seeder': 'true'}))
        ds = simtest.daemonset(name='seed', containers=[{'name': 'a', 'image': self.IMAGE}],
                               node_selector={'p2p-seeder': 'true'})
        create_ds(self.c, ds)
        self.run_until(25)
        self.assertEqual(self.running('seed'), ['node-0002'])
        create_ds(self.c, simtest.daemonset(name='w', containers=[{'name': 'a', 'image': self.IMAGE}]))
        self.run_until(70)
        self.assertEqual(len(self.running('w')), 4)
        rep = self.c.kubelet.model.report()
        self.assertEqual(rep['registry_tx_bytes'], 100 * MB)
        self.assertEqual(rep['peer_tx_bytes'], {'node-0002': 300 * MB})
        peers = [e for e in rep['pulls'] if e['source'] == 'node-0002']
        self.assertEqual(sorted(e['node'] for e in peers), ['node-0001', 'node-0003', 'node-0004'])
        # the seeder's 5 MB/s upload shared by 3 peers: 60 s + 2 s
        self.assertEqual({round(e['seconds'], 6) for e in peers}, {62.0})
        seed = [e for e in rep['pulls'] if e['node'] == 'node-0002']
        self.assertEqual([round(e['seconds'], 6) for e in seed], [22.0])   # link-bound: 20 s + 2

    def test_no_p2p_and_model_off(self):
        self.c.kubelet.use_model(registry_rate=10 * MB, cost=0.0, p2p=False)
        self.c.change_node('node-0002', lambda n: n['metadata']['labels'].update({'p2p-seeder': 'true'}))
        self.c.kubelet.disk_of('node-0002').update(['r.local/app:1'])
        create_ds(self.c, simtest.daemonset(name='w', containers=[{'name': 'a', 'image': self.IMAGE}]))
        self.run_until(35)
        self.assertEqual({e['source'] for e in self.pulls()}, {REGISTRY})
        self.assertEqual({round(e['seconds'], 6) for e in self.pulls()}, {30.0})
        off = simtest.make_cluster(nodes=1, images_per_node=3)
        self.assertIsNone(off.kubelet.model)
