#!/bin/bash
# Issue 11 acceptance / issue 14 item 1: with each admission switched on, a run either
# succeeds or fails fast naming the policy (the DaemonSet controller's FailedCreate event),
# exit 1, no DaemonSet left; never a wait for pull_timeout (5 min here).
. "$top_srcdir/tests/integration/lib.sh"

sim_start --nodes 8 --zones 2 --time-scale 0.02
FAST=60 # seconds: a failure must come well before pull_timeout (300 s)

# ns NAME [LABELS-JSON [ANNOTATIONS-JSON]]: a namespace for one case.
ns() {
        sim api POST /api/v1/namespaces "{\"metadata\": {\"name\": \"$1\", \"labels\": ${2:-{\}}, \"annotations\": ${3:-{\}}}}" \
                >/dev/null
        # On a real control plane the tool runs as rbac.yaml's ServiceAccount, whose Role is
        # in default: grant it the same namespaced rules (rbac.yaml's Role) in this one.
        [ "$BACKEND" = real ] || return 0
        sim api POST "/apis/rbac.authorization.k8s.io/v1/namespaces/$1/roles" "{\"metadata\": {\"name\": \"clyde-seed\"},
                \"rules\": [{\"apiGroups\": [\"apps\"], \"resources\": [\"daemonsets\"], \"verbs\": [\"create\", \"get\", \"list\", \"delete\"]},
                {\"apiGroups\": [\"\"], \"resources\": [\"pods\"], \"verbs\": [\"list\", \"watch\"]},
                {\"apiGroups\": [\"\"], \"resources\": [\"events\"], \"verbs\": [\"list\"]}]}" >/dev/null
        sim api POST "/apis/rbac.authorization.k8s.io/v1/namespaces/$1/rolebindings" "{\"metadata\": {\"name\": \"clyde-seed\"},
                \"roleRef\": {\"apiGroup\": \"rbac.authorization.k8s.io\", \"kind\": \"Role\", \"name\": \"clyde-seed\"},
                \"subjects\": [{\"kind\": \"ServiceAccount\", \"name\": \"clyde-seed\", \"namespace\": \"default\"}]}" >/dev/null
}

# run NS [KEY=VALUE...]: one run in namespace NS with [preload] keys; sets RC and TOOK.
# Each run pulls an image no node holds yet (docker.io/library/app-N:1).
N=0
run() {
        local n=$1 t0
        shift
        N=$((N + 1))
        IMG=docker.io/library/app-$N:1
        echo "$IMG" >"$WORK/images.txt"
        {
                echo "[preload]"
                echo "namespace = $n"
                echo "pull_timeout = 5m"
                printf '%s\n' "$@" | sed 's/=/ = /'
                echo "[log]"
                echo "file ="
        } >"$WORK/seeder.ini"
        rm -f "$WORK"/seeder_tracker.json*
        t0=$(date +%s)
        seed --config "$WORK/seeder.ini"
        TOOK=$(($(date +%s) - t0))
}

# fails_fast NAME PATTERN: the last run failed fast with PATTERN in its summary line.
fails_fast() {
        is "$RC" 1 "$1: exit 1"
        grep -qE "FAILED image $IMG on [0-9]+ seeders? .*: FailedCreate: .*$2" "$WORK/out"
        ok $? "$1: the summary names the cause ($2)" || tail -n 5 "$WORK/out" | sed 's/^/# /'
        [ "$TOOK" -lt "$FAST" ]; ok $? "$1: failed in $TOOK s (< $FAST s, pull_timeout 300 s)"
        is "$(sim daemonsets "$NS" | wc -l)" 0 "$1: no DaemonSet left"
}

succeeds() {
        is "$RC" 0 "$1: exit 0" || tail -n 5 "$WORK/out" | sed 's/^/# /'
        grep -qE "image $IMG sha256:[0-9a-f]{64}: on ([0-9]+) of \\1 seeders" "$WORK/out"
        ok $? "$1: the image is on every seeder"
}

# PodSecurity restricted: the puller pods comply (runAsNonRoot, no privilege escalation,
# capabilities dropped, RuntimeDefault seccomp), with a uid or with auto.
NS=psa
ns psa '{"pod-security.kubernetes.io/enforce": "restricted"}'
run psa run_as_user=65534
succeeds "restricted PodSecurity, run_as_user 65534"
run psa run_as_user=auto
# kube-sim's kubelet does not compare runAsNonRoot with the image's USER; a real kubelet
# refuses busybox (USER root) with CreateContainerConfigError: what is asserted here is
# only that admission lets the pods in.
succeeds "restricted PodSecurity, run_as_user auto (admitted; kube-sim kubelet runs it)"

# LimitRange: min cpu 100m, limit = request. The default 10m fails fast; 100m works.
NS=lr
ns lr
sim api POST /api/v1/namespaces/lr/limitranges \
        '{"metadata": {"name": "puller-min"}, "spec": {"limits": [{"type": "Container", "min": {"cpu": "100m"}, "maxLimitRequestRatio": {"cpu": "1"}}]}}' >/dev/null
run lr
fails_fast "LimitRange min cpu 100m, default resources" "minimum cpu usage per Container is 100m, but request is 10m"
run lr cpu_request=100m cpu_limit=100m
succeeds "LimitRange min cpu 100m, cpu 100m"

# ResourceQuota: room for three puller pods of four (a pod asks 10m: its init container's
# request and the image container's are not added); the fourth fails fast naming the
# quota, the three that fit pull.
NS=quota
ns quota
sim api POST /api/v1/namespaces/quota/resourcequotas \
        '{"metadata": {"name": "small"}, "spec": {"hard": {"requests.cpu": "30m", "limits.cpu": "30m"}}}' >/dev/null
sleep 1 # the quota controller fills in status.used
run quota
fails_fast "ResourceQuota for three pods" "exceeded quota: small, requested: limits.cpu=10m,requests.cpu=10m, used: limits.cpu=30m"
grep -q "FAILED image $IMG on 1 seeder (" "$WORK/out"; ok $? "ResourceQuota for three pods: one seeder failed"
is "$(py 'sum(1 for s in t["seeders"] for i in s["images"])')" 3 "ResourceQuota for three pods: the three that fit pulled"
sim api PUT /api/v1/namespaces/quota/resourcequotas/small \
        '{"metadata": {"name": "small", "namespace": "quota"}, "spec": {"hard": {"requests.cpu": "1", "limits.cpu": "1"}}}' >/dev/null
sleep 1
run quota
succeeds "ResourceQuota with room"

# A missing priority class: the Priority plugin admits pods only, so the DaemonSet is
# created and its pods are refused (FailedCreate).
NS=prio
ns prio
run prio priority_class=does-not-exist
fails_fast "missing priority class" "no PriorityClass with name does-not-exist was found"

# An OpenShift-style uid range (restricted-v2 emulation in kube-sim): 65534 is outside
# it; auto works. A real Kubernetes server has no such plugin: the annotation changes
# nothing there, and 65534 is admitted.
NS=uid
ns uid '{}' '{"openshift.io/sa.scc.uid-range": "1000680000/10000"}'
run uid run_as_user=65534
if [ "$BACKEND" = real ]; then
        succeeds "uid-range annotation on a real server (no SCC plugin), run_as_user 65534"
else
        fails_fast "uid range, run_as_user 65534" "must be in the ranges: \[1000680000, 1000689999\]"
fi
run uid run_as_user=auto
succeeds "uid range, run_as_user auto"
done_testing
