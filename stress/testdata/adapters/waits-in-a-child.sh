#!/bin/sh
# Misbehaves: waits for every request in a child process, as a shell's
# command would, and never answers. The child's argument marks it for the
# test that looks for it.
echo ready
while read -r cmd arg; do sleep "${LEFT_CHILD_MARK:?}"; done
