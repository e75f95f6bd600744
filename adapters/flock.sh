#!/bin/sh
# flock.sh — lockstress adapter for util-linux's flock(1), the way shell
# scripts lock: the shell holds a descriptor open on the lock file, and
# flock(1) locks and unlocks that descriptor.
#
#   lockstress -strategy 'exec:adapters/flock.sh'
#
# Speaks the adapter protocol of docs/lockstress.md on standard input and
# output; the lock file is the last argument.
set -u
lock=${1:?usage: flock.sh LOCKFILE}
if ! command -v flock >/dev/null 2>&1; then
	echo "flock.sh: flock(1) not found (Debian package util-linux)" >&2
	exit 1
fi
# Descriptor 9 stays open on the lock file for the adapter's life.
exec 9>>"$lock" || exit 1
printf 'ready %s\n' "$(flock --version 2>/dev/null | head -n 1)"
while read -r cmd arg; do
	case "$cmd" in
	lock)
		# -w takes seconds; the request is in milliseconds. -E 75 tells a
		# timeout apart from an error.
		ms=${arg:-0}
		rc=0
		flock -x -E 75 -w "$((ms / 1000)).$(printf %03d $((ms % 1000)))" 9 || rc=$?
		case $rc in
		0) echo ok ;;
		75) echo timeout ;;
		*) echo "error flock -x exited with status $rc" ;;
		esac
		;;
	unlock)
		rc=0
		flock -u 9 || rc=$?
		if [ $rc -eq 0 ]; then echo ok; else echo "error flock -u exited with status $rc"; fi
		;;
	*)
		echo "error unknown request: $cmd"
		;;
	esac
done
