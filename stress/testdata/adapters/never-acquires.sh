#!/bin/sh
# Never acquires: answers timeout to every lock request.
echo ready never acquires
while read -r cmd arg; do echo timeout; done
