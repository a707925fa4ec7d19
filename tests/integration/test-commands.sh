#!/bin/bash
# plan shows what a run would do and changes nothing; status shows the tracker;
# release removes only clyde-seed's labels and its DaemonSets.
. "$top_srcdir/tests/integration/lib.sh"

sim_start --nodes 10 --zones 2 --time-scale 0.02
write_ini "$WORK/seeder.ini"
printf 'nginx:1.27\nredis:7.4\n' >"$WORK/images.txt"

# plan before any run: 4 nodes to label, one DaemonSet, 8 pulls; nothing written.
sim admin DELETE /_sim/stats >/dev/null
"$CLYDE_SEED" --config "$WORK/seeder.ini" --kubeconfig "$SIM/kubeconfig" --base-dir "$WORK" plan >"$WORK/plan" 2>"$WORK/plan.err"
is "$?" 0 "plan exits 0"
is "$(grep -c '^label ' "$WORK/plan")" 4 "plan would label 4 nodes (40% of 10)"
grep -q "^1 DaemonSets in namespace 'default' for 8 node x image pulls" "$WORK/plan"; ok $? "plan would create 1 DaemonSet for 8 pulls"
is "$(sim writes)" 0 "plan writes nothing to the cluster"
[ ! -e "$WORK/seeder_tracker.json" ]; ok $? "plan writes no tracker"

"$CLYDE_SEED" --config "$WORK/seeder.ini" --base-dir "$WORK" status >"$WORK/status" 2>&1
is "$?" 0 "status without a tracker exits 0"
grep -q "has not run here yet" "$WORK/status"; ok $? "status says clyde-seed has not run yet"

seed --config "$WORK/seeder.ini"
is "$RC" 0 "a run exits 0"
"$CLYDE_SEED" --config "$WORK/seeder.ini" --kubeconfig "$SIM/kubeconfig" --base-dir "$WORK" plan >"$WORK/plan" 2>&1
is "$(grep -c '^keep ' "$WORK/plan")" 4 "after the run, plan keeps the 4 seeders"
grep -q "^0 DaemonSets in namespace 'default' for 0 node x image pulls" "$WORK/plan"; ok $? "and would pull nothing"
"$CLYDE_SEED" --config "$WORK/seeder.ini" --kubeconfig "$SIM/kubeconfig" --base-dir "$WORK" plan --json >"$WORK/plan.json" 2>/dev/null
is "$("$PYTHON3" -c 'import json,sys; p=json.load(open(sys.argv[1])); print(p["target"], len(p["plan"]), p["daemonsets"])' "$WORK/plan.json")" \
        "4 4 0" "plan --json gives the target, the plan and the DaemonSets"
is "$(tracker_json | "$PYTHON3" -c 'import json,sys; print(json.load(sys.stdin)["version"])')" 2 "status --json prints the versioned tracker"

# A node labelled by someone else survives release; ours do not.
foreign=$(comm -23 <(seq -f 'node-%04g' 1 10 | sort) <(sim labelled p2p-seeder=true | sort) | head -n 1)
sim admin POST "/_sim/nodes/$foreign/labels" '{"p2p-seeder": "true"}' >/dev/null
"$CLYDE_SEED" --config "$WORK/seeder.ini" --kubeconfig "$SIM/kubeconfig" --base-dir "$WORK" release >"$WORK/out" 2>&1
is "$?" 0 "release exits 0"
is "$(sim labelled p2p-seeder=true)" "$foreign" "only the foreign-labelled node keeps the label"
is "$(sim owned p2p-seeder=true | wc -l)" 0 "no node keeps clyde-seed's annotation"
is "$(sim daemonsets default | wc -l)" 0 "no DaemonSet left"
is "$(py 'len(t["seeders"])')" 0 "the tracker lists no seeders"
done_testing
