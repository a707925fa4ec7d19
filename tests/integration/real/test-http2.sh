#!/bin/bash
# tests/integration/test-http2.sh against a real control plane (tests/realkube/README.md).
CLYDE_TEST_BACKEND=real exec "${BASH:-bash}" "$top_srcdir/tests/integration/test-http2.sh"
