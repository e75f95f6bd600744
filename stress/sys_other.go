//go:build !linux

package stress

import (
	"errors"
	"os"
	"syscall"
	"time"
)

// The harness needs Linux: CLOCK_MONOTONIC shared by all processes, /proc,
// /dev/shm and statfs magic numbers. Elsewhere Run fails with
// errors.ErrUnsupported.

const platformSupported = false

func sleepPrecise(d time.Duration) { time.Sleep(d) }

func cpuTime() time.Duration { return 0 }

func processCPU(int) (time.Duration, error) { return 0, errors.ErrUnsupported }

func monotime() int64 { panic("lockstress: unsupported platform") }

func mapFile(string, int, bool) ([]byte, error) { return nil, errors.ErrUnsupported }
func unmapFile([]byte) error                    { return errors.ErrUnsupported }
func processState(int) (byte, error)            { return 0, errors.ErrUnsupported }
func processGone(int) bool                      { return false }
func workerAttr() *syscall.SysProcAttr          { return nil }
func adapterAttr() *syscall.SysProcAttr         { return nil }
func killGroup(int)                             {}
func statfsMagic(string) (int64, error)         { return 0, errors.ErrUnsupported }

var sigStop, sigCont, sigQuit os.Signal = os.Kill, os.Kill, os.Kill

func openLedger(string, bool) (ledgerIO, error) { return nil, errors.ErrUnsupported }

// Runs are marked and swept on Linux only.
func markOwned(string) error        { return nil }
func sweep(string, string) []string { return nil }

func checkProcessLimit(int) error { return nil }
