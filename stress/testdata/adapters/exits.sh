#!/bin/sh
# Misbehaves: exits with status 3 at the first request.
echo ready
read -r cmd arg
echo "exits.sh: giving up on $cmd" >&2
exit 3
