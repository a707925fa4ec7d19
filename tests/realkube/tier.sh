# Sourced by the real-cluster wrappers of Python test scripts: a TAP skip plan (1..0 # SKIP, exit 0: the TAP driver counts an exit 77 as an error) when the tier is
# turned off (CLYDE_REAL_TIER=0) or, outside CI, when the Kubernetes binaries are missing;
# in CI (CI=true) a missing binary is a failure.
if [ "${CLYDE_REAL_TIER:-1}" = 0 ]; then
        echo "1..0 # SKIP real tier turned off (CLYDE_REAL_TIER=0)"
        exit 0
fi
if ! why=$("${PYTHON3:-python3}" "$top_srcdir/tests/realkube/controlplane.py" check); then
        if [ "${CI:-}" = true ]; then
                echo "Bail out! real control plane unavailable: $why"
                exit 1
        fi
        echo "1..0 # SKIP real control plane unavailable: $why"
        exit 0
fi
export CLYDE_TEST_BACKEND=real
