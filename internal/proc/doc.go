// Package proc answers the questions the stale-lock rule asks of a process:
// who am I (PID, host, boot id, PID namespace, start time), and is the
// process named by such an identity still alive, or provably dead — gone,
// a zombie, or its PID reused by a later process.
package proc
