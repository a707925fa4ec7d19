#!/bin/sh
# SPDX-License-Identifier: MIT
# The units: "systemd-analyze verify" prints nothing for either (any output fails, since
# verify exits 0 on unknown keys), a deliberately broken copy does print (so the check
# can fail), and "systemd-analyze security" rates the service at 2.0 or better.
# verify runs in a --root tree holding a copy of /lib/systemd/system and the binary at
# the service's ExecStart path.
set -u
: "${top_srcdir:?}" "${top_builddir:?}" "${CLYDE_SEED:?}"
LC_ALL=C LANG=C
export LC_ALL LANG SYSTEMD_LOG_COLOR=0 SYSTEMD_PAGER=cat

SERVICE="$top_builddir/systemd/clyde-seed.service"
TIMER="$top_srcdir/systemd/clyde-seed.timer"
n=0
fail=0
t() { # t OK|FAIL description
        n=$((n + 1))
        if [ "$1" = OK ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi
}

. "$top_srcdir/tests/tap.sh"
command -v systemd-analyze >/dev/null 2>&1 ||
        skip_all_missing "systemd-analyze not installed (apt-get install systemd)"
if [ ! -f "$SERVICE" ]; then
        echo "Bail out! $SERVICE not built (run make first)"
        exit 1
fi
units=/lib/systemd/system
[ -d "$units" ] || units=/usr/lib/systemd/system
[ -d "$units" ] || skip_all_missing "no $units to build the --root tree from (apt-get install systemd)"

R=$(mktemp -d "${TMPDIR:-/tmp}/clyde-units.XXXXXX") || exit 1
trap 'rm -rf "$R"' EXIT INT TERM

exec_path=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$SERVICE")
case "$exec_path" in
/*) t OK "ExecStart names an absolute path ($exec_path)" ;;
*) t FAIL "ExecStart names an absolute path (got '$exec_path')" ;;
esac
mkdir -p "$R/lib/systemd" "$R/etc/systemd/system" "$R$(dirname "$exec_path")"
cp -a "$units" "$R/lib/systemd/system"
cp "$CLYDE_SEED" "$R$exec_path"
cp "$SERVICE" "$TIMER" "$R/etc/systemd/system/"

verify() { # verify UNIT...: prints the output, returns 1 on any output or failure
        out=$(cd "$R" && systemd-analyze verify --man=no --root="$R" "$@" 2>&1)
        rc=$?
        [ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/# /'
        [ $rc -eq 0 ] && [ -z "$out" ]
}

if verify clyde-seed.service clyde-seed.timer; then
        t OK "systemd-analyze verify prints nothing for clyde-seed.service and clyde-seed.timer"
else
        t FAIL "systemd-analyze verify prints nothing for clyde-seed.service and clyde-seed.timer"
fi

# The detector itself: an unknown key and a missing binary must be reported.
sed -e 's/^NoNewPrivileges=yes/NoNewPrivilege=yes/' "$SERVICE" >"$R/etc/systemd/system/clyde-broken.service"
if verify clyde-broken.service >/dev/null 2>&1; then
        t FAIL "verify reports a misspelt key in a broken copy"
else
        t OK "verify reports a misspelt key in a broken copy"
fi
rm -f "$R/etc/systemd/system/clyde-broken.service"
rm -f "$R$exec_path"
if verify clyde-seed.service >/dev/null 2>&1; then
        t FAIL "verify reports a missing ExecStart binary"
else
        t OK "verify reports a missing ExecStart binary"
fi

sec=$(systemd-analyze security --offline=true --no-pager --threshold=20 "$SERVICE" 2>&1)
rc=$?
overall=$(printf '%s\n' "$sec" | grep 'Overall exposure level' | tail -n 1)
echo "# $overall"
if [ $rc -eq 0 ] && [ -n "$overall" ]; then
        t OK "systemd-analyze security --threshold=20 passes: ${overall#*: }"
else
        printf '%s\n' "$sec" | grep -E '^✗' | sed 's/^/# /'
        t FAIL "systemd-analyze security --threshold=20 passes (rc $rc: ${overall#*: })"
fi
score=$(printf '%s\n' "$overall" | sed -n 's/.*: \([0-9.]*\).*/\1/p')
if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'; then
        t OK "exposure $score <= 2.0"
else
        t FAIL "exposure '$score' <= 2.0"
fi

# What the issue asks of the units, checked by key.
has() { grep -q "^$2" "$1"; }
for key in 'DynamicUser=yes' 'StateDirectory=clyde' 'ConfigurationDirectory=clyde' \
        'LoadCredential=kubeconfig:/etc/clyde/kubeconfig' 'CapabilityBoundingSet=$' \
        'NotifyAccess=main' 'SystemCallFilter=@system-service' \
        'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX$' 'TimeoutStartSec=' \
        'Documentation=man:clyde-seed(8) man:seeder.ini(5)'; do
        if has "$SERVICE" "$key"; then t OK "service has $key"; else t FAIL "service has $key"; fi
done
for key in 'OnBootSec=' 'OnCalendar=' 'RandomizedDelaySec=' 'Persistent=true' \
        'Documentation=man:clyde-seed(8) man:seeder.ini(5)' 'WantedBy=timers.target'; do
        if has "$TIMER" "$key"; then t OK "timer has $key"; else t FAIL "timer has $key"; fi
done
echo "1..$n"
exit $fail
