#!/bin/bash
# tests/integration/test-commands.sh against a real control plane (tests/realkube/README.md).
CLYDE_TEST_BACKEND=real exec "${BASH:-bash}" "$top_srcdir/tests/integration/test-commands.sh"
