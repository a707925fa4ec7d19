# TAP helpers for the shell test scripts (sourced by tests/*/lib.sh).
TAP_N=0
TAP_FAILED=0

ok() { # ok EXIT-CODE DESCRIPTION
        TAP_N=$((TAP_N + 1))
        if [ "$1" -eq 0 ]; then
                echo "ok $TAP_N - $2"
        else
                echo "not ok $TAP_N - $2"
                TAP_FAILED=$((TAP_FAILED + 1))
        fi
}

is() { # is GOT WANT DESCRIPTION
        TAP_N=$((TAP_N + 1))
        if [ "$1" = "$2" ]; then
                echo "ok $TAP_N - $3"
        else
                echo "not ok $TAP_N - $3"
                echo "#   got '$1', want '$2'"
                TAP_FAILED=$((TAP_FAILED + 1))
        fi
}

done_testing() {
        echo "1..$TAP_N"
        [ "$TAP_FAILED" -eq 0 ]
}

# A tool the tests need and tools/deps installs is missing. Elsewhere that is a counted
# skip naming the tool; in CI (CI=true), where tools/deps ran, it is a failure.
skip_all_missing() { # skip_all_missing REASON: the whole script needs the tool
        if [ "${CI:-}" = true ]; then
                echo "Bail out! $1 (a failure with CI=true: tools/deps installs it)"
                exit 1
        fi
        echo "1..0 # SKIP $1"
        exit 0
}

skip_missing() { # skip_missing COUNT REASON: COUNT checks need the tool
        _skip_i=0
        while [ "$_skip_i" -lt "$1" ]; do
                _skip_i=$((_skip_i + 1))
                TAP_N=$((TAP_N + 1))
                if [ "${CI:-}" = true ]; then
                        echo "not ok $TAP_N - $2 (a failure with CI=true: tools/deps installs it)"
                        TAP_FAILED=$((TAP_FAILED + 1))
                else
                        echo "ok $TAP_N # SKIP $2"
                fi
        done
}
