#!/bin/sh
# The outer component of leash learn's nested test (cmd/leash/learn_test.go):
# it trains a component of its own with a nested `leash learn --component`.
# The inner program's syscalls must land in $INNER_PROFILE and stay out of
# the outer profile.
set -eu
"$LEASH" learn --component inner -o "$INNER_PROFILE" -- "$PROG" inner
