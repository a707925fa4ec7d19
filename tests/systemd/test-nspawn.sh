#!/bin/sh
# SPDX-License-Identifier: MIT
# A real systemd boots a Debian bookworm container (systemd-nspawn, see nspawn-lib.sh);
# the built clyde-seed .deb is installed with apt, as an administrator would. The package
# enables the timer without starting it and never starts the service. With a kubeconfig
# for kube-sim on the host's loopback in /etc/clyde, "systemctl start clyde-seed" must
# end with Result=success; the journal shows every phase under
# _SYSTEMD_UNIT=clyde-seed.service from a dynamic user; the tracker is under
# /var/lib/clyde (/var/lib/private/clyde); list-timers shows the timer.
# test-deb.sh tries the upgrade, remove and purge.
. "$top_srcdir/tests/systemd/nspawn-lib.sh"

nspawn_require
nspawn_package
nspawn_rootfs
sim_start --nodes 10 --zones 2 --time-scale 0.02
nspawn_boot

# --- the package -------------------------------------------------------------------------
apt_install "$CDEB/$(basename "$DEB")"
ok $? "apt-get install ./$(basename "$DEB") in the container"
is "$(C dpkg-query -W -f '${Status} ${Version}' clyde-seed 2>&1)" \
        "install ok installed $(dpkg-deb -f "$DEB" Version)" "dpkg: clyde-seed installed"
EXEC=/usr/bin/clyde-seed
missing=$(C ldd "$EXEC" 2>&1 | grep 'not found')
is "$missing" "" "the binary finds its libraries in the container"
is "$(C sh -c 'dpkg-query --showformat="\${Conffiles}\n" -W clyde-seed | awk "NF {print \$1}" | sort | paste -sd" "')" \
        "/etc/clyde/images.txt /etc/clyde/seeder.ini" "conffiles: /etc/clyde/seeder.ini and images.txt"
for f in /usr/share/man/man8/clyde-seed.8.gz /usr/share/man/man5/seeder.ini.5.gz \
        /usr/share/doc/clyde-seed/examples/rbac.yaml /usr/share/doc/clyde-seed/copyright \
        /lib/systemd/system/clyde-seed.service /lib/systemd/system/clyde-seed.timer; do
        ok "$([ -f "$CR$f" ]; echo $?)" "installed $f"
done
is "$(C systemctl is-enabled clyde-seed.timer 2>&1)" enabled "the timer is enabled on install"
is "$(C systemctl show -p ActiveState --value clyde-seed.timer)" inactive "the timer is not started on install"
is "$(C systemctl show -p ActiveState,InvocationID clyde-seed.service | tr '\n' ' ')" \
        "ActiveState=inactive InvocationID= " "the service was never started by the package"
is "$(C systemctl show -p ExecStart --value clyde-seed.service | sed -n 's/.*path=\([^ ;]*\).*/\1/p')" \
        "$EXEC" "the unit runs $EXEC"

# --- /etc/clyde: the administrator's part -------------------------------------------------
write_kubeconfig
printf '[preload]\npull_timeout = 60s\n[registry]\nresolve = no\n[log]\nlevel = INFO\n' >"$CR/etc/clyde/seeder.ini"
printf 'nginx:1.27\nredis:7\n' >"$CR/etc/clyde/images.txt"

# --- one cycle ---------------------------------------------------------------------------
C systemctl start clyde-seed.service >"$WORK/start.out" 2>&1
ok $? "systemctl start clyde-seed.service returns success"
is "$(unit_result)" "Result=success ExecMainStatus=0 " "Result=success, exit status 0"

C journalctl -o json --no-pager _SYSTEMD_UNIT=clyde-seed.service >"$WORK/unit.json" 2>/dev/null
C journalctl -o short --no-pager -u clyde-seed.service >"$WORK/unit.txt" 2>/dev/null
n=$(wc -l <"$WORK/unit.json")
ok $([ "$n" -gt 0 ]; echo $?) "journal: $n entries under _SYSTEMD_UNIT=clyde-seed.service"
is "$(jpy 'print(" ".join(p for p in ["select", "label", "preload", "verify", "cleanup"] if p in {x.get("CLYDE_PHASE") for x in e}))' "$WORK/unit.json")" \
        "select label preload verify cleanup" "journal: every phase under the unit"
uids=$(jpy 'print(" ".join(sorted({x.get("_UID", "?") for x in e if x.get("CLYDE_PHASE")})))' "$WORK/unit.json")
ok $(case " $uids " in *" 0 "* | "  " | *"?"*) echo 1 ;; *) echo 0 ;; esac) "journal: entries from a dynamic user (_UID $uids, not 0)"
ok $(jpy 'sys.exit(not all(61184 <= int(u) <= 65519 for u in {x["_UID"] for x in e if x.get("CLYDE_PHASE")}))' "$WORK/unit.json"; echo $?) \
        "journal: the _UID is in systemd's dynamic range 61184-65519"
is "$(jpy 'print(len([x for x in e if x.get("CLYDE_RESULT") == "labelled" and x.get("PRIORITY") == "6"]))' "$WORK/unit.json")" \
        4 "journal: four label events at priority 6"
denied=$(grep -ciE 'permission denied|operation not permitted|read-only file system' "$WORK/unit.txt")
is "$denied" 0 "journal: nothing was denied by the sandbox"
[ "$denied" -eq 0 ] || grep -iE 'denied|not permitted|read-only' "$WORK/unit.txt" | sed 's/^/# /' | head -n 5
is "$(grep -c 'phase select -> label' "$WORK/unit.txt")" 1 "journal: each line once (no stdout copy, --no-stdout)"

# --- state -------------------------------------------------------------------------------
is "$(readlink "$CR/var/lib/clyde")" "private/clyde" "/var/lib/clyde links to the private state directory"
T=$CR/var/lib/private/clyde/seeder_tracker.json
ok $([ -f "$T" ]; echo $?) "tracker at /var/lib/clyde/seeder_tracker.json"
is "$("$PYTHON3" -c 'import json,sys; t=json.load(open(sys.argv[1])); print(len(t["seeders"]), t["history"][-1]["result"])' "$T" 2>&1)" \
        "4 ok" "tracker: 4 seeders, last run ok"
owner=$(stat -c %u "$T" 2>/dev/null)
ok $([ -n "$owner" ] && [ "$owner" -ne 0 ]; echo $?) "tracker owned by the dynamic user (uid $owner)"
is "$(stat -c %a "$CR/var/lib/private/clyde" 2>/dev/null)" 700 "state directory mode 0700"
ok $([ ! -e "$CR/var/lib/private/clyde/seeder.log" ]; echo $?) "no log file under systemd (--log-file '')"
labelled=$("$PYTHON3" "$top_srcdir/tests/integration/simctl.py" "$SIM" labelled p2p-seeder=true 2>/dev/null | wc -l)
is "$labelled" 4 "the cluster has 4 seeders labelled from inside the container"

# A second start resumes nothing and keeps the seeders.
C systemctl start clyde-seed.service >/dev/null 2>&1
is "$(unit_result)" "Result=success ExecMainStatus=0 " "a second start succeeds too"

# STATUS= reaches systemd while a run is active: a new image that pulls slowly (3 s of
# wall-clock per node) keeps verify busy while StatusText is polled.
"$PYTHON3" "$top_srcdir/tests/integration/simctl.py" "$SIM" admin POST /_sim/images \
        '{"image": "docker.io/library/busybox:*", "behaviour": "slow", "seconds": 3}' >/dev/null
echo 'busybox:1.36' >>"$CR/etc/clyde/images.txt"
C systemctl start --no-block clyde-seed.service
status=
for _ in $(seq 1 300); do
        s=$(C systemctl show -p StatusText --value clyde-seed.service 2>/dev/null)
        case "$s" in *verify*) status=$s; break ;; esac
        sleep 0.1
done
echo "# StatusText: $status"
ok $([ -n "$status" ]; echo $?) "STATUS= shows the verify progress in systemctl (NotifyAccess=main)"
wait_inactive
is "$(unit_result)" "Result=success ExecMainStatus=0 " "the run with a slow image succeeds"

# --- the timer ---------------------------------------------------------------------------
C systemctl start clyde-seed.timer >/dev/null 2>&1
ok $? "systemctl start clyde-seed.timer"
C systemctl list-timers --all --no-pager >"$WORK/timers" 2>&1
grep -q 'clyde-seed.timer.*clyde-seed.service' "$WORK/timers"
ok $? "systemctl list-timers shows clyde-seed.timer activating clyde-seed.service"
grep clyde-seed "$WORK/timers" | sed 's/^/# /'
is "$(C systemctl show -p ActiveState clyde-seed.timer)" "ActiveState=active" "timer active"

[ "$TAP_FAILED" -eq 0 ] || sed 's/^/# journal: /' "$WORK/unit.txt" | tail -n 30
done_testing
