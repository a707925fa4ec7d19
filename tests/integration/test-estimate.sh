#!/bin/bash
# The rollout estimate (issue 16): a first run records the registry rate it saw (the
# kubelet's Pulled events) in the tracker's history; plan then prints the estimated end to
# end time for the current share and the best one, with their inputs; percentage = auto
# uses the best share, and without a measured rate falls back to 40% with one line why.
. "$top_srcdir/tests/integration/lib.sh"

sim_start --nodes 10 --time-scale 0.02
write_ini "$WORK/auto.ini" "[seeder]" "percentage = auto"
write_ini "$WORK/p40.ini"
printf 'nginx:1.27\nredis:7.4\n' >"$WORK/images.txt"
plan() { "$CLYDE_SEED" --config "$WORK/p40.ini" --kubeconfig "$SIM/kubeconfig" --base-dir "$WORK" plan "$@"; }

# Before any run: no rate, and plan says so.
plan >"$WORK/plan0" 2>/dev/null
grep -q "^  not available: no run has measured the registry's rate yet" "$WORK/plan0"
ok $? "plan without history: the estimate is not available, and why"

# First run with auto: no history, so 40% (4 of 10) with the reason in the log.
seed --config "$WORK/auto.ini"
is "$RC" 0 "first run (auto) exits 0"
grep -q "percentage = auto: using 40%, no rollout estimate: no run has measured the registry's rate yet" "$WORK/out"
ok $? "auto without a measured rate falls back to 40% and says why"
is "$(sim labelled p2p-seeder=true | wc -l)" 4 "40% of 10 nodes: 4 seeders"
is "$(py 't["history"][-1]["pull"]["from"], t["history"][-1]["pull"]["nodes"], t["history"][-1]["pull"]["pulls"]')" \
        "events 4 8" "the run recorded its pull rate from the Pulled events of 4 seeders x 2 images"
ok $(py 'int(t["history"][-1]["pull"]["rate"] > 0 and t["history"][-1]["pull"]["bytes"] > 0)' | grep -qx 1; echo $?) \
        "a positive rate and byte count"
grep -q "pull rate: .* over 4 seeders (8 pulls" "$WORK/out"; ok $? "the run logs the rate it measured"

# plan: both estimates, their inputs and where each came from.
plan >"$WORK/plan1" 2>/dev/null
is "$?" 0 "plan exits 0"
run=$(py 't["history"][-1]["id"]')
grep -qE "^  registry rate +.*: median of 1 run, newest $run measured 20[0-9-]+T" "$WORK/plan1"
ok $? "the registry rate names the run and date that measured it"
grep -qE "^  node link rate +125 MB/s = 1 Gbit/s: default$" "$WORK/plan1"; ok $? "the link rate is the default"
grep -qE "^  current share +40% = 4 seeders: [0-9.]+ s \(seeding [0-9.]+ s \+ rollout [0-9.]+ s\)$" "$WORK/plan1"
ok $? "the estimate for the current share (40%)"
grep -qE "^  best share +[0-9.]+% = [0-9]+ seeders?: [0-9.]+ s" "$WORK/plan1"; ok $? "the estimate for the best share"
plan --json >"$WORK/plan.json" 2>/dev/null
est() { "$PYTHON3" -c "import json,sys; e=json.load(open(sys.argv[1]))['estimate']; print($1)" "$WORK/plan.json"; }
is "$(est 'e["available"], e["nodes"], e["current"]["seeders"], e["inputs"]["registry_rate"]["from"], e["inputs"]["registry_rate"]["newest_run"]')" \
        "True 10 4 measured $run" "plan --json: available, 10 nodes, 4 seeders now, the rate measured by the run"
best=$(est 'e["best"]["seeders"]')
share=$(est '"%g" % e["best"]["share"]')
# With kube-sim's fast registry every seeder pulls at its link rate: the rollout is best
# when the seeders can serve the others at full rate, k >= N - k, so 5 of 10.
is "$best $share" "5 50" "the best share is 5 of 10 nodes (50%)"
ok $(est 'int(e["best"]["seconds"] < e["current"]["seconds"])' | grep -qx 1; echo $?) "and faster than 40%"

# --seeder-percentage auto now takes the estimate's share.
seed --config "$WORK/p40.ini" --seeder-percentage auto
is "$RC" 0 "second run (auto) exits 0"
grep -q "percentage = auto: $share% ($best of 10 eligible nodes), the rollout estimate's best share" "$WORK/out"
ok $? "auto logs the estimate's share"
is "$(sim labelled p2p-seeder=true | wc -l)" "$best" "and labels that many seeders"
is "$(py 'len(t["history"])')" 2 "two runs in the history"
done_testing
