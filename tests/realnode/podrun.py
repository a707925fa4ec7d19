"""What the kubelet keeps about one pod and each of its containers, and the pod status it
renders from that.  Pure: no I/O, times are passed in."""

import time

BACKOFF_START, BACKOFF_MAX = 10.0, 300.0     # the kubelet's image and crash back-off
ERR_SHOWN = 1.0     # ErrImagePull is reported until the next sync, then ImagePullBackOff


def rfc3339(t=None):
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(time.time() if t is None else t))


class Ctr:
    def __init__(self, c, init):
        self.c, self.init, self.name = c, init, c['name']
        self.image = c.get('image', '')
        self.ref = None                 # containerd's normalised name
        self.policy = c.get('imagePullPolicy') or 'IfNotPresent'
        self.state = 'waiting'          # waiting running terminated
        self.reason, self.message = None, None
        self.cid, self.proc = None, None
        self.image_id = ''
        self.restarts = 0
        self.started_at = self.finished_at = None
        self.exit_code = None
        self.last = None                # lastState.terminated
        self.pull_fails, self.pull_retry_at, self.err_until = 0, 0.0, 0.0
        self.crash_fails, self.restart_at = 0, 0.0
        self.pulling = None             # the pull's thread while it runs
        self.pull_result = None         # None, or the error text ('' = pulled)
        self.pull_took = (0.0, 0.0)     # seconds pulling, and including the wait
        self.killed = False

    @property
    def field_path(self):
        return 'spec.%s{%s}' % ('initContainers' if self.init else 'containers', self.name)

    def done(self):
        return self.init and self.state == 'terminated' and self.exit_code == 0

    def pull_failed(self, msg, now):
        self.pull_fails += 1
        self.state, self.reason, self.message = 'waiting', 'ErrImagePull', msg
        self.pull_retry_at = now + min(BACKOFF_START * 2 ** (self.pull_fails - 1), BACKOFF_MAX)
        self.err_until = now + ERR_SHOWN

    def crashed(self, now, pod_label):
        self.crash_fails += 1
        delay = min(BACKOFF_START * 2 ** (self.crash_fails - 1), BACKOFF_MAX)
        self.restart_at = now + delay
        self.state, self.reason = 'waiting', 'CrashLoopBackOff'
        self.message = 'back-off %ds restarting failed container=%s pod=%s' % (delay, self.name, pod_label)


class PodRun:
    def __init__(self, pod, now):
        meta = pod['metadata']
        self.uid, self.ns, self.name = meta['uid'], meta['namespace'], meta['name']
        spec = pod['spec']
        self.ctrs = [Ctr(c, True) for c in spec.get('initContainers') or []]
        self.ctrs += [Ctr(c, False) for c in spec.get('containers') or []]
        self.start = rfc3339(now)
        self.sent = None                # the last status written
        self.kill_at = None             # SIGKILL time once termination started
        self.label = '%s_%s(%s)' % (self.name, self.ns, self.uid)

    def inits_done(self):
        return all(c.done() for c in self.ctrs if c.init)


def container_status(run, c):
    st = {'name': c.name, 'image': c.ref or c.image, 'imageID': c.image_id,
          'ready': c.state == 'running', 'restartCount': c.restarts}
    if c.cid:
        st['containerID'] = 'containerd://' + c.cid
    if not c.init:
        st['started'] = c.state == 'running'
    if c.state == 'running':
        st['state'] = {'running': {'startedAt': c.started_at}}
    elif c.state == 'terminated':
        st['state'] = {'terminated': terminated(c)}
        st['ready'] = c.done()
    else:
        reason = c.reason or ('ContainerCreating' if run.inits_done() else 'PodInitializing')
        w = {'reason': reason}
        if c.message:
            w['message'] = c.message
        st['state'] = {'waiting': w}
    st['lastState'] = {'terminated': c.last} if c.last else {}
    return st


def terminated(c):
    t = {'exitCode': c.exit_code, 'reason': c.reason or ('Completed' if c.exit_code == 0 else 'Error'),
         'startedAt': c.started_at, 'finishedAt': c.finished_at}
    if c.cid:
        t['containerID'] = 'containerd://' + c.cid
    if c.message:
        t['message'] = c.message
    return t


def _cond(ctype, ok, reason=None, message=None):
    c = {'type': ctype, 'status': 'True' if ok else 'False', 'lastProbeTime': None}
    if not ok and reason:
        c['reason'], c['message'] = reason, message
    return c


def render(run, host_ip, old, now):
    inits = [container_status(run, c) for c in run.ctrs if c.init]
    ctrs = [container_status(run, c) for c in run.ctrs if not c.init]
    pending_init = [c['name'] for c in inits if not c['ready']]
    unready = [c['name'] for c in ctrs if not c['ready']]
    conds = [_cond('Initialized', not pending_init, 'ContainersNotInitialized',
                   'containers with incomplete status: [%s]' % ' '.join(pending_init)),
             _cond('Ready', not unready, 'ContainersNotReady',
                   'containers with unready status: [%s]' % ' '.join(unready)),
             _cond('ContainersReady', not unready, 'ContainersNotReady',
                   'containers with unready status: [%s]' % ' '.join(unready)),
             _cond('PodScheduled', True)]
    oldc = {c['type']: c for c in (old or {}).get('conditions') or []}
    for c in conds:
        prev = oldc.get(c['type'])
        same = prev and prev.get('status') == c['status']
        c['lastTransitionTime'] = prev.get('lastTransitionTime') if same else rfc3339(now)
    running = ctrs and all('running' in c['state'] for c in ctrs)
    status = {'phase': 'Running' if not pending_init and running else 'Pending',
              'conditions': conds, 'hostIP': host_ip, 'startTime': run.start,
              'qosClass': (old or {}).get('qosClass', 'Burstable')}
    if inits:
        status['initContainerStatuses'] = inits
    status['containerStatuses'] = ctrs
    return status
