#!/bin/sh
# Broken on purpose: answers ok to every request and locks nothing.
echo ready takes no lock
while read -r cmd arg; do echo ok; done
