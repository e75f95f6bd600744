// Package detect holds the formats and verifiers of lockstress's three
// mutual-exclusion violation detectors.
//
// The ledger detector needs no shared clock and works across hosts. One
// shared file, the ledger, holds one fixed-size Record: a sequence number,
// a state (released or held), the owner and the owner's nonce, and a
// checksum. Inside the critical section a worker reads the record (it must
// be released), writes it back held with the next sequence number and its
// own nonce, and before leaving reads it again (its nonce must still be
// there) and writes it released. Each worker appends one Entry per
// acquisition to its own log. VerifyLedger merges the logs of every worker
// of every host by sequence number: a sequence number taken twice, a worker
// whose sequence numbers go backwards, a torn record, a record found held
// on entry, or a nonce changed under its owner is a violation.
//
// The interval detector works within one host: every Entry carries the
// acquisition and release times of its critical section on the host's
// CLOCK_MONOTONIC, which all processes of a host share. VerifyIntervals
// merges one host's logs by acquisition time and sweeps them: an interval
// that begins before an earlier one has ended is a violation.
//
// The occupancy detector (a counter in shared memory) needs no log; it
// lives with the worker loop in package stress, and reports its findings as
// Violation values like the others.
package detect
