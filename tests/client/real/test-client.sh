#!/bin/sh
# tests/client/test-client.sh (the C client against a server) on a real control plane.
. "$top_srcdir/tests/realkube/tier.sh"
exec /bin/sh "$top_srcdir/tests/client/test-client.sh"
