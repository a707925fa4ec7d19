#!/bin/bash
# tests/integration/test-admission.sh against a real control plane (tests/realkube/README.md):
# real PodSecurity, LimitRanger, ResourceQuota and Priority admission, the real DaemonSet
# controller's FailedCreate events (the uid range is kube-sim's emulation: see the script).
CLYDE_TEST_BACKEND=real exec "${BASH:-bash}" "$top_srcdir/tests/integration/test-admission.sh"
