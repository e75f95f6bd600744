// Package stress is lockstress's harness: it stress-tests a cross-process
// file lock with competing worker processes and reports every violation of
// mutual exclusion, the acquisition latency, the throughput and the
// fairness.
//
// Run takes a Config and returns a Report. The workers are real processes:
// Run starts the program itself again (or Config.Executable) in worker
// mode, so a program that calls Run must call RunWorkerIfChild first thing
// in main, and a test binary in TestMain:
//
//	func TestMain(m *testing.M) {
//		stress.RunWorkerIfChild()
//		os.Exit(m.Run())
//	}
//
// All workers start together at a barrier, loop acquire → critical section
// → release until the end of the run, and hand their results back on their
// standard output. Three independent detectors watch the critical section
// (see package detect): a ledger file that needs no shared clock and works
// across hosts, an occupancy counter in shared memory, and the overlap of
// CLOCK_MONOTONIC intervals. The broken strategies None and Racy exist to
// prove that every detector fires.
//
// Config.KillRate and Config.Stop inject faults: SIGKILL or SIGSTOP of a
// worker that holds the lock. Config.Join and Verify spread one run over
// several hosts that share a directory.
//
// Every report ends with a verdict (Report.Verdict): PASS, FAIL for a
// violation, ERROR for a failed worker, INTERRUPTED, or INCONCLUSIVE for a
// run that checked fewer critical sections than Config.MinChecked; a run
// that tested nothing never passes. What a verdict means to a program, such
// as an exit status, is the program's choice.
//
// A run removes what it made when it ends; what runs killed with SIGKILL
// left behind, the next run removes (Report.Swept).
//
// The harness needs Linux; elsewhere Run returns an error matching
// errors.ErrUnsupported. docs/lockstress.md describes the command, the
// output, the JSON schema and what each detector can and cannot see.
package stress
