//go:build linux

package filelock

import (
	"bufio"
	"encoding/binary"
	"io"
	"os"
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
//
//	go test -run '^$' -bench Handoff -benchtime 400x ./filelock
func BenchmarkHandoff(b *testing.B) {
	b.Run("raw-pipe", benchPipeWake)
	for _, s := range Strategies() {
		for _, mode := range []string{"events", "polling", "fair"} {
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
	cmd := childCommand(b, "handoffWaiter", env...)
	in, err := cmd.StdinPipe()
	must(b, err)
	out, err := cmd.StdoutPipe()
	must(b, err)
	cmd.Stderr = os.Stderr
	must(b, cmd.Start())
	defer func() {
		in.Close()
		must(b, cmd.Wait())
		if !s.fileBased() {
			unix.Unlink(path)
		}
	}()
	l, err := New(path, opts...)
	must(b, err)
	var lat []time.Duration
	for b.Loop() {
		must(b, l.Lock())
		_, err := in.Write([]byte{1})
		must(b, err)
		b.StopTimer()
		// Let the waiter find the lock held and go to sleep; its first
		// poll (polling) is due after 1ms, its second after 2ms.
		time.Sleep(10 * time.Millisecond)
		b.StartTimer()
		released := monotonicNow()
		must(b, l.Unlock())
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
