#!/bin/bash
# tests/reliability/api-faults.py (the make check reduction) against a real control plane.
. "$top_srcdir/tests/realkube/tier.sh"
exec "${PYTHON3:-python3}" "$top_srcdir/tests/reliability/api-faults.py"
