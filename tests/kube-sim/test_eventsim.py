"""bench/rollout/eventsim.py: the phases played on bandwidth.py give the figures worked out
by hand (small N, whole seconds), and the peer choice is pullnet's rotation."""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), 'bench', 'rollout'))
import eventsim  # noqa: E402

MB = 1000 * 1000


def run(n, share, reg, node, cost=0.0, seeders=None):
    # 100 MB image: at 80 Mbit/s (10 MB/s) 10 s; busybox (1 MB) 0.1 s
    return eventsim.point(n, share, 100 * MB, reg, node, cost, tool_fixed=0.0, seeders=seeders)


class EventSimTest(unittest.TestCase):
    def test_registry_shared_by_all(self):
        # 4 nodes share 80 Mbit/s: 101 MB each at 2.5 MB/s = 40.4 s; two pulls cost 2 x 1 s
        p = run(4, None, 80, None, cost=1.0)
        self.assertAlmostEqual(p['t_total_s'], 40.4 + 2.0, places=3)
        self.assertEqual(p['registry_bytes'], 4 * 101 * MB)
        self.assertEqual(p['peer_bytes'], 0)

    def test_link_bound_when_registry_is_fast(self):
        p = run(4, None, 1000, 80)
        self.assertAlmostEqual(p['t_total_s'], 10.1, places=3)

    def test_one_seeder_serves_the_others(self):
        # seeding: 1 node alone on an 80 Mbit/s registry, its link 80: 10.1 s (+2 c);
        # rollout: 3 peers share the seeder's 80 Mbit/s uplink: 30.3 s (+2 c)
        p = run(4, 20, 80, 80, cost=0.5)
        self.assertEqual(p['seeders'], 1)
        self.assertAlmostEqual(p['t_seed_s'], 10.1 + 1.0, places=3)
        self.assertAlmostEqual(p['t_rollout_s'], 30.3 + 1.0, places=3)
        self.assertEqual(p['registry_bytes'], 101 * MB)
        self.assertEqual(p['peer_bytes'], 3 * 101 * MB)

    def test_tool_time_counts_label_writes_past_the_burst(self):
        self.assertEqual(eventsim.tool_seconds(10, 2.0), 2.0)
        self.assertEqual(eventsim.tool_seconds(140, 2.0), 2.0 + 100 / 20.0)
        p = eventsim.point(200, 50, 100 * MB, None, None, 0.0, tool_fixed=1.0)
        self.assertAlmostEqual(p['t_total_s'], 1.0 + 60 / 20.0, places=6)   # pulls instant

    def test_rotation_spreads_the_peers(self):
        # 2 seeders (0, 2): node 1 starts at seeder 1 % 2 -> 2, node 3 at 3 % 2 -> 2:
        # both on node 2's uplink (20.2 s), node 0's is idle; spread it by the seeders given
        skew = run(4, 50, 1000, 80, seeders=[0, 2])
        self.assertAlmostEqual(skew['t_rollout_s'], 20.2, places=3)
        even = run(4, 50, 1000, 80, seeders=[0, 1])
        self.assertAlmostEqual(even['t_rollout_s'], 10.1, places=3)

    def test_more_seeders_past_the_best_are_slower(self):
        # the closed form's shape: a minimum, then slower (N = 100, R 50, L 80)
        t = {s: eventsim.point(100, s, 100 * MB, 50, 80, 3.0)['t_total_s'] for s in (1, 10, 60)}
        self.assertLess(t[10], t[1])
        self.assertLess(t[10], t[60])


if __name__ == '__main__':
    unittest.main()
