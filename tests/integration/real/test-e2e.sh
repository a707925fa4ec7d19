#!/bin/bash
# tests/integration/test-e2e.sh against a real control plane (tests/realkube/README.md).
CLYDE_TEST_BACKEND=real exec "${BASH:-bash}" "$top_srcdir/tests/integration/test-e2e.sh"
