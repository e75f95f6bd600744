// Package fuzz holds the native Go fuzz targets of package filelock. It has
// no API: everything is in its tests, and `go test ./fuzz` runs the seed
// corpora under testdata/fuzz as ordinary tests.
//
// The targets are:
//
//   - FuzzPaths: arbitrary relative paths under a temporary root, for every
//     strategy. A path is either rejected with a clear *fs.PathError or
//     locked, inspected and released, leaving the root and its parent exactly
//     as they were (apart from the kept lock file of the OS and OFD
//     strategies). Nothing may be created outside the root.
//   - FuzzTiming: timeout and backoff durations given as integers. New
//     rejects exactly the invalid ones with ErrInvalidOption; a valid lock,
//     free or held by another owner, returns within its bound.
//   - FuzzRecord: any bytes into ParseRecord, and records made from fuzzed
//     fields into MarshalText; what is accepted round-trips byte for byte,
//     what is rejected matches ErrBadRecord, and Inspect of a held lock whose
//     file holds those bytes reports either the holder or why there is none.
//   - FuzzOps: bytes decoded into a sequence of lock operations on two or
//     three handles of one path, checked step by step against a model of
//     owner and depth, for every strategy.
//
// Each step that could block runs under a watchdog, so a hang fails the
// input instead of stalling the fuzzer. Run a campaign with
//
//	go test ./fuzz -run '^$' -fuzz '^FuzzPaths$' -fuzztime 1m
//
// or all targets in turn with scripts/fuzz-short.
package fuzz
