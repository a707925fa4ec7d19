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
