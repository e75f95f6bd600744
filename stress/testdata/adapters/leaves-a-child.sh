#!/bin/sh
# Leaves a child behind that holds its output open, and is otherwise the
# mkdir lock of no-recovery.sh: the child's argument marks it for the test
# that looks for it.
sleep "${LEFT_CHILD_MARK:?}" &
exec "$(dirname "$0")/no-recovery.sh" "$@"
