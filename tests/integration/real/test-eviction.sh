#!/bin/bash
# tests/integration/test-eviction.sh against a real control plane (tests/realkube/README.md).
CLYDE_TEST_BACKEND=real exec "${BASH:-bash}" "$top_srcdir/tests/integration/test-eviction.sh"
