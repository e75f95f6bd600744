#!/bin/sh
# Misbehaves: starts but never says ready.
exec sleep 600
