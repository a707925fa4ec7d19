"""client-go's event correlation (tools/record/events_cache.go), as the controllers'
event recorders apply it before anything reaches the API server:

- spam filter: per source + involved object a token bucket of 25, refilled one per 300 s;
  an event without a token is dropped;
- aggregator: from the 10th distinct message with the same source, object, type and
  reason within 600 s, events become one `(combined from similar events): MSG` event;
- logger: an event seen before (same key) is not created again: its count goes up and
  its lastTimestamp and message are updated.
kube-sim applies it to the DaemonSet controller's events.
"""

SPAM_BURST, SPAM_REFILL = 25.0, 300.0
AGGREGATE_MAX, AGGREGATE_INTERVAL = 10, 600.0
COMBINED = '(combined from similar events): '


class Correlator:
    def __init__(self):
        self.tokens = {}    # spam key -> (tokens, time)
        self.similar = {}   # aggregate key -> (set of messages, time of the last one)
        self.seen = {}      # event key -> (name, count, firstTimestamp)

    def observe(self, ev, now):
        """Returns None (dropped), ('create', ev) or ('update', name, count, first)."""
        io, src = ev['involvedObject'], ev.get('source') or {}
        spam = (src.get('component'), src.get('host'), io.get('kind'), io.get('namespace'),
                io.get('name'), io.get('uid'), io.get('apiVersion'))
        tokens, last = self.tokens.get(spam, (SPAM_BURST, now))
        tokens = min(SPAM_BURST, tokens + (now - last) / SPAM_REFILL)
        if tokens < 1:
            self.tokens[spam] = (tokens, now)
            return None
        self.tokens[spam] = (tokens - 1, now)
        agg = spam + (ev.get('type'), ev.get('reason'))
        msgs, at = self.similar.get(agg, (set(), now))
        if now - at > AGGREGATE_INTERVAL:
            msgs = set()
        msgs.add(ev['message'])
        self.similar[agg] = (msgs, now)
        key = agg + (ev['message'],)
        if len(msgs) >= AGGREGATE_MAX:
            msgs.pop()
            ev['message'] = COMBINED + ev['message']
            key = agg
        prev = self.seen.get(key)
        if prev is not None:
            name, count, first = prev
            self.seen[key] = (name, count + 1, first)
            return 'update', name, count + 1, first
        self.seen[key] = (ev['metadata']['name'], 1, ev['firstTimestamp'])
        return 'create', ev
