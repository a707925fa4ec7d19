#!/bin/sh
# Test exec credential plugin that never answers (the test sets a short timeout).
exec sleep 30
