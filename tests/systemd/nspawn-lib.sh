# Shared by tests/systemd/test-nspawn.sh and test-deb.sh: a Debian bookworm tree booted
# with a real systemd (systemd-nspawn), the clyde-seed .deb to install in it with apt,
# and kube-sim on the host's loopback (the container shares the host's network).
#
# The package: the .deb in $CLYDE_DEB_DIR (.ci/run builds it once with tools/package),
# else tools/package builds it into $CACHE/deb (again only when the sources changed).
# The tree: made once with debootstrap in $CACHE/rootfs, with systemd and the package's
# dependencies (rebuilt when that list changes); every boot is volatile, the tree stays
# clean. $CACHE is $CLYDE_NSPAWN_CACHE or $top_builddir/tests/systemd. The scripts using
# it take turns (a lock in $CACHE): one container at a time on a small machine.
#
# What the harness cannot do is a FAILURE under CI=true (a broken harness is never a
# pass); elsewhere it is a counted SKIP that names the reason.
. "$top_srcdir/tests/systemd/lib.sh"

CACHE=${CLYDE_NSPAWN_CACHE:-$top_builddir/tests/systemd}
ROOT=$CACHE/rootfs
SUITE=bookworm
# Inside the container: the directory holding the .deb files, bound read-only.
CDEB=/srv/clyde-deb

# cannot_test REASON: the harness cannot run here.
cannot_test() {
        if [ "${CI:-}" = true ]; then
                echo "Bail out! $1 (CI=true: the harness must run)"
                exit 1
        fi
        skip_all "$1"
}

nspawn_require() {
        # CLYDE_REAL_TIER=0: the booted-systemd tests ran already in this CI job (distcheck)
        [ "${CLYDE_REAL_TIER:-1}" = 0 ] && skip_all "real tier turned off (CLYDE_REAL_TIER=0)"
        [ "$(id -u)" -eq 0 ] || cannot_test "needs root (systemd-nspawn, debootstrap)"
        command -v systemd-nspawn >/dev/null 2>&1 || cannot_test "systemd-nspawn not installed (tools/deps: systemd-container)"
        command -v nsenter >/dev/null 2>&1 || cannot_test "nsenter not installed (tools/deps: util-linux)"
        command -v flock >/dev/null 2>&1 || cannot_test "flock not installed (tools/deps: util-linux)"
        mkdir -p "$CACHE"
        exec 9>"$CACHE/nspawn.lock"
        flock 9
}

# nspawn_package: sets DEB_DIR and DEB (the .deb to install, for this architecture).
nspawn_package() {
        if [ -n "${CLYDE_DEB_DIR:-}" ]; then
                DEB_DIR=$CLYDE_DEB_DIR
        else
                DEB_DIR=$CACHE/deb
                command -v dpkg-buildpackage >/dev/null 2>&1 ||
                        cannot_test "dpkg-buildpackage not installed (tools/deps: dpkg-dev, debhelper)"
                echo "# tools/package --outdir $DEB_DIR --if-changed (log: $CACHE/package.log)"
                if ! DEB_BUILD_OPTIONS="nocheck ${DEB_BUILD_OPTIONS:-}" "$top_srcdir/tools/package" \
                        --outdir "$DEB_DIR" --if-changed >"$CACHE/package.log" 2>&1; then
                        echo "Bail out! tools/package failed: $(tail -n 5 "$CACHE/package.log")"
                        exit 1
                fi
        fi
        set -- "$DEB_DIR"/clyde-seed_*_"$(dpkg --print-architecture)".deb
        if [ $# -ne 1 ] || [ ! -f "$1" ]; then
                echo "Bail out! want one clyde-seed .deb in $DEB_DIR, found: $*"
                exit 1
        fi
        DEB=$1
        echo "# package: $(basename "$DEB")"
}

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

# nspawn_rootfs: the cached tree holds systemd and every package the .deb depends on, so
# apt installs it in the container without downloading anything.
nspawn_rootfs() {
        deps=$(dpkg-deb -f "$DEB" Depends | tr ',|' '\n\n' | sed 's/(.*//; s/:.*//; s/ //g' | grep . | sort -u | paste -sd,)
        include=systemd,systemd-sysv,dbus,$deps
        [ "$(cat "$ROOT/.clyde-include" 2>/dev/null)" = "$include" ] && return 0
        command -v debootstrap >/dev/null 2>&1 || cannot_test "debootstrap not installed (tools/deps: debootstrap)"
        mirror=$(find_mirror) || cannot_test "no Debian $SUITE mirror in /etc/apt/sources*"
        echo "# debootstrap $SUITE from $mirror into $ROOT (cached for later runs)"
        rm -rf "$ROOT" "$ROOT.tmp"
        if ! debootstrap --variant=minbase --include="$include" "$SUITE" "$ROOT.tmp" "$mirror" \
                >"$CACHE/debootstrap.log" 2>&1; then
                rm -rf "$ROOT.tmp"
                cannot_test "debootstrap from $mirror failed: $(tail -n 1 "$CACHE/debootstrap.log")"
        fi
        echo "$include" >"$ROOT.tmp/.clyde-include"
        mv "$ROOT.tmp" "$ROOT"
}

# nspawn_boot: boots the tree (volatile) with $DEB_DIR at $CDEB; sets LEADER (the
# container's systemd) and CR (its root seen from the host). C CMD... runs in it.
nspawn_boot() {
        systemd-nspawn --quiet --register=no --keep-unit --volatile=overlay -D "$ROOT" \
                --bind-ro="$DEB_DIR:$CDEB" -b --console=pipe >"$WORK/nspawn.out" 2>&1 </dev/null &
        NSPAWN=$!
        CLEANUP_EXTRA=nspawn_poweroff
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
        CR=/proc/$LEADER/root
        state=
        for _ in $(seq 1 300); do
                state=$(C systemctl is-system-running 2>/dev/null)
                case "$state" in running | degraded) break ;; esac
                sleep 0.1
        done
        ok "$(case "$state" in running | degraded) echo 0 ;; *) echo 1 ;; esac)" "container booted (system $state)"
}
nspawn_poweroff() {
        [ -n "${LEADER:-}" ] && timeout 20 nsenter -t "$LEADER" -a systemctl poweroff >/dev/null 2>&1
        for _ in $(seq 1 100); do kill -0 "$NSPAWN" 2>/dev/null || break; sleep 0.1; done
        kill "$NSPAWN" 2>/dev/null
        wait "$NSPAWN" 2>/dev/null
}
C() { timeout 180 nsenter -t "$LEADER" -a "$@"; }

# apt_install FILE...: as an administrator would, "apt install ./clyde-seed_....deb".
apt_install() {
        C env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >"$WORK/apt.out" 2>&1
        rc=$?
        [ "$rc" -eq 0 ] || sed 's/^/# apt: /' "$WORK/apt.out" | tail -n 15
        return "$rc"
}

# write_kubeconfig: the administrator's /etc/clyde/kubeconfig for kube-sim, CA inline
# (nothing of the host's /tmp is visible in the container).
write_kubeconfig() {
        server=$(sed -n 's/^ *server: *//p' "$SIM/kubeconfig")
        token=$(sed -n 's/^ *token: *//p' "$SIM/kubeconfig")
        mkdir -p "$CR/etc/clyde"
        cat >"$CR/etc/clyde/kubeconfig" <<EOF
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
        chmod 0600 "$CR/etc/clyde/kubeconfig"
}

# unit_result: "Result=... ExecMainStatus=..." of the service's last run.
unit_result() {
        C systemctl show -p Result,ExecMainStatus clyde-seed.service | tr '\n' ' '
}

# wait_inactive: until the service's run (started with --no-block) ended.
wait_inactive() {
        for _ in $(seq 1 600); do
                [ "$(C systemctl show -p ActiveState --value clyde-seed.service)" = inactive ] && return 0
                sleep 0.1
        done
        return 1
}
