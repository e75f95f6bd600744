//go:build linux

package filelock

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func init() {
	// handoffWaiter: for each byte read from stdin, wait for the lock,
	// and once it is acquired write the CLOCK_MONOTONIC time of the
	// acquisition to stdout (8 bytes) and release it.
	childRoles["handoffWaiter"] = func() error {
		l, err := New(envOf("FILELOCK_TEST_LOCK"), childOptions()...)
		if err != nil {
			return err
		}
		return answerEachByte(func() (int64, error) {
			if err := l.Lock(); err != nil {
				return 0, err
			}
			at := monotonicNow()
			return at, l.Unlock()
		})
	}
	// pipeWaker: for each byte read from stdin, write the CLOCK_MONOTONIC
	// time at which the read returned to stdout: the cost of waking a
	// process, with nothing else.
	childRoles["pipeWaker"] = func() error {
		return answerEachByte(func() (int64, error) { return monotonicNow(), nil })
	}
	// rawSoftWaiter and rawFlockWaiter: as handoffWaiter, with the bare
	// system calls of an event-woken soft lock and of a blocking flock,
	// without the library.
	childRoles["rawSoftWaiter"] = func() error {
		path := envOf("FILELOCK_TEST_LOCK")
		return answerEachByte(func() (int64, error) { return rawSoftAcquire(path) })
	}
	childRoles["rawFlockWaiter"] = func() error {
		path := envOf("FILELOCK_TEST_LOCK")
		return answerEachByte(func() (int64, error) {
			fd, err := unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_CLOEXEC, 0o666)
			if err != nil {
				return 0, err
			}
			defer unix.Close(fd)
			if err := unix.Flock(fd, unix.LOCK_EX); err != nil {
				return 0, err
			}
			return monotonicNow(), unix.Flock(fd, unix.LOCK_UN)
		})
	}
}

// rawSoftAcquire takes the lock file at path with an exclusive create,
// waiting for its removal in a blocking read of an inotify descriptor, and
// returns the time it was taken, having released it.
func rawSoftAcquire(path string) (int64, error) {
	in, err := unix.InotifyInit1(unix.IN_CLOEXEC)
	if err != nil {
		return 0, err
	}
	defer unix.Close(in)
	if _, err := unix.InotifyAddWatch(in, filepath.Dir(path), unix.IN_DELETE); err != nil {
		return 0, err
	}
	buf := make([]byte, 4096)
	for {
		fd, err := unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o666)
		if err == unix.EEXIST {
			if _, err := unix.Read(in, buf); err != nil {
				return 0, err
			}
			continue
		}
		if err != nil {
			return 0, err
		}
		_, err = unix.Write(fd, rawRecord)
		at := monotonicNow()
		unix.Close(fd)
		return at, errors.Join(err, unix.Unlink(path))
	}
}

// answerEachByte calls f for each byte read from stdin and writes the time
// it returns to stdout (8 bytes, little-endian), until stdin ends.
func answerEachByte(f func() (int64, error)) error {
	in, out := bufio.NewReader(os.Stdin), bufio.NewWriter(os.Stdout)
	for {
		if _, err := in.ReadByte(); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		at, err := f()
		if err != nil {
			return err
		}
		if err := binary.Write(out, binary.LittleEndian, at); err != nil {
			return err
		}
		if err := out.Flush(); err != nil {
			return err
		}
	}
}

func monotonicNow() int64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts) // cannot fail for this clock
	return ts.Nano()
}

// BenchmarkHandoff measures the handoff from a holder to a waiter in
// another process: the time from the holder's call of Unlock to the
// waiter's return from Lock, as CLOCK_MONOTONIC, which both processes
// share. The waiter is given time to start waiting first (outside the
// measurement), so that the figure is the wake-up, not the start of the
// wait. The metrics are the median and the 90th percentile of the handoffs;
// ns/op is the whole round and means little. The baseline raw-pipe is no
// lock at all: the time from writing a byte to a pipe to the return of the
// read that another process is blocked in, the floor of any wake-up.
// raw-soft and raw-flock are the same handoff with bare system calls, no
// library: an exclusive create woken by a blocking read of inotify, and a
// blocking flock.
//
//	go test -run '^$' -bench Handoff -benchtime 300x ./filelock
func BenchmarkHandoff(b *testing.B) {
	b.Run("raw-pipe", benchPipeWake)
	b.Run("raw-soft", func(b *testing.B) {
		benchRawHandoff(b, "rawSoftWaiter", func(path string) (func() error, error) {
			fd, err := unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o666)
			if err != nil {
				return nil, err
			}
			_, err = unix.Write(fd, rawRecord)
			return func() error { return errors.Join(unix.Close(fd), unix.Unlink(path)) }, err
		})
	})
	b.Run("raw-flock", func(b *testing.B) {
		benchRawHandoff(b, "rawFlockWaiter", func(path string) (func() error, error) {
			fd, err := unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_CLOEXEC, 0o666)
			if err != nil {
				return nil, err
			}
			if err := unix.Flock(fd, unix.LOCK_EX); err != nil {
				unix.Close(fd)
				return nil, err
			}
			return func() error { return errors.Join(unix.Flock(fd, unix.LOCK_UN), unix.Close(fd)) }, nil
		})
	})
	for _, s := range Strategies() {
		// default: Lock with the default options, which wakes on events
		// (soft, link) or waits in the kernel (os, ofd).
		for _, mode := range []string{"default", "polling", "fair"} {
			b.Run(s.String()+"/"+mode, func(b *testing.B) { benchHandoff(b, s, mode) })
		}
	}
}

func benchHandoff(b *testing.B, s Strategy, mode string) {
	path := filepath.Join(benchDir(b), "handoff.lock")
	env := []string{"FILELOCK_TEST_LOCK=" + path, "FILELOCK_TEST_STRATEGY=" + s.String()}
	opts := []Option{WithStrategy(s)}
	switch mode {
	case "polling":
		env = append(env, "FILELOCK_TEST_POLLING=1")
		opts = append(opts, WithPolling())
	case "fair":
		env = append(env, "FILELOCK_TEST_FAIR=1")
		opts = append(opts, WithFair())
	}
	l, err := New(path, opts...)
	must(b, err)
	measureHandoffs(b, childCommand(b, "handoffWaiter", env...), func() (func() error, error) {
		return l.Unlock, l.Lock()
	})
	if !s.fileBased() {
		unix.Unlink(path)
	}
}

// benchRawHandoff is benchHandoff for the raw baselines: lock takes the
// lock with bare system calls and returns its release.
func benchRawHandoff(b *testing.B, role string, lock func(path string) (func() error, error)) {
	path := filepath.Join(benchDir(b), "handoff.lock")
	measureHandoffs(b, childCommand(b, role, "FILELOCK_TEST_LOCK="+path), func() (func() error, error) { return lock(path) })
	unix.Unlink(path)
}

// measureHandoffs starts cmd, a waiter that answers each byte it reads
// with the time it acquired the lock, and in each round takes the lock
// with lock, lets the waiter start waiting, releases it and records the
// time until the waiter had it.
func measureHandoffs(b *testing.B, cmd *exec.Cmd, lock func() (release func() error, err error)) {
	in, err := cmd.StdinPipe()
	must(b, err)
	out, err := cmd.StdoutPipe()
	must(b, err)
	cmd.Stderr = os.Stderr
	must(b, cmd.Start())
	defer func() {
		in.Close()
		must(b, cmd.Wait())
	}()
	var lat []time.Duration
	for b.Loop() {
		release, err := lock()
		must(b, err)
		_, err = in.Write([]byte{1})
		must(b, err)
		b.StopTimer()
		// Let the waiter find the lock held and go to sleep; its first
		// poll (polling) is due after 1ms, its second after 2ms.
		time.Sleep(10 * time.Millisecond)
		b.StartTimer()
		released := monotonicNow()
		must(b, release())
		var at int64
		must(b, binary.Read(out, binary.LittleEndian, &at))
		lat = append(lat, time.Duration(at-released))
	}
	reportHandoffs(b, lat)
}

func benchPipeWake(b *testing.B) {
	cmd := childCommand(b, "pipeWaker")
	in, err := cmd.StdinPipe()
	must(b, err)
	out, err := cmd.StdoutPipe()
	must(b, err)
	cmd.Stderr = os.Stderr
	must(b, cmd.Start())
	defer func() { in.Close(); must(b, cmd.Wait()) }()
	var lat []time.Duration
	for b.Loop() {
		b.StopTimer()
		time.Sleep(10 * time.Millisecond) // as long as the waiters sleep above
		b.StartTimer()
		sent := monotonicNow()
		_, err := in.Write([]byte{1})
		must(b, err)
		var at int64
		must(b, binary.Read(out, binary.LittleEndian, &at))
		lat = append(lat, time.Duration(at-sent))
	}
	reportHandoffs(b, lat)
}

// reportHandoffs reports the median and 90th percentile of lat.
func reportHandoffs(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "handoff-p50-ns")
	b.ReportMetric(float64(lat[len(lat)*9/10].Nanoseconds()), "handoff-p90-ns")
}
