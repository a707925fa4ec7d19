#!/bin/bash
# tests/reliability/crash-matrix.py (the make check reduction) against a real control plane.
. "$top_srcdir/tests/realkube/tier.sh"
exec "${PYTHON3:-python3}" "$top_srcdir/tests/reliability/crash-matrix.py"
