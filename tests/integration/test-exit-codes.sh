#!/bin/bash
# Exit codes other than 0/1/78 of a run against kube-sim: 70 when the API rejects a request
# as malformed (a bug in clyde-seed), 74 when the tracker or the log file cannot be
# written, and a log file that is a symbolic link refused before anything changes.
# (1 = some node x image failed: test-failure.sh; ENOMEM = 70: tests/unit/test-run.)
. "$top_srcdir/tests/integration/lib.sh"

sim_start --nodes 6 --zones 2 --time-scale 0.02
write_ini "$WORK/seeder.ini"
printf 'nginx:1.27\n' >"$WORK/images.txt"
fault() { sim admin POST /_sim/faults "$1" >/dev/null; }

# 422 and 400 for the DaemonSet: the request we built is wrong, that is no partial run.
for code in 422 400; do
        sim admin DELETE /_sim/faults >/dev/null
        fault "{\"verb\": \"create\", \"resource\": \"daemonsets\", \"action\": \"status\", \"code\": $code}"
        seed --config "$WORK/seeder.ini" --images-to-seed "$WORK/images.txt"
        is "$RC" 70 "a $code from the API on create exits 70 (internal error)"
        grep -q "cannot create DaemonSet" "$WORK/out"; ok $? "$code: the failed request is logged"
done
sim admin DELETE /_sim/faults >/dev/null
seed --config "$WORK/seeder.ini" --images-to-seed "$WORK/images.txt"
is "$RC" 0 "without the fault the next run completes"

# The tracker cannot be saved: files are limited to 1 KiB (SIGXFSZ ignored, so write()
# fails with EFBIG) once the tracker outgrows it.
rm -f "$WORK/seeder_tracker.json"*
RC=0
(trap '' XFSZ; ulimit -f 1; exec "$CLYDE_SEED" --kubeconfig "$SIM/kubeconfig" --base-dir "$WORK" \
        --config "$WORK/seeder.ini" --images-to-seed "$WORK/images.txt") >"$WORK/out" 2>&1 || RC=$?
is "$RC" 74 "a tracker that cannot be saved exits 74"
grep -q "cannot save tracker" "$WORK/out"; ok $? "the save failure is logged"

# The log file: a symbolic link is refused (never followed) before anything changes.
: >"$WORK/target.log"
ln -sf "$WORK/target.log" "$WORK/link.log"
sim admin DELETE /_sim/stats >/dev/null
seed --config "$WORK/seeder.ini" --images-to-seed "$WORK/images.txt" --log-file "$WORK/link.log"
is "$RC" 74 "a log file that is a symbolic link exits 74"
grep -q "cannot open log file '$WORK/link.log': it is a symbolic link" "$WORK/out"; ok $? "the message says why"
is "$(stat -c %s "$WORK/target.log")" 0 "nothing was written through the link"
is "$(sim writes)" 0 "nothing was changed in the cluster"

# A log file that cannot be written (/dev/full: every write fails with ENOSPC).
if [ -c /dev/full ]; then
        seed --config "$WORK/seeder.ini" --images-to-seed "$WORK/images.txt" --log-file /dev/full
        is "$RC" 74 "a log file that loses lines exits 74"
        grep -q "cannot write log file '/dev/full'" "$WORK/out"; ok $? "the message names the log file"
else
        ok 1 "/dev/full is missing: cannot test a log file that fails to write"
fi
done_testing
