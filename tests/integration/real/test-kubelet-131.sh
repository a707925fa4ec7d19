#!/bin/bash
# tests/integration/test-kubelet-131.sh against a real control plane (tests/realkube/README.md).
CLYDE_TEST_BACKEND=real exec "${BASH:-bash}" "$top_srcdir/tests/integration/test-kubelet-131.sh"
