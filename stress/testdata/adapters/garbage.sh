#!/bin/sh
# Misbehaves: answers something the protocol does not know.
echo ready
while read -r cmd arg; do echo "granted, probably"; done
