#!/bin/sh
# Test exec credential plugin that fails.
echo "fail.sh: no credentials for you" >&2
exit 3
