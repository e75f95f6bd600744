//go:build linux

package filelock

import (
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lockstress/lockstress/internal/proc"
)

// The benchmarks measure one uncontended acquire+release. Each strategy
// stands beside a Raw baseline that issues the same system calls directly,
// without the library, so that the library's overhead reads as a ratio:
//
//	go test -run '^$' -bench . -count 10 ./filelock | tee new.txt
//	benchstat new.txt

func benchDir(b *testing.B) string {
	b.Helper()
	// tmpfs, so that the figures show the cost of the code and the system
	// calls rather than of a disk.
	if unix.Access("/dev/shm", unix.W_OK) == nil {
		d := filepath.Join("/dev/shm", "filelock-bench")
		if err := unix.Mkdir(d, 0o755); err != nil && err != unix.EEXIST {
			b.Fatal(err)
		}
		b.Cleanup(func() { unix.Rmdir(d) })
		return d
	}
	return b.TempDir()
}

func benchLock(b *testing.B, s Strategy) {
	path := filepath.Join(benchDir(b), "bench.lock")
	l, err := New(path, WithStrategy(s))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := l.Lock(); err != nil {
			b.Fatal(err)
		}
		if err := l.Unlock(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	unix.Unlink(path)
}

func BenchmarkLockUnlock(b *testing.B) {
	for _, s := range Strategies() {
		b.Run(s.String(), func(b *testing.B) { benchLock(b, s) })
	}
}

// rawRecord is a record of the size the library writes.
var rawRecord = func() []byte {
	data, err := newRecord(proc.Self(), time.Now()).MarshalText()
	if err != nil {
		panic(err)
	}
	return data
}()

func BenchmarkRaw(b *testing.B) {
	b.Run("soft", func(b *testing.B) {
		dir := benchDir(b)
		path := filepath.Join(dir, "raw.lock")
		var st unix.Stat_t
		for b.Loop() {
			must(b, unix.Stat(dir, &st))
			fd, err := unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o666)
			must(b, err)
			_, err = unix.Write(fd, rawRecord)
			must(b, err)
			must(b, unix.Fstat(fd, &st))
			// release: the path still names the file kept open (a local
			// filesystem), remove it, close it
			must(b, unix.Lstat(path, &st))
			must(b, unix.Unlink(path))
			must(b, unix.Close(fd))
		}
	})
	for _, kind := range []struct {
		name         string
		lock, unlock func(fd int) error
	}{
		{"os",
			func(fd int) error { return unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB) },
			func(fd int) error { return unix.Flock(fd, unix.LOCK_UN) }},
		{"ofd",
			func(fd int) error {
				return unix.FcntlFlock(uintptr(fd), unix.F_OFD_SETLK, &unix.Flock_t{Type: unix.F_WRLCK})
			},
			func(fd int) error {
				return unix.FcntlFlock(uintptr(fd), unix.F_OFD_SETLK, &unix.Flock_t{Type: unix.F_UNLCK})
			}},
	} {
		b.Run(kind.name, func(b *testing.B) {
			dir := benchDir(b)
			path := filepath.Join(dir, "raw.lock")
			var st unix.Stat_t
			for b.Loop() {
				must(b, unix.Stat(dir, &st))
				_ = unix.Lstat(path, &st)
				fd, err := unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0o666)
				must(b, err)
				must(b, unix.Fstat(fd, &st))
				must(b, kind.lock(fd))
				must(b, unix.Lstat(path, &st))
				must(b, unix.Ftruncate(fd, 0))
				_, err = unix.Pwrite(fd, rawRecord, 0)
				must(b, err)
				must(b, unix.Ftruncate(fd, 0))
				must(b, kind.unlock(fd))
				must(b, unix.Close(fd))
			}
			b.StopTimer()
			unix.Unlink(path)
		})
	}
}

func must(b *testing.B, err error) {
	if err != nil {
		b.Helper()
		b.Fatal(err)
	}
}
