#!/bin/sh
# SPDX-License-Identifier: MIT
# A real systemd boots a Debian bookworm container (systemd-nspawn) holding the built
# binary, the units, a seeder.ini, images.txt and a kubeconfig for kube-sim on the host's
# loopback. "systemctl start clyde-seed" must end with Result=success; the journal shows
# every phase under _SYSTEMD_UNIT=clyde-seed.service from a dynamic user; the tracker is
# under /var/lib/clyde (/var/lib/private/clyde); list-timers shows the timer.
#
# The tree is made once with debootstrap and cached in $top_builddir/tests/systemd/rootfs
# (rebuilt when the package list changes); every boot is volatile, the cache stays clean.
# The binary must run on the container's libraries: a sanitizer build (--enable-asan)
# needs libasan inside and ASan itself is not what the unit will run, so for such a build
# a plain binary is built from the same sources in $top_builddir/tests/systemd/nosan.
# SKIP (never pass) without root, nspawn, debootstrap or a reachable mirror.
. "$top_srcdir/tests/systemd/lib.sh"

# CLYDE_NSPAWN_CACHE: another directory to keep the tree and the plain build in.
CACHE=${CLYDE_NSPAWN_CACHE:-$top_builddir/tests/systemd}
ROOT="$CACHE/rootfs"
INCLUDE=systemd,systemd-sysv,dbus,libcurl4,libjson-c5,libyaml-0-2,libinih1
SUITE=bookworm

[ "$(id -u)" -eq 0 ] || skip_all "needs root (systemd-nspawn, debootstrap)"
command -v systemd-nspawn >/dev/null 2>&1 || skip_all "systemd-nspawn not installed (apt-get install systemd-container)"
command -v nsenter >/dev/null 2>&1 || skip_all "nsenter not installed"

# --- the Debian tree ------------------------------------------------------------------
# The first Debian mirror of the host's apt sources that serves $SUITE.
find_mirror() {
        cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
                "$PYTHON3" -c '
import sys
suite = sys.argv[1]
uris, suites = [], []
for line in sys.stdin:
    w = line.split("#")[0].split()
    if not w:
        continue
    if w[0] == "deb":
        u = [x for x in w[1:] if not x.startswith("[")]
        if len(u) >= 2 and u[1] == suite:
            print(u[0]); sys.exit(0)
    elif w[0] == "URIs:":
        uris = w[1:]
    elif w[0] == "Suites:":
        if suite in w[1:] and uris and "security" not in uris[0]:
            print(uris[0]); sys.exit(0)
sys.exit(1)' "$SUITE"
}

make_rootfs() {
        command -v debootstrap >/dev/null 2>&1 || skip_all "debootstrap not installed"
        mirror=$(find_mirror) || skip_all "no Debian $SUITE mirror in /etc/apt/sources*"
        if command -v curl >/dev/null 2>&1 &&
                ! curl -sfI --max-time 15 "$mirror/dists/$SUITE/Release" >/dev/null 2>&1; then
                skip_all "mirror $mirror unreachable"
        fi
        echo "# debootstrap $SUITE from $mirror into $ROOT (cached for later runs)"
        rm -rf "$ROOT" "$ROOT.tmp"
        if ! debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$ROOT.tmp" "$mirror" \
                >"$CACHE/debootstrap.log" 2>&1; then
                rm -rf "$ROOT.tmp"
                skip_all "debootstrap failed: $(tail -n 1 "$CACHE/debootstrap.log")"
        fi
        echo "$INCLUDE" >"$ROOT.tmp/.clyde-include"
        mv "$ROOT.tmp" "$ROOT"
}
[ "$(cat "$ROOT/.clyde-include" 2>/dev/null)" = "$INCLUDE" ] || make_rootfs

# --- the binary ------------------------------------------------------------------------
BIN=$CLYDE_SEED
if ldd "$BIN" 2>/dev/null | grep -q 'libasan'; then
        echo "# $CLYDE_SEED uses ASan: building a plain binary in $CACHE/nosan"
        mkdir -p "$CACHE/nosan"
        if ! (cd "$CACHE/nosan" && { [ -f Makefile ] || "$top_srcdir/configure" -q; } &&
                make -j2 clyde-seed) >"$CACHE/nosan.log" 2>&1; then
                echo "Bail out! the plain build failed: $(tail -n 3 "$CACHE/nosan.log")"
                exit 1
        fi
        BIN=$CACHE/nosan/clyde-seed
fi

TIMER="$top_srcdir/systemd/clyde-seed.timer"
# The unit as built names $(bindir)/clyde-seed, which may be a private prefix (make
# distcheck): the container gets the binary at /usr/bin, as a package installs it.
EXEC=/usr/bin/clyde-seed
SERVICE=$WORK/clyde-seed.service
sed "s|^ExecStart=[^ ]*|ExecStart=$EXEC|" "$top_builddir/systemd/clyde-seed.service" >"$SERVICE"

# --- the cluster and /etc/clyde ----------------------------------------------------------
sim_start --nodes 10 --zones 2 --time-scale 0.02
ETC=$WORK/etc-clyde
mkdir -p "$ETC"
server=$(sed -n 's/^ *server: *//p' "$SIM/kubeconfig")
token=$(sed -n 's/^ *token: *//p' "$SIM/kubeconfig")
# Self-contained (the CA inline): nothing of the host's /tmp is visible in there.
cat >"$ETC/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: sim
  cluster:
    server: $server
    certificate-authority-data: $(base64 -w0 "$SIM/ca.crt")
users:
- name: clyde
  user:
    token: $token
contexts:
- name: sim
  context: {cluster: sim, user: clyde, namespace: default}
current-context: sim
EOF
chmod 0600 "$ETC/kubeconfig"
printf '[preload]\npull_timeout = 60s\n[registry]\nresolve = no\n[log]\nlevel = INFO\n' >"$ETC/seeder.ini"
printf 'nginx:1.27\nredis:7\n' >"$ETC/images.txt"

# --- boot --------------------------------------------------------------------------------
systemd-nspawn --quiet --register=no --keep-unit --volatile=overlay -D "$ROOT" \
        --bind-ro="$BIN:$EXEC" \
        --bind-ro="$SERVICE:/etc/systemd/system/clyde-seed.service" \
        --bind-ro="$TIMER:/etc/systemd/system/clyde-seed.timer" \
        --bind-ro="$ETC:/etc/clyde" \
        -b --console=pipe >"$WORK/nspawn.out" 2>&1 </dev/null &
NSPAWN=$!
poweroff() {
        [ -n "${LEADER:-}" ] && timeout 20 nsenter -t "$LEADER" -a systemctl poweroff >/dev/null 2>&1
        for _ in $(seq 1 100); do kill -0 "$NSPAWN" 2>/dev/null || break; sleep 0.1; done
        kill "$NSPAWN" 2>/dev/null
        wait "$NSPAWN" 2>/dev/null
}
CLEANUP_EXTRA=poweroff
LEADER=
for _ in $(seq 1 100); do
        LEADER=$(pgrep -P "$NSPAWN" -x systemd) && break
        kill -0 "$NSPAWN" 2>/dev/null || break
        sleep 0.1
done
if [ -z "$LEADER" ]; then
        echo "Bail out! the container did not boot: $(tail -n 5 "$WORK/nspawn.out")"
        exit 1
fi
C() { timeout 180 nsenter -t "$LEADER" -a "$@"; }
state=
for _ in $(seq 1 300); do
        state=$(C systemctl is-system-running 2>/dev/null)
        case "$state" in running | degraded) break ;; esac
        sleep 0.1
done
ok $(case "$state" in running | degraded) echo 0 ;; *) echo 1 ;; esac) "container booted (system $state)"
missing=$(C ldd "$EXEC" 2>&1 | grep 'not found')
is "$missing" "" "the binary finds its libraries in the container"

# --- one cycle ---------------------------------------------------------------------------
C systemctl start clyde-seed.service >"$WORK/start.out" 2>&1
ok $? "systemctl start clyde-seed.service returns success"
show=$(C systemctl show -p Result,ExecMainStatus clyde-seed.service | tr '\n' ' ')
is "$show" "Result=success ExecMainStatus=0 " "Result=success, exit status 0"

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
CR=/proc/$LEADER/root
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
is "$(C systemctl show -p Result,ExecMainStatus clyde-seed.service | tr '\n' ' ')" "Result=success ExecMainStatus=0 " \
        "a second start succeeds too"

# STATUS= reaches systemd while a run is active: a new image that pulls slowly (3 s of
# wall-clock per node) keeps verify busy while StatusText is polled.
"$PYTHON3" "$top_srcdir/tests/integration/simctl.py" "$SIM" admin POST /_sim/images \
        '{"image": "docker.io/library/busybox:*", "behaviour": "slow", "seconds": 3}' >/dev/null
echo 'busybox:1.36' >>"$ETC/images.txt"
C systemctl start --no-block clyde-seed.service
status=
for _ in $(seq 1 300); do
        s=$(C systemctl show -p StatusText --value clyde-seed.service 2>/dev/null)
        case "$s" in *verify*) status=$s; break ;; esac
        sleep 0.1
done
echo "# StatusText: $status"
ok $([ -n "$status" ]; echo $?) "STATUS= shows the verify progress in systemctl (NotifyAccess=main)"
for _ in $(seq 1 600); do
        [ "$(C systemctl show -p ActiveState --value clyde-seed.service)" = inactive ] && break
        sleep 0.1
done
is "$(C systemctl show -p Result,ExecMainStatus clyde-seed.service | tr '\n' ' ')" "Result=success ExecMainStatus=0 " \
        "the run with a slow image succeeds"

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
