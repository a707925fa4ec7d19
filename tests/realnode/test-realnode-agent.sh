#!/bin/bash
# The realnode agent as a kubelet, pod by pod, on one real node: runAsUser/runAsGroup,
# readOnlyRootFilesystem and an emptyDir seen from inside the container; runAsNonRoot
# refused for a root image; containerd's own pull error, then ImagePullBackOff and a retry
# after the kubelet's 10 s back-off; a crashing container's exit code and CrashLoopBackOff;
# node.status.images and the runtime version from containerd; deleting a pod removes its
# containers, rootfs mount and cgroup; image GC removes unused images only; SIGTERM with
# pods running leaves nothing behind.
. "$top_srcdir/tests/realnode/lib.sh"
rn_prereq

py_exe=$("$PYTHON3" -c 'import sys; print(sys.executable)')
out=$(PATH=/nonexistent "$py_exe" "$RN_DIR/realnode.py" --check 2>&1)
is "$?" 3 "--check with none of the tools on PATH exits 3"
echo "$out" | grep -q "command containerd, ctr, containerd-shim-runc-v2: install the Debian package containerd (tools/deps)"
ok $? "and names each missing command with its Debian package"

sim_start --nodes 2 --zones 1 --images-per-node 0 --time-scale 0.05
rn_start --nodes node-0001
rn_remember
N=node-0001
BB=docker.io/library/busybox:1.36.1-musl

api() { rn api "$SIM" "$@"; }
pod() { # pod NAME JSON-SPEC: creates a pod bound to node-0001
        api POST /api/v1/namespaces/default/pods "$("$PYTHON3" -c 'import json,sys
s = json.loads(sys.argv[2])
s["nodeName"] = "node-0001"
s.setdefault("terminationGracePeriodSeconds", 2)   # sleep as PID 1 ignores SIGTERM: SIGKILL after 2 s
print(json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": sys.argv[1], "namespace": "default"}, "spec": s}))' "$1" "$2")" >/dev/null
}
pod_json() { api GET "/api/v1/namespaces/default/pods/$1"; }
del_pod() { api DELETE "/api/v1/namespaces/default/pods/$1" >/dev/null; }
# wait_pod NAME PYTHON-CONDITION-ON-p-AND-s [SECONDS]: waits until it holds; the pod in $WORK/pod.json
wait_pod() {
        rn wait "$SIM" "/api/v1/namespaces/default/pods/$1" "$2" "${3:-60}" >"$WORK/pod.json" && return 0
        echo "# $1: $(head -c 1500 "$WORK/pod.json")"
        return 1
}
state_of() { echo "[c for c in s.get('containerStatuses',[]) if c['name']=='$1'][0]['state']"; }

# A pod that fails to pull (created first: its back-off runs while the others are checked).
pod missing '{"containers":[{"name":"m","image":"registry.test/clyde/nothere:1","command":["/x"]}]}'
pod user '{"securityContext":{"runAsUser":1234,"runAsGroup":2345},
  "volumes":[{"name":"data","emptyDir":{}}],
  "containers":[{"name":"u","image":"'$BB'","securityContext":{"readOnlyRootFilesystem":true},
    "command":["/bin/sh","-c","id -u >/data/uid; id -g >/data/gid; touch /x 2>/data/err; echo $? >/data/rc; exec sleep 3600"],
    "volumeMounts":[{"name":"data","mountPath":"/data"}]}]}'
wait_pod user "s.get('phase') == 'Running'"; ok $? "a pod with runAsUser, readOnlyRootFilesystem and an emptyDir runs"
uid=$(pod_json user | "$PYTHON3" -c "import json,sys; print(json.load(sys.stdin)['metadata']['uid'])")
data=$RN/nodes/$N/pods/$uid/volumes/data
for _ in $(seq 1 50); do [ -s "$data/rc" ] && break; sleep 0.1; done
is "$(cat "$data/uid" "$data/gid" 2>&1 | tr '\n' ' ')" "1234 2345 " "inside: uid 1234 gid 2345 (runAsUser/runAsGroup)"
is "$(cat "$data/rc" 2>&1)" 1 "inside: writing to / fails"
grep -q "Read-only file system" "$data/err"; ok $? "inside: the root filesystem is read-only ($(cat "$data/err"))"
is "$(stat -c '%u:%g %a' "$data")" "0:0 777" "the emptyDir is a 0777 directory on the node"
is "$(stat -c %u "$data/uid")" 1234 "files written there belong to uid 1234"
cid=$(pod_json user | "$PYTHON3" -c "import json,sys; print(json.load(sys.stdin)['status']['containerStatuses'][0]['containerID'].split('//')[1])")
rn images "$N" >"$WORK/images"
bbd=$(awk -v r=$BB '$2 == r {print $3}' "$WORK/images")
is "$(pod_json user | "$PYTHON3" -c "import json,sys; c=json.load(sys.stdin)['status']['containerStatuses'][0]; print(c['image'], c['imageID'])")" \
        "$BB docker.io/library/busybox@$bbd" "status: image and imageID (repo@digest) as containerd has them"
wait_pod user "s.get('conditions') and [c for c in s['conditions'] if c['type']=='Ready'][0]['status']=='True'"
ok $? "the pod is Ready"

pod root '{"securityContext":{"runAsNonRoot":true},"containers":[{"name":"r","image":"'$BB'","command":["/bin/sh","-c","sleep 5"]}]}'
wait_pod root "$(state_of r).get('waiting',{}).get('reason') == 'CreateContainerConfigError'"
ok $? "runAsNonRoot with an image that runs as root: CreateContainerConfigError"
grep -q 'container has runAsNonRoot and image will run as root' "$WORK/pod.json"; ok $? "with the kubelet's message"

pod crash '{"containers":[{"name":"c","image":"'$BB'","command":["/bin/sh","-c","exit 3"]}]}'
wait_pod crash "$(state_of c).get('waiting',{}).get('reason') == 'CrashLoopBackOff'"
ok $? "a container exiting 3 goes to CrashLoopBackOff"
wait_pod crash "[c for c in s['containerStatuses'] if c['name']=='c'][0]['lastState']['terminated']['exitCode'] == 3" 5
ok $? "lastState.terminated.exitCode 3 (reason $("$PYTHON3" -c "import json; print(json.load(open('$WORK/pod.json'))['status']['containerStatuses'][0]['lastState']['terminated']['reason'])"))"
grep -q 'back-off 10s restarting failed container=c pod=crash_default' "$WORK/pod.json"; ok $? "the back-off message names 10s"

wait_pod missing "$(state_of m).get('waiting',{}).get('reason') in ('ErrImagePull', 'ImagePullBackOff')"
api GET '/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dmissing' |
        "$PYTHON3" -c "import json,sys; [print(e['reason'] + ': ' + e['message']) for e in json.load(sys.stdin)['items']]" >"$WORK/ev"
grep -q '^Failed: Failed to pull image "registry.test/clyde/nothere:1": rpc error: code = NotFound desc = failed to pull and unpack image "registry.test/clyde/nothere:1": failed to resolve reference "registry.test/clyde/nothere:1": registry.test/clyde/nothere:1: not found$' "$WORK/ev"
ok $? "a missing image: containerd's own 'not found' text"
wait_pod missing "$(state_of m).get('waiting',{}).get('reason') == 'ImagePullBackOff'" 10
ok $? "then ImagePullBackOff"

# node.status from containerd
rn status-images "$SIM" >"$WORK/status-images"
grep -q "^$N docker.io/library/busybox@$bbd " "$WORK/status-images" && grep -q "^$N $BB " "$WORK/status-images"
ok $? "node.status.images lists busybox by repo@digest and tag"
size=$(awk -v r=$BB '$2 == r {print $3}' "$WORK/status-images")
[ "${size:-0}" -gt 1000000 ] && [ "$size" -lt 1200000 ]; ok $? "its size is the real one (${size} bytes of manifest, config and layer)"
rv=$(api GET /api/v1/nodes/$N | "$PYTHON3" -c "import json,sys; print(json.load(sys.stdin)['status']['nodeInfo']['containerRuntimeVersion'])")
case $rv in containerd://1.*) ok 0 "nodeInfo.containerRuntimeVersion is containerd's ($rv)";; *) ok 1 "containerRuntimeVersion $rv";; esac

# Deleting a pod stops and removes its containers.
del_pod user
wait_pod user "p.get('error') == 404" 30; ok $? "a deleted pod is gone from the API once its kubelet finished it"
rn containers "$N" >"$WORK/containers"
! grep -q " $cid\$" "$WORK/containers"; ok $? "its container is gone from containerd"
! grep -q " task:$cid\$" "$WORK/containers"; ok $? "its task is gone"
! mountpoint -q "$RN/nodes/$N/rootfs/$cid"; ok $? "its rootfs is unmounted"
[ ! -e "/sys/fs/cgroup/memory$RN_CGROUP/$N/$cid" ]; ok $? "its cgroup is removed"
[ ! -e "$RN/nodes/$N/pods/$uid" ]; ok $? "its emptyDir is removed"

# Image GC: busybox is still used by the crashing and root pods, the others are not.
for p in crash root missing; do del_pod $p; done
for p in crash root missing; do wait_pod $p "p.get('error') == 404" 30; ok $? "pod $p deleted"; done
pod keep '{"containers":[{"name":"k","image":"'$BB'","command":["/bin/sh","-c","sleep 3600"]}]}'
wait_pod keep "s.get('phase') == 'Running'"; ok $? "a pod using busybox runs"
rn admin POST "/gc?node=$N" >"$WORK/gc"
ok $? "image GC on $N"
rn images "$N" >"$WORK/images"
grep -q " $BB " "$WORK/images"; ok $? "GC keeps an image a container uses"
pod_json keep >/dev/null
del_pod keep
wait_pod keep "p.get('error') == 404" 30; ok $? "pod keep deleted"
rn admin POST "/gc?node=$N" >"$WORK/gc"
grep -q "$BB" "$WORK/gc"; ok $? "GC removes it once no container uses it: $(cat "$WORK/gc")"
is "$(rn images "$N")" "" "containerd holds no image"
is "$(rn status-images "$SIM")" "" "node.status.images is empty"

# SIGTERM with a pod running.
pod last '{"containers":[{"name":"l","image":"'$BB'","command":["/bin/sh","-c","sleep 3600"]}]}'
wait_pod last "s.get('phase') == 'Running'"; ok $? "a pod runs when realnode gets SIGTERM"
rn_stop
is "$RN_RC" 0 "realnode stops on SIGTERM with exit 0"
is "$(rn_leftovers)" "" "no netns, mount, cgroup or process left behind"
done_testing
