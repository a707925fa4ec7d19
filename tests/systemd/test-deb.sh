#!/bin/sh
# SPDX-License-Identifier: MIT
# The package's life in a booted Debian container (nspawn-lib.sh): install, a run that is
# stopped half-way, an upgrade to a newer build, the resumed run, remove, purge.
#  - upgrade: the administrator's seeder.ini (a changed conffile) and the tracker stay,
#    the timer stays enabled, and the next start resumes the stopped run;
#  - remove: the binary and units go, the timer is stopped; the conffiles and the state
#    directory stay (Debian policy: only a purge removes configuration and state);
#  - purge: nothing of the package is left. The files in the container are listed before
#    the install and after the purge: the only new path may be the kubeconfig that the
#    administrator wrote (dpkg leaves files it does not own, and so /etc/clyde).
# The newer build is this .deb with its version raised (VERSION+1~test, dpkg-deb -b):
# the same files, so the upgrade path of dpkg and of the maintainer scripts is what runs.
. "$top_srcdir/tests/systemd/nspawn-lib.sh"

nspawn_require
nspawn_package
nspawn_rootfs
sim_start --nodes 10 --zones 2 --time-scale 0.02
# Every pull of the busybox image takes 6 s of wall-clock time: the first run is in
# verify long enough to be stopped there.
"$PYTHON3" "$top_srcdir/tests/integration/simctl.py" "$SIM" admin POST /_sim/images \
        '{"image": "docker.io/library/busybox:*", "behaviour": "slow", "seconds": 6}' >/dev/null

OLDV=$(dpkg-deb -f "$DEB" Version)
NEWV=$OLDV+1~test
mkdir -p "$WORK/deb/new"
dpkg-deb -R "$DEB" "$WORK/deb/new"
sed -i "s/^Version: .*/Version: $NEWV/" "$WORK/deb/new/DEBIAN/control"
NEWDEB=clyde-seed_${NEWV}_$(dpkg --print-architecture).deb
dpkg-deb --root-owner-group -b "$WORK/deb/new" "$WORK/$NEWDEB" >/dev/null
ok $? "a newer build $NEWDEB"
dpkg --compare-versions "$NEWV" gt "$OLDV"
ok $? "dpkg: $NEWV is newer than $OLDV"
nspawn_boot
# The newer build reaches the container through its root, not the read-only bind.
mkdir -p "$CR/root/deb" && cp "$WORK/$NEWDEB" "$CR/root/deb/"

# What is in the container before the package: every path on its root file system but
# the logs, apt's and dpkg's own records, and the caches.
snapshot() {
        C find / -xdev \( -path /var/log -o -path /var/cache -o -path /var/lib/dpkg \
                -o -path /var/lib/apt -o -path /var/lib/systemd/catalog \) -prune -o -print 2>/dev/null | sort
}
snapshot >"$WORK/before"
ok "$([ -s "$WORK/before" ]; echo $?)" "listed $(wc -l <"$WORK/before") paths before the install"

# --- install and a stopped run -----------------------------------------------------------
apt_install "$CDEB/$(basename "$DEB")"
ok $? "apt-get install ./$(basename "$DEB")"
write_kubeconfig
printf '; changed by the administrator\n[preload]\npull_timeout = 60s\n[registry]\nresolve = no\n[log]\nlevel = INFO\n' \
        >"$CR/etc/clyde/seeder.ini"
ini_sum=$(sha256sum <"$CR/etc/clyde/seeder.ini")
printf 'nginx:1.27\nbusybox:1.36\n' >"$CR/etc/clyde/images.txt"
C systemctl start --no-block clyde-seed.service
T=$CR/var/lib/private/clyde/seeder_tracker.json
phase() { "$PYTHON3" -c 'import json,sys; r=json.load(open(sys.argv[1])).get("run") or {}; print(r.get("id", ""), r.get("phase", ""))' "$T" 2>/dev/null; }
stopped=
for _ in $(seq 1 300); do
        case "$(phase)" in *" verify") stopped=yes; break ;; esac
        sleep 0.1
done
C systemctl stop clyde-seed.service
run_before=$(phase)
inv_before=$(C systemctl show -p InvocationID --value clyde-seed.service)
echo "# stopped the run in the tracker as: $run_before ($(unit_result))"
ok "$([ -n "$stopped" ] && [ "${run_before#* }" = verify ]; echo $?)" "the first run was stopped in verify"
tracker_sum=$(sha256sum <"$T")

# --- upgrade -----------------------------------------------------------------------------
C systemctl start clyde-seed.timer
apt_install "/root/deb/$NEWDEB"
ok $? "apt-get install ./$NEWDEB (upgrade from $OLDV)"
is "$(C dpkg-query -W -f '${Status} ${Version}' clyde-seed)" "install ok installed $NEWV" "dpkg: $NEWV installed"
is "$(sha256sum <"$CR/etc/clyde/seeder.ini")" "$ini_sum" "the administrator's seeder.ini is kept"
ok "$(grep -q 'conffile' "$WORK/apt.out"; [ $? -ne 0 ]; echo $?)" "dpkg asked nothing about the conffile"
is "$(sha256sum <"$T" 2>&1)" "$tracker_sum" "the tracker is kept, unchanged"
is "$(C systemctl is-enabled clyde-seed.timer)" enabled "the timer is still enabled"
is "$(C systemctl show -p ActiveState --value clyde-seed.timer)" active "the started timer is active again"
is "$(C systemctl show -p InvocationID --value clyde-seed.service)" "$inv_before" "the upgrade started no run"

C systemctl start clyde-seed.service
is "$(unit_result)" "Result=success ExecMainStatus=0 " "the first start after the upgrade succeeds"
inv=$(C systemctl show -p InvocationID --value clyde-seed.service)
C journalctl -o short --no-pager _SYSTEMD_INVOCATION_ID="$inv" >"$WORK/resumed.txt" 2>&1
grep -q "resuming run ${run_before% *} at phase verify" "$WORK/resumed.txt"
ok $? "it resumes run ${run_before% *} at phase verify"
[ "$TAP_FAILED" -eq 0 ] || sed 's/^/# journal: /' "$WORK/resumed.txt" | tail -n 20
is "$("$PYTHON3" -c 'import json,sys; t=json.load(open(sys.argv[1])); h=t["history"][-1]; print(h.get("id"), h["result"], len(t["history"]))' "$T" 2>&1)" \
        "${run_before% *} ok 1" "tracker: that run ended ok (one run in the history)"

# --- remove ------------------------------------------------------------------------------
C env DEBIAN_FRONTEND=noninteractive apt-get remove -y clyde-seed >"$WORK/apt.out" 2>&1
ok $? "apt-get remove clyde-seed"
is "$(C dpkg-query -W -f '${Status}' clyde-seed)" "deinstall ok config-files" "dpkg: removed, configuration kept"
ok "$([ ! -e "$CR/usr/bin/clyde-seed" ] && [ ! -e "$CR/lib/systemd/system/clyde-seed.service" ] &&
        [ ! -e "$CR/lib/systemd/system/clyde-seed.timer" ]; echo $?)" "the binary and the units are gone"
is "$(C systemctl show -p ActiveState --value clyde-seed.timer)" inactive "remove stopped the timer"
is "$(sha256sum <"$CR/etc/clyde/seeder.ini")" "$ini_sum" "remove keeps the conffile seeder.ini"
ok "$([ -f "$CR/etc/clyde/images.txt" ]; echo $?)" "remove keeps the conffile images.txt"
ok "$([ -f "$T" ] && [ -L "$CR/var/lib/clyde" ]; echo $?)" "remove keeps the state directory and the tracker"

# --- purge -------------------------------------------------------------------------------
C env DEBIAN_FRONTEND=noninteractive apt-get purge -y clyde-seed >"$WORK/apt.out" 2>&1
ok $? "apt-get purge clyde-seed"
is "$(C dpkg-query -W -f '${Status}' clyde-seed 2>/dev/null)" "" "dpkg: clyde-seed is unknown after the purge"
snapshot >"$WORK/after"
comm -13 "$WORK/before" "$WORK/after" >"$WORK/left"
sed 's/^/# left after purge: /' "$WORK/left"
is "$(paste -sd' ' "$WORK/left")" "/etc/clyde /etc/clyde/kubeconfig" \
        "purge leaves nothing but the administrator's kubeconfig (and its directory)"
is "$(comm -23 "$WORK/before" "$WORK/after" | paste -sd' ')" "" "nothing that was there before is gone"

done_testing
