#!/bin/sh
# A lock that never recovers: a directory made with mkdir, never broken,
# so that once its holder is killed nobody acquires it again.
lock=${1:?usage: no-recovery.sh LOCKFILE}
echo ready mkdir, never broken
while read -r cmd arg; do
	case "$cmd" in
	lock)
		ms=${arg:-0} waited=0 answer=ok
		until mkdir "$lock.d" 2>/dev/null; do
			if [ "$waited" -ge "$ms" ]; then
				answer=timeout
				break
			fi
			sleep 0.01
			waited=$((waited + 10))
		done
		echo "$answer"
		;;
	unlock)
		if rmdir "$lock.d"; then echo ok; else echo "error rmdir failed"; fi
		;;
	*)
		echo "error unknown request: $cmd"
		;;
	esac
done
