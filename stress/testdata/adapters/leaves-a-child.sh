#!/bin/sh
# Leaves a child behind that holds its output open (a mkdir lock
# otherwise): the child's argument marks it for the test that looks for it.
lock=${1:?usage: leaves-a-child.sh LOCKFILE}
sleep "${LEFT_CHILD_MARK:?}" &
echo ready mkdir, with a child left behind
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
