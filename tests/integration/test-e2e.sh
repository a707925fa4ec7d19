#!/bin/bash
# The original end-to-end script: images from a pipe, then a workload that relies on them.
#   clyde-seed --images-to-seed <(echo IMAGE) ... && kubectl apply -f workload.yml
. "$top_srcdir/tests/integration/lib.sh"

sim_start --nodes 10 --zones 2 --time-scale 0.02
write_ini "$WORK/seeder.ini"

"$CLYDE_SEED" --config "$WORK/seeder.ini" --kubeconfig "$SIM/kubeconfig" --base-dir "$WORK" \
        --images-to-seed <(printf 'nginx:1.27\n') >"$WORK/out" 2>&1
is "$?" 0 "a run with --images-to-seed <(printf 'nginx:1.27\\n') exits 0"
grep -q "1 images from '/dev/fd/" "$WORK/out"; ok $? "the images came from the pipe"
is "$(py 'sorted({i["ref"] for s in t["seeders"] for i in s["images"]})')" "['docker.io/library/nginx:1.27']" \
        "the seeders hold the piped image"

# Standard input works too.
printf 'redis:7.4\n' | "$CLYDE_SEED" --config "$WORK/seeder.ini" --kubeconfig "$SIM/kubeconfig" --base-dir "$WORK" \
        --images-to-seed - >"$WORK/out" 2>&1
is "$?" 0 "--images-to-seed - reads standard input"
grep -q "1 images from '-'" "$WORK/out"; ok $? "the images came from standard input"

KUBECTL=${KUBECTL:-$(command -v kubectl)}
if [ -z "$KUBECTL" ] || [ ! -x "$KUBECTL" ]; then
        skip_missing 3 "clyde-seed ... && kubectl apply: kubectl not installed (apt-get install kubernetes-client)"
        done_testing
        exit $?
fi
cat >"$WORK/workload.yml" <<'YAML'
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: web
  namespace: default
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
YAML
"$CLYDE_SEED" --config "$WORK/seeder.ini" --kubeconfig "$SIM/kubeconfig" --base-dir "$WORK" --no-stdout \
        --images-to-seed <(echo nginx:1.27) &&
        "$KUBECTL" --kubeconfig "$SIM/kubeconfig" --cache-dir "$WORK/kcache" apply --validate=false \
                -f "$WORK/workload.yml" >"$WORK/kubectl.out" 2>&1
is "$?" 0 "clyde-seed ... && kubectl apply -f workload.yml succeeds"
grep -q "daemonset.apps/web created" "$WORK/kubectl.out"; ok $? "kubectl created the workload"
is "$(sim get /apis/apps/v1/namespaces/default/daemonsets/web | "$PYTHON3" -c 'import json,sys; print(json.load(sys.stdin)["metadata"]["name"])')" \
        web "the workload exists in the cluster"
done_testing
