#!/bin/sh
# SPDX-License-Identifier: MIT
# A real systemd-journald, private to this test (a mount namespace with its own /run and
# journald.conf), receives one full cycle against kube-sim; journalctl then reads the
# structured fields back: the label events with priority 6 and CLYDE_NODE/CLYDE_RUN,
# the message ids, CLYDE_PHASE on the run's messages. Then log.journal=auto: nothing
# without $JOURNAL_STREAM, entries with it. Needs root (or user namespaces) and unshare.
. "$top_srcdir/tests/systemd/lib.sh"

JOURNALD=/lib/systemd/systemd-journald
[ -x "$JOURNALD" ] || JOURNALD=/usr/lib/systemd/systemd-journald
[ -x "$JOURNALD" ] || skip_all_missing "systemd-journald not installed (apt-get install systemd)"
command -v journalctl >/dev/null 2>&1 || skip_all_missing "journalctl not installed (apt-get install systemd)"
command -v unshare >/dev/null 2>&1 || skip_all_missing "unshare not installed (apt-get install util-linux)"
[ -f /etc/systemd/journald.conf ] ||
        skip_all_missing "no /etc/systemd/journald.conf to bind the test configuration over (apt-get install systemd)"
UNSHARE="unshare -m --propagation private"
[ "$(id -u)" -eq 0 ] || UNSHARE="unshare -rm --propagation private"
$UNSHARE true 2>/dev/null || skip_all "cannot create a mount namespace ($UNSHARE): needs root or user namespaces"

RUN_STARTED=4d9a1c0e8f2b4a6c9e3b7d5f1a2c4e60
RUN_FINISHED=4d9a1c0e8f2b4a6c9e3b7d5f1a2c4e61
SEEDER_ADDED=4d9a1c0e8f2b4a6c9e3b7d5f1a2c4e62
for id in $RUN_STARTED $RUN_FINISHED $SEEDER_ADDED; do
        grep -q "$id" "$top_srcdir/src/log.h" || echo "Bail out! message id $id is not in src/log.h"
done

J=$WORK/journal
mkdir -p "$J/log" "$WORK/base"
cat >"$J/journald.conf" <<'EOF'
[Journal]
Storage=volatile
ReadKMsg=no
ForwardToSyslog=no
ForwardToKMsg=no
ForwardToConsole=no
ForwardToWall=no
RateLimitIntervalSec=0
RuntimeMaxUse=64M
EOF
# Volatile storage lives in /run/log/journal: bind our directory there to keep it.

sim_start --nodes 10 --zones 2 --time-scale 0.02
printf 'nginx:1.27\nredis:7\n' >"$WORK/base/images.txt"
ini() { # ini FILE JOURNAL-MODE
        printf '[preload]\npull_timeout = 60s\n[registry]\nresolve = no\n[log]\nfile =\njournal = %s\n' "$2" >"$1"
}
ini "$WORK/yes.ini" yes
ini "$WORK/auto.ini" auto

# The script run inside the namespace, after journald is up: three runs.
cat >"$WORK/inner.sh" <<EOF
set -u
seed() { "$CLYDE_SEED" --kubeconfig "$SIM/kubeconfig" --base-dir "$WORK/base" --no-stdout "\$@"; }
seed --config "$WORK/yes.ini"; echo \$? >"$WORK/rc1"
journalctl --sync
journalctl -D /run/log/journal -o json --no-pager SYSLOG_IDENTIFIER=clyde-seed | wc -l >"$WORK/count1"
env -u JOURNAL_STREAM "$CLYDE_SEED" --kubeconfig "$SIM/kubeconfig" --base-dir "$WORK/base" --no-stdout \
        --config "$WORK/auto.ini"; echo \$? >"$WORK/rc2"
journalctl --sync
journalctl -D /run/log/journal -o json --no-pager SYSLOG_IDENTIFIER=clyde-seed | wc -l >"$WORK/count2"
JOURNAL_STREAM=8:12345 seed --config "$WORK/auto.ini"; echo \$? >"$WORK/rc3"
EOF

$UNSHARE -- sh -eu -c '
  J=$1; JOURNALD=$2; shift 2
  mount -t tmpfs -o mode=755 tmpfs /run
  mkdir -p /run/systemd/journal /run/log/journal
  mount --bind "$J/log" /run/log/journal
  mount --bind "$J/journald.conf" /etc/systemd/journald.conf
  SYSTEMD_LOG_TARGET=console "$JOURNALD" >"$J/journald.out" 2>&1 &
  JPID=$!
  i=0; while [ ! -S /run/systemd/journal/socket ]; do i=$((i+1)); [ $i -lt 500 ] || exit 99; sleep 0.01; done
  rc=0; "$@" || rc=$?
  journalctl --sync; kill -TERM $JPID; wait $JPID || true; exit $rc
' sh "$J" "$JOURNALD" sh "$WORK/inner.sh" >"$WORK/inner.out" 2>&1
rc=$?
if [ $rc -eq 99 ]; then
        echo "Bail out! private journald did not start: $(tail -n 5 "$J/journald.out")"
        exit 1
fi
ok $rc "journald namespace ran the cycles (rc $rc)"
[ $rc -eq 0 ] || sed 's/^/# /' "$WORK/inner.out" | tail -n 20
is "$(cat "$WORK/rc1" 2>/dev/null)" 0 "the cycle with journal = yes exits 0"

jc() { journalctl -D "$J/log" -o json --no-pager "$@"; }
jc SYSLOG_IDENTIFIER=clyde-seed >"$WORK/all.json" 2>"$WORK/jc.err"
jc CLYDE_PHASE=label >"$WORK/label.json" 2>>"$WORK/jc.err"
n_all=$(wc -l <"$WORK/all.json")
ok $([ "$n_all" -gt 0 ]; echo $?) "journalctl -D reads $n_all clyde-seed entries"
first=$(cat "$WORK/count1" 2>/dev/null || echo 0)

# The first run only: its entries are the first $first lines.
head -n "$first" "$WORK/all.json" >"$WORK/run1.json"
run1=$(jpy 'print(sorted({x.get("CLYDE_RUN", "") for x in e if "CLYDE_RUN" in x}))' "$WORK/run1.json")
ok $(jpy 'sys.exit(len({x["CLYDE_RUN"] for x in e if "CLYDE_RUN" in x}) != 1)' "$WORK/run1.json"; echo $?) \
        "one CLYDE_RUN in the first run's entries: $run1"
RUN=$(jpy 'print(next(x["CLYDE_RUN"] for x in e if "CLYDE_RUN" in x))' "$WORK/run1.json" 2>/dev/null)

# The label events of that run: every one priority 6 (info), with CLYDE_NODE, CLYDE_RUN,
# CLYDE_RESULT=labelled; one per new seeder (4 = 40% of 10 nodes).
jpy "
r = [x for x in e if x.get('CLYDE_RUN') == '$RUN' and x.get('CLYDE_RESULT') == 'labelled']
print(len(r))" "$WORK/label.json" >"$WORK/n_label"
is "$(cat "$WORK/n_label")" 4 "CLYDE_PHASE=label returns one 'labelled' event per new seeder"
is "$(jpy "print(sorted({x['PRIORITY'] for x in e if x.get('CLYDE_RESULT') == 'labelled'}))" "$WORK/label.json")" \
        "['6']" "label events have PRIORITY=6"
is "$(jpy "print(all(x.get('CLYDE_NODE') for x in e if x.get('CLYDE_RESULT') == 'labelled'))" "$WORK/label.json")" \
        True "label events carry CLYDE_NODE"
is "$(jpy "print(sorted({x.get('CLYDE_RUN') for x in e if x.get('CLYDE_RESULT') == 'labelled'}))" "$WORK/run1.json")" \
        "['$RUN']" "label events carry CLYDE_RUN"
is "$(jpy "print(all(x['CLYDE_NODE'] in x['MESSAGE'] for x in e if x.get('CLYDE_RESULT') == 'labelled'))" "$WORK/label.json")" \
        True "CLYDE_NODE names the node the message is about"
is "$(jpy 'print(sorted({x.get("CLYDE_PHASE") for x in e}))' "$WORK/label.json")" "['label']" \
        "the CLYDE_PHASE=label match returns only label entries"

# Message ids of run started, seeder added, run finished, each with the run id.
for pair in "run started:$RUN_STARTED:1" "seeder added:$SEEDER_ADDED:4" "run finished:$RUN_FINISHED:1"; do
        what=${pair%%:*}
        rest=${pair#*:}
        id=${rest%%:*}
        want=${rest#*:}
        got=$(jpy "print(len([x for x in e if x.get('MESSAGE_ID') == '$id']))" "$WORK/run1.json")
        is "$got" "$want" "MESSAGE_ID $id ($what) appears $want time(s)"
done
is "$(jpy "print([x.get('CLYDE_RESULT') for x in e if x.get('MESSAGE_ID') == '$RUN_FINISHED'])" "$WORK/run1.json")" \
        "['ok']" "run finished carries CLYDE_RESULT=ok"
is "$(jpy "print(sorted({x.get('CLYDE_PHASE') for x in e if x.get('MESSAGE_ID') == '$SEEDER_ADDED'}))" "$WORK/run1.json")" \
        "['select']" "seeder added is logged in phase select"
is "$(jpy "print(len([x for x in e if x.get('MESSAGE_ID') == '$SEEDER_ADDED' and x.get('CLYDE_NODE')]))" "$WORK/run1.json")" \
        4 "seeder added carries CLYDE_NODE"

# Every phase of the cycle shows up, and verify logs node x image results.
is "$(jpy 'print(" ".join(p for p in ["select", "label", "preload", "verify", "cleanup"] if p in {x.get("CLYDE_PHASE") for x in e}))' "$WORK/run1.json")" \
        "select label preload verify cleanup" "entries from every phase"
is "$(jpy "print(len([x for x in e if x.get('CLYDE_PHASE') == 'verify' and x.get('CLYDE_IMAGE') and x.get('CLYDE_NODE')]))" "$WORK/run1.json")" \
        8 "verify: one entry per node x image with CLYDE_NODE and CLYDE_IMAGE (4 x 2)"

# From "run started" on, every message carries the run id and a phase. Messages before
# it (reading the images file) have neither yet: listed as a note, not counted.
jpy "
i = next((k for k, x in enumerate(e) if x.get('MESSAGE_ID') == '$RUN_STARTED'), len(e))
for x in e[:i]:
    if not (x.get('CLYDE_RUN') and x.get('CLYDE_PHASE')):
        print('# note: before the run started, without CLYDE_RUN/CLYDE_PHASE: ' + x['MESSAGE'][:70])
print('missing=' + '; '.join(x['MESSAGE'][:60] for x in e[i:] if not (x.get('CLYDE_RUN') and x.get('CLYDE_PHASE'))))
" "$WORK/run1.json" >"$WORK/fields"
grep '^# note' "$WORK/fields"
is "$(sed -n 's/^missing=//p' "$WORK/fields")" "" "every entry from 'run started' on has CLYDE_RUN and CLYDE_PHASE"
is "$(jpy "print(len([x for x in e if x.get('MESSAGE_ID') == '$RUN_STARTED' and x.get('CLYDE_RUN') == '$RUN']))" "$WORK/run1.json")" \
        1 "run started carries CLYDE_RUN"

# journal = auto: off without $JOURNAL_STREAM (run 2 adds nothing), on with it (run 3).
is "$(cat "$WORK/rc2" 2>/dev/null)" 0 "journal = auto without JOURNAL_STREAM: run exits 0"
is "$(cat "$WORK/count2" 2>/dev/null)" "$first" "journal = auto without JOURNAL_STREAM: no entries"
is "$(cat "$WORK/rc3" 2>/dev/null)" 0 "journal = auto with JOURNAL_STREAM: run exits 0"
ok $([ "$n_all" -gt "$first" ]; echo $?) "journal = auto with JOURNAL_STREAM: entries ($n_all > $first)"
[ -s "$WORK/jc.err" ] && sed 's/^/# journalctl: /' "$WORK/jc.err"
done_testing
