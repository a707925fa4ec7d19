#!/bin/bash
# tests/integration/test-capacity.sh against a real control plane (tests/realkube/README.md):
# the real kube-scheduler decides "Too many pods" and "Insufficient cpu".
CLYDE_TEST_BACKEND=real exec "${BASH:-bash}" "$top_srcdir/tests/integration/test-capacity.sh"
