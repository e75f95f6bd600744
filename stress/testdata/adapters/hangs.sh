#!/bin/sh
# Misbehaves: never answers a request.
echo ready
while read -r cmd arg; do :; done
