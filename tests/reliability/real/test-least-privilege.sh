#!/bin/bash
# tests/reliability/least-privilege.py on a real control plane: the real RBAC authorizer
# evaluates each reduced rbac.yaml (one control plane for every case).
. "$top_srcdir/tests/realkube/tier.sh"
exec "${PYTHON3:-python3}" "$top_srcdir/tests/reliability/least-privilege.py"
