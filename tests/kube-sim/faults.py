"""Fault injection rules for API requests, and per-image pull behaviour rules.

A fault rule (JSON, POST /_sim/faults):
  {"verb": "list"|"get"|"watch"|"create"|"update"|"patch"|"delete"|"*",
   "resource": "nodes"|"pods"|"daemonsets"|"namespaces"|"events"|"*",
   "action": "status"|"latency"|"close"|"reset"|"watch-cut"|"expire-continue"|"watch-expire",
   "code": 429, "retryAfter": 1,      # action status
   "seconds": 0.5,                    # action latency
   "afterEvents": 1,                  # action watch-cut: events sent before the cut
   "rate": 0.25,                      # probability per matching request (default 1)
   "count": 3,                        # fire at most this many times (default unlimited)
   "skip": 0}                         # let this many matching requests pass first
"""

import fnmatch
import random
import threading

import images

ACTIONS = ('status', 'latency', 'close', 'reset', 'watch-cut', 'expire-continue', 'watch-expire')
BEHAVIOURS = ('ok', 'not-found', 'unauthorized', 'slow', 'registry-unavailable', 'rate-limited', 'crash')


class RuleError(ValueError):
    pass


class Faults:
    def __init__(self, seed=None):
        self.rules = []
        self.lock = threading.Lock()
        self.rng = random.Random(seed)
        self.next_id = 1

    def add(self, rule):
        if not isinstance(rule, dict):
            raise RuleError('a fault rule is a JSON object')
        action = rule.get('action', 'status')
        if action not in ACTIONS:
            raise RuleError('unknown action %r; known: %s' % (action, ', '.join(ACTIONS)))
        if action == 'status' and not isinstance(rule.get('code'), int):
            raise RuleError('action status needs an integer "code"')
        r = {'verb': rule.get('verb', '*'), 'resource': rule.get('resource', '*'),
             'action': action, 'code': rule.get('code'), 'retryAfter': rule.get('retryAfter'),
             'seconds': float(rule.get('seconds', 0)), 'afterEvents': int(rule.get('afterEvents', 0)),
             'rate': float(rule.get('rate', 1.0)), 'count': rule.get('count'),
             'skip': int(rule.get('skip', 0)), 'fired': 0, 'seen': 0}
        if r['code'] == 429 and r['retryAfter'] is None:
            r['retryAfter'] = 1
        with self.lock:
            r['id'] = self.next_id
            self.next_id += 1
            self.rules.append(r)
        return r

    def clear(self):
        with self.lock:
            self.rules = []

    def snapshot(self):
        with self.lock:
            return [dict(r) for r in self.rules]

    def match(self, verb, resource):
        """Returns the rules that fire for this request (latency rules and at most one other)."""
        fired = []
        with self.lock:
            for r in self.rules:
                if r['verb'] not in ('*', verb) or r['resource'] not in ('*', resource):
                    continue
                if any(f['action'] != 'latency' for f in fired) and r['action'] != 'latency':
                    continue
                r['seen'] += 1
                if r['seen'] <= r['skip']:
                    continue
                if r['count'] is not None and r['fired'] >= r['count']:
                    continue
                if r['rate'] < 1.0 and self.rng.random() >= r['rate']:
                    continue
                r['fired'] += 1
                fired.append(dict(r))
        return fired


class ImageRules:
    """Per-image pull behaviour: exact reference or glob (matched against the reference
    as given and as normalised).  Built-in: a repository containing 'does-not-exist'
    is not found."""

    def __init__(self):
        self.rules = []
        self.lock = threading.Lock()

    def set(self, rule):
        if not isinstance(rule, dict) or not rule.get('image'):
            raise RuleError('an image rule needs "image"')
        b = rule.get('behaviour', rule.get('behavior', 'ok'))
        if b not in BEHAVIOURS:
            raise RuleError('unknown behaviour %r; known: %s' % (b, ', '.join(BEHAVIOURS)))
        r = {'image': rule['image'], 'behaviour': b}
        if b == 'slow':
            r['seconds'] = float(rule.get('seconds', 30))
        if b == 'crash':
            r['exit_code'] = int(rule.get('exit_code', 1))
            if rule.get('crash_platforms') is not None:
                r['crash_platforms'] = images.check_platforms(rule['crash_platforms'], RuleError)
        if rule.get('size'):
            r['size'] = int(rule['size'])
        if rule.get('platforms') is not None:
            r['platforms'] = images.check_platforms(rule['platforms'], RuleError)
        with self.lock:
            self.rules = [x for x in self.rules if x['image'] != r['image']] + [r]
        return r

    def clear(self):
        with self.lock:
            self.rules = []

    def snapshot(self):
        with self.lock:
            return [dict(r) for r in self.rules]

    def lookup(self, ref):
        with self.lock:
            for r in reversed(self.rules):
                pat = r['image']
                if pat in (ref.given, ref.normalized) or fnmatch.fnmatchcase(ref.given, pat) \
                        or fnmatch.fnmatchcase(ref.normalized, pat):
                    return r
        if 'does-not-exist' in ref.repo:
            return {'behaviour': 'not-found'}
        return {'behaviour': 'ok'}
