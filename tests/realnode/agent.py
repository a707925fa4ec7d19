"""The kubelet role for real: for each node it serves, watches the pods bound to it and runs
them with that node's containerd (runtime.py), writing pod status, events and the node's
image list back to the API server like a kubelet does."""

import base64
import json
import os
import shutil
import sys
import threading
import time
import urllib.parse

import podrun
import runtime as rt
import specs
from kubeapi import ApiError

EXTERNAL_ANNOTATION = 'kube-sim.clyde-seed.io/kubelet'
NODE_STATUS_EVERY = 10.0
MAX_IMAGES = 50         # the kubelet's nodeStatusMaxImages
RETRY_LATER = ('CrashLoopBackOff', 'CreateContainerError', 'CreateContainerConfigError')


def log(msg):
    print('realnode: %s' % msg, file=sys.stderr, flush=True)


def q(s):
    return urllib.parse.quote(s, safe='')


class NodeKubelet:
    def __init__(self, api, node, rtm, state_dir):
        self.api, self.node, self.rt = api, node, rtm
        self.dir = os.path.join(state_dir, 'pods')
        self.pods = {}          # uid -> pod object, from the watch
        self.runs = {}          # uid -> PodRun
        self.pods_lock = threading.Lock()
        self.lock = threading.RLock()       # one sync at a time (the loop, GC)
        self.wake = threading.Event()
        self.stop = threading.Event()
        self.images_dirty = True
        self.next_node_status = 0.0
        self.host_ip = ''
        self.image_cache = {}   # digest -> image_info
        self.deleted = set()    # uids of pods whose final DELETE was accepted

    # ---- watching ------------------------------------------------------------------
    def watch_loop(self):
        path = '/api/v1/pods?fieldSelector=' + q('spec.nodeName=' + self.node)
        while not self.stop.is_set():
            try:
                lst = self.api.get(path)
                with self.pods_lock:
                    self.pods = {p['metadata']['uid']: p for p in lst['items']}
                self.wake.set()
                rv = lst['metadata']['resourceVersion']
                for ev in self.api.watch(path, rv, timeout=30):
                    if self.stop.is_set():
                        return
                    if ev['type'] == 'ERROR':
                        break
                    obj = ev['object']
                    if ev['type'] == 'BOOKMARK':
                        continue
                    with self.pods_lock:
                        if ev['type'] == 'DELETED':
                            self.pods.pop(obj['metadata']['uid'], None)
                        else:
                            self.pods[obj['metadata']['uid']] = obj
                    self.wake.set()
            except Exception as e:      # the API restarted, a timeout: list again
                if not self.stop.is_set():
                    log('%s: watch: %s' % (self.node, e))
                    time.sleep(1)

    # ---- the sync loop ---------------------------------------------------------------
    def run(self):
        self.mark_external()
        while not self.stop.is_set():
            self.wake.wait(0.5)
            self.wake.clear()
            try:
                with self.lock:
                    if self.stop.is_set():      # shutdown ran meanwhile: containerd stops
                        break
                    self.sync_all(time.monotonic())
            except Exception as e:
                log('%s: sync: %r' % (self.node, e))
                time.sleep(0.5)

    def mark_external(self):
        node = self.api.patch('/api/v1/nodes/' + q(self.node),
                              {'metadata': {'annotations': {EXTERNAL_ANNOTATION: 'external'}}})
        for a in node.get('status', {}).get('addresses') or []:
            if a['type'] == 'InternalIP':
                self.host_ip = a['address']

    def sync_all(self, now):
        with self.pods_lock:
            snapshot = dict(self.pods)
        for uid, run in list(self.runs.items()):
            if uid not in snapshot:
                self.kill_pod(run, force=True)
                self.forget(run)
        for uid, pod in snapshot.items():
            run = self.runs.get(uid)
            if pod['metadata'].get('deletionTimestamp'):
                self.terminate(run, pod, now)
                continue
            if run is None:
                run = self.runs[uid] = podrun.PodRun(pod, time.time())
                self.make_volumes(run, pod)
            self.sync_pod(run, pod, now)
            self.report(run, pod)
        if self.images_dirty or now >= self.next_node_status:
            self.node_status()
            self.next_node_status = now + NODE_STATUS_EVERY

    def make_volumes(self, run, pod):
        """emptyDir volumes: a directory each, mode 0777 as the kubelet makes them."""
        for v in pod['spec'].get('volumes') or []:
            if 'emptyDir' in v:
                d = os.path.join(self.volume_dir(run), v['name'])
                os.makedirs(d, exist_ok=True)
                os.chmod(d, 0o777)

    def volume_dir(self, run):
        return os.path.join(self.dir, run.uid, 'volumes')

    def sync_pod(self, run, pod, now):
        for c in run.ctrs:
            if c.init and not c.done():
                self.step(run, pod, c, now)
                return
        for c in run.ctrs:
            if not c.init:
                self.step(run, pod, c, now)

    def step(self, run, pod, c, now):
        if c.state == 'running':
            code = c.proc.poll()
            if code is not None:
                self.exited(run, pod, c, code, now)
            return
        if c.state == 'terminated' and c.done():
            return
        if c.reason in RETRY_LATER and now < c.restart_at:
            return
        if not self.ensure_image(run, pod, c, now):
            return
        self.start_container(run, pod, c, now)

    # ---- images --------------------------------------------------------------------
    def ensure_image(self, run, pod, c, now):
        """True when c's image is present and may be used."""
        if c.pulling is not None:
            if c.pulling.is_alive():
                return False
            c.pulling = None
            err, c.pull_result = c.pull_result, None
            if err:
                c.pull_failed(err, now)
                self.event(run, c, 'Warning', 'Failed', 'Failed to pull image "%s": %s' % (c.image, err))
                self.event(run, c, 'Warning', 'Failed', 'Error: ErrImagePull')
                return False
            c.pull_fails = 0
            c.reason = c.message = None
            self.images_dirty = True
            self.event(run, c, 'Normal', 'Pulled', 'Successfully pulled image "%s" in %.3fs (%.3fs '
                       'including waiting)' % ((c.image,) + c.pull_took))
            return True
        if c.reason in ('ErrImagePull', 'ImagePullBackOff') and now < c.pull_retry_at:
            if c.reason == 'ErrImagePull' and now >= c.err_until:
                c.reason, c.message = 'ImagePullBackOff', 'Back-off pulling image "%s"' % c.image
                self.event(run, c, 'Normal', 'BackOff', c.message)
            return False
        c.ref = rt.normalize(c.image)
        present = c.ref in self.rt.images()
        if present and c.policy != 'Always':
            self.event(run, c, 'Normal', 'Pulled', 'Container image "%s" already present on machine' % c.image)
            return True
        if c.policy == 'Never':
            c.reason = 'ErrImageNeverPull'
            c.message = 'Container image "%s" is not present with pull policy of Never' % c.image
            return False
        self.event(run, c, 'Normal', 'Pulling', 'Pulling image "%s"' % c.image)
        creds = self.credentials(run, pod, c.ref)
        c.pulling = threading.Thread(target=self.pull, args=(c, creds), daemon=True)
        c.pulling.start()
        return False

    def pull(self, c, creds):
        """Tries each matching credential, then none if none match (the kubelet's rule);
        the result is the error the CRI plugin would return, '' on success."""
        err, start = '', time.monotonic()
        for auth in creds or [None]:
            try:
                took = self.rt.pull(c.ref, auth)
                c.pull_took = (took, time.monotonic() - start)
                err = ''
                break
            except rt.RuntimeError_ as e:
                text = str(e)
                code = 'NotFound' if text.endswith(': not found') else 'Unknown'
                err = 'rpc error: code = %s desc = failed to pull and unpack image "%s": %s' % (
                    code, c.ref, text)
            except Exception as e:
                err = 'rpc error: code = Unknown desc = %s' % e
        c.pull_result = err
        self.wake.set()

    def credentials(self, run, pod, ref):
        """[(host, user, password)] of the pod's imagePullSecrets that match ref's registry."""
        host = ref.split('/', 1)[0]
        out, missing = [], []
        for s in pod['spec'].get('imagePullSecrets') or []:
            try:
                sec = self.api.get('/api/v1/namespaces/%s/secrets/%s' % (q(run.ns), q(s['name'])))
            except ApiError:
                missing.append(s['name'])
                continue
            out += docker_auths(sec, host)
        if missing:
            self.event(run, None, 'Warning', 'FailedToRetrieveImagePullSecret',
                       'Unable to retrieve some image pull secrets (%s); attempting to pull the '
                       'image may not succeed.' % ', '.join(missing))
        return out

    # ---- containers ----------------------------------------------------------------
    def start_container(self, run, pod, c, now):
        if c.cid:
            self.rt.remove(c.cid)
        cid = '%s-%s-%d' % (run.uid[:13], c.name, c.restarts + (1 if c.last else 0))
        try:
            info = self.image_info(c.ref)
            rootfs = self.rt.prepare_rootfs(cid, info['chain'])
            try:
                spec = specs.build(self.rt.oci_spec(), pod, c.c, info['config'], rootfs,
                                   self.volume_dir(run),
                                   '%s/%s/%s' % (self.rt.cgroup_parent, self.node, cid))
                self.rt.create(cid, spec)
            except Exception:
                self.rt.remove(cid)
                raise
        except specs.ConfigError as e:
            self.create_failed(run, c, 'CreateContainerConfigError', str(e))
            return
        except rt.RuntimeError_ as e:
            self.create_failed(run, c, 'CreateContainerError', str(e))
            return
        c.cid, c.image_id = cid, '%s@%s' % (rt.repository(c.ref), info['digest'])
        self.event(run, c, 'Normal', 'Created', 'Created container %s' % c.name)
        logp = os.path.join(self.dir, run.uid, c.name + '.log')
        c.proc = self.rt.start(cid, logp)
        threading.Thread(target=self.wake_on_exit, args=(c.proc,), daemon=True).start()
        c.state, c.reason, c.message = 'running', None, None
        c.started_at, c.exit_code = podrun.rfc3339(), None
        self.event(run, c, 'Normal', 'Started', 'Started container %s' % c.name)

    def wake_on_exit(self, proc):
        """An exit is seen at once (the kubelet's PLEG gets containerd's event), not at
        the next 0.5 s tick."""
        try:
            proc.wait()
        finally:
            self.wake.set()

    def create_failed(self, run, c, reason, msg):
        c.state, c.reason, c.message = 'waiting', reason, msg
        c.restart_at = time.monotonic() + podrun.BACKOFF_START
        self.event(run, c, 'Warning', 'Failed', 'Error: %s' % msg)

    def image_info(self, ref):
        digest = self.rt.images().get(ref)
        if digest is None:
            raise rt.RuntimeError_('image "%s": not found' % ref)
        if digest not in self.image_cache:
            self.image_cache[digest] = self.rt.image_info(digest)
        return self.image_cache[digest]

    def exited(self, run, pod, c, code, now):
        err = c.proc.stderr.read() if c.proc.stderr else ''
        c.proc = None
        c.finished_at = podrun.rfc3339()
        c.exit_code = code
        never_ran = 'ctr: ' in err
        if never_ran:   # the task could not start: containerd's text, exit code 128
            c.exit_code, c.reason, c.message = 128, 'StartError', rt.error_text(err)
            self.event(run, c, 'Warning', 'Failed', 'Error: %s' % c.message)
        else:
            c.reason, c.message = ('Completed' if code == 0 else 'Error'), None
        c.state = 'terminated'
        if c.done():
            return
        c.last = podrun.terminated(c)
        c.restarts += 1
        c.crashed(now, run.label)
        self.event(run, c, 'Warning', 'BackOff', 'Back-off restarting failed container')

    # ---- deletion ------------------------------------------------------------------
    def terminate(self, run, pod, now):
        if run is None:
            self.delete_pod(pod)
            return
        if run.kill_at is None:
            grace = pod['metadata'].get('deletionGracePeriodSeconds')
            if grace is None:
                grace = pod['spec'].get('terminationGracePeriodSeconds', 30)
            run.kill_at = now + grace
            self.kill_pod(run)
        elif now >= run.kill_at:
            self.kill_pod(run, force=True)
        if all(c.proc is None or c.proc.poll() is not None for c in run.ctrs):
            each(lambda c: self.rt.remove(c.cid), [c for c in run.ctrs if c.cid])
            self.delete_pod(pod)
            self.forget(run)

    def kill_pod(self, run, force=False):
        """Signals every running container of the pod at once (as the kubelet does, one
        goroutine each); force: SIGKILL, wait, remove."""
        live = [c for c in run.ctrs if c.proc is not None and c.proc.poll() is None]
        for c in live:
            if not c.killed:
                self.event(run, c, 'Normal', 'Killing', 'Stopping container %s' % c.name)
                c.killed = True
        each(lambda c: self.rt.kill(c.cid, 'SIGKILL' if force else 'SIGTERM'), live)
        if force:
            for c in live:
                try:
                    c.proc.wait(10)
                except Exception:
                    pass
            each(lambda c: self.rt.remove(c.cid), [c for c in run.ctrs if c.cid])

    def delete_pod(self, pod):
        m = pod['metadata']
        if m['uid'] in self.deleted:
            return
        try:
            self.api.call('DELETE', '/api/v1/namespaces/%s/pods/%s' % (q(m['namespace']), q(m['name'])),
                          {'kind': 'DeleteOptions', 'apiVersion': 'v1', 'gracePeriodSeconds': 0,
                           'preconditions': {'uid': m['uid']}})
            self.deleted.add(m['uid'])
        except ApiError as e:
            if e.code not in (404, 409):
                raise

    def forget(self, run):
        self.runs.pop(run.uid, None)
        shutil.rmtree(os.path.join(self.dir, run.uid), ignore_errors=True)
        self.images_dirty = True

    def shutdown(self):
        with self.lock:
            for run in list(self.runs.values()):
                self.kill_pod(run, force=True)
            for cid in self.rt.containers():
                self.rt.remove(cid)

    # ---- reporting -----------------------------------------------------------------
    def report(self, run, pod):
        status = podrun.render(run, self.host_ip, pod.get('status'), time.time())
        if status == run.sent:
            return
        try:
            self.api.patch('/api/v1/namespaces/%s/pods/%s/status' % (q(run.ns), q(run.name)),
                           {'status': status})
            run.sent = status
        except ApiError as e:
            if e.code != 404:
                log('%s: status of %s/%s: %s' % (self.node, run.ns, run.name, e))

    def node_status(self):
        imgs = []
        for ref, digest in self.rt.images().items():
            try:
                info = self.image_cache.get(digest) or self.rt.image_info(digest)
            except rt.RuntimeError_:
                continue        # no content for this platform: the CRI plugin lists none
            self.image_cache[digest] = info
            imgs.append({'names': ['%s@%s' % (rt.repository(ref), digest), ref],
                         'sizeBytes': info['size']})
        imgs.sort(key=lambda e: -e['sizeBytes'])
        self.api.patch('/api/v1/nodes/%s/status' % q(self.node),
                       {'status': {'images': imgs[:MAX_IMAGES],
                                   'nodeInfo': {'containerRuntimeVersion': self.rt.version()}}})
        self.images_dirty = False

    def event(self, run, c, etype, reason, message):
        now = podrun.rfc3339()
        involved = {'kind': 'Pod', 'apiVersion': 'v1', 'namespace': run.ns, 'name': run.name,
                    'uid': run.uid}
        if c is not None:
            involved['fieldPath'] = c.field_path
        ev = {'apiVersion': 'v1', 'kind': 'Event',
              'metadata': {'generateName': run.name + '.', 'namespace': run.ns},
              'involvedObject': involved, 'reason': reason, 'message': message, 'type': etype,
              'source': {'component': 'kubelet', 'host': self.node},
              'firstTimestamp': now, 'lastTimestamp': now, 'count': 1,
              'reportingComponent': 'kubelet', 'reportingInstance': self.node}
        try:
            self.api.call('POST', '/api/v1/namespaces/%s/events' % q(run.ns), ev)
        except Exception as e:
            log('%s: event %s: %s' % (self.node, reason, e))

    # ---- image garbage collection ------------------------------------------------------
    def gc(self):
        """Removes every image no container on this node uses (the kubelet's image GC
        above its high threshold); returns the references removed."""
        with self.lock:
            # The list is read afresh: images pulled outside this agent (rnctl pull, a
            # test's ctr) are not in the runtime's cached list, and GC must see them.
            self.rt.images_changed()
            used = set()
            for run in self.runs.values():
                for c in run.ctrs:
                    if c.cid and c.ref:
                        used.add(self.rt.images().get(c.ref))
            removed = [ref for ref, digest in self.rt.images().items() if digest not in used]
            if removed:
                self.rt.remove_image(*removed)
            self.images_dirty = True
            self.node_status()
            return removed


def each(fn, items):
    """fn(item) for every item, concurrently (each is a few ctr calls); returns when all
    are done."""
    threads = [threading.Thread(target=fn, args=(i,), daemon=True) for i in items]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def docker_auths(secret, host):
    """(host, user, password) entries of a dockerconfigjson/dockercfg secret for host."""
    data = secret.get('data') or {}
    raw = data.get('.dockerconfigjson') or data.get('.dockercfg')
    if not raw:
        return []
    try:
        doc = json.loads(base64.b64decode(raw))
    except ValueError:
        return []
    auths = doc.get('auths', doc) if isinstance(doc, dict) else {}
    out = []
    for key, a in auths.items():
        k = key.split('://', 1)[-1].split('/', 1)[0]
        if k != host or not isinstance(a, dict):
            continue
        user, pw = a.get('username'), a.get('password')
        if a.get('auth'):
            user, _, pw = base64.b64decode(a['auth']).decode(errors='replace').partition(':')
        if user is not None:
            out.append((host, user, pw or ''))
    return out
