#!/bin/sh
# Test exec credential plugin: counts its runs and records what it was given in
# $KC_TEST_STATE, then prints a token credential for the apiVersion in $1.
# KC_TEST_EXPIRY: the expirationTimestamp to return ("none": no expiry).
state=${KC_TEST_STATE:?}
n=$(cat "$state/count" 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" >"$state/count"
printf '%s' "$KUBERNETES_EXEC_INFO" >"$state/exec-info"
printf '%s|' "$@" >"$state/args"
printf '%s' "$PLUGIN_GREETING" >"$state/greeting"
exp=${KC_TEST_EXPIRY:-2999-01-01T00:00:00Z}
if [ "$exp" = none ]; then
	exp_field=
else
	exp_field=",\"expirationTimestamp\":\"$exp\""
fi
printf '{"apiVersion":"%s","kind":"ExecCredential","status":{"token":"exec-token-%s"%s}}\n' \
	"$1" "$n" "$exp_field"
